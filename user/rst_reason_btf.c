// SPDX-License-Identifier: GPL-2.0
/* rst_reason_load(): the one part of rst_reason that needs libbpf. */
#include "rst_reason.h"

#include <errno.h>
#include <string.h>
#include <bpf/btf.h>

#define PREFIX "SK_RST_REASON_"

int rst_reason_load(const struct btf *vmlinux_btf)
{
	const struct btf_type *t;
	const struct btf_enum *e;
	__s32 id;
	int i;

	if (!vmlinux_btf)
		return -ENOENT;
	id = btf__find_by_name_kind(vmlinux_btf, "sk_rst_reason", BTF_KIND_ENUM);
	if (id < 0)
		return -ENOENT;
	t = btf__type_by_id(vmlinux_btf, id);
	e = btf_enum(t);
	for (i = 0; i < btf_vlen(t); i++, e++) {
		const char *name = btf__name_by_offset(vmlinux_btf, e->name_off);

		if (!name || strcmp(name, PREFIX "MAX") == 0)
			continue; /* the count of reasons, not one */
		if (strncmp(name, PREFIX, strlen(PREFIX)) == 0)
			name += strlen(PREFIX);
		rst_reason_set((unsigned int)e->val, name);
	}
	return 0;
}
