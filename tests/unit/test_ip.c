/* test_ip.c - IPv4 (options, bad lengths, snap-length cuts, padding,
 * fragment reassembly with its caps and timeout) and IPv6 (extension
 * headers, fragments), on crafted raw-IP frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "counters.h"
#include "packet.h"

#define SEC 1000000000ull

struct frame {
	uint8_t b[70000];
	size_t n;
};

static void put(struct frame *f, const void *p, size_t n)
{
	assert_true(f->n + n <= sizeof(f->b));
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void put8(struct frame *f, uint8_t v) { put(f, &v, 1); }

static void put16(struct frame *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static void put32(struct frame *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

/* A TCP segment 10.0.0.1:1234 -> 10.0.0.2:80 carrying payload[0..plen). */
static const uint8_t payload[24] = "POST /scep HTTP/1.1\r\nHo";

static void tcp_hdr(struct frame *f)
{
	put16(f, 1234);
	put16(f, 80);
	put32(f, 1000);
	put32(f, 2000);
	put8(f, 0x50);
	put8(f, TCP_ACK | TCP_PSH);
	put16(f, 512);
	put32(f, 0);
}

/* The whole TCP segment (header + payload) as fragment material. */
static void tcp_segment(uint8_t out[44])
{
	struct frame f = { .n = 0 };

	tcp_hdr(&f);
	put(&f, payload, sizeof(payload));
	memcpy(out, f.b, 44);
}

static void ip4_hdr(struct frame *f, uint8_t ihl_words, uint16_t total,
		    uint16_t id, uint16_t frag, uint8_t proto)
{
	put8(f, (uint8_t)(0x40 | ihl_words));
	put8(f, 0);
	put16(f, total);
	put16(f, id);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put32(f, 0x0a000001);
	put32(f, 0x0a000002);
}

static int decode(struct frame *f, uint32_t wirelen, uint64_t ts,
		  struct ip_reasm *ipr, struct counters *cnt,
		  struct tcp_seg *seg)
{
	struct pkt p = {
		.frame = 1, .ts_ns = ts, .linktype = DLT_RAW, .data = f->b,
		.caplen = (uint32_t)f->n,
		.wirelen = wirelen ? wirelen : (uint32_t)f->n,
	};

	return pkt_decode_tcp(&p, ipr, cnt, seg);
}

static void expect_whole_segment(const struct tcp_seg *seg)
{
	assert_int_equal(seg->src.family, 4);
	assert_int_equal(seg->src.addr[3], 1);
	assert_int_equal(seg->dst.addr[3], 2);
	assert_int_equal(seg->src.port, 1234);
	assert_int_equal(seg->dst.port, 80);
	assert_int_equal(seg->seq, 1000);
	assert_int_equal(seg->len, 24);
	assert_int_equal(seg->caplen, 24);
	assert_memory_equal(seg->payload, payload, 24);
}

static void test_ipv4_plain_and_options(void **state)
{
	static const uint8_t opts[8] = { 0x01, 0x01, 0x94, 0x04, 0, 0, 0x00, 0x00 };
	struct frame f = { .n = 0 };
	struct counters cnt = { 0 };
	struct tcp_seg seg;

	(void)state;
	ip4_hdr(&f, 5, 64, 1, 0x4000, 6);
	tcp_hdr(&f);
	put(&f, payload, sizeof(payload));
	assert_int_equal(decode(&f, 0, 1, NULL, &cnt, &seg), PKT_TCP);
	expect_whole_segment(&seg);

	/* NOP, NOP, router alert, EOL: 8 bytes, IHL 7 */
	f.n = 0;
	ip4_hdr(&f, 7, 72, 1, 0, 6);
	put(&f, opts, sizeof(opts));
	tcp_hdr(&f);
	put(&f, payload, sizeof(payload));
	assert_int_equal(decode(&f, 0, 1, NULL, &cnt, &seg), PKT_TCP);
	expect_whole_segment(&seg);
	/* options cut short by the end of the frame */
	f.n = 24;
	assert_int_equal(decode(&f, 0, 1, NULL, &cnt, &seg), PKT_TRUNCATED);
	assert_int_equal(cnt.tcp_segments, 2);
	assert_int_equal(cnt.truncated_packets, 1);
}

static void test_ipv4_bad_lengths(void **state)
{
	struct frame f = { .n = 0 };
	struct counters cnt = { 0 };
	struct tcp_seg seg;

	(void)state;
	ip4_hdr(&f, 4, 64, 1, 0, 6);          /* IHL below 5 */
	tcp_hdr(&f);
	assert_int_equal(decode(&f, 0, 1, NULL, &cnt, &seg), PKT_MALFORMED);
	f.n = 0;
	ip4_hdr(&f, 6, 20, 1, 0, 6);          /* total < header length */
	put32(&f, 0);
	tcp_hdr(&f);
	assert_int_equal(decode(&f, 0, 1, NULL, &cnt, &seg), PKT_MALFORMED);
	assert_int_equal(cnt.malformed_packets, 2);
	f.n = 0;
	ip4_hdr(&f, 5, 40, 1, 0, 6);
	f.n = 19;                             /* header cut */
	assert_int_equal(decode(&f, 0, 1, NULL, &cnt, &seg), PKT_TRUNCATED);
	assert_int_equal(cnt.truncated_packets, 1);
	f.n = 0;
	ip4_hdr(&f, 5, 28, 1, 0, 17);         /* UDP */
	put32(&f, 0x00350035);
	put32(&f, 0x00080000);
	assert_int_equal(decode(&f, 0, 1, NULL, &cnt, &seg), PKT_NOT_TCP);
	assert_int_equal(cnt.not_tcp, 1);
	assert_int_equal(cnt.tcp_segments, 0);
}

static void test_ipv4_snaplen_cut_and_padding(void **state)
{
	struct frame f = { .n = 0 };
	struct tcp_seg seg;

	(void)state;
	/* the datagram carried 1000 bytes of payload, 10 were captured */
	ip4_hdr(&f, 5, 20 + 20 + 1000, 1, 0, 6);
	tcp_hdr(&f);
	put(&f, payload, 10);
	assert_int_equal(decode(&f, 1054, 1, NULL, NULL, &seg), PKT_TCP);
	assert_int_equal(seg.len, 1000);
	assert_int_equal(seg.caplen, 10);
	assert_memory_equal(seg.payload, payload, 10);

	/* Ethernet pads short frames: bytes past total length are not data */
	f.n = 0;
	ip4_hdr(&f, 5, 20 + 20 + 2, 1, 0, 6);
	tcp_hdr(&f);
	put(&f, payload, 2);
	put32(&f, 0);
	assert_int_equal(decode(&f, 0, 1, NULL, NULL, &seg), PKT_TCP);
	assert_int_equal(seg.len, 2);
	assert_int_equal(seg.caplen, 2);

	/* segmentation offload on the capturing host: total length 0 */
	f.n = 0;
	ip4_hdr(&f, 5, 0, 1, 0, 6);
	tcp_hdr(&f);
	put(&f, payload, sizeof(payload));
	assert_int_equal(decode(&f, 0, 1, NULL, NULL, &seg), PKT_TCP);
	expect_whole_segment(&seg);
}

/* One fragment of the 44-byte TCP segment: bytes [off, off+len). */
static int frag4(struct ip_reasm *ipr, struct counters *cnt, uint16_t id,
		 uint32_t off, const uint8_t *bytes, uint32_t len, int more,
		 uint64_t ts, struct tcp_seg *seg)
{
	struct frame f = { .n = 0 };

	ip4_hdr(&f, 5, (uint16_t)(20 + len), id,
		(uint16_t)((more ? 0x2000 : 0) | off / 8), 6);
	put(&f, bytes, len);
	return decode(&f, 0, ts, ipr, cnt, seg);
}

static void test_ipv4_fragments_in_and_out_of_order(void **state)
{
	struct ip_reasm *ipr = ip_reasm_new(1 << 20);
	struct counters cnt = { 0 };
	struct tcp_seg seg;
	uint8_t s[44];

	(void)state;
	tcp_segment(s);
	assert_non_null(ipr);
	assert_int_equal(frag4(ipr, &cnt, 7, 0, s, 24, 1, 1, &seg), PKT_FRAGMENT);
	assert_int_equal(frag4(ipr, &cnt, 7, 24, s + 24, 20, 0, 2, &seg), PKT_TCP);
	expect_whole_segment(&seg);
	assert_int_equal(seg.ts_ns, 2);

	/* reversed, three pieces, and another datagram in between */
	assert_int_equal(frag4(ipr, &cnt, 8, 32, s + 32, 12, 0, 3, &seg), PKT_FRAGMENT);
	assert_int_equal(frag4(ipr, &cnt, 9, 0, s, 8, 1, 3, &seg), PKT_FRAGMENT);
	assert_int_equal(frag4(ipr, &cnt, 8, 8, s + 8, 24, 1, 3, &seg), PKT_FRAGMENT);
	assert_int_equal(frag4(ipr, &cnt, 8, 0, s, 8, 1, 4, &seg), PKT_TCP);
	expect_whole_segment(&seg);
	assert_int_equal(cnt.ip_fragments, 6);
	assert_int_equal(cnt.ip_reassembled, 2);
	assert_int_equal(cnt.tcp_segments, 2);
	assert_int_equal(cnt.ip_frag_dropped, 0);
	ip_reasm_free(ipr);
}

static void test_ipv4_fragments_overlap_first_wins(void **state)
{
	struct ip_reasm *ipr = ip_reasm_new(1 << 20);
	struct counters cnt = { 0 };
	struct tcp_seg seg;
	uint8_t s[44], evil[16];

	(void)state;
	tcp_segment(s);
	/* [16,24) rewritten by the second fragment, [24,32) new and genuine */
	memset(evil, 'X', 8);
	memcpy(evil + 8, s + 24, 8);
	assert_int_equal(frag4(ipr, &cnt, 1, 0, s, 24, 1, 1, &seg), PKT_FRAGMENT);
	assert_int_equal(frag4(ipr, &cnt, 1, 16, evil, 16, 1, 1, &seg), PKT_FRAGMENT);
	/* a duplicate of the first changes nothing either */
	assert_int_equal(frag4(ipr, &cnt, 1, 0, s, 24, 1, 1, &seg), PKT_FRAGMENT);
	assert_int_equal(frag4(ipr, &cnt, 1, 32, s + 32, 12, 0, 1, &seg), PKT_TCP);
	expect_whole_segment(&seg);
	assert_int_equal(cnt.ip_reassembled, 1);

	/* a second "last" fragment with another end is discarded */
	assert_int_equal(frag4(ipr, &cnt, 2, 24, s + 24, 20, 0, 1, &seg), PKT_FRAGMENT);
	assert_int_equal(frag4(ipr, &cnt, 2, 24, s + 24, 8, 0, 1, &seg), PKT_FRAGMENT);
	assert_int_equal(cnt.ip_frag_dropped, 1);
	assert_int_equal(frag4(ipr, &cnt, 2, 0, s, 24, 1, 1, &seg), PKT_TCP);
	expect_whole_segment(&seg);
	ip_reasm_free(ipr);
}

static void test_ipv4_fragments_bad(void **state)
{
	struct ip_reasm *ipr = ip_reasm_new(1 << 20);
	struct counters cnt = { 0 };
	struct tcp_seg seg;
	struct frame f = { .n = 0 };
	uint8_t s[44];

	(void)state;
	tcp_segment(s);
	/* MF with a length that is not whole 8-byte blocks */
	assert_int_equal(frag4(ipr, &cnt, 3, 0, s, 20, 1, 1, &seg), PKT_MALFORMED);
	/* past 64 KiB: offset 65512 + 40 bytes */
	assert_int_equal(frag4(ipr, &cnt, 3, 65512, s, 40, 0, 1, &seg), PKT_MALFORMED);
	assert_int_equal(cnt.ip_frag_dropped, 2);
	assert_int_equal(cnt.malformed_packets, 2);
	/* no reassembler: counted and dropped */
	assert_int_equal(frag4(NULL, &cnt, 3, 0, s, 24, 1, 1, &seg), PKT_FRAGMENT);
	assert_int_equal(cnt.ip_frag_dropped, 3);
	/* cut by the snap length: cannot be reassembled */
	ip4_hdr(&f, 5, 20 + 24, 4, 0x2000, 6);
	put(&f, s, 10);
	assert_int_equal(decode(&f, 64, 1, ipr, &cnt, &seg), PKT_TRUNCATED);
	assert_int_equal(cnt.ip_frag_dropped, 4);
	/* UDP fragments are not ours to keep */
	f.n = 0;
	ip4_hdr(&f, 5, 20 + 8, 4, 0x2000, 17);
	put(&f, s, 8);
	assert_int_equal(decode(&f, 0, 1, ipr, &cnt, &seg), PKT_NOT_TCP);
	assert_int_equal(cnt.ip_fragments, 5);
	ip_reasm_free(ipr);
}

static void test_ipv4_fragments_cap_and_timeout(void **state)
{
	struct ip_reasm *ipr = ip_reasm_new(40);
	struct counters cnt = { 0 };
	struct tcp_seg seg;
	uint8_t s[44];
	uint16_t id;

	(void)state;
	tcp_segment(s);
	/* 44 bytes do not fit a 40-byte cap: the datagram is given up */
	assert_int_equal(frag4(ipr, &cnt, 5, 0, s, 24, 1, 1, &seg), PKT_FRAGMENT);
	assert_int_equal(frag4(ipr, &cnt, 5, 24, s + 24, 20, 0, 1, &seg), PKT_FRAGMENT);
	assert_int_equal(cnt.ip_frag_dropped, 2);
	assert_int_equal(cnt.ip_reassembled, 0);
	/* the memory came back: a 32-byte datagram still fits */
	assert_int_equal(frag4(ipr, &cnt, 6, 0, s, 24, 1, 1, &seg), PKT_FRAGMENT);
	assert_int_equal(frag4(ipr, &cnt, 6, 24, s + 24, 8, 0, 1, &seg), PKT_TCP);
	assert_int_equal(seg.len, 12);
	ip_reasm_free(ipr);

	ipr = ip_reasm_new(1 << 24);
	memset(&cnt, 0, sizeof(cnt));
	/* 31 s later the first half has expired */
	assert_int_equal(frag4(ipr, &cnt, 7, 0, s, 24, 1, 1 * SEC, &seg), PKT_FRAGMENT);
	assert_int_equal(frag4(ipr, &cnt, 7, 24, s + 24, 20, 0, 32 * SEC, &seg), PKT_FRAGMENT);
	assert_int_equal(cnt.ip_frag_dropped, 1);
	/* ...but within the timeout it completes */
	assert_int_equal(frag4(ipr, &cnt, 7, 0, s, 24, 1, 40 * SEC, &seg), PKT_TCP);
	expect_whole_segment(&seg);

	/* more datagrams than are held: the oldest are given up, counted */
	memset(&cnt, 0, sizeof(cnt));
	for (id = 100; id < 100 + 300; id++)
		assert_int_equal(frag4(ipr, &cnt, id, 0, s, 24, 1, 50 * SEC + id, &seg),
				 PKT_FRAGMENT);
	assert_int_equal(cnt.ip_frag_dropped, 300 - 256);
	assert_int_equal(frag4(ipr, &cnt, 100, 24, s + 24, 20, 0, 51 * SEC, &seg),
			 PKT_FRAGMENT);
	assert_int_equal(frag4(ipr, &cnt, 399, 24, s + 24, 20, 0, 51 * SEC, &seg),
			 PKT_TCP);
	ip_reasm_free(ipr);
}

static const uint8_t ip6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t ip6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

static void ip6_hdr(struct frame *f, uint16_t plen, uint8_t nh)
{
	put32(f, 0x60000000);
	put16(f, plen);
	put8(f, nh);
	put8(f, 64);
	put(f, ip6_src, 16);
	put(f, ip6_dst, 16);
}

/* An 8-byte option header (HBH/dest-opts/routing) with PadN. */
static void ext8(struct frame *f, uint8_t next)
{
	put8(f, next);
	put8(f, 0);
	put8(f, 1);
	put8(f, 4);
	put32(f, 0);
}

static void test_ipv6_extension_headers(void **state)
{
	struct frame f = { .n = 0 };
	struct counters cnt = { 0 };
	struct tcp_seg seg;
	int i;

	(void)state;
	/* hop-by-hop, routing, destination options, AH (4 words), TCP */
	ip6_hdr(&f, 8 + 8 + 8 + 16 + 20 + 24, 0);
	ext8(&f, 43);
	ext8(&f, 60);
	ext8(&f, 51);
	put8(&f, 6);
	put8(&f, 2);          /* AH: (2 + 2) * 4 = 16 bytes */
	put16(&f, 0);
	put32(&f, 0x100);
	put32(&f, 1);
	put32(&f, 0);
	tcp_hdr(&f);
	put(&f, payload, sizeof(payload));
	assert_int_equal(decode(&f, 0, 1, NULL, &cnt, &seg), PKT_TCP);
	assert_int_equal(seg.src.family, 6);
	assert_memory_equal(seg.src.addr, ip6_src, 16);
	assert_memory_equal(seg.dst.addr, ip6_dst, 16);
	assert_int_equal(seg.dst.port, 80);
	assert_int_equal(seg.len, 24);
	assert_int_equal(seg.caplen, 24);
	assert_memory_equal(seg.payload, payload, 24);

	/* snap length cut inside the payload */
	f.n -= 20;
	assert_int_equal(decode(&f, 0, 1, NULL, &cnt, &seg), PKT_TCP);
	assert_int_equal(seg.len, 24);
	assert_int_equal(seg.caplen, 4);
	/* ... and inside the extension headers */
	f.n = 40 + 12;
	assert_int_equal(decode(&f, 0, 1, NULL, &cnt, &seg), PKT_TRUNCATED);

	/* an extension header longer than the payload length */
	f.n = 0;
	ip6_hdr(&f, 8, 60);
	put8(&f, 6);
	put8(&f, 3);          /* 32 bytes claimed */
	put8(&f, 1);
	put8(&f, 4);
	put32(&f, 0);
	assert_int_equal(decode(&f, 0, 1, NULL, &cnt, &seg), PKT_MALFORMED);

	/* no next header, UDP */
	f.n = 0;
	ip6_hdr(&f, 0, 59);
	assert_int_equal(decode(&f, 0, 1, NULL, &cnt, &seg), PKT_NOT_TCP);
	f.n = 0;
	ip6_hdr(&f, 8, 17);
	put32(&f, 0);
	put32(&f, 0);
	assert_int_equal(decode(&f, 0, 1, NULL, &cnt, &seg), PKT_NOT_TCP);

	/* an endless chain of destination options */
	f.n = 0;
	ip6_hdr(&f, 8 * 40, 60);
	for (i = 0; i < 40; i++)
		ext8(&f, 60);
	assert_int_equal(decode(&f, 0, 1, NULL, &cnt, &seg), PKT_MALFORMED);
	assert_int_equal(cnt.malformed_packets, 2);
	assert_int_equal(cnt.truncated_packets, 1);
	assert_int_equal(cnt.not_tcp, 2);
}

static int frag6(struct ip_reasm *ipr, struct counters *cnt, uint32_t id,
		 uint32_t off, const uint8_t *bytes, uint32_t len, int more,
		 uint8_t next, struct tcp_seg *seg)
{
	/* static: an atomic fragment's seg->payload points into the frame
	 * after this returns (valgrind caught the stack version) */
	static struct frame f;

	f.n = 0;
	ip6_hdr(&f, (uint16_t)(8 + 8 + len), 0);
	ext8(&f, 44);         /* hop-by-hop sits in the unfragmentable part */
	put8(&f, next);
	put8(&f, 0);
	put16(&f, (uint16_t)(off | (more ? 1 : 0)));
	put32(&f, id);
	put(&f, bytes, len);
	return decode(&f, 0, 5, ipr, cnt, seg);
}

static void test_ipv6_fragments(void **state)
{
	struct ip_reasm *ipr = ip_reasm_new(1 << 20);
	struct counters cnt = { 0 };
	struct tcp_seg seg;
	struct frame m = { .n = 0 };
	uint8_t s[44];

	(void)state;
	tcp_segment(s);
	assert_int_equal(frag6(ipr, &cnt, 0xdeadbeef, 24, s + 24, 20, 0, 6, &seg),
			 PKT_FRAGMENT);
	assert_int_equal(frag6(ipr, &cnt, 0xdeadbeef, 0, s, 24, 1, 6, &seg), PKT_TCP);
	assert_int_equal(seg.src.family, 6);
	assert_int_equal(seg.len, 24);
	assert_memory_equal(seg.payload, payload, 24);
	assert_int_equal(cnt.ip_reassembled, 1);

	/* atomic fragment: offset 0, no more fragments */
	assert_int_equal(frag6(ipr, &cnt, 1, 0, s, 44, 0, 6, &seg), PKT_TCP);
	assert_memory_equal(seg.payload, payload, 24);
	assert_int_equal(cnt.ip_reassembled, 1);

	/* destination options inside the fragmentable part */
	ext8(&m, 6);
	put(&m, s, 44);
	assert_int_equal(frag6(ipr, &cnt, 2, 0, m.b, 16, 1, 60, &seg), PKT_FRAGMENT);
	assert_int_equal(frag6(ipr, &cnt, 2, 16, m.b + 16, 36, 0, 60, &seg), PKT_TCP);
	assert_int_equal(seg.len, 24);
	assert_memory_equal(seg.payload, payload, 24);

	/* a fragmented UDP datagram is not kept */
	assert_int_equal(frag6(ipr, &cnt, 3, 0, s, 16, 1, 17, &seg), PKT_NOT_TCP);
	ip_reasm_free(ipr);
}

/* A SYN from captures/scepclient-post-enroll.pcap (raw IPv4), whose
 * checksums Wireshark reports as correct. */
static const uint8_t real_syn[] = {
	0x45, 0x00, 0x00, 0x3c, 0x2e, 0xcc, 0x40, 0x00, 0x40, 0x06, 0x0d, 0xee,
	0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0x8d, 0xe2, 0x1f, 0x41,
	0x61, 0x52, 0xac, 0x49, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0,
	0x73, 0xa0, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
	0x36, 0x92, 0xea, 0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a,
};

static int decode_raw(const uint8_t *b, size_t n, struct tcp_seg *seg)
{
	struct pkt p = { .frame = 1, .linktype = DLT_RAW, .data = b,
			 .caplen = (uint32_t)n, .wirelen = (uint32_t)n };
	struct ip_reasm *ipr = ip_reasm_new(65536);
	int rc;

	ip_reasm_verify_checksums(ipr, 1);
	rc = pkt_decode_tcp(&p, ipr, NULL, seg);
	ip_reasm_free(ipr);
	return rc;
}

static void test_checksums_recorded_never_dropped(void **state)
{
	uint8_t b[sizeof(real_syn)];
	struct tcp_seg seg;

	(void)state;
	assert_int_equal(decode_raw(real_syn, sizeof(real_syn), &seg), PKT_TCP);
	assert_int_equal(seg.ip_checksum, CHECKSUM_OK);
	assert_int_equal(seg.tcp_checksum, CHECKSUM_OK);
	{
		/* not asked for: not computed */
		struct pkt p = { .frame = 1, .linktype = DLT_RAW, .data = real_syn,
				 .caplen = sizeof(real_syn), .wirelen = sizeof(real_syn) };

		assert_int_equal(pkt_decode_tcp(&p, NULL, NULL, &seg), PKT_TCP);
		assert_int_equal(seg.tcp_checksum, CHECKSUM_UNCHECKED);
		assert_int_equal(seg.ip_checksum, CHECKSUM_UNCHECKED);
	}

	memcpy(b, real_syn, sizeof(b));
	b[sizeof(b) - 1] ^= 0x40;          /* a TCP option byte */
	assert_int_equal(decode_raw(b, sizeof(b), &seg), PKT_TCP);
	assert_int_equal(seg.ip_checksum, CHECKSUM_OK);
	assert_int_equal(seg.tcp_checksum, CHECKSUM_BAD);

	memcpy(b, real_syn, sizeof(b));
	b[8] = 0x3f;                        /* TTL: IP header only */
	assert_int_equal(decode_raw(b, sizeof(b), &seg), PKT_TCP);
	assert_int_equal(seg.ip_checksum, CHECKSUM_BAD);
	assert_int_equal(seg.tcp_checksum, CHECKSUM_OK);

	/* IPv4 total length says 4 bytes more than captured (a snap-length
	 * cut inside the payload): the TCP checksum cannot be checked */
	memcpy(b, real_syn, sizeof(b));
	b[3] = 0x40;
	b[10] = 0x0d;
	b[11] = 0xea;                       /* IP checksum for the new length */
	assert_int_equal(decode_raw(b, sizeof(b), &seg), PKT_TCP);
	assert_int_equal(seg.ip_checksum, CHECKSUM_OK);
	assert_int_equal(seg.tcp_checksum, CHECKSUM_UNCHECKED);
	assert_int_equal(seg.len, 4);
	assert_int_equal(seg.caplen, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_plain_and_options),
		cmocka_unit_test(test_ipv4_bad_lengths),
		cmocka_unit_test(test_ipv4_snaplen_cut_and_padding),
		cmocka_unit_test(test_ipv4_fragments_in_and_out_of_order),
		cmocka_unit_test(test_ipv4_fragments_overlap_first_wins),
		cmocka_unit_test(test_ipv4_fragments_bad),
		cmocka_unit_test(test_ipv4_fragments_cap_and_timeout),
		cmocka_unit_test(test_ipv6_extension_headers),
		cmocka_unit_test(test_ipv6_fragments),
		cmocka_unit_test(test_checksums_recorded_never_dropped),
	};

	return cmocka_run_group_tests_name("ip", tests, NULL, NULL);
}
