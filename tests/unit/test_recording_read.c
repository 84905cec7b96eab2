// SPDX-License-Identifier: GPL-2.0
/* The recording reader: every frame of a good recording, and exact messages for bad ones. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>
#include "unit.h"
#include "recording_read.h"
#include "test_recording_util.h"

/* Read the whole recording; "" when it is good, else the reader's message. */
static const char *read_all(const unsigned char *bytes, size_t len)
{
	static char error[sizeof(((struct recording_reader *)0)->error)];
	struct recording_reader r;
	struct recording_header h;
	struct recording_frame fr;
	FILE *f = sample_open(bytes, len);
	int n = recording_read_header(&r, f, &h);

	while (n == 0 && (n = recording_read_frame(&r, &fr)) > 0)
		n = 0;
	snprintf(error, sizeof(error), "%s", n ? r.error : "");
	recording_reader_free(&r);
	fclose(f);
	return error;
}

static const char *fmt(const char *format, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *format, ...)
{
	static char text[400];
	va_list ap;

	va_start(ap, format);
	vsnprintf(text, sizeof(text), format, ap);
	va_end(ap);
	return text;
}

static void put_u32(unsigned char *at, uint32_t v)
{
	memcpy(at, &v, sizeof(v));
}

TEST(test_recording_read_gives_every_frame_as_written)
{
	struct sample s;
	struct recording_reader r;
	struct recording_header h;
	struct recording_frame fr;
	uint64_t counters[TW_CNT_MAX], cgroup_id, took_ns, time_wait, close_wait;
	struct tw_snapshot_counts walk;
	uint32_t namespaces;
	uint32_t value;
	uint16_t family;
	uint8_t addr[16];
	const char *name, *path;
	size_t path_len;
	FILE *f;

	sample_make(&s);
	f = sample_open(s.bytes, s.len);
	CHECK_INT(recording_read_header(&r, f, &h), 0);
	CHECK_INT(h.real_minus_mono_ns, 1000);
	CHECK_INT(h.fin_timeout_ns, 30000000000ll);
	CHECK_INT(h.time_wait_ns, 60000000000ll);
	CHECK_INT(h.flags, 0);
	CHECK_INT(h.version, 2);

	CHECK_INT(recording_read_frame(&r, &fr), 1);
	CHECK_INT(fr.type, RECORDING_FRAME_RST_REASONS);
	CHECK_INT(recording_rst_reason_count(&fr), 2);
	recording_rst_reason(&fr, 0, &value, &name);
	CHECK_INT(value, 0);
	CHECK_STR(name, "NOT_SPECIFIED");
	recording_rst_reason(&fr, 1, &value, &name);
	CHECK_INT(value, 12);
	CHECK_STR(name, "TCP_ABORT_ON_LINGER");

	CHECK_INT(recording_read_frame(&r, &fr), 1);
	CHECK_INT(fr.type, RECORDING_FRAME_LOCAL_ADDRS);
	CHECK_INT(fr.time_ns, 10);
	CHECK_INT(recording_local_addr_count(&fr), 2);
	recording_local_addr(&fr, 0, &family, addr);
	CHECK_INT(family, AF_INET);
	CHECK(addr[0] == 10 && addr[3] == 1 && addr[4] == 0);
	recording_local_addr(&fr, 1, &family, addr);
	CHECK_INT(family, AF_INET6);
	CHECK(addr[0] == 0 && addr[15] == 1);
	CHECK_INT(recording_read_frame(&r, &fr), 1);
	CHECK_INT(fr.type, RECORDING_FRAME_SNAPSHOT);
	recording_snapshot(&fr, &walk, &namespaces, &took_ns);
	CHECK_INT(walk.conns[TW_ESTABLISHED], 2);
	CHECK_INT(walk.time_wait, 7);
	CHECK_INT(namespaces, 3);
	CHECK_INT(took_ns, 1234);
	CHECK_INT(recording_read_frame(&r, &fr), 1);
	CHECK_INT(fr.type, RECORDING_FRAME_CGROUP);
	recording_cgroup(&fr, &cgroup_id, &path, &path_len);
	CHECK_INT(cgroup_id, 5);
	CHECK(path_len == strlen("/system.slice/x.service") &&
	      !memcmp(path, "/system.slice/x.service", path_len));

	CHECK_INT(recording_read_frame(&r, &fr), 1);
	CHECK_INT(fr.type, RECORDING_FRAME_RECORD);
	CHECK_INT(fr.time_ns, 100);
	CHECK_INT(fr.len, sizeof(struct tw_conn));
	CHECK(memcmp(fr.data, &s.conn, sizeof(s.conn)) == 0);
	CHECK_INT(recording_read_frame(&r, &fr), 1);
	CHECK_INT(fr.type, RECORDING_FRAME_RECORD);
	CHECK_INT(fr.time_ns, 105);
	CHECK(fr.len == sizeof(s.reset) && memcmp(fr.data, &s.reset, sizeof(s.reset)) == 0);

	CHECK_INT(recording_read_frame(&r, &fr), 1);
	CHECK_INT(fr.type, RECORDING_FRAME_RELEASE);
	CHECK_INT(fr.time_ns, 20000000);
	CHECK_INT(fr.len, 0);
	CHECK_INT(recording_read_frame(&r, &fr), 1);
	CHECK_INT(fr.type, RECORDING_FRAME_COUNTERS);
	CHECK_INT(fr.len, sizeof(counters));
	memcpy(counters, fr.data, sizeof(counters));
	CHECK_INT(counters[TW_CNT_LOST], 3);
	CHECK_INT(counters[TW_CNT_HELD_DROPPED], 1);
	CHECK_INT(recording_read_frame(&r, &fr), 1);
	CHECK_INT(fr.type, RECORDING_FRAME_SOCKETS);
	recording_sockets(&fr, &time_wait, &close_wait);
	CHECK_INT(time_wait, 40);
	CHECK_INT(close_wait, 2);
	CHECK_INT(recording_read_frame(&r, &fr), 1);
	CHECK_INT(fr.type, RECORDING_FRAME_FINISH);
	CHECK_INT(fr.time_ns, 30000000);
	CHECK_INT(recording_read_frame(&r, &fr), 1);
	CHECK_INT(fr.type, RECORDING_FRAME_RECORD);
	CHECK(memcmp(fr.data, &s.open_conn, sizeof(s.open_conn)) == 0);
	CHECK_INT(recording_read_frame(&r, &fr), 1);
	CHECK_INT(fr.type, RECORDING_FRAME_END);
	CHECK_INT(r.records, 3);
	CHECK_INT(recording_read_frame(&r, &fr), 0);
	CHECK_INT(recording_read_frame(&r, &fr), 0);
	recording_reader_free(&r);
	fclose(f);
}

TEST(test_recording_read_names_a_bad_cgroup_or_address)
{
	struct sample s;
	size_t path_at, addr_at;

	sample_make(&s);
	path_at = s.at_cgroup + RECORDING_FRAME_HEADER_LEN + 8;
	s.bytes[path_at] = 's';
	CHECK_STR(read_all(s.bytes, s.len),
		  fmt("byte %zu: expected a cgroup path that starts with '/', found byte 0x73",
		      path_at));
	sample_make(&s);
	s.bytes[path_at + 3] = '\0';
	CHECK_STR(read_all(s.bytes, s.len),
		  fmt("byte %zu: expected a cgroup path without NUL bytes, found one", path_at + 3));
	sample_make(&s);
	path_at = s.at_snapshot + RECORDING_FRAME_HEADER_LEN + sizeof(struct tw_snapshot_counts) + 4;
	s.bytes[path_at] = 1;
	CHECK_STR(read_all(s.bytes, s.len), fmt("byte %zu: expected 0 (reserved), found 1", path_at));
	sample_make(&s);
	addr_at = s.at_addrs + RECORDING_FRAME_HEADER_LEN;
	s.bytes[addr_at] = 7;
	CHECK_STR(read_all(s.bytes, s.len),
		  fmt("byte %zu: expected an address family, 2 (IPv4) or 10 (IPv6), found 7",
		      addr_at));
	sample_make(&s);
	s.bytes[addr_at + 2] = 1;
	CHECK_STR(read_all(s.bytes, s.len),
		  fmt("byte %zu: expected 0 (reserved), found 1", addr_at + 2));
	sample_make(&s);
	s.bytes[addr_at + 4 + 4] = 1;
	CHECK_STR(read_all(s.bytes, s.len),
		  fmt("byte %zu: expected an IPv4 address padded with zeros", addr_at + 8));
}

TEST(test_recording_read_version_1_has_no_host_frames)
{
	struct sample s;

	/* Version 1 ends its frame types at 6: the cgroup and address frames are 2's. */
	sample_make(&s);
	put_u32(s.bytes + RECORDING_AT_VERSION, 1);
	CHECK_STR(read_all(s.bytes, s.len),
		  fmt("byte %zu: expected a frame type from 1 to 6, found 8", s.at_addrs));
}

TEST(test_recording_read_accepts_the_sample_whole)
{
	struct sample s;

	sample_make(&s);
	CHECK_STR(read_all(s.bytes, s.len), "");
}

TEST(test_recording_read_names_a_foreign_file)
{
	static const unsigned char elf[] = "\x7f"
					   "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0";

	CHECK_STR(
	    read_all(elf, sizeof(elf) - 1),
	    "byte 0: expected the magic of a tcpwave recording, 89 54 43 50 57 41 56 45 0d 0a "
	    "1a 0a, found 7f 45 4c 46 02 01 01 00 00 00 00 00: not a tcpwave recording");
	CHECK_STR(
	    read_all((const unsigned char *)"{}\n", 3),
	    "byte 0: expected the magic of a tcpwave recording, 89 54 43 50 57 41 56 45 0d 0a "
	    "1a 0a, found 7b 7d 0a: not a tcpwave recording");
	CHECK_STR(read_all(elf, 0), "byte 0: expected a tcpwave recording, found an empty file");
}

TEST(test_recording_read_sees_a_text_mode_transfer_in_the_magic)
{
	struct sample s;

	sample_make(&s);
	/* CR LF turned into LF shifts everything after byte 8. */
	memmove(s.bytes + 8, s.bytes + 9, s.len - 9);
	CHECK_STR(
	    read_all(s.bytes, s.len - 1),
	    "byte 0: expected the magic of a tcpwave recording, 89 54 43 50 57 41 56 45 0d 0a "
	    "1a 0a, found 89 54 43 50 57 41 56 45 0a 1a 0a 04: not a tcpwave recording");
}

TEST(test_recording_read_refuses_the_other_byte_order)
{
	struct sample s;

	sample_make(&s);
	put_u32(s.bytes + RECORDING_AT_BYTE_ORDER, __builtin_bswap32(RECORDING_BYTE_ORDER_MARK));
	CHECK_STR(read_all(s.bytes, s.len),
		  "byte 12: expected the byte-order mark 04 03 02 01, found 01 02 03 04: the "
		  "recording was made on a host of the other byte order, and tcpwave reads its own "
		  "only");
	put_u32(s.bytes + RECORDING_AT_BYTE_ORDER, 0x55);
	CHECK_STR(read_all(s.bytes, s.len),
		  "byte 12: expected the byte-order mark 04 03 02 01, found 55 00 00 00");
}

TEST(test_recording_read_names_a_wrong_version)
{
	struct sample s;

	sample_make(&s);
	put_u32(s.bytes + RECORDING_AT_VERSION, 7);
	CHECK_STR(read_all(s.bytes, s.len), "byte 16: expected format version 1 to 2, found 7");
	put_u32(s.bytes + RECORDING_AT_VERSION, 0);
	CHECK_STR(read_all(s.bytes, s.len), "byte 16: expected format version 1 to 2, found 0");
}

TEST(test_recording_read_names_a_wrong_header_length)
{
	struct sample s;

	sample_make(&s);
	put_u32(s.bytes + RECORDING_AT_HEADER_LEN, 12);
	CHECK_STR(read_all(s.bytes, s.len),
		  "byte 20: expected a header length from 64 to 4096, found 12");
	put_u32(s.bytes + RECORDING_AT_HEADER_LEN, 0xffffffff);
	CHECK_STR(read_all(s.bytes, s.len),
		  "byte 20: expected a header length from 64 to 4096, found 4294967295");
}

TEST(test_recording_read_skips_header_fields_a_later_version_adds)
{
	struct sample s;
	unsigned char longer[sizeof(s.bytes) + 16] = {};

	sample_make(&s);
	memcpy(longer, s.bytes, RECORDING_HEADER_LEN);
	memcpy(longer + RECORDING_HEADER_LEN + 16, s.bytes + RECORDING_HEADER_LEN,
	       s.len - RECORDING_HEADER_LEN);
	put_u32(longer + RECORDING_AT_HEADER_LEN, RECORDING_HEADER_LEN + 16);
	CHECK_STR(read_all(longer, s.len + 16), "");
	CHECK_STR(read_all(longer, RECORDING_HEADER_LEN + 10),
		  "byte 74: expected the rest of the 80-byte header, found the end of the file");
}

TEST(test_recording_read_names_unknown_flags)
{
	struct sample s;

	sample_make(&s);
	put_u32(s.bytes + RECORDING_AT_FLAGS, 5);
	CHECK_STR(read_all(s.bytes, s.len), "byte 48: expected flags within 0x3, found 0x5");
}

TEST(test_recording_read_refuses_records_of_another_layout)
{
	struct sample s;

	sample_make(&s);
	put_u32(s.bytes + RECORDING_AT_CONN_SIZE, sizeof(struct tw_conn) - 8);
	CHECK_STR(read_all(s.bytes, s.len),
		  fmt("byte 56: expected connection records of %zu bytes, found %zu: the recording "
		      "was made by a tcpwave with other records",
		      sizeof(struct tw_conn), sizeof(struct tw_conn) - 8));
	sample_make(&s);
	put_u32(s.bytes + RECORDING_AT_STATE_SIZE, 1);
	CHECK_STR(read_all(s.bytes, s.len),
		  fmt("byte 52: expected transition records of %zu bytes, found 1: the recording "
		      "was made by a tcpwave with other records",
		      sizeof(struct tw_state_event)));
	sample_make(&s);
	put_u32(s.bytes + RECORDING_AT_RESET_SIZE, 0);
	CHECK_STR(read_all(s.bytes, s.len),
		  fmt("byte 60: expected reset records of %zu bytes, found 0: the recording "
		      "was made by a tcpwave with other records",
		      sizeof(struct tw_reset)));
}

TEST(test_recording_read_names_a_header_cut_short)
{
	struct sample s;

	sample_make(&s);
	CHECK_STR(read_all(s.bytes, 5),
		  "byte 5: expected the rest of the 64-byte header, found the end of the file");
	CHECK_STR(read_all(s.bytes, 14),
		  "byte 14: expected the rest of the 64-byte header, found the end of the file");
	CHECK_STR(read_all(s.bytes, 18),
		  "byte 18: expected the rest of the 64-byte header, found the end of the file");
	CHECK_STR(read_all(s.bytes, 40),
		  "byte 40: expected the rest of the 64-byte header, found the end of the file");
}

TEST(test_recording_read_says_how_far_a_cut_recording_got)
{
	struct sample s;

	sample_make(&s);
	/* Cut between frames: no end frame. */
	CHECK_STR(read_all(s.bytes, RECORDING_HEADER_LEN),
		  "byte 64: expected a frame, found the end of the file: the recording stops "
		  "without its end frame after 0 records (was tcpwave killed while writing it?)");
	CHECK_STR(read_all(s.bytes, s.at_release),
		  fmt("byte %zu: expected a frame, found the end of the file: the recording stops "
		      "without its end frame after 2 records (was tcpwave killed while writing "
		      "it?)",
		      s.at_release));
	/* Cut inside a frame's header. */
	CHECK_STR(read_all(s.bytes, s.at_reset + 7),
		  fmt("byte %zu: expected a 16-byte frame header, found the end of the file after "
		      "7: the recording stops after 1 record (was tcpwave killed while writing "
		      "it?)",
		      s.at_reset));
	/* Cut inside a record. */
	CHECK_STR(read_all(s.bytes, s.at_open + 16 + 100),
		  fmt("byte %zu: expected the %zu bytes of a record frame, found the end of the "
		      "file after 100: the recording stops after 2 records (was tcpwave killed "
		      "while writing it?)",
		      s.at_open + 16, sizeof(struct tw_conn)));
	/* Cut inside the end frame. */
	CHECK_STR(read_all(s.bytes, s.len - 1),
		  fmt("byte %zu: expected a 16-byte frame header, found the end of the file after "
		      "15: the recording stops after 3 records (was tcpwave killed while writing "
		      "it?)",
		      s.at_end));
}

TEST(test_recording_read_caps_a_frame_length)
{
	struct sample s;

	sample_make(&s);
	put_u32(s.bytes + s.at_conn + 4, 0xffffffff);
	CHECK_STR(read_all(s.bytes, s.len),
		  fmt("byte %zu: expected the length of a record frame, from 1 to 65536, found "
		      "4294967295",
		      s.at_conn + 4));
	put_u32(s.bytes + s.at_conn + 4, RECORDING_FRAME_MAX + 1);
	CHECK_STR(read_all(s.bytes, s.len),
		  fmt("byte %zu: expected the length of a record frame, from 1 to 65536, found "
		      "65537",
		      s.at_conn + 4));
}

TEST(test_recording_read_refuses_an_empty_record_and_a_full_empty_frame)
{
	struct sample s;

	sample_make(&s);
	put_u32(s.bytes + s.at_conn + 4, 0);
	CHECK_STR(read_all(s.bytes, s.len),
		  fmt("byte %zu: expected the length of a record frame, from 1 to 65536, found 0",
		      s.at_conn + 4));
	sample_make(&s);
	put_u32(s.bytes + s.at_release + 4, 8);
	CHECK_STR(read_all(s.bytes, s.len),
		  fmt("byte %zu: expected an empty release frame, found a length of 8",
		      s.at_release + 4));
	sample_make(&s);
	put_u32(s.bytes + s.at_counters + 4, 12);
	CHECK_STR(read_all(s.bytes, s.len),
		  fmt("byte %zu: expected the length of a counters frame, a multiple of 8 from 8 "
		      "to 512, found 12",
		      s.at_counters + 4));
	sample_make(&s);
	put_u32(s.bytes + s.at_counters + 4, 0);
	CHECK_STR(read_all(s.bytes, s.len),
		  fmt("byte %zu: expected the length of a counters frame, a multiple of 8 from 8 "
		      "to 512, found 0",
		      s.at_counters + 4));
}

TEST(test_recording_read_names_an_unknown_frame_type_and_reserved_bits)
{
	struct sample s;

	sample_make(&s);
	s.bytes[s.at_reset] = 11;
	CHECK_STR(read_all(s.bytes, s.len),
		  fmt("byte %zu: expected a frame type from 1 to 10, found 11", s.at_reset));
	s.bytes[s.at_reset] = 0;
	CHECK_STR(read_all(s.bytes, s.len),
		  fmt("byte %zu: expected a frame type from 1 to 10, found 0", s.at_reset));
	sample_make(&s);
	s.bytes[s.at_reset + 2] = 1;
	CHECK_STR(read_all(s.bytes, s.len),
		  fmt("byte %zu: expected 0 (reserved), found 1", s.at_reset + 2));
}

TEST(test_recording_read_refuses_an_rst_reason_name_that_is_no_identifier)
{
	struct sample s;
	size_t name_at;

	sample_make(&s);
	name_at = s.at_reasons + RECORDING_FRAME_HEADER_LEN + RECORDING_RST_REASON_LEN + 4;
	s.bytes[name_at + 3] = '\x1b';
	CHECK_STR(read_all(s.bytes, s.len),
		  fmt("byte %zu: expected an RST reason name of 1 to 43 letters, digits or '_' "
		      "and a NUL, found byte 0x1b",
		      name_at + 3));
	sample_make(&s);
	s.bytes[name_at] = '\0';
	CHECK_STR(read_all(s.bytes, s.len),
		  fmt("byte %zu: expected an RST reason name of 1 to 43 letters, digits or '_' "
		      "and a NUL, found byte 0x00",
		      name_at));
	sample_make(&s);
	memset(s.bytes + name_at, 'A', RECORDING_RST_NAME_LEN);
	CHECK_STR(read_all(s.bytes, s.len),
		  fmt("byte %zu: expected an RST reason name of 1 to 43 letters, digits or '_' "
		      "and a NUL, found byte 0x41",
		      name_at + RECORDING_RST_NAME_LEN - 1));
}

TEST(test_recording_read_refuses_data_after_the_end_frame)
{
	struct sample s;

	sample_make(&s);
	s.bytes[s.len] = 0;
	CHECK_STR(read_all(s.bytes, s.len + 1),
		  fmt("byte %zu: expected the end of the file after the end frame, found more data",
		      s.len));
}

/*
 * The format has no checksum: damage that keeps the structure whole, such
 * as a flipped bit in a record's port or a frame's time, reads as recorded.
 */
TEST(test_recording_read_takes_a_bit_flip_inside_the_fields_as_recorded)
{
	struct sample s;
	size_t record_at;

	sample_make(&s);
	record_at = s.at_conn + RECORDING_FRAME_HEADER_LEN;
	s.bytes[record_at + offsetof(struct tw_conn, ep.lport)] ^= 0x01;
	s.bytes[s.at_conn + 8] ^= 0x40; /* the frame's time */
	CHECK_STR(read_all(s.bytes, s.len), "");
}
