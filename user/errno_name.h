/* SPDX-License-Identifier: GPL-2.0 */
/* The errors a TCP socket can end with (sk_err at close), by their <errno.h> names. */
#ifndef TCPWAVE_ERRNO_NAME_H
#define TCPWAVE_ERRNO_NAME_H

/*
 * "ETIMEDOUT", "ECONNREFUSED", ... for err or -err (functions here return
 * negative errnos); NULL for 0 and for errors a socket does not end with.
 */
const char *errno_name(int err);

#endif
