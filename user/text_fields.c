// SPDX-License-Identifier: GPL-2.0
#include "text_fields.h"

#include "json.h"

size_t text_end_column(struct strbuf *sb, size_t start, size_t width)
{
	strbuf_pad(sb, start, width - 1);
	strbuf_addc(sb, ' ');
	return sb->len;
}

size_t text_add_owner(struct strbuf *sb, const struct tw_owner *owner, bool known, size_t start)
{
	if (known)
		strbuf_add_u64(sb, owner->tgid);
	else
		strbuf_addc(sb, '-');
	start = text_end_column(sb, start, TEXT_COL_PID);
	if (known)
		text_add_safe(sb, owner->comm, sizeof(owner->comm));
	else
		strbuf_addc(sb, '-');
	return text_end_column(sb, start, TEXT_COL_COMM);
}

void text_add_owner_words(struct strbuf *sb, const struct tw_owner *owner, bool known)
{
	strbuf_adds(sb, "pid ");
	if (!known) {
		strbuf_addc(sb, '-');
		return;
	}
	strbuf_add_u64(sb, owner->tgid);
	strbuf_adds(sb, " (");
	text_add_safe(sb, owner->comm, sizeof(owner->comm));
	strbuf_addc(sb, ')');
}
