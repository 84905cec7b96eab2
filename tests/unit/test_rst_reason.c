// SPDX-License-Identifier: GPL-2.0
/* The sk_rst_reason name table; rst_reason_load() reads BTF with libbpf, not linked here. */
#include "unit.h"

#include "rst_reason.h"

static const char *name_or_null(unsigned int value)
{
	const char *name = rst_reason_name(value);

	return name ? name : "(null)";
}

TEST(test_rst_reason_unset_values_have_no_name)
{
	CHECK_STR(name_or_null(0), "(null)");
	CHECK_STR(name_or_null(RST_REASON_MAX - 1), "(null)");
	CHECK_STR(name_or_null(RST_REASON_MAX), "(null)");
	CHECK_STR(name_or_null(65535), "(null)");
}

TEST(test_rst_reason_set_names_a_value)
{
	rst_reason_set(12, "TCP_ABORT_ON_LINGER");
	rst_reason_set(0, "NOT_SPECIFIED");
	CHECK_STR(name_or_null(12), "TCP_ABORT_ON_LINGER");
	CHECK_STR(name_or_null(0), "NOT_SPECIFIED");
	CHECK_STR(name_or_null(11), "(null)");
	rst_reason_set(12, "TCP_ABORT_ON_CLOSE");
	CHECK_STR(name_or_null(12), "TCP_ABORT_ON_CLOSE");
	rst_reason_set(12, NULL);
	rst_reason_set(0, NULL);
	CHECK_STR(name_or_null(12), "(null)");
	CHECK_STR(name_or_null(0), "(null)");
}

TEST(test_rst_reason_keeps_a_copy_of_the_name)
{
	char name[] = "TCP_STATE";

	rst_reason_set(14, name);
	name[0] = 'X';
	CHECK_STR(name_or_null(14), "TCP_STATE");
	rst_reason_set(14, NULL);
}

TEST(test_rst_reason_ignores_values_beyond_the_table)
{
	rst_reason_set(RST_REASON_MAX, "TOO_FAR");
	rst_reason_set(~0u, "TOO_FAR");
	CHECK_STR(name_or_null(RST_REASON_MAX), "(null)");
	CHECK_STR(name_or_null(~0u), "(null)");
	rst_reason_set(RST_REASON_MAX - 1, "LAST");
	CHECK_STR(name_or_null(RST_REASON_MAX - 1), "LAST");
	rst_reason_set(RST_REASON_MAX - 1, NULL);
}

TEST(test_rst_reason_cuts_a_name_too_long_for_the_table)
{
	rst_reason_set(1, "A_REASON_NAME_THAT_GOES_ON_AND_ON_FAR_BEYOND_ANY_REAL_ONE");
	CHECK_STR(name_or_null(1), "A_REASON_NAME_THAT_GOES_ON_AND_ON_FAR_BEYOND_AN");
	rst_reason_set(1, NULL);
}

TEST(test_rst_reason_empty_name_is_no_name)
{
	rst_reason_set(2, "");
	CHECK_STR(name_or_null(2), "(null)");
}
