// SPDX-License-Identifier: GPL-2.0
/* json_add_string and text_add_safe: hostile process names in, safe text out. */
#include "unit.h"

#include "json.h"

static struct strbuf sb;

static const char *json_of(const char *s, size_t n)
{
	strbuf_reset(&sb);
	json_add_string(&sb, s, n);
	return sb.data;
}

static const char *text_of(const char *s, size_t n)
{
	strbuf_reset(&sb);
	strbuf_adds(&sb, ""); /* data is a string even when nothing is added */
	text_add_safe(&sb, s, n);
	return sb.data;
}

#define JSON(lit) json_of(lit, sizeof(lit) - 1)
#define TEXT(lit) text_of(lit, sizeof(lit) - 1)

TEST(test_json_quotes_plain_ascii)
{
	CHECK_STR(JSON("curl"), "\"curl\"");
	CHECK_STR(JSON(""), "\"\"");
}

TEST(test_json_escapes_quote_and_backslash)
{
	CHECK_STR(JSON("a\"b\\c"), "\"a\\\"b\\\\c\"");
}

TEST(test_json_escapes_control_bytes_as_u00xx)
{
	CHECK_STR(JSON("\x01\t\n\r\x1b\x1f"), "\"\\u0001\\u0009\\u000a\\u000d\\u001b\\u001f\"");
}

TEST(test_json_escapes_del)
{
	CHECK_STR(JSON("a\x7f"), "\"a\\u007f\"");
}

TEST(test_json_keeps_valid_multibyte_utf8)
{
	/* é (2 bytes), € (3), U+FFFD (3), 😀 (4), U+10FFFF (4) */
	CHECK_STR(JSON("\xc3\xa9\xe2\x82\xac\xef\xbf\xbd\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"),
		  "\"\xc3\xa9\xe2\x82\xac\xef\xbf\xbd\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"");
}

TEST(test_json_escapes_c1_controls_so_a_raw_line_is_safe_on_a_terminal)
{
	/* U+0080, U+009B (CSI), U+009F; U+00A0 is printable */
	CHECK_STR(JSON("\xc2\x80\xc2\x9b" "2J\xc2\x9f\xc2\xa0"),
		  "\"\\u0080\\u009b2J\\u009f\xc2\xa0\"");
}

TEST(test_json_escapes_line_separators_and_bidi_controls)
{
	/* U+2028, U+2029, U+202E (RTL override), U+2066, U+2069, U+200F, U+061C */
	CHECK_STR(JSON("\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xae\xe2\x81\xa6\xe2\x81\xa9"
		       "\xe2\x80\x8f\xd8\x9c"),
		  "\"\\u2028\\u2029\\u202e\\u2066\\u2069\\u200f\\u061c\"");
	/* their neighbours are ordinary: U+2027, U+202F, U+2065, U+206A */
	CHECK_STR(JSON("\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa"),
		  "\"\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa\"");
}

TEST(test_json_escapes_a_whole_hostile_comm)
{
	/* a forged record: close the string, add a key, end the line, start another */
	CHECK_STR(JSON("x\",\"pid\":1}\n{\""), "\"x\\\",\\\"pid\\\":1}\\u000a{\\\"\"");
	/* clear the screen and set the window title */
	CHECK_STR(JSON("\x1b[2J\x1b]0;pwn\x07"), "\"\\u001b[2J\\u001b]0;pwn\\u0007\"");
}

TEST(test_json_replaces_invalid_bytes)
{
	CHECK_STR(JSON("a\xff" "b\x80" "c\xfe"), "\"a\\ufffdb\\ufffdc\\ufffd\"");
}

TEST(test_json_replaces_overlong_forms)
{
	/* '/' as 2, 3 and 4 bytes; every byte of the form is replaced */
	CHECK_STR(JSON("\xc0\xaf"), "\"\\ufffd\\ufffd\"");
	CHECK_STR(JSON("\xc1\xbf"), "\"\\ufffd\\ufffd\"");
	CHECK_STR(JSON("\xe0\x80\xaf"), "\"\\ufffd\\ufffd\\ufffd\"");
	CHECK_STR(JSON("\xf0\x80\x80\xaf"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

TEST(test_json_replaces_surrogates)
{
	CHECK_STR(JSON("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
	CHECK_STR(JSON("\xed\xbf\xbf"), "\"\\ufffd\\ufffd\\ufffd\"");
	/* U+D7FF, just below the surrogates, is valid */
	CHECK_STR(JSON("\xed\x9f\xbf"), "\"\xed\x9f\xbf\"");
}

TEST(test_json_replaces_code_points_above_u10ffff)
{
	CHECK_STR(JSON("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	CHECK_STR(JSON("\xf5\x80\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

TEST(test_json_replaces_truncated_sequences)
{
	CHECK_STR(JSON("\xe2\x82"), "\"\\ufffd\\ufffd\"");
	CHECK_STR(JSON("\xe2\x82z"), "\"\\ufffd\\ufffdz\"");
	CHECK_STR(JSON("\xf0\x9f\x98"), "\"\\ufffd\\ufffd\\ufffd\"");
}

TEST(test_json_does_not_read_a_sequence_past_n)
{
	/* € cut after two bytes by n: the third byte is not looked at */
	CHECK_STR(json_of("\xe2\x82\xac", 2), "\"\\ufffd\\ufffd\"");
}

TEST(test_json_stops_at_nul_within_n)
{
	CHECK_STR(json_of("ab\0cd", 5), "\"ab\"");
}

TEST(test_json_respects_n_bound)
{
	CHECK_STR(json_of("abcdef", 3), "\"abc\"");
	CHECK_STR(json_of("abcdef", 0), "\"\"");
}

TEST(test_json_reads_full_comm_without_nul)
{
	char comm[16];

	memcpy(comm, "abcdefghijklmnop", sizeof(comm));
	CHECK_STR(json_of(comm, sizeof(comm)), "\"abcdefghijklmnop\"");
}

TEST(test_json_appends_to_existing_text)
{
	strbuf_reset(&sb);
	strbuf_adds(&sb, "{");
	json_add_key(&sb, "comm");
	json_add_string(&sb, "sh", 2);
	CHECK_STR(sb.data, "{\"comm\":\"sh\"");
}

TEST(test_text_keeps_printable_ascii)
{
	CHECK_STR(TEXT("curl -s \"x\" ~"), "curl -s \"x\" ~");
}

TEST(test_text_escapes_control_bytes_as_hex)
{
	CHECK_STR(TEXT("a\nb\tc\x01" "d\x1f"), "a\\x0ab\\x09c\\x01d\\x1f");
}

TEST(test_text_escapes_del)
{
	CHECK_STR(TEXT("a\x7f"), "a\\x7f");
}

TEST(test_text_doubles_backslash)
{
	CHECK_STR(TEXT("a\\x1b"), "a\\\\x1b");
}

TEST(test_text_escapes_terminal_escape_sequences)
{
	CHECK_STR(TEXT("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
	CHECK_STR(TEXT("\x1b]0;title\x07"), "\\x1b]0;title\\x07");
}

TEST(test_text_escapes_c1_controls)
{
	/* U+0080, U+009B (CSI) and U+009F are controls; U+00A0 is not */
	CHECK_STR(TEXT("\xc2\x80"), "\\xc2\\x80");
	CHECK_STR(TEXT("\xc2\x9b" "31m"), "\\xc2\\x9b31m");
	CHECK_STR(TEXT("\xc2\x9f"), "\\xc2\\x9f");
	CHECK_STR(TEXT("\xc2\xa0"), "\xc2\xa0");
}

TEST(test_text_escapes_line_separators_and_bidi_controls)
{
	CHECK_STR(TEXT("a\xe2\x80\xae" "b\xe2\x80\xa8"), "a\\xe2\\x80\\xae" "b\\xe2\\x80\\xa8");
	CHECK_STR(TEXT("\xd8\x9c"), "\\xd8\\x9c");
}

TEST(test_text_keeps_valid_utf8)
{
	CHECK_STR(TEXT("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

TEST(test_text_escapes_invalid_utf8)
{
	CHECK_STR(TEXT("\xff\xc0\xaf"), "\\xff\\xc0\\xaf");
	CHECK_STR(TEXT("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	CHECK_STR(text_of("\xe2\x82\xac", 2), "\\xe2\\x82");
}

TEST(test_text_stops_at_nul_and_respects_n)
{
	CHECK_STR(text_of("ab\0cd", 5), "ab");
	CHECK_STR(text_of("abcdef", 3), "abc");
	CHECK_STR(text_of("abcdef", 0), "");
}

TEST(test_json_name_or_null_is_a_field_as_is)
{
	strbuf_reset(&sb);
	json_add_name_or_null(&sb, "close", "active");
	json_add_name_or_null(&sb, "reset_by", NULL);
	CHECK_STR(sb.data, "\"close\":\"active\",\"reset_by\":null,");
}
