/* SPDX-License-Identifier: GPL-2.0 */
/* Writing a whole buffer to a descriptor, as every writer of tcpwave's files must. */
#ifndef TCPWAVE_FD_WRITE_H
#define TCPWAVE_FD_WRITE_H

#include <stddef.h>

/*
 * All len bytes of data, through short writes and interrupted ones (a
 * signal handler installed without SA_RESTART). 0, or -errno of the write
 * that failed; what came before it was written.
 */
int fd_write_all(int fd, const void *data, size_t len);

#endif
