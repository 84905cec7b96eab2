/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Names of the kernel's enum sk_rst_reason (include/net/rstreason.h), the
 * reason it gives for each RST it sends. The values change between kernel
 * versions, so the table is read from the running kernel's BTF at start.
 */
#ifndef TCPWAVE_RST_REASON_H
#define TCPWAVE_RST_REASON_H

struct btf;

/* Values at or above this are not kept (the kernel has about 30). */
#define RST_REASON_MAX 64

/*
 * Fill the table from `enum sk_rst_reason` in vmlinux_btf (rst_reason_btf.c,
 * which links libbpf). 0, or -ENOENT when the kernel has no such enum
 * (before 6.10) and every reason stays unnamed.
 */
int rst_reason_load(const struct btf *vmlinux_btf);
/* Name `value` ("TCP_ABORT_ON_LINGER": no SK_RST_REASON_ prefix); NULL unnames it. */
void rst_reason_set(unsigned int value, const char *name);
/* The name of `value`, or NULL when it has none. */
const char *rst_reason_name(unsigned int value);

#endif
