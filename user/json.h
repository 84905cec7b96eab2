/* SPDX-License-Identifier: GPL-2.0 */
/*
 * JSON and terminal-safe text. Names come from processes (any user can call
 * itself anything), so every byte is escaped before it reaches a log pipeline
 * or an operator's terminal.
 */
#ifndef TCPWAVE_JSON_H
#define TCPWAVE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "strbuf.h"

/*
 * Append a JSON string literal for the first n bytes of s (stopping early at
 * a NUL). Quotes and backslashes are escaped; so are the control characters
 * (C0, DEL, C1), U+2028/U+2029 and the bidirectional controls, as \uXXXX, so
 * that a raw line is safe on a terminal too. Each byte that is not part of
 * valid UTF-8 becomes \ufffd: the record stays valid JSON and valid UTF-8.
 */
void json_add_string(struct strbuf *sb, const char *s, size_t n);
/*
 * The field appends are inline (APPEND_INLINE) so that each key's length is
 * a constant folded into its caller: a record has some thirty keys.
 */

/* Append `"s"` and then `tail`, one room check for all: s needs no escaping. */
APPEND_INLINE void json_add_quoted(struct strbuf *sb, const char *s, char tail)
{
	size_t n = strlen(s);
	char *p = strbuf_room(sb, n + 3);

	p[0] = '"';
	memcpy(p + 1, s, n);
	p[n + 1] = '"';
	p[n + 2] = tail;
	strbuf_commit(sb, n + 3);
}

/* Append `"key":` (key is a trusted literal). */
APPEND_INLINE void json_add_key(struct strbuf *sb, const char *key)
{
	json_add_quoted(sb, key, ':');
}

/* Append `"key":"s",` (escaped), or `"key":null,` for NULL. */
APPEND_INLINE void json_add_str_or_null(struct strbuf *sb, const char *key, const char *s)
{
	json_add_key(sb, key);
	if (s)
		json_add_string(sb, s, strlen(s));
	else
		strbuf_add(sb, "null", 4);
	strbuf_addc(sb, ',');
}

/*
 * Append `"key":"name",`, or `"key":null,` for NULL, for a name of tcpwave's
 * own making, which holds nothing to escape: a literal of its tables, an
 * address or a Community ID it formatted, an errno or RST reason name (C
 * identifiers; a recording's are checked as such). Whatever a process, a
 * user or a file chose goes through json_add_str_or_null().
 */
APPEND_INLINE void json_add_name_or_null(struct strbuf *sb, const char *key, const char *name)
{
	json_add_key(sb, key);
	if (name)
		json_add_quoted(sb, name, ',');
	else
		strbuf_add(sb, "null,", 5);
}

/* Append `"key":true,` or `"key":false,`. */
APPEND_INLINE void json_add_bool(struct strbuf *sb, const char *key, bool b)
{
	json_add_key(sb, key);
	if (b) /* two literals: each length is a constant */
		strbuf_adds(sb, "true,");
	else
		strbuf_adds(sb, "false,");
}

/* Append `"key":v,`. */
APPEND_INLINE void json_add_u64(struct strbuf *sb, const char *key, uint64_t v)
{
	json_add_key(sb, key);
	strbuf_add_u64(sb, v);
	strbuf_addc(sb, ',');
}

/* Append `"key":v,` or `"key":null,` when the value is not known. */
APPEND_INLINE void json_add_u64_or_null(struct strbuf *sb, const char *key, bool known,
					uint64_t v)
{
	json_add_key(sb, key);
	if (known)
		strbuf_add_u64(sb, v);
	else
		strbuf_add(sb, "null", 4);
	strbuf_addc(sb, ',');
}

/* Close a record: the comma after its last field becomes `}`, then a newline. */
APPEND_INLINE void json_end_record(struct strbuf *sb)
{
	sb->data[sb->len - 1] = '}';
	strbuf_addc(sb, '\n');
}

/*
 * Append text for a terminal: printable ASCII and valid UTF-8 as is; the
 * bytes of the characters json_add_string() escapes, and each byte that is
 * not valid UTF-8, as \xNN; the backslash as \\.
 */
void text_add_safe(struct strbuf *sb, const char *s, size_t n);

#endif
