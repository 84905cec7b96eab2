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
#include "strbuf.h"

/*
 * Append a JSON string literal for the first n bytes of s (stopping early at
 * a NUL). Quotes and backslashes are escaped; so are the control characters
 * (C0, DEL, C1), U+2028/U+2029 and the bidirectional controls, as \uXXXX, so
 * that a raw line is safe on a terminal too. Each byte that is not part of
 * valid UTF-8 becomes \ufffd: the record stays valid JSON and valid UTF-8.
 */
void json_add_string(struct strbuf *sb, const char *s, size_t n);
/* Append `"key":` (key is a trusted literal). */
void json_add_key(struct strbuf *sb, const char *key);
/* Append `"key":"s",` (escaped), or `"key":null,` for NULL. */
void json_add_str_or_null(struct strbuf *sb, const char *key, const char *s);
/* Append `"key":true,` or `"key":false,`. */
void json_add_bool(struct strbuf *sb, const char *key, bool b);
/* Append `"key":v,`. */
void json_add_u64(struct strbuf *sb, const char *key, uint64_t v);
/* Append `"key":v,` or `"key":null,` when the value is not known. */
void json_add_u64_or_null(struct strbuf *sb, const char *key, bool known, uint64_t v);

/*
 * Append text for a terminal: printable ASCII and valid UTF-8 as is; the
 * bytes of the characters json_add_string() escapes, and each byte that is
 * not valid UTF-8, as \xNN; the backslash as \\.
 */
void text_add_safe(struct strbuf *sb, const char *s, size_t n);

#endif
