/* test_tcp.c - the TCP header: fields, options, data offset checks, and
 * payload present vs on the wire when the snap length cut the segment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "counters.h"
#include "packet.h"

struct frame {
	uint8_t b[2048];
	size_t n;
};

static void put(struct frame *f, const void *p, size_t n)
{
	assert_true(f->n + n <= sizeof(f->b));
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

/* IPv4 10.1.1.1 -> 10.2.2.2 announcing ip_payload bytes of TCP */
static void ip4(struct frame *f, uint16_t ip_payload)
{
	uint16_t total = (uint16_t)(20 + ip_payload);
	uint8_t h[20] = {
		0x45, 0, (uint8_t)(total >> 8), (uint8_t)total, 0, 1, 0x40, 0,
		64, 6, 0, 0, 10, 1, 1, 1, 10, 2, 2, 2
	};

	put(f, h, sizeof(h));
}

/* 443 -> 51000, seq 0x01020304, ack 0xa0b0c0d0, given offset and flags */
static void tcp(struct frame *f, uint8_t doff_words, uint8_t flags)
{
	uint8_t h[20] = {
		0x01, 0xbb, 0xc7, 0x38, 0x01, 0x02, 0x03, 0x04,
		0xa0, 0xb0, 0xc0, 0xd0, (uint8_t)(doff_words << 4), flags,
		0x01, 0x00, 0, 0, 0, 0
	};

	put(f, h, sizeof(h));
}

static int decode(const struct frame *f, uint32_t wirelen,
		  struct counters *cnt, struct tcp_seg *seg)
{
	struct pkt p = {
		.frame = 77, .ts_ns = 5, .linktype = DLT_IPV4, .data = f->b,
		.caplen = (uint32_t)f->n,
		.wirelen = wirelen ? wirelen : (uint32_t)f->n,
	};

	return pkt_decode_tcp(&p, NULL, cnt, seg);
}

static void test_fields(void **state)
{
	struct frame f = { .n = 0 };
	struct counters cnt = { 0 };
	struct tcp_seg seg;

	(void)state;
	ip4(&f, 20 + 5);
	tcp(&f, 5, TCP_FIN | TCP_ACK | TCP_PSH);
	put(&f, "hello", 5);
	assert_int_equal(decode(&f, 0, &cnt, &seg), PKT_TCP);
	assert_int_equal(seg.src.port, 443);
	assert_int_equal(seg.dst.port, 51000);
	assert_int_equal(seg.seq, 0x01020304);
	assert_int_equal(seg.ack, 0xa0b0c0d0);
	assert_int_equal(seg.flags, TCP_FIN | TCP_ACK | TCP_PSH);
	assert_int_equal(seg.len, 5);
	assert_int_equal(seg.caplen, 5);
	assert_memory_equal(seg.payload, "hello", 5);
	assert_int_equal(seg.frame, 77);
	assert_int_equal(seg.ts_ns, 5);
	assert_int_equal(cnt.tcp_segments, 1);

	/* no payload at all: a pure ACK */
	f.n = 0;
	ip4(&f, 20);
	tcp(&f, 5, TCP_ACK);
	assert_int_equal(decode(&f, 0, &cnt, &seg), PKT_TCP);
	assert_int_equal(seg.len, 0);
	assert_int_equal(seg.caplen, 0);
	assert_int_equal(seg.flags, TCP_ACK);
}

static void test_options(void **state)
{
	/* MSS 1460, SACK permitted, timestamps, NOP, window scale 7 */
	static const uint8_t opts[20] = {
		0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
		0, 0, 0, 1, 0, 0, 0, 0, 0x01, 0x03, 0x03, 0x07
	};
	struct frame f = { .n = 0 };
	struct tcp_seg seg;

	(void)state;
	ip4(&f, 40 + 3);
	tcp(&f, 10, TCP_SYN);
	put(&f, opts, sizeof(opts));
	put(&f, "abc", 3);
	assert_int_equal(decode(&f, 0, NULL, &seg), PKT_TCP);
	assert_int_equal(seg.len, 3);
	assert_int_equal(seg.caplen, 3);
	assert_memory_equal(seg.payload, "abc", 3);

	/* options cut by the snap length: the header is incomplete */
	f.n = 20 + 30;
	assert_int_equal(decode(&f, 63, NULL, &seg), PKT_TRUNCATED);
}

static void test_bad_data_offset(void **state)
{
	struct frame f = { .n = 0 };
	struct counters cnt = { 0 };
	struct tcp_seg seg;

	(void)state;
	ip4(&f, 20 + 8);
	tcp(&f, 4, TCP_ACK);  /* 16 bytes: below the fixed header */
	put(&f, "12345678", 8);
	assert_int_equal(decode(&f, 0, &cnt, &seg), PKT_MALFORMED);

	f.n = 0;
	ip4(&f, 20 + 8);
	tcp(&f, 15, TCP_ACK); /* 60 bytes, IP says 28 */
	put(&f, "12345678", 8);
	assert_int_equal(decode(&f, 0, &cnt, &seg), PKT_MALFORMED);

	f.n = 0;
	ip4(&f, 12);          /* IP payload shorter than any TCP header */
	tcp(&f, 5, TCP_ACK);
	assert_int_equal(decode(&f, 0, &cnt, &seg), PKT_MALFORMED);
	assert_int_equal(cnt.malformed_packets, 3);
	assert_int_equal(cnt.tcp_segments, 0);
}

static void test_snaplen_cut(void **state)
{
	struct frame f = { .n = 0 };
	struct counters cnt = { 0 };
	struct tcp_seg seg;
	uint8_t body[1400];

	(void)state;
	memset(body, 'b', sizeof(body));
	ip4(&f, 20 + 1400);
	tcp(&f, 5, TCP_ACK);
	put(&f, body, 54);    /* a 94-byte snap length on raw IP */
	assert_int_equal(decode(&f, 1440, &cnt, &seg), PKT_TCP);
	assert_int_equal(seg.len, 1400);
	assert_int_equal(seg.caplen, 54);

	/* both records are captured short of their 1440 bytes: each counts */
	assert_int_equal(cnt.truncated_packets, 1);
	/* cut inside the TCP header: nothing usable */
	f.n = 20 + 12;
	assert_int_equal(decode(&f, 1440, &cnt, &seg), PKT_TRUNCATED);
	assert_int_equal(cnt.truncated_packets, 2);
	assert_int_equal(cnt.tcp_segments, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_bad_data_offset),
		cmocka_unit_test(test_snaplen_cut),
	};

	return cmocka_run_group_tests_name("tcp", tests, NULL, NULL);
}
