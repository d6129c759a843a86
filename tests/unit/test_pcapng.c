/* test_pcapng.c - pcapng inputs through capture.c and our walker: real
 * two-interface files with mixed link types, and small files built here
 * byte by byte for both byte orders, clock options, SPB/PB, secrets blocks
 * and damaged blocks; stdin, filters and the merge with classic pcap.
 *
 * pcapng-dumpcap-lo-any.pcapng (4 packets, one refused TCP connect seen on
 * two interfaces) was captured in a private network namespace:
 *   unshare --net bash -c 'ip link set lo up; dumpcap -q -i lo -i any \
 *     -y LINUX_SLL2 -w x.pcapng -a duration:3 & sleep 1; \
 *     curl -s http://127.0.0.1:1/; wait'
 * interface 0 is lo (EN10MB), interface 1 is any (LINUX_SLL2), if_tsresol 9;
 * the expected stamps below are `tshark -T fields -e frame.time_epoch`.
 * cap-mixed-link.pcapng is described in test_capture.c (mergecap of an
 * Ethernet and an SLL2 capture). pcapng-editcap-dsb.pcapng is that file with
 * a made-up key log line put in a Decryption Secrets Block by Wireshark:
 *   printf 'CLIENT_RANDOM 00112233 44556677\n' > kl.txt
 *   editcap --inject-secrets tls,kl.txt cap-mixed-link.pcapng \
 *     pcapng-editcap-dsb.pcapng
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
#include "packet.h"
#include "../../src/capture/pcapng.h"
#include "testutil.h"

#define LT_ETHER 1
#define LT_RAW 101         /* pcapng's LINKTYPE_RAW, DLT_RAW once read */
#define LT_WLAN 105

struct rec {
	uint64_t frame, ts_ns;
	int linktype;
	uint32_t caplen, wirelen;
	uint8_t data[128];
};

/* ---- reading through capture.c ---- */

struct run {
	struct rec r[64];
	size_t n;
	int nerr;
	char errs[4][512];        /* the first error lines */
	char keylog[512];
	size_t keylog_len;
	uint64_t keylog_dropped, secrets_other;
};

static void drain(struct capture *c, struct run *out)
{
	struct pkt p;
	char err[512];
	int rc;

	while ((rc = capture_next(c, &p, err, sizeof(err))) != 0) {
		if (rc < 0) {
			if (out->nerr < 4)
				snprintf(out->errs[out->nerr], sizeof(out->errs[0]),
					 "%s", err);
			out->nerr++;
			continue;
		}
		assert_int_equal(rc, 1);
		assert_true(out->n < 64);
		out->r[out->n].frame = p.frame;
		out->r[out->n].ts_ns = p.ts_ns;
		out->r[out->n].linktype = p.linktype;
		out->r[out->n].caplen = p.caplen;
		out->r[out->n].wirelen = p.wirelen;
		memset(out->r[out->n].data, 0, sizeof(out->r[0].data));
		memcpy(out->r[out->n].data, p.data, p.caplen < 128 ? p.caplen : 128);
		out->n++;
	}
	{
		size_t len;
		const uint8_t *k = capture_tls_keylog(c, &len);

		out->keylog_len = len;
		assert_true(len < sizeof(out->keylog));
		if (k) {
			memcpy(out->keylog, k, len);
			assert_int_equal(k[len], '\0');
		}
		out->keylog[len] = '\0';
		capture_secrets_dropped(c, &out->keylog_dropped,
					&out->secrets_other);
	}
}

/* Opens paths (fixture names are resolved, temp paths and "-" kept). */
static struct capture *open_paths(const char *const *names, size_t n,
				  const char *filter, char *err, size_t errlen)
{
	char *paths[4];
	struct capture *c;
	size_t i;

	assert_true(n <= 4);
	for (i = 0; i < n; i++)
		paths[i] = (names[i][0] == '/' || !strcmp(names[i], "-")) ?
			strdup(names[i]) : test_data_path(names[i]);
	c = capture_open_files((const char *const *)paths, n, filter, err, errlen);
	for (i = 0; i < n; i++)
		free(paths[i]);
	return c;
}

static void run_files(const char *const *names, size_t n, const char *filter,
		      struct run *out)
{
	char err[512] = "";
	struct capture *c;

	memset(out, 0, sizeof(*out));
	c = open_paths(names, n, filter, err, sizeof(err));
	if (!c)
		fail_msg("open %s: %s", names[0], err);
	drain(c, out);
	capture_close(c);
}

static void run_file(const char *name, const char *filter, struct run *out)
{
	run_files(&name, 1, filter, out);
}

/* ---- building pcapng files ---- */

struct ng {
	uint8_t b[8192];
	size_t len;
	int be;
	size_t start;             /* of the open block */
};

static void put8(struct ng *g, uint8_t v)
{
	assert_true(g->len < sizeof(g->b));
	g->b[g->len++] = v;
}

static void put16(struct ng *g, uint16_t v)
{
	if (g->be) {
		put8(g, (uint8_t)(v >> 8));
		put8(g, (uint8_t)v);
	} else {
		put8(g, (uint8_t)v);
		put8(g, (uint8_t)(v >> 8));
	}
}

static void put32(struct ng *g, uint32_t v)
{
	if (g->be) {
		put16(g, (uint16_t)(v >> 16));
		put16(g, (uint16_t)v);
	} else {
		put16(g, (uint16_t)v);
		put16(g, (uint16_t)(v >> 16));
	}
}

static void put64(struct ng *g, uint64_t v)
{
	if (g->be) {
		put32(g, (uint32_t)(v >> 32));
		put32(g, (uint32_t)v);
	} else {
		put32(g, (uint32_t)v);
		put32(g, (uint32_t)(v >> 32));
	}
}

static void put_bytes(struct ng *g, const void *p, size_t n)
{
	assert_true(n <= sizeof(g->b) - g->len);
	memcpy(g->b + g->len, p, n);
	g->len += n;
}

static void pad(struct ng *g)
{
	while (g->len % 4)
		put8(g, 0);
}

static void patch32(struct ng *g, size_t at, uint32_t v)
{
	size_t keep = g->len;

	g->len = at;
	put32(g, v);
	g->len = keep;
}

static void begin(struct ng *g, uint32_t type)
{
	g->start = g->len;
	put32(g, type);
	put32(g, 0);
}

static void end(struct ng *g)
{
	uint32_t total;

	pad(g);
	total = (uint32_t)(g->len - g->start + 4);
	put32(g, total);
	patch32(g, g->start + 4, total);
}

static void shb(struct ng *g, int be)
{
	g->be = be;
	begin(g, 0x0A0D0D0A);
	put32(g, 0x1A2B3C4D);
	put16(g, 1);
	put16(g, 0);
	put64(g, UINT64_MAX);     /* section length not given */
	end(g);
}

/* tsresol < 0: no option; tsoffset 0: no option */
static void idb(struct ng *g, uint16_t linktype, uint32_t snaplen, int tsresol,
		int64_t tsoffset)
{
	begin(g, 1);
	put16(g, linktype);
	put16(g, 0);
	put32(g, snaplen);
	put16(g, 2);              /* if_name, to be skipped */
	put16(g, 3);
	put_bytes(g, "lo0", 3);
	pad(g);
	if (tsresol >= 0) {
		put16(g, 9);
		put16(g, 1);
		put8(g, (uint8_t)tsresol);
		pad(g);
	}
	if (tsoffset) {
		put16(g, 14);
		put16(g, 8);
		put64(g, (uint64_t)tsoffset);
	}
	put16(g, 0);
	put16(g, 0);
	end(g);
}

static void epb(struct ng *g, uint32_t ifid, uint64_t ts, const void *data,
		uint32_t caplen, uint32_t wirelen)
{
	begin(g, 6);
	put32(g, ifid);
	put32(g, (uint32_t)(ts >> 32));
	put32(g, (uint32_t)ts);
	put32(g, caplen);
	put32(g, wirelen);
	put_bytes(g, data, caplen);
	pad(g);
	put16(g, 1);              /* opt_comment, to be skipped */
	put16(g, 2);
	put_bytes(g, "hi", 2);
	pad(g);
	end(g);
}

static void spb(struct ng *g, const void *data, uint32_t len)
{
	begin(g, 3);
	put32(g, len);
	put_bytes(g, data, len);
	end(g);
}

static void pb(struct ng *g, uint16_t ifid, uint64_t ts, const void *data,
	       uint32_t len)
{
	begin(g, 2);
	put16(g, ifid);
	put16(g, 0);
	put32(g, (uint32_t)(ts >> 32));
	put32(g, (uint32_t)ts);
	put32(g, len);
	put32(g, len);
	put_bytes(g, data, len);
	end(g);
}

static void dsb(struct ng *g, uint32_t type, const char *text)
{
	begin(g, 0x0000000A);
	put32(g, type);
	put32(g, (uint32_t)strlen(text));
	put_bytes(g, text, strlen(text));
	end(g);
}

/* an Interface Statistics Block: not ours, skipped by its length */
static void isb(struct ng *g)
{
	begin(g, 5);
	put32(g, 0);
	put64(g, 0);
	end(g);
}

static void write_tmp(const struct ng *g, char *path, size_t len)
{
	int fd;

	snprintf(path, len, "/tmp/test_pcapng_XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, g->b, g->len), (ssize_t)g->len);
	close(fd);
}

static void run_built(const struct ng *g, const char *filter, struct run *out)
{
	char path[64];

	write_tmp(g, path, sizeof(path));
	run_file(path, filter, out);
	unlink(path);
}

/* A minimal IPv4/TCP packet (raw IP), tagged in the IP id field. */
static void raw_tcp(uint8_t *p, uint8_t tag, uint16_t dport)
{
	static const uint8_t tmpl[40] = {
		0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0,
		127, 0, 0, 1, 127, 0, 0, 1,
		0x30, 0x39, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0,
		0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0
	};

	memcpy(p, tmpl, sizeof(tmpl));
	p[5] = tag;
	p[22] = (uint8_t)(dport >> 8);
	p[23] = (uint8_t)dport;
}

/* ---- tests ---- */

static void test_dumpcap_two_interfaces(void **state)
{
	/* tshark -T fields -e frame.interface_id -e frame.time_epoch */
	static const struct { int lt; uint64_t ts; uint32_t len; } want[] = {
		{ DLT_LINUX_SLL2, 1795625324435465633ull, 80 },
		{ DLT_LINUX_SLL2, 1795625324435479850ull, 60 },
		{ DLT_EN10MB,     1795625324435466605ull, 74 },
		{ DLT_EN10MB,     1795625324435479850ull, 54 },
	};
	struct run *run = calloc(1, sizeof(*run));
	struct tcp_seg seg;
	size_t i;

	(void)state;
	assert_non_null(run);
	run_file("pcapng-dumpcap-lo-any.pcapng", NULL, run);
	assert_int_equal(run->nerr, 0);
	assert_int_equal(run->n, 4);
	for (i = 0; i < 4; i++) {
		struct pkt p = { .linktype = run->r[i].linktype,
				 .data = run->r[i].data,
				 .caplen = run->r[i].caplen,
				 .wirelen = run->r[i].wirelen };

		assert_int_equal(run->r[i].frame, i + 1);
		assert_int_equal(run->r[i].linktype, want[i].lt);
		assert_int_equal(run->r[i].ts_ns, want[i].ts);
		assert_int_equal(run->r[i].caplen, want[i].len);
		assert_int_equal(run->r[i].wirelen, want[i].len);
		/* each decodes with its own interface's link type */
		assert_int_equal(pkt_decode_tcp(&p, NULL, NULL, &seg), PKT_TCP);
		assert_true(seg.src.port == 1 || seg.dst.port == 1);
	}
	free(run);
}

static void test_mergecap_mixed_link(void **state)
{
	struct run *run = calloc(1, sizeof(*run));
	struct tcp_seg seg;
	size_t i;

	(void)state;
	assert_non_null(run);
	run_file("cap-mixed-link.pcapng", NULL, run);
	assert_int_equal(run->nerr, 0);
	assert_int_equal(run->n, 24);
	for (i = 0; i < 24; i++) {
		struct pkt p = { .linktype = run->r[i].linktype,
				 .data = run->r[i].data,
				 .caplen = run->r[i].caplen,
				 .wirelen = run->r[i].wirelen };

		assert_int_equal(run->r[i].linktype,
				 i < 12 ? DLT_EN10MB : DLT_LINUX_SLL2);
		assert_int_equal(pkt_decode_tcp(&p, NULL, NULL, &seg), PKT_TCP);
		assert_int_equal(seg.src.family, i < 12 ? 4 : 6);
	}
	assert_int_equal(run->r[0].ts_ns, 1795623736302875000ull);
	assert_int_equal(run->r[12].ts_ns, 1795623736322831000ull);
	assert_int_equal(run->r[23].ts_ns, 1795623736329352000ull);
	assert_int_equal(run->r[17].caplen, 278);
	free(run);
}

/* The same packets in both byte orders, with every clock we handle:
 * default (us), if_tsresol 9 (ns), 2^-20 with if_tsoffset, and 10^-12. */
static void build_clocks(struct ng *g, int be)
{
	uint8_t p[40];

	memset(g, 0, sizeof(*g));
	shb(g, be);
	idb(g, LT_RAW, 0, -1, 0);              /* 0: us by default */
	idb(g, LT_RAW, 0, 9, 0);               /* 1: ns */
	idb(g, LT_RAW, 0, 0x80 | 20, 1000);    /* 2: 2^-20 s, +1000 s */
	idb(g, LT_RAW, 0, 12, 0);              /* 3: ps */
	raw_tcp(p, 0, 80);
	epb(g, 0, 1700000000123456ull, p, 40, 40);
	raw_tcp(p, 1, 80);
	epb(g, 1, 1700000000123456789ull, p, 40, 40);
	raw_tcp(p, 2, 80);
	/* 1700000000 s + 0.5 s + 3 units of 2^-20 s */
	epb(g, 2, (1700000000ull << 20) + (1u << 19) + 3, p, 40, 40);
	raw_tcp(p, 3, 80);
	epb(g, 3, 1700000000123456789ull, p, 40, 40);
}

static void check_clocks(const struct run *run)
{
	size_t i;

	assert_int_equal(run->nerr, 0);
	assert_int_equal(run->n, 4);
	for (i = 0; i < 4; i++) {
		assert_int_equal(run->r[i].linktype, DLT_RAW);
		assert_int_equal(run->r[i].caplen, 40);
	}
	/* the merge is per input: one file keeps its own order */
	assert_int_equal(run->r[0].data[5], 0);
	assert_int_equal(run->r[0].ts_ns, 1700000000123456000ull);
	assert_int_equal(run->r[1].ts_ns, 1700000000123456789ull);
	/* 3 * 10^9 / 2^20 = 2861.02 ns, cut as tshark does */
	assert_int_equal(run->r[2].ts_ns, 1700001000500002861ull);
	/* ps: 1700000 s and a bit */
	assert_int_equal(run->r[3].ts_ns, 1700000000123456ull);
	assert_int_equal(run->r[3].data[5], 3);
}

static void test_tsresol_little_endian(void **state)
{
	struct ng *g = malloc(sizeof(*g));
	struct run *run = malloc(sizeof(*run));

	(void)state;
	assert_non_null(g);
	assert_non_null(run);
	build_clocks(g, 0);
	run_built(g, NULL, run);
	check_clocks(run);
	free(g);
	free(run);
}

static void test_big_endian_and_sections(void **state)
{
	struct ng *g = malloc(sizeof(*g));
	struct run *run = malloc(sizeof(*run));
	uint8_t p[40];

	(void)state;
	assert_non_null(g);
	assert_non_null(run);
	build_clocks(g, 1);
	assert_int_equal(g->b[8], 0x1A);   /* really big-endian */
	run_built(g, NULL, run);
	check_clocks(run);

	/* a second section, little-endian, starts its own interface list:
	 * its interface 0 is Ethernet-less raw IP in ns */
	shb(g, 0);
	idb(g, LT_RAW, 0, 9, 0);
	raw_tcp(p, 9, 80);
	epb(g, 0, 1800000000000000001ull, p, 40, 40);
	run_built(g, NULL, run);
	assert_int_equal(run->nerr, 0);
	assert_int_equal(run->n, 5);
	assert_int_equal(run->r[4].ts_ns, 1800000000000000001ull);
	assert_int_equal(run->r[4].data[5], 9);

	/* ... so interface 3 of the first section is gone there */
	epb(g, 3, 1800000000000000002ull, p, 40, 40);
	run_built(g, NULL, run);
	assert_int_equal(run->n, 5);
	assert_int_equal(run->nerr, 1);
	assert_non_null(strstr(run->errs[0], "enhanced packet block names "
			       "interface 3, the section has 1"));
	free(g);
	free(run);
}

static void test_spb_pb_and_skipped_blocks(void **state)
{
	struct ng *g = calloc(1, sizeof(*g));
	struct run *run = malloc(sizeof(*run));
	uint8_t p[40];

	(void)state;
	assert_non_null(g);
	assert_non_null(run);
	shb(g, 0);
	idb(g, LT_RAW, 96, 9, 0);
	idb(g, LT_ETHER, 0, 9, 0);
	raw_tcp(p, 0, 80);
	epb(g, 0, 5000000000ull, p, 40, 40);
	isb(g);
	raw_tcp(p, 1, 81);
	spb(g, p, 38);            /* padded to 40 in the block */
	raw_tcp(p, 2, 82);
	pb(g, 0, 6000000000ull, p, 40);
	isb(g);
	run_built(g, NULL, run);
	assert_int_equal(run->nerr, 0);
	assert_int_equal(run->n, 3);
	/* the SPB takes the time of the packet before it */
	assert_int_equal(run->r[1].ts_ns, 5000000000ull);
	assert_int_equal(run->r[1].caplen, 38);
	assert_int_equal(run->r[1].wirelen, 38);
	assert_int_equal(run->r[1].data[5], 1);
	assert_int_equal(run->r[1].linktype, DLT_RAW);
	assert_int_equal(run->r[2].ts_ns, 6000000000ull);
	assert_int_equal(run->r[2].data[5], 2);
	free(g);
	free(run);
}

/* A record longer than its interface's snap length breaks the format's
 * rule; the bytes are there, so it is read whole (cut, it read as a cut
 * packet for a wrong header), and that is said once per input. */
static void test_snaplen_smaller_than_records(void **state)
{
	struct ng *g = calloc(1, sizeof(*g));
	struct run *run = malloc(sizeof(*run));
	uint8_t p[40];

	(void)state;
	assert_non_null(g);
	assert_non_null(run);
	shb(g, 0);
	idb(g, LT_RAW, 24, 9, 0);
	raw_tcp(p, 0, 80);
	epb(g, 0, 1, p, 40, 40);
	epb(g, 0, 2, p, 40, 40);
	/* block 3, the first EPB, follows a 28-byte SHB and a 40-byte IDB
	 * (if_name, if_tsresol, end of options) */
	run_built(g, NULL, run);
	assert_int_equal(run->n, 2);
	assert_int_equal(run->r[0].caplen, 40);
	assert_int_equal(run->r[0].wirelen, 40);
	assert_memory_equal(run->r[0].data, p, 40);
	assert_int_equal(run->r[1].caplen, 40);
	assert_int_equal(run->nerr, 1);
	assert_non_null(strstr(run->errs[0], "block 3 at byte 68 holds 40 bytes, more than interface 0's "
					      "snapshot length 24: the header is wrong; records are read whole"));
	free(g);
	free(run);
}

static void test_secrets_blocks(void **state)
{
	static const char want[] =
		"CLIENT_RANDOM 0001 aaaa\n"
		"CLIENT_RANDOM 0002 bbbb\n"     /* newline added between blocks */
		"# third\nCLIENT_RANDOM 0003 cc\n";
	struct ng *g = calloc(1, sizeof(*g));
	struct run *run = malloc(sizeof(*run));
	uint8_t p[40];

	(void)state;
	assert_non_null(g);
	assert_non_null(run);
	shb(g, 1);
	dsb(g, PCAPNG_SECRETS_TLS_KEYLOG, "CLIENT_RANDOM 0001 aaaa\n");
	idb(g, LT_RAW, 0, -1, 0);
	raw_tcp(p, 0, 80);
	epb(g, 0, 1, p, 40, 40);
	dsb(g, PCAPNG_SECRETS_TLS_KEYLOG, "CLIENT_RANDOM 0002 bbbb");
	dsb(g, 0x5353484b, "SSH key log, not ours");
	dsb(g, PCAPNG_SECRETS_TLS_KEYLOG, "# third\nCLIENT_RANDOM 0003 cc\n");
	run_built(g, NULL, run);
	assert_int_equal(run->nerr, 0);
	assert_int_equal(run->n, 1);
	assert_string_equal(run->keylog, want);
	assert_int_equal(run->keylog_len, strlen(want));
	assert_int_equal(run->keylog_dropped, 0);
	assert_int_equal(run->secrets_other, 1);

	/* as Wireshark writes it, before the first packet */
	run_file("pcapng-editcap-dsb.pcapng", NULL, run);
	assert_int_equal(run->nerr, 0);
	assert_int_equal(run->n, 24);
	assert_string_equal(run->keylog, "CLIENT_RANDOM 00112233 44556677\n");

	/* classic pcap has no secrets */
	run_file("cap-v4-eth.pcap", NULL, run);
	assert_int_equal(run->keylog_len, 0);
	free(g);
	free(run);
}

/* Damaged blocks: the packets before are delivered, then one error line
 * naming file, block number, byte offset and reason, then nothing more
 * from that file. */
static void test_damaged_blocks(void **state)
{
	static const struct {
		const char *what;
		int kind;
		const char *msg;
	} cases[] = {
		{ "caplen past the block", 0,
		  ": block 5 at byte 228: enhanced packet block claims 70000 "
		  "bytes, block has 48; processed 2 packets" },
		{ "trailing length differs", 1,
		  ": block 5 at byte 228: trailing block length 88 differs "
		  "from the leading 80; processed 2 packets" },
		{ "length not a multiple of 4", 2,
		  ": block 5 at byte 228: block length 86 is not a multiple "
		  "of 4; processed 2 packets" },
		{ "length below 12", 3,
		  ": block 5 at byte 228: block length 8 is too small; "
		  "processed 2 packets" },
		{ "file ends inside", 4,
		  ": block 5 at byte 228: truncated block: 80 bytes expected, "
		  "the file ends after 40; processed 2 packets" },
		{ "secrets past the block", 5,
		  ": block 5 at byte 228: decryption secrets block claims 4096 "
		  "bytes, block has 20; processed 2 packets" },
		{ "tsresol out of range", 6,
		  ": block 5 at byte 228: interface description block: "
		  "if_tsresol 0x14 out of range; processed 2 packets" },
	};
	struct ng *g = malloc(sizeof(*g));
	struct run *run = malloc(sizeof(*run));
	char path[64];
	uint8_t p[40];
	size_t i, at;

	(void)state;
	assert_non_null(g);
	assert_non_null(run);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(g, 0, sizeof(*g));
		shb(g, 0);
		idb(g, LT_RAW, 0, 9, 0);
		raw_tcp(p, 0, 80);
		epb(g, 0, 10, p, 40, 40);
		epb(g, 0, 20, p, 40, 40);
		at = g->len;
		switch (cases[i].kind) {
		case 0:
			epb(g, 0, 30, p, 40, 40);
			patch32(g, at + 20, 70000);
			break;
		case 1:
			epb(g, 0, 30, p, 40, 40);
			patch32(g, g->len - 4, 88);
			break;
		case 2:
			epb(g, 0, 30, p, 40, 40);
			patch32(g, at + 4, 86);
			break;
		case 3:
			epb(g, 0, 30, p, 40, 40);
			patch32(g, at + 4, 8);
			break;
		case 4:
			epb(g, 0, 30, p, 40, 40);
			g->len = at + 40;
			break;
		case 5:
			dsb(g, PCAPNG_SECRETS_TLS_KEYLOG, "CLIENT_RANDOM 01 02\n");
			patch32(g, at + 12, 4096);
			break;
		case 6:
			idb(g, LT_RAW, 0, 20, 0);
			break;
		}
		/* more good packets after: they must not be read */
		epb(g, 0, 40, p, 40, 40);
		if (cases[i].kind == 4)
			g->len = at + 40;
		write_tmp(g, path, sizeof(path));
		run_file(path, NULL, run);
		unlink(path);
		if (run->n != 2 || run->nerr != 1 ||
		    !strstr(run->errs[0], cases[i].msg) ||
		    strncmp(run->errs[0], path, strlen(path)))
			fail_msg("%s: %zu packets, %d errors, \"%s\"",
				 cases[i].what, run->n, run->nerr, run->errs[0]);
		assert_int_equal(run->r[1].ts_ns, 20);
	}
	free(g);
	free(run);
}

static void test_bad_section_header(void **state)
{
	struct ng *g = calloc(1, sizeof(*g));
	struct run *run = malloc(sizeof(*run));

	(void)state;
	assert_non_null(g);
	assert_non_null(run);
	shb(g, 0);
	run_built(g, NULL, run);        /* a section and nothing else */
	assert_int_equal(run->n, 0);
	assert_int_equal(run->nerr, 0);

	patch32(g, 8, 0x11223344);      /* bytes 44 33 22 11, shown so */
	run_built(g, NULL, run);
	assert_int_equal(run->nerr, 1);
	assert_non_null(strstr(run->errs[0], ": block 1 at byte 0: bad "
			       "byte-order magic 0x44332211"));

	patch32(g, 8, 0x1A2B3C4D);
	g->b[12] = 2;                   /* version 2.0 */
	run_built(g, NULL, run);
	assert_int_equal(run->nerr, 1);
	assert_non_null(strstr(run->errs[0], "unsupported pcapng version 2.0"));

	g->len = 4;                     /* the magic alone */
	run_built(g, NULL, run);
	assert_int_equal(run->nerr, 1);
	assert_non_null(strstr(run->errs[0], "block 1 at byte 0: truncated "
			       "block header"));
	free(g);
	free(run);
}

static void test_unsupported_interface(void **state)
{
	struct ng *g = calloc(1, sizeof(*g));
	struct run *run = malloc(sizeof(*run));
	char path[64], err[512] = "";
	const char *one[1];
	uint8_t p[40];

	(void)state;
	assert_non_null(g);
	assert_non_null(run);
	shb(g, 0);
	idb(g, LT_WLAN, 0, 9, 0);
	idb(g, LT_RAW, 0, 9, 0);
	raw_tcp(p, 0, 80);
	epb(g, 0, 10, p, 40, 40);
	epb(g, 1, 20, p, 40, 40);
	epb(g, 0, 30, p, 40, 40);
	epb(g, 1, 40, p, 40, 40);
	run_built(g, NULL, run);
	/* one line for the 802.11 interface; its packets still come, to be
	 * counted as unsupported by the pipeline */
	assert_int_equal(run->nerr, 1);
	assert_non_null(strstr(run->errs[0], ": block 4 at byte "));
	assert_non_null(strstr(run->errs[0], "interface 0 has unsupported link "
			       "type DLT_IEEE802_11 (105)"));
	assert_int_equal(run->n, 4);
	assert_int_equal(run->r[0].linktype, 105);
	assert_int_equal(run->r[1].linktype, DLT_RAW);
	assert_int_equal(run->r[2].linktype, 105);

	/* only unsupported interfaces: refused at open, as classic pcap is */
	memset(g, 0, sizeof(*g));
	shb(g, 0);
	idb(g, LT_WLAN, 0, 9, 0);
	epb(g, 0, 10, p, 40, 40);
	write_tmp(g, path, sizeof(path));
	one[0] = path;
	assert_null(open_paths(one, 1, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, ": unsupported link type DLT_IEEE802_11 (105)"));
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	unlink(path);
	free(g);
	free(run);
}

static void test_filter_per_link_type(void **state)
{
	struct run *run = malloc(sizeof(*run));
	static const char *const mixed[] = { "cap-mixed-link.pcapng" };
	static const char *const dumpcap[] = { "pcapng-dumpcap-lo-any.pcapng" };
	char err[512] = "";
	size_t i;

	(void)state;
	assert_non_null(run);
	/* SYNs: both link types compile their own program (the IP header
	 * is at 14 on Ethernet, 20 on SLL2) */
	run_file("cap-mixed-link.pcapng", "(ip and tcp[tcpflags] & tcp-syn != 0) "
		 "or (ip6 and ip6[53] & 2 != 0)", run);
	assert_int_equal(run->nerr, 0);
	assert_int_equal(run->n, 4);
	assert_int_equal(run->r[0].linktype, DLT_EN10MB);
	assert_int_equal(run->r[1].linktype, DLT_EN10MB);
	assert_int_equal(run->r[2].linktype, DLT_LINUX_SLL2);
	assert_int_equal(run->r[3].linktype, DLT_LINUX_SLL2);
	assert_int_equal(run->r[1].ts_ns, 1795623736302885000ull);
	for (i = 0; i < 4; i++)
		assert_int_equal(run->r[i].frame, i + 1);

	run_file("cap-mixed-link.pcapng", "ip6", run);
	assert_int_equal(run->n, 12);
	assert_int_equal(run->r[0].linktype, DLT_LINUX_SLL2);
	assert_int_equal(run->r[0].frame, 1);

	/* a filter that cannot apply to a later link type: one line, and
	 * that link type's packets are left out */
	run_file("cap-mixed-link.pcapng", "ether host 00:00:00:00:00:00", run);
	assert_int_equal(run->n, 12);
	assert_int_equal(run->r[11].linktype, DLT_EN10MB);
	assert_int_equal(run->nerr, 1);
	assert_non_null(strstr(run->errs[0], "cap-mixed-link.pcapng: bad filter "
			       "\"ether host 00:00:00:00:00:00\" for link type "
			       "DLT_LINUX_SLL2 (276): "));
	assert_non_null(strstr(run->errs[0], "; packets of that link type are "
			       "skipped"));

	/* ... to the first packet's link type, or not at all: refused at
	 * open, as for classic pcap */
	assert_null(open_paths(dumpcap, 1, "ether host 00:00:00:00:00:00", err,
			       sizeof(err)));
	assert_non_null(strstr(err, "pcapng-dumpcap-lo-any.pcapng: bad filter "
			       "\"ether host 00:00:00:00:00:00\": ethernet "
			       "addresses supported only on"));
	assert_null(open_paths(mixed, 1, "tcp port", err, sizeof(err)));
	assert_non_null(strstr(err, "cap-mixed-link.pcapng: bad filter \"tcp port\": "));
	free(run);
}

/* Writes a fixture into a pipe on stdin from a child process, so nothing
 * can seek back, and reads "-". */
static void run_stdin(const char *name, struct run *out)
{
	static const char *const dash[] = { "-" };
	size_t len;
	uint8_t *bytes = test_load(name, &len);
	int fds[2], status, saved = dup(STDIN_FILENO);
	pid_t pid;

	assert_true(saved >= 0);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		_exit(write(fds[1], bytes, len) == (ssize_t)len ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
	close(fds[0]);
	clearerr(stdin);
	run_files(dash, 1, NULL, out);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	clearerr(stdin);
	free(bytes);
}

static void test_stdin_both_formats(void **state)
{
	struct run *file = malloc(sizeof(*file));
	struct run *piped = malloc(sizeof(*piped));
	static const char *const names[] = {
		"pcapng-dumpcap-lo-any.pcapng", "cap-mixed-link.pcapng",
		"cap-v4-eth.pcap", "cap-v4-eth-nsec.pcap"
	};
	size_t i, k;

	(void)state;
	assert_non_null(file);
	assert_non_null(piped);
	for (k = 0; k < 4; k++) {
		run_file(names[k], NULL, file);
		run_stdin(names[k], piped);
		assert_int_equal(piped->nerr, 0);
		assert_true(file->n > 0);
		assert_int_equal(piped->n, file->n);
		for (i = 0; i < file->n; i++) {
			assert_int_equal(piped->r[i].ts_ns, file->r[i].ts_ns);
			assert_int_equal(piped->r[i].linktype, file->r[i].linktype);
			assert_int_equal(piped->r[i].caplen, file->r[i].caplen);
			assert_memory_equal(piped->r[i].data, file->r[i].data, 128);
		}
	}
	free(file);
	free(piped);
}

static void test_merge_pcapng_with_pcap(void **state)
{
	static const char *const two[] = {
		"cap-v4-eth-odd.pcap", "cap-mixed-link.pcapng"
	};
	struct run *run = malloc(sizeof(*run));
	size_t i, n4 = 0;

	(void)state;
	assert_non_null(run);
	run_files(two, 2, NULL, run);
	assert_int_equal(run->nerr, 0);
	/* 6 packets from the odd half, 24 from the pcapng */
	assert_int_equal(run->n, 30);
	for (i = 0; i < run->n; i++) {
		assert_int_equal(run->r[i].frame, i + 1);
		if (i)
			assert_true(run->r[i - 1].ts_ns <= run->r[i].ts_ns);
		n4 += run->r[i].linktype == DLT_EN10MB;
	}
	assert_int_equal(n4, 18);
	free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dumpcap_two_interfaces),
		cmocka_unit_test(test_mergecap_mixed_link),
		cmocka_unit_test(test_tsresol_little_endian),
		cmocka_unit_test(test_big_endian_and_sections),
		cmocka_unit_test(test_spb_pb_and_skipped_blocks),
		cmocka_unit_test(test_snaplen_smaller_than_records),
		cmocka_unit_test(test_secrets_blocks),
		cmocka_unit_test(test_damaged_blocks),
		cmocka_unit_test(test_bad_section_header),
		cmocka_unit_test(test_unsupported_interface),
		cmocka_unit_test(test_filter_per_link_type),
		cmocka_unit_test(test_stdin_both_formats),
		cmocka_unit_test(test_merge_pcapng_with_pcap),
	};

	return cmocka_run_group_tests_name("pcapng", tests, NULL, NULL);
}
