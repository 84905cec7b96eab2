// SPDX-License-Identifier: GPL-2.0
/* The recording writer: buffered, read back whole, and honest about write errors. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/types.h>
#include "unit.h"
#include "recording_read.h"
#include "recording_write.h"
#include "tcpwave.h"
#include "test_recording_util.h"

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

static const struct recording_header header = {
	.fin_timeout_ns = 60,
	.time_wait_ns = 60,
};

TEST(test_recording_write_buffers_records_until_a_flush)
{
	char path[] = "/tmp/tcpwave-unit-XXXXXX";
	struct tw_reset r = { .type = TW_REC_RESET };
	struct recording_writer w;
	int i;

	close(mkstemp(path));
	CHECK_INT(recording_writer_open(&w, path), 0);
	recording_write_header(&w, &header);
	for (i = 0; i < 100; i++)
		CHECK_INT(recording_write_record(&w, &r, sizeof(r), (uint64_t)i), 0);
	/* A hundred records, and not one write yet. */
	CHECK_INT(file_size(path), 0);
	CHECK_INT(recording_writer_flush(&w), 0);
	CHECK_INT(file_size(path), RECORDING_HEADER_LEN + 100 * (16 + sizeof(r)));
	CHECK_INT(recording_writer_close(&w), 0);
	CHECK_INT(file_size(path), RECORDING_HEADER_LEN + 101 * 16 + 100 * sizeof(r));
	unlink(path);
}

TEST(test_recording_write_more_than_its_buffer_reads_back_in_order)
{
	char path[] = "/tmp/tcpwave-unit-XXXXXX";
	struct tw_conn c = { .type = TW_REC_CONN };
	struct recording_writer w;
	struct recording_reader r;
	struct recording_header h;
	struct recording_frame fr;
	const int n = 5000; /* about 1.2 MB: several buffers' worth */
	int i, bad = 0;
	FILE *f;

	close(mkstemp(path));
	CHECK_INT(recording_writer_open(&w, path), 0);
	recording_write_header(&w, &header);
	for (i = 0; i < n; i++) {
		c.cookie = (uint64_t)i;
		recording_write_record(&w, &c, sizeof(c), 1000 + (uint64_t)i);
	}
	CHECK_INT(recording_writer_close(&w), 0);

	f = fopen(path, "rb");
	CHECK_INT(recording_read_header(&r, f, &h), 0);
	for (i = 0; i < n; i++) {
		if (recording_read_frame(&r, &fr) != 1 || fr.time_ns != 1000 + (uint64_t)i) {
			bad++;
			break;
		}
		memcpy(&c, fr.data, sizeof(c));
		bad += c.cookie != (uint64_t)i;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(recording_read_frame(&r, &fr), 1);
	CHECK_INT(fr.type, RECORDING_FRAME_END);
	CHECK_INT(recording_read_frame(&r, &fr), 0);
	recording_reader_free(&r);
	fclose(f);
	unlink(path);
}

TEST(test_recording_write_reports_a_full_disk_once_and_keeps_the_error)
{
	struct tw_reset r = { .type = TW_REC_RESET };
	struct recording_writer w;
	struct captured cap;

	CHECK_INT(recording_writer_open(&w, "/dev/full"), 0);
	capture_stderr(&cap);
	/* Buffered: the disk is not asked yet. */
	CHECK_INT(recording_write_header(&w, &header), 0);
	CHECK_INT(recording_writer_flush(&w), -ENOSPC);
	CHECK_INT(recording_write_record(&w, &r, sizeof(r), 1), -ENOSPC);
	CHECK_INT(recording_writer_flush(&w), -ENOSPC);
	CHECK_INT(recording_writer_close(&w), -ENOSPC);
	CHECK_STR(captured_text(&cap), "tcpwave: writing /dev/full: No space left on device\n");
}

TEST(test_recording_write_names_a_path_it_cannot_create)
{
	struct recording_writer w;
	struct captured cap;

	capture_stderr(&cap);
	CHECK_INT(recording_writer_open(&w, "/nonexistent/rec"), -ENOENT);
	CHECK_INT(recording_writer_close(&w), -ENOENT);
	CHECK_STR(captured_text(&cap),
		  "tcpwave: writing /nonexistent/rec: No such file or directory\n");
}

TEST(test_recording_write_leaves_no_end_frame_without_a_header)
{
	/* Tracing failed to start: the file stays empty rather than half a recording. */
	char path[] = "/tmp/tcpwave-unit-XXXXXX";
	struct recording_writer w;

	close(mkstemp(path));
	CHECK_INT(recording_writer_open(&w, path), 0);
	CHECK_INT(recording_writer_close(&w), 0);
	CHECK_INT(file_size(path), 0);
	unlink(path);
}

TEST(test_recording_write_does_nothing_when_not_recording)
{
	struct tw_reset r = { .type = TW_REC_RESET };
	struct recording_writer w;

	recording_writer_init(&w);
	CHECK_INT(recording_write_header(&w, &header), 0);
	CHECK_INT(recording_write_record(&w, &r, sizeof(r), 1), 0);
	CHECK_INT(recording_write_release(&w, 1), 0);
	CHECK_INT(recording_writer_flush(&w), 0);
	CHECK_INT(recording_writer_close(&w), 0);
	CHECK_INT(w.len, 0);
}
