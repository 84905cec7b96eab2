// SPDX-License-Identifier: GPL-2.0
/* errno_name(): the errors a TCP socket ends with, by name. */
#include "unit.h"

#include <errno.h>
#include <limits.h>
#include "errno_name.h"

static const char *name_or_null(int err)
{
	const char *name = errno_name(err);

	return name ? name : "(null)";
}

#define CHECK_ERRNO(e) CHECK_STR(name_or_null(e), #e)

TEST(test_errno_name_names_every_error_a_tcp_socket_ends_with)
{
	CHECK_ERRNO(ETIMEDOUT);
	CHECK_ERRNO(ECONNREFUSED);
	CHECK_ERRNO(ECONNRESET);
	CHECK_ERRNO(EPIPE);
	CHECK_ERRNO(ECONNABORTED);
	CHECK_ERRNO(EHOSTUNREACH);
	CHECK_ERRNO(ENETUNREACH);
	CHECK_ERRNO(EHOSTDOWN);
	CHECK_ERRNO(ENONET);
	CHECK_ERRNO(ENETDOWN);
	CHECK_ERRNO(EPROTO);
	CHECK_ERRNO(ENOPROTOOPT);
	CHECK_ERRNO(EOPNOTSUPP);
	CHECK_ERRNO(EMSGSIZE);
	CHECK_ERRNO(EACCES);
	CHECK_ERRNO(EPERM);
	CHECK_ERRNO(ENOMEM);
	CHECK_ERRNO(ENOBUFS);
	CHECK_ERRNO(EADDRNOTAVAIL);
	CHECK_ERRNO(EADDRINUSE);
}

TEST(test_errno_name_takes_negative_errnos_too)
{
	CHECK_STR(name_or_null(-ETIMEDOUT), "ETIMEDOUT");
	CHECK_STR(name_or_null(-ECONNREFUSED), "ECONNREFUSED");
}

TEST(test_errno_name_is_null_for_no_error_and_for_others)
{
	CHECK_STR(name_or_null(0), "(null)");
	CHECK_STR(name_or_null(EAGAIN), "(null)"); /* not how a socket ends */
	CHECK_STR(name_or_null(200), "(null)");
	CHECK_STR(name_or_null(65535), "(null)");
	CHECK_STR(name_or_null(INT_MAX), "(null)");
	CHECK_STR(name_or_null(INT_MIN), "(null)");
}
