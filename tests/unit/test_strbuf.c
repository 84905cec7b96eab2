// SPDX-License-Identifier: GPL-2.0
/* strbuf: grows as needed, stays NUL-terminated, pads columns. */
#include "unit.h"
#include <inttypes.h>
#include <stdio.h>
#include "strbuf.h"

TEST(test_strbuf_grows_past_initial_capacity_byte_by_byte)
{
	struct strbuf sb = { 0 };
	size_t i;
	int same = 1;

	for (i = 0; i < 1000; i++)
		strbuf_addc(&sb, (char)('a' + i % 26));
	for (i = 0; i < 1000; i++)
		same &= sb.data[i] == (char)('a' + i % 26);
	CHECK_INT(sb.len, 1000);
	CHECK(sb.cap > 1000);
	CHECK(same);
	CHECK_INT(sb.data[1000], '\0');
	strbuf_free(&sb);
}

TEST(test_strbuf_grows_for_one_large_append)
{
	static char big[5000];
	struct strbuf sb = { 0 };

	memset(big, 'x', sizeof(big));
	strbuf_adds(&sb, "ab");
	strbuf_add(&sb, big, sizeof(big));
	CHECK_INT(sb.len, 5002);
	CHECK(sb.cap > 5002);
	CHECK(memcmp(sb.data, "ab", 2) == 0);
	CHECK(memcmp(sb.data + 2, big, sizeof(big)) == 0);
	CHECK_INT(sb.data[5002], '\0');
	strbuf_free(&sb);
}

TEST(test_strbuf_addf_grows_past_capacity)
{
	static char word[600];
	struct strbuf sb = { 0 };

	memset(word, 'w', sizeof(word) - 1);
	strbuf_adds(&sb, "<");
	strbuf_addf(&sb, "%s>%d", word, 42);
	CHECK_INT(sb.len, 1 + 599 + 1 + 2);
	CHECK_INT(sb.data[0], '<');
	CHECK_STR(sb.data + 600, ">42");
	strbuf_free(&sb);
}

TEST(test_strbuf_keeps_embedded_nul_bytes)
{
	struct strbuf sb = { 0 };

	strbuf_add(&sb, "a\0b", 3);
	CHECK_INT(sb.len, 3);
	CHECK(memcmp(sb.data, "a\0b", 4) == 0);
	strbuf_free(&sb);
}

TEST(test_strbuf_reset_empties_but_keeps_memory)
{
	struct strbuf sb = { 0 };
	size_t cap;

	strbuf_adds(&sb, "hello");
	cap = sb.cap;
	strbuf_reset(&sb);
	CHECK_INT(sb.len, 0);
	CHECK_INT(sb.cap, cap);
	CHECK_STR(sb.data, "");
	strbuf_adds(&sb, "hi");
	CHECK_STR(sb.data, "hi");
	strbuf_free(&sb);
	CHECK(sb.data == NULL);
	CHECK_INT(sb.len, 0);
	CHECK_INT(sb.cap, 0);
}

TEST(test_strbuf_pad_fills_to_width)
{
	struct strbuf sb = { 0 };

	strbuf_adds(&sb, "ab");
	strbuf_pad(&sb, 0, 5);
	CHECK_STR(sb.data, "ab   ");
	strbuf_free(&sb);
}

TEST(test_strbuf_pad_counts_from_start)
{
	struct strbuf sb = { 0 };
	size_t start;

	strbuf_adds(&sb, "xyz");
	start = sb.len;
	strbuf_adds(&sb, "a");
	strbuf_pad(&sb, start, 3);
	strbuf_adds(&sb, "|");
	CHECK_STR(sb.data, "xyza  |");
	strbuf_free(&sb);
}

TEST(test_strbuf_pad_leaves_wider_text_alone)
{
	struct strbuf sb = { 0 };

	strbuf_adds(&sb, "abcdef");
	strbuf_pad(&sb, 0, 3);
	CHECK_STR(sb.data, "abcdef");
	strbuf_pad(&sb, 0, 6);
	CHECK_STR(sb.data, "abcdef");
	strbuf_free(&sb);
}

/* Around digit counts, 32 bits, and zeros within a group of four digits. */
TEST(test_strbuf_add_u64_at_digit_boundaries)
{
	static const struct {
		uint64_t v;
		const char *text;
	} cases[] = {
		{ 0, "0" }, { 9, "9" }, { 10, "10" }, { 99, "99" }, { 100, "100" },
		{ 101, "101" }, { 1009, "1009" }, { 123456789, "123456789" },
		{ 4294967295ULL, "4294967295" }, { 4294967296ULL, "4294967296" },
		{ 100000000000000001ULL, "100000000000000001" },
		{ UINT64_MAX, "18446744073709551615" },
	};
	struct strbuf sb = { 0 };
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strbuf_reset(&sb);
		strbuf_add_u64(&sb, cases[i].v);
		CHECK_STR(sb.data, cases[i].text);
	}
	strbuf_free(&sb);
}

/* Every digit count, at both sides of each power of ten, as printf writes it. */
TEST(test_strbuf_add_u64_agrees_with_printf_around_powers_of_ten)
{
	struct strbuf sb = { 0 };
	char expected[24];
	uint64_t power = 1;
	int k, d;

	for (k = 0; k < 20; k++, power *= 10) {
		for (d = -1; d <= 1; d++) {
			uint64_t v = power + (uint64_t)(int64_t)d;

			strbuf_reset(&sb);
			strbuf_addc(&sb, '[');
			strbuf_add_u64(&sb, v);
			strbuf_addc(&sb, ']');
			snprintf(expected, sizeof(expected), "[%" PRIu64 "]", v);
			CHECK_STR(sb.data, expected);
		}
	}
	strbuf_free(&sb);
}

/* An odd and an even width; digits past the width are not written. */
TEST(test_strbuf_add_zero_padded_writes_exactly_width_digits)
{
	struct strbuf sb = { 0 };

	strbuf_add_zero_padded(&sb, 7, 9);
	strbuf_addc(&sb, '|');
	strbuf_add_zero_padded(&sb, 999999999, 9);
	strbuf_addc(&sb, '|');
	strbuf_add_zero_padded(&sb, 123456, 6);
	strbuf_addc(&sb, '|');
	strbuf_add_zero_padded(&sb, 1234567, 6);
	strbuf_addc(&sb, '|');
	strbuf_add_zero_padded(&sb, 0, 1);
	CHECK_STR(sb.data, "000000007|999999999|123456|234567|0");
	strbuf_free(&sb);
}
