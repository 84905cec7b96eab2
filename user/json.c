// SPDX-License-Identifier: GPL-2.0
#include "json.h"

#include <stdbool.h>
#include <string.h>

/*
 * The valid UTF-8 sequence at s (at most n bytes): its length, and its code
 * point in *cp. 0 if the bytes there are not one (a stray continuation byte,
 * a cut sequence, overlong forms, surrogates, past U+10FFFF).
 */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned int *cp)
{
	size_t len, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		*cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		*cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		*cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (*cp < 0x800 || (*cp >= 0xd800 && *cp <= 0xdfff))) ||
	    (len == 4 && (*cp < 0x10000 || *cp > 0x10ffff)))
		return 0;
	return len;
}

/*
 * Valid, but never shown raw: the C0 and C1 controls and DEL (a terminal
 * acts on them: ESC and CSI start sequences), the line and paragraph
 * separators (which end a line for some readers), and the bidirectional
 * controls (which reorder what follows them on the screen).
 */
static bool is_unsafe_code_point(unsigned int cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x61c || cp == 0x200e ||
	       cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static size_t bounded_len(const char *s, size_t n)
{
	const char *nul = memchr(s, '\0', n);

	return nul ? (size_t)(nul - s) : n;
}

void json_add_string(struct strbuf *sb, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned int cp;
	size_t i = 0, len;

	n = bounded_len(s, n);
	strbuf_addc(sb, '"');
	while (i < n) {
		size_t run = i;

		/* Plain printable ASCII, by far the common case, goes in one copy. */
		while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
			run++;
		if (run > i) {
			strbuf_add(sb, p + i, run - i);
			i = run;
			continue;
		}
		len = utf8_decode(p + i, n - i, &cp);
		if (!len) {
			strbuf_adds(sb, "\\ufffd");
			len = 1;
		} else if (cp == '"' || cp == '\\') {
			strbuf_addc(sb, '\\');
			strbuf_addc(sb, (char)cp);
		} else if (is_unsafe_code_point(cp)) {
			strbuf_addf(sb, "\\u%04x", cp);
		} else {
			strbuf_add(sb, p + i, len);
		}
		i += len;
	}
	strbuf_addc(sb, '"');
}

void text_add_safe(struct strbuf *sb, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned int cp;
	size_t i = 0, len, k;

	n = bounded_len(s, n);
	while (i < n) {
		len = utf8_decode(p + i, n - i, &cp);
		if (len && cp == '\\') {
			strbuf_adds(sb, "\\\\");
		} else if (len && !is_unsafe_code_point(cp)) {
			strbuf_add(sb, p + i, len);
		} else {
			/* Every byte of it, so that nothing is hidden. */
			len = len ? len : 1;
			for (k = 0; k < len; k++)
				strbuf_addf(sb, "\\x%02x", p[i + k]);
		}
		i += len;
	}
}
