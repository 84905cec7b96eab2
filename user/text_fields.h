/* SPDX-License-Identifier: GPL-2.0 */
/* Aligned text columns that the transition and connection tables share. */
#ifndef TCPWAVE_TEXT_FIELDS_H
#define TCPWAVE_TEXT_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "strbuf.h"
#include "tcpwave.h"

/* Both tables' owner columns. */
#define TEXT_COL_PID 8
#define TEXT_COL_COMM 17

/* Pad the column begun at `start`, always leaving a space; returns where the next begins. */
size_t text_end_column(struct strbuf *sb, size_t start, size_t width);
/* The PID and COMM columns ("-" when the owner is not known), from `start`. */
size_t text_add_owner(struct strbuf *sb, const struct tw_owner *owner, bool known, size_t start);
/* "pid 1234 (curl)", or "pid -" when the owner is not known. */
void text_add_owner_words(struct strbuf *sb, const struct tw_owner *owner, bool known);

#endif
