// SPDX-License-Identifier: GPL-2.0
#include "json.h"

#include <string.h>

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if the
 * bytes there are not one (overlong forms, surrogates, past U+10FFFF).
 */
static size_t utf8_valid_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

static size_t bounded_len(const char *s, size_t n)
{
	const char *nul = memchr(s, '\0', n);

	return nul ? (size_t)(nul - s) : n;
}

void json_add_string(struct strbuf *sb, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len;

	n = bounded_len(s, n);
	strbuf_addc(sb, '"');
	while (i < n) {
		unsigned char c = p[i];
		size_t run = i;

		/* Plain printable ASCII, by far the common case, goes in one copy. */
		while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
			run++;
		if (run > i) {
			strbuf_add(sb, p + i, run - i);
			i = run;
			continue;
		}
		if (c == '"' || c == '\\') {
			strbuf_addc(sb, '\\');
			strbuf_addc(sb, (char)c);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			strbuf_addf(sb, "\\u%04x", c);
			i++;
		} else if ((len = utf8_valid_len(p + i, n - i)) > 0) {
			strbuf_add(sb, p + i, len);
			i += len;
		} else {
			strbuf_adds(sb, "\\ufffd");
			i++;
		}
	}
	strbuf_addc(sb, '"');
}

void text_add_safe(struct strbuf *sb, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len;

	n = bounded_len(s, n);
	while (i < n) {
		unsigned char c = p[i];

		if (c == '\\') {
			strbuf_adds(sb, "\\\\");
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			strbuf_addf(sb, "\\x%02x", c);
			i++;
		} else if ((len = utf8_valid_len(p + i, n - i)) > 1 && !(p[i] == 0xc2 && p[i + 1] < 0xa0)) {
			/* Valid UTF-8, but not the C1 controls U+0080..U+009F. */
			strbuf_add(sb, p + i, len);
			i += len;
		} else if (c < 0x80) {
			strbuf_addc(sb, (char)c);
			i++;
		} else {
			strbuf_addf(sb, "\\x%02x", c);
			i++;
		}
	}
}
