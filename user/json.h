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
 * a NUL). Quotes, backslashes and control bytes are escaped; bytes that are
 * not valid UTF-8 become U+FFFD, so the record stays valid JSON.
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
 * Append text for a terminal: printable ASCII as is, valid UTF-8 as is,
 * control bytes, DEL and invalid bytes as \xNN, and the backslash as \\.
 */
void text_add_safe(struct strbuf *sb, const char *s, size_t n);

#endif
