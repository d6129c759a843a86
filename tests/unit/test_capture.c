/* test_capture.c - offline capture sources on real files: pcap micro/nano
 * and pcapng, k-way merge by time, stdin, filters, and the error lines for
 * truncated, unsupported and mixed-link inputs; where each frame of several
 * files came from (file, number in it) and the labels listings make of it.
 *
 * The cap-*.pcap* fixtures in tests/unit/data come from one HTTP GET each,
 * captured inside `unshare --net` (python3 -m http.server, curl):
 *   tcpdump -i lo -s 0 -w cap-v4-eth.pcap 'tcp port 8080'        (127.0.0.1)
 *   tcpdump -i any -y LINUX_SLL2 -w cap-v6-sll2.pcap 'tcp port 8081' (::1)
 *   editcap -F nsecpcap cap-v4-eth.pcap cap-v4-eth-nsec.pcap
 *   editcap -F pcapng cap-v4-eth.pcap cap-v4-eth.pcapng
 *   editcap -r cap-v4-eth.pcap cap-v4-eth-odd.pcap 1 3 5 7 9 11
 *   editcap cap-v4-eth.pcap cap-v4-eth-even.pcap 1 3 5 7 9 11
 *   head -c 1275 cap-v4-eth.pcap > cap-v4-eth-truncated.pcap   (30 bytes short)
 *   mergecap -F pcapng -w cap-mixed-link.pcapng cap-v4-eth.pcap cap-v6-sll2.pcap
 *   editcap -T ieee-802-11 cap-v4-eth.pcap cap-wlan.pcapng
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "capture.h"
#include "format.h"
#include "packet.h"

#define V4_PACKETS 12
#define V6_PACKETS 12
/* first packet of cap-v4-eth.pcap, 1795623736.302875 s */
#define V4_FIRST_TS 1795623736302875000ull

struct rec {
	uint64_t frame, ts_ns;
	int linktype;
	uint32_t caplen, wirelen;
	uint8_t data[128];
};

static const char *data_path(const char *name, char *buf, size_t len)
{
	const char *src = getenv("SRCDIR");

	snprintf(buf, len, "%s/tests/unit/data/%s", src ? src : ".", name);
	return buf;
}

static struct capture *open_names(const char *const *names, size_t n,
				  const char *filter, char *err, size_t errlen)
{
	char paths[4][512];
	const char *p[4];
	size_t i;

	assert_true(n <= 4);
	for (i = 0; i < n; i++)
		p[i] = strcmp(names[i], "-") ?
			data_path(names[i], paths[i], sizeof(paths[i])) : "-";
	return capture_open_files(p, n, filter, err, errlen);
}

/* Reads everything; returns the packet count, errors counted separately. */
static size_t read_all(struct capture *c, struct rec *out, size_t max,
		       int *nerr, char *lasterr, size_t errlen)
{
	struct pkt p;
	char err[512];
	size_t n = 0;
	int rc;

	*nerr = 0;
	while ((rc = capture_next(c, &p, err, sizeof(err))) != 0) {
		if (rc < 0) {
			(*nerr)++;
			snprintf(lasterr, errlen, "%s", err);
			continue;
		}
		assert_int_equal(rc, 1);
		assert_true(n < max);
		out[n].frame = p.frame;
		out[n].ts_ns = p.ts_ns;
		out[n].linktype = p.linktype;
		out[n].caplen = p.caplen;
		out[n].wirelen = p.wirelen;
		memset(out[n].data, 0, sizeof(out[n].data));
		memcpy(out[n].data, p.data,
		       p.caplen < sizeof(out[n].data) ? p.caplen : sizeof(out[n].data));
		n++;
	}
	return n;
}

static size_t read_file(const char *name, const char *filter, struct rec *out,
			size_t max)
{
	char err[512] = "", lasterr[512] = "";
	struct capture *c = open_names(&name, 1, filter, err, sizeof(err));
	size_t n;
	int nerr;

	if (!c)
		fail_msg("open %s: %s", name, err);
	n = read_all(c, out, max, &nerr, lasterr, sizeof(lasterr));
	assert_int_equal(nerr, 0);
	capture_close(c);
	return n;
}

static void assert_same_records(const struct rec *a, const struct rec *b,
				size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		assert_int_equal(a[i].frame, i + 1);
		assert_int_equal(b[i].frame, i + 1);
		assert_int_equal(a[i].ts_ns, b[i].ts_ns);
		assert_int_equal(a[i].linktype, b[i].linktype);
		assert_int_equal(a[i].caplen, b[i].caplen);
		assert_int_equal(a[i].wirelen, b[i].wirelen);
		assert_memory_equal(a[i].data, b[i].data, sizeof(a[i].data));
	}
}

static void test_pcap_reads_and_decodes(void **state)
{
	struct rec r[32];
	struct tcp_seg seg;
	size_t n, i;

	(void)state;
	n = read_file("cap-v4-eth.pcap", NULL, r, 32);
	assert_int_equal(n, V4_PACKETS);
	assert_int_equal(r[0].ts_ns, V4_FIRST_TS);
	assert_int_equal(r[1].ts_ns, V4_FIRST_TS + 10000);
	assert_int_equal(r[0].caplen, 74);
	for (i = 0; i < n; i++) {
		struct pkt p = { .frame = r[i].frame, .linktype = r[i].linktype,
				 .data = r[i].data, .caplen = r[i].caplen,
				 .wirelen = r[i].wirelen };

		assert_int_equal(r[i].linktype, DLT_EN10MB);
		assert_int_equal(r[i].frame, i + 1);
		assert_int_equal(pkt_decode_tcp(&p, NULL, NULL, &seg), PKT_TCP);
		assert_int_equal(seg.src.family, 4);
		assert_true(seg.src.port == 8080 || seg.dst.port == 8080);
	}

	n = read_file("cap-v6-sll2.pcap", NULL, r, 32);
	assert_int_equal(n, V6_PACKETS);
	for (i = 0; i < n; i++) {
		struct pkt p = { .linktype = r[i].linktype, .data = r[i].data,
				 .caplen = r[i].caplen, .wirelen = r[i].wirelen };

		assert_int_equal(r[i].linktype, DLT_LINUX_SLL2);
		assert_int_equal(pkt_decode_tcp(&p, NULL, NULL, &seg), PKT_TCP);
		assert_int_equal(seg.src.family, 6);
		assert_int_equal(seg.src.addr[15], 1);   /* ::1 */
		assert_true(seg.src.port == 8081 || seg.dst.port == 8081);
	}
}

static void test_micro_nano_pcapng_agree(void **state)
{
	struct rec us[32], ns[32], ng[32];

	(void)state;
	assert_int_equal(read_file("cap-v4-eth.pcap", NULL, us, 32), V4_PACKETS);
	assert_int_equal(read_file("cap-v4-eth-nsec.pcap", NULL, ns, 32), V4_PACKETS);
	assert_int_equal(read_file("cap-v4-eth.pcapng", NULL, ng, 32), V4_PACKETS);
	assert_same_records(us, ns, V4_PACKETS);
	assert_same_records(us, ng, V4_PACKETS);
}

static void test_merge_in_time_order(void **state)
{
	struct rec whole[32], merged[32], mixed[32];
	static const char *const odd_even[] = {
		"cap-v4-eth-odd.pcap", "cap-v4-eth-even.pcap"
	};
	static const char *const even_odd[] = {
		"cap-v4-eth-even.pcap", "cap-v4-eth-odd.pcap"
	};
	static const char *const v4_v6[] = {
		"cap-v6-sll2.pcap", "cap-v4-eth.pcap"
	};
	char err[512] = "", lasterr[512] = "";
	struct capture *c;
	size_t n, i, n4 = 0;
	int nerr;

	(void)state;
	assert_int_equal(read_file("cap-v4-eth.pcap", NULL, whole, 32), V4_PACKETS);

	c = open_names(odd_even, 2, NULL, err, sizeof(err));
	assert_non_null(c);
	n = read_all(c, merged, 32, &nerr, lasterr, sizeof(lasterr));
	capture_close(c);
	assert_int_equal(nerr, 0);
	assert_int_equal(n, V4_PACKETS);
	assert_same_records(whole, merged, V4_PACKETS);

	c = open_names(even_odd, 2, NULL, err, sizeof(err));
	assert_non_null(c);
	n = read_all(c, merged, 32, &nerr, lasterr, sizeof(lasterr));
	capture_close(c);
	assert_int_equal(n, V4_PACKETS);
	assert_same_records(whole, merged, V4_PACKETS);

	/* two link types in one stream: each packet keeps its own */
	c = open_names(v4_v6, 2, NULL, err, sizeof(err));
	assert_non_null(c);
	n = read_all(c, mixed, 32, &nerr, lasterr, sizeof(lasterr));
	capture_close(c);
	assert_int_equal(n, V4_PACKETS + V6_PACKETS);
	for (i = 0; i < n; i++) {
		assert_int_equal(mixed[i].frame, i + 1);
		if (i)
			assert_true(mixed[i - 1].ts_ns <= mixed[i].ts_ns);
		n4 += mixed[i].linktype == DLT_EN10MB;
	}
	assert_int_equal(n4, V4_PACKETS);
	/* the IPv4 exchange happened first */
	assert_int_equal(mixed[0].linktype, DLT_EN10MB);
	assert_int_equal(mixed[n - 1].linktype, DLT_LINUX_SLL2);
}

/* Writes a nanosecond raw-IP pcap whose packets are one marker byte
 * followed by the packet's index; returns the path in buf. */
static void write_marked(char *buf, size_t len, uint8_t marker,
			 const uint64_t *ts, size_t n)
{
	pcap_t *dead = pcap_open_dead_with_tstamp_precision(DLT_RAW, 65535,
		PCAP_TSTAMP_PRECISION_NANO);
	pcap_dumper_t *d;
	int fd;
	size_t i;

	snprintf(buf, len, "/tmp/test_capture_XXXXXX");
	fd = mkstemp(buf);
	assert_true(fd >= 0);
	close(fd);
	assert_non_null(dead);
	d = pcap_dump_open(dead, buf);
	assert_non_null(d);
	for (i = 0; i < n; i++) {
		uint8_t data[2] = { marker, (uint8_t)i };
		struct pcap_pkthdr h = { .caplen = 2, .len = 2 };

		h.ts.tv_sec = (time_t)(ts[i] / 1000000000u);
		h.ts.tv_usec = (suseconds_t)(ts[i] % 1000000000u);
		pcap_dump((u_char *)d, &h, data);
	}
	pcap_dump_close(d);
	pcap_close(dead);
}

static void test_merge_ties_keep_input_order(void **state)
{
	/* equal stamps across and within inputs, 1 ns apart elsewhere */
	static const uint64_t ts_a[] = { 5, 7, 7, 9 };
	static const uint64_t ts_b[] = { 4, 7, 8, 8 };
	static const char *const expect[] = {
		"B0", "A0", "A1", "A2", "B1", "B2", "B3", "A3"
	};
	struct rec r[16];
	char pa[64], pb[64], err[512] = "", lasterr[512] = "";
	const char *paths[2];
	struct capture *c;
	size_t n, i;
	int nerr;

	(void)state;
	write_marked(pa, sizeof(pa), 'A', ts_a, 4);
	write_marked(pb, sizeof(pb), 'B', ts_b, 4);
	paths[0] = pa;
	paths[1] = pb;
	c = capture_open_files(paths, 2, NULL, err, sizeof(err));
	assert_non_null(c);
	n = read_all(c, r, 16, &nerr, lasterr, sizeof(lasterr));
	capture_close(c);
	unlink(pa);
	unlink(pb);
	assert_int_equal(nerr, 0);
	assert_int_equal(n, 8);
	for (i = 0; i < n; i++) {
		assert_int_equal(r[i].data[0], expect[i][0]);
		assert_int_equal(r[i].data[1], expect[i][1] - '0');
		assert_int_equal(r[i].frame, i + 1);
		assert_int_equal(r[i].linktype, DLT_RAW);
	}
	assert_int_equal(r[0].ts_ns, 4);
	assert_int_equal(r[7].ts_ns, 9);
}

/* Each frame's file and its number there, as tshark numbers them:
 * cap-v4-eth-odd.pcap holds frames 1 3 5 .. 11 of cap-v4-eth.pcap and
 * -even.pcap the others (editcap, see the top), so merged frame i is the
 * odd file's (i + 1) / 2 or the even file's i / 2. */
static void test_frame_origin(void **state)
{
	static const char *const odd_even[] = {
		"cap-v4-eth-odd.pcap", "cap-v4-eth-even.pcap"
	};
	static const char *const one[] = { "cap-v4-eth.pcap" };
	char err[512] = "";
	struct frame_origin o, seen[32];
	struct capture *c;
	struct pkt p;
	size_t n = 0, i;
	int rc;

	(void)state;
	c = open_names(odd_even, 2, NULL, err, sizeof(err));
	assert_non_null(c);
	while ((rc = capture_next(c, &p, err, sizeof(err))) == 1) {
		assert_true(n < 32);
		seen[n++] = p.origin;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, V4_PACKETS);
	for (i = 1; i <= n; i++) {
		assert_int_equal(seen[i - 1].file, i % 2 ? 1 : 2);
		assert_int_equal(seen[i - 1].frame, i % 2 ? (i + 1) / 2 : i / 2);
		assert_int_equal(capture_frame_origin(c, i, &o), 0);
		assert_int_equal(o.file, seen[i - 1].file);
		assert_int_equal(o.frame, seen[i - 1].frame);
	}
	assert_int_equal(capture_frame_origin(c, 0, &o), -1);
	assert_int_equal(capture_frame_origin(c, n + 1, &o), -1);
	capture_close(c);

	/* one file: the merged number is the file's own */
	c = open_names(one, 1, NULL, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(capture_next(c, &p, err, sizeof(err)), 1);
	assert_int_equal(capture_frame_origin(c, 1, &o), -1);
	capture_close(c);
}

/* A filter skips records, not numbers: the FINs are frames 10 and 11 of
 * cap-v4-eth.pcap (tshark), in the classic file and in its pcapng copy. */
static void test_frame_origin_filtered(void **state)
{
	static const char *const both[] = { "cap-v4-eth.pcap", "cap-v4-eth.pcapng" };
	static const uint64_t want_frame[] = { 10, 10, 11, 11 };
	static const uint32_t want_file[] = { 1, 2, 1, 2 };
	char err[512] = "";
	struct frame_origin o;
	struct capture *c;
	struct pkt p;
	size_t n = 0;

	(void)state;
	c = open_names(both, 2, "tcp[tcpflags] & tcp-fin != 0", err, sizeof(err));
	if (!c)
		fail_msg("open: %s", err);
	while (capture_next(c, &p, err, sizeof(err)) == 1) {
		assert_true(n < 4);
		assert_int_equal(p.frame, n + 1);
		assert_int_equal(p.origin.file, want_file[n]);
		assert_int_equal(p.origin.frame, want_frame[n]);
		assert_int_equal(capture_frame_origin(c, p.frame, &o), 0);
		assert_int_equal(o.frame, want_frame[n]);
		n++;
	}
	assert_int_equal(n, 4);
	capture_close(c);
}

/* The names listings give frames (format.c), the capture's origins put in. */
static void test_frame_labels(void **state)
{
	static const char *const two[] = { "dir/a.pcap", "b.pcapng" };
	static const char *const same[] = { "x/c.pcap", "y/c.pcap", "-" };
	struct frame_origin a4 = { 1, 4 }, a9 = { 1, 9 }, b2 = { 2, 2 }, none = { 0, 0 };
	struct frame_origin c1 = { 1, 7 }, c2 = { 2, 7 }, in = { 3, 1 };
	char buf[128];

	(void)state;
	/* one file: the merged numbers, whatever the origins say */
	assert_string_equal(fmt_frames(two, 1, 10, &a4, 11, &a9, buf, sizeof(buf)), "#10-11");
	assert_string_equal(fmt_frames(two, 1, 10, &a4, 10, &a4, buf, sizeof(buf)), "#10");
	assert_string_equal(fmt_frames(two, 2, 0, NULL, 0, NULL, buf, sizeof(buf)), "#-");
	/* several: base name and the number in that file */
	assert_string_equal(fmt_frames(two, 2, 10, &a4, 10, &a4, buf, sizeof(buf)), "a.pcap:4");
	assert_string_equal(fmt_frames(two, 2, 10, &a4, 0, NULL, buf, sizeof(buf)), "a.pcap:4");
	assert_string_equal(fmt_frames(two, 2, 10, &a4, 15, &a9, buf, sizeof(buf)), "a.pcap:4-9");
	/* across a rotation */
	assert_string_equal(fmt_frames(two, 2, 10, &a9, 12, &b2, buf, sizeof(buf)), "a.pcap:9-b.pcapng:2");
	/* no origin (past the table's cap): the merged number */
	assert_string_equal(fmt_frames(two, 2, 182, &none, 183, &none, buf, sizeof(buf)), "#182-183");
	assert_string_equal(fmt_frames(two, 2, 10, &a9, 182, &none, buf, sizeof(buf)), "a.pcap:9-#182");
	/* a shared base name: the place on the command line; stdin by name */
	assert_string_equal(fmt_frames(same, 3, 5, &c1, 5, &c1, buf, sizeof(buf)), "1:7");
	assert_string_equal(fmt_frames(same, 3, 6, &c2, 6, &c2, buf, sizeof(buf)), "2:7");
	assert_string_equal(fmt_frames(same, 3, 9, &in, 9, &in, buf, sizeof(buf)), "(stdin):1");
	assert_string_equal(fmt_frame_file(same, 3, 2, buf, sizeof(buf)), "2");
	assert_string_equal(fmt_frame_file(two, 2, 2, buf, sizeof(buf)), "b.pcapng");
}

static void test_stdin_pipe(void **state)
{
	struct rec whole[32], piped[32];
	static const char *const dash[] = { "-" };
	static const char *const dash_twice[] = { "-", "-" };
	char path[512], err[512] = "", lasterr[512] = "";
	struct capture *c;
	int fds[2], nerr, status;
	pid_t pid;
	size_t n;

	(void)state;
	assert_int_equal(read_file("cap-v4-eth.pcap", NULL, whole, 32), V4_PACKETS);
	assert_null(open_names(dash_twice, 2, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "only once"));

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		FILE *f = fopen(data_path("cap-v4-eth.pcap", path, sizeof(path)), "rb");
		char buf[4096];
		size_t k;

		close(fds[0]);
		while (f && (k = fread(buf, 1, sizeof(buf), f)) > 0)
			if (write(fds[1], buf, k) != (ssize_t)k)
				_exit(1);
		_exit(f ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
	close(fds[0]);
	c = open_names(dash, 1, NULL, err, sizeof(err));
	if (!c)
		fail_msg("stdin: %s", err);
	n = read_all(c, piped, 32, &nerr, lasterr, sizeof(lasterr));
	capture_close(c);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(nerr, 0);
	assert_int_equal(n, V4_PACKETS);
	assert_same_records(whole, piped, V4_PACKETS);
}

static void test_filter(void **state)
{
	struct rec r[32];
	static const char *const one[] = { "cap-v4-eth.pcap" };
	char err[512] = "";

	(void)state;
	/* SYN and SYN-ACK only */
	assert_int_equal(read_file("cap-v4-eth.pcap", "tcp[tcpflags] & tcp-syn != 0",
				   r, 32), 2);
	assert_int_equal(r[0].frame, 1);
	assert_int_equal(r[1].frame, 2);
	assert_int_equal(r[1].ts_ns, V4_FIRST_TS + 10000);
	assert_int_equal(read_file("cap-v6-sll2.pcap", "ip6 and tcp port 8081", r, 32),
			 V6_PACKETS);
	assert_int_equal(read_file("cap-v6-sll2.pcap", "ip", r, 32), 0);

	assert_null(open_names(one, 1, "tcp port", err, sizeof(err)));
	assert_non_null(strstr(err, "cap-v4-eth.pcap: bad filter \"tcp port\": "));
}

static void test_truncated_file(void **state)
{
	struct rec r[32];
	static const char *const trunc[] = { "cap-v4-eth-truncated.pcap" };
	static const char *const trunc_and_odd[] = {
		"cap-v4-eth-truncated.pcap", "cap-v6-sll2.pcap"
	};
	char err[512] = "", lasterr[512] = "";
	struct capture *c;
	size_t n;
	int nerr;

	(void)state;
	c = open_names(trunc, 1, NULL, err, sizeof(err));
	assert_non_null(c);
	n = read_all(c, r, 32, &nerr, lasterr, sizeof(lasterr));
	capture_close(c);
	assert_int_equal(n, V4_PACKETS - 1);
	assert_int_equal(nerr, 1);
	assert_non_null(strstr(lasterr, "/cap-v4-eth-truncated.pcap: truncated dump file"));
	assert_non_null(strstr(lasterr, "(packet 12 at byte 1223); processed 11 packets"));

	/* the broken input is reported once and the other one carries on */
	c = open_names(trunc_and_odd, 2, NULL, err, sizeof(err));
	assert_non_null(c);
	n = read_all(c, r, 32, &nerr, lasterr, sizeof(lasterr));
	capture_close(c);
	assert_int_equal(nerr, 1);
	assert_int_equal(n, V4_PACKETS - 1 + V6_PACKETS);
	assert_int_equal(r[n - 1].frame, n);
	assert_int_equal(r[n - 1].linktype, DLT_LINUX_SLL2);
}

/* A copy of cap-v4-eth.pcap whose header claims a snap length of 60, less
 * than most of its records hold; returns the path in buf. */
static void write_small_snaplen(char *buf, size_t len)
{
	char path[512];
	static uint8_t data[1 << 16];
	FILE *f = fopen(data_path("cap-v4-eth.pcap", path, sizeof(path)), "rb");
	size_t n;
	int fd;

	assert_non_null(f);
	n = fread(data, 1, sizeof(data), f);
	fclose(f);
	assert_true(n > 24 && n < sizeof(data));
	/* a little-endian microsecond file: snaplen at byte 16 */
	assert_int_equal(data[0], 0xd4);
	data[16] = 60;
	data[17] = data[18] = data[19] = 0;
	snprintf(buf, len, "/tmp/test_capture_XXXXXX");
	fd = mkstemp(buf);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

/* libpcap cuts records to the header's snap length and skips the rest:
 * such a file read as nothing but cut packets, without a word. Records
 * are read whole instead, and the wrong header is said once, naming the
 * file and the snap length. */
static void test_header_snaplen_smaller_than_records(void **state)
{
	struct rec whole[32], r[32];
	char path[64], err[512] = "", lasterr[512] = "";
	const char *paths[1];
	struct capture *c;
	size_t n;
	int nerr;

	(void)state;
	assert_int_equal(read_file("cap-v4-eth.pcap", NULL, whole, 32), V4_PACKETS);
	write_small_snaplen(path, sizeof(path));
	paths[0] = path;
	c = capture_open_files(paths, 1, NULL, err, sizeof(err));
	assert_non_null(c);
	n = read_all(c, r, 32, &nerr, lasterr, sizeof(lasterr));
	capture_close(c);
	assert_int_equal(n, V4_PACKETS);
	assert_same_records(whole, r, V4_PACKETS);
	assert_true(whole[0].caplen > 60);
	assert_int_equal(nerr, 1);
	assert_non_null(strstr(lasterr, path));
	assert_non_null(strstr(lasterr, "packet 1 at byte 24 holds 74 bytes, more than the file header's "
				       "snapshot length 60"));
	/* a filter asks the file where each record starts: the same */
	c = capture_open_files(paths, 1, "tcp", err, sizeof(err));
	assert_non_null(c);
	n = read_all(c, r, 32, &nerr, lasterr, sizeof(lasterr));
	capture_close(c);
	unlink(path);
	assert_int_equal(n, V4_PACKETS);
	assert_same_records(whole, r, V4_PACKETS);
	assert_int_equal(nerr, 1);
}

static void test_open_errors(void **state)
{
	static const char *const missing[] = { "cap-v4-eth.pcap", "no-such.pcap" };
	static const char *const wlan[] = { "cap-wlan.pcapng" };
	static const char *const text[] = { "getcacaps.txt" };
	char err[512] = "";
	uint64_t a, b;
	struct capture *c;

	(void)state;
	assert_null(open_names(missing, 2, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "/no-such.pcap: No such file or directory"));
	/* the name appears once, not "x: x: ..." */
	assert_null(strstr(strstr(err, "no-such.pcap") + 1, "no-such.pcap"));

	assert_null(open_names(wlan, 1, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "/cap-wlan.pcapng: unsupported link type "
			       "DLT_IEEE802_11 (105)"));

	assert_null(open_names(text, 1, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "/getcacaps.txt: unknown file format"));

	assert_null(capture_open_files(NULL, 0, NULL, err, sizeof(err)));

	/* offline: no kernel counters; a break ends the stream */
	c = open_names(missing, 1, NULL, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(capture_stats(c, &a, &b), -1);
	capture_break(c);
	{
		struct pkt p;

		assert_int_equal(capture_next(c, &p, err, sizeof(err)), 0);
	}
	capture_close(c);
}

static void test_mixed_link_pcapng(void **state)
{
	struct rec r[64];
	static const char *const mixed[] = { "cap-mixed-link.pcapng" };
	char err[512] = "", lasterr[512] = "";
	struct capture *c;
	size_t n, i;
	int nerr;

	(void)state;
	/* libpcap 1.10 fails at the second interface block; our pcapng
	 * walker (test_pcapng) gives each packet its interface's link type. */
	c = open_names(mixed, 1, NULL, err, sizeof(err));
	assert_non_null(c);
	n = read_all(c, r, 64, &nerr, lasterr, sizeof(lasterr));
	capture_close(c);
	assert_int_equal(nerr, 0);
	assert_int_equal(n, V4_PACKETS + V6_PACKETS);
	for (i = 0; i < n; i++)
		assert_int_equal(r[i].linktype,
				 i < V4_PACKETS ? DLT_EN10MB : DLT_LINUX_SLL2);
}

static void test_live_bad_interface(void **state)
{
	struct capture_live_opts o = { .iface = "nosuchif0", .snaplen = 0 };
	char err[512] = "";

	(void)state;
	assert_null(capture_open_live(&o, err, sizeof(err)));
	assert_int_equal(strncmp(err, "nosuchif0: ", 11), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pcap_reads_and_decodes),
		cmocka_unit_test(test_micro_nano_pcapng_agree),
		cmocka_unit_test(test_merge_in_time_order),
		cmocka_unit_test(test_merge_ties_keep_input_order),
		cmocka_unit_test(test_frame_origin),
		cmocka_unit_test(test_frame_origin_filtered),
		cmocka_unit_test(test_frame_labels),
		cmocka_unit_test(test_stdin_pipe),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_truncated_file),
		cmocka_unit_test(test_header_snaplen_smaller_than_records),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_mixed_link_pcapng),
		cmocka_unit_test(test_live_bad_interface),
	};

	return cmocka_run_group_tests_name("capture", tests, NULL, NULL);
}
