/* SPDX-License-Identifier: GPL-2.0 */
/* The --prom-file: replaced whole, so node_exporter never reads half of one. */
#ifndef TCPWAVE_PROM_FILE_H
#define TCPWAVE_PROM_FILE_H

#include <sys/types.h>
#include "strbuf.h"

/*
 * Write sb to PATH.tmp in the same directory, then rename(2) it over path:
 * a reader opens the old file or the new one. node_exporter's textfile
 * collector reads only *.prom files, so it never picks up the .tmp. The file
 * is 0644 whatever the umask, for node_exporter's own user. No fsync: a
 * crash may lose the latest figures, which the next write replaces.
 *
 * uid and gid, unless (uid_t)-1: the file's owner, the user root will become,
 * who writes it from then on: in a sticky directory (/tmp) only a file's
 * owner may replace it.
 *
 * 0 or -errno; *step then says what failed ("writing PATH.tmp: ..."), in a
 * static buffer.
 */
int prom_file_write(const char *path, const struct strbuf *sb, uid_t uid, gid_t gid,
		    const char **step);

#endif
