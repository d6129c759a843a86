/* test_link.c - link-layer headers in front of one IPv4 and one IPv6 TCP
 * segment: Ethernet with 802.1Q/QinQ tags and SNAP, Linux SLL/SLL2, BSD
 * loopback in both byte orders, raw IP, and refused link types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "counters.h"
#include "packet.h"
#include "layers.h"

/* 192.0.2.1:50000 -> 198.51.100.2:80, PSH|ACK, seq 100, ack 200, "GET " */
static const uint8_t ip4_tcp[] = {
	0x45, 0x00, 0x00, 0x2c, 0x12, 0x34, 0x40, 0x00,
	0x40, 0x06, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01,
	0xc6, 0x33, 0x64, 0x02,
	0xc3, 0x50, 0x00, 0x50, 0x00, 0x00, 0x00, 0x64,
	0x00, 0x00, 0x00, 0xc8, 0x50, 0x18, 0xff, 0xff,
	0x00, 0x00, 0x00, 0x00,
	'G', 'E', 'T', ' '
};

/* [2001:db8::1]:50000 -> [2001:db8::2]:443, SYN, seq 7, no payload */
static const uint8_t ip6_tcp[] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x14, 0x06, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
	0xc3, 0x50, 0x01, 0xbb, 0x00, 0x00, 0x00, 0x07,
	0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0xff, 0xff,
	0x00, 0x00, 0x00, 0x00
};

static const uint8_t eth_macs[12] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb
};

struct frame {
	uint8_t b[256];
	size_t n;
};

static void put(struct frame *f, const void *p, size_t n)
{
	assert_true(f->n + n <= sizeof(f->b));
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void put16(struct frame *f, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(f, b, 2);
}

static int decode(int linktype, const struct frame *f, struct counters *cnt,
		  struct tcp_seg *seg)
{
	struct pkt p = {
		.frame = 9, .ts_ns = 1234, .linktype = linktype,
		.data = f->b, .caplen = (uint32_t)f->n, .wirelen = (uint32_t)f->n,
	};

	return pkt_decode_tcp(&p, NULL, cnt, seg);
}

static void expect_ip4_seg(const struct tcp_seg *seg)
{
	static const uint8_t src[4] = { 192, 0, 2, 1 }, dst[4] = { 198, 51, 100, 2 };

	assert_int_equal(seg->src.family, 4);
	assert_memory_equal(seg->src.addr, src, 4);
	assert_memory_equal(seg->dst.addr, dst, 4);
	assert_int_equal(seg->src.port, 50000);
	assert_int_equal(seg->dst.port, 80);
	assert_int_equal(seg->seq, 100);
	assert_int_equal(seg->ack, 200);
	assert_int_equal(seg->flags, TCP_PSH | TCP_ACK);
	assert_int_equal(seg->caplen, 4);
	assert_int_equal(seg->len, 4);
	assert_memory_equal(seg->payload, "GET ", 4);
	assert_int_equal(seg->frame, 9);
	assert_int_equal(seg->ts_ns, 1234);
}

static void expect_ip6_seg(const struct tcp_seg *seg)
{
	assert_int_equal(seg->src.family, 6);
	assert_int_equal(seg->dst.family, 6);
	assert_int_equal(seg->src.addr[15], 1);
	assert_int_equal(seg->dst.addr[15], 2);
	assert_int_equal(seg->src.addr[0], 0x20);
	assert_int_equal(seg->dst.port, 443);
	assert_int_equal(seg->seq, 7);
	assert_int_equal(seg->flags, TCP_SYN);
	assert_int_equal(seg->len, 0);
	assert_int_equal(seg->caplen, 0);
}

static void test_ethernet_ipv4(void **state)
{
	struct frame f = { .n = 0 };
	struct counters cnt = { 0 };
	struct tcp_seg seg;

	(void)state;
	put(&f, eth_macs, 12);
	put16(&f, 0x0800);
	put(&f, ip4_tcp, sizeof(ip4_tcp));
	assert_int_equal(decode(DLT_EN10MB, &f, &cnt, &seg), PKT_TCP);
	expect_ip4_seg(&seg);
	assert_int_equal(cnt.tcp_segments, 1);
}

static void test_ethernet_vlan(void **state)
{
	struct frame f = { .n = 0 };
	struct tcp_seg seg;

	(void)state;
	put(&f, eth_macs, 12);
	put16(&f, 0x8100);
	put16(&f, 0x2064);    /* PCP 1, VID 100 */
	put16(&f, 0x86dd);
	put(&f, ip6_tcp, sizeof(ip6_tcp));
	assert_int_equal(decode(DLT_EN10MB, &f, NULL, &seg), PKT_TCP);
	expect_ip6_seg(&seg);
}

static void test_ethernet_qinq(void **state)
{
	struct frame f = { .n = 0 };
	struct tcp_seg seg;

	(void)state;
	put(&f, eth_macs, 12);
	put16(&f, 0x88a8);    /* 802.1ad service tag */
	put16(&f, 0x000a);
	put16(&f, 0x8100);    /* customer tag */
	put16(&f, 0x0014);
	put16(&f, 0x0800);
	put(&f, ip4_tcp, sizeof(ip4_tcp));
	assert_int_equal(decode(DLT_EN10MB, &f, NULL, &seg), PKT_TCP);
	expect_ip4_seg(&seg);
}

static void test_ethernet_tag_truncated(void **state)
{
	struct frame f = { .n = 0 };
	struct counters cnt = { 0 };
	struct tcp_seg seg;

	(void)state;
	put(&f, eth_macs, 12);
	put16(&f, 0x8100);
	put16(&f, 0x0001);
	put(&f, "\x08", 1);   /* half the inner ethertype */
	assert_int_equal(decode(DLT_EN10MB, &f, &cnt, &seg), PKT_TRUNCATED);
	assert_int_equal(cnt.truncated_packets, 1);
	f.n = 5;              /* not even the MAC addresses */
	assert_int_equal(decode(DLT_EN10MB, &f, &cnt, &seg), PKT_TRUNCATED);
	assert_int_equal(cnt.truncated_packets, 2);
}

static void test_ethernet_snap(void **state)
{
	static const uint8_t snap[] = { 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00 };
	struct frame f = { .n = 0 };
	struct tcp_seg seg;

	(void)state;
	put(&f, eth_macs, 12);
	put16(&f, (uint16_t)(sizeof(snap) + sizeof(ip4_tcp)));
	put(&f, snap, sizeof(snap));
	put(&f, ip4_tcp, sizeof(ip4_tcp));
	assert_int_equal(decode(DLT_EN10MB, &f, NULL, &seg), PKT_TCP);
	expect_ip4_seg(&seg);
}

static void test_ethernet_not_ip(void **state)
{
	static const uint8_t stp_llc[] = { 0x42, 0x42, 0x03, 0, 0, 0 };
	struct frame f = { .n = 0 };
	struct counters cnt = { 0 };
	struct tcp_seg seg;

	(void)state;
	put(&f, eth_macs, 12);
	put16(&f, 0x0806);    /* ARP */
	put(&f, ip4_tcp, 28);
	assert_int_equal(decode(DLT_EN10MB, &f, &cnt, &seg), PKT_NOT_TCP);
	f.n = 12;
	put16(&f, (uint16_t)sizeof(stp_llc));
	put(&f, stp_llc, sizeof(stp_llc));
	assert_int_equal(decode(DLT_EN10MB, &f, &cnt, &seg), PKT_NOT_TCP);
	assert_int_equal(cnt.not_tcp, 2);
}

static void test_linux_sll(void **state)
{
	/* outgoing, ARPHRD_ETHER, 6-byte address padded to 8 */
	static const uint8_t sll[14] = {
		0x00, 0x04, 0x00, 0x01, 0x00, 0x06,
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x00
	};
	struct frame f = { .n = 0 };
	struct tcp_seg seg;

	(void)state;
	put(&f, sll, sizeof(sll));
	put16(&f, 0x0800);
	put(&f, ip4_tcp, sizeof(ip4_tcp));
	assert_int_equal(decode(DLT_LINUX_SLL, &f, NULL, &seg), PKT_TCP);
	expect_ip4_seg(&seg);
	/* 0x0004 is Linux's 802.2 LLC pseudo-protocol, not an ethertype */
	f.n = sizeof(sll);
	put16(&f, 0x0004);
	assert_int_equal(decode(DLT_LINUX_SLL, &f, NULL, &seg), PKT_NOT_TCP);
}

static void test_linux_sll2(void **state)
{
	/* reserved, ifindex 1, ARPHRD_LOOPBACK, host, addr len 0 */
	static const uint8_t sll2_rest[18] = {
		0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x04,
		0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0
	};
	struct frame f = { .n = 0 };
	struct tcp_seg seg;

	(void)state;
	put16(&f, 0x86dd);
	put(&f, sll2_rest, sizeof(sll2_rest));
	put(&f, ip6_tcp, sizeof(ip6_tcp));
	assert_int_equal(decode(DLT_LINUX_SLL2, &f, NULL, &seg), PKT_TCP);
	expect_ip6_seg(&seg);
	/* a VLAN tag libpcap put back after the cooked header */
	f.n = 0;
	put16(&f, 0x8100);
	put(&f, sll2_rest, sizeof(sll2_rest));
	put16(&f, 0x0005);
	put16(&f, 0x0800);
	put(&f, ip4_tcp, sizeof(ip4_tcp));
	assert_int_equal(decode(DLT_LINUX_SLL2, &f, NULL, &seg), PKT_TCP);
	expect_ip4_seg(&seg);
	f.n = 19;
	assert_int_equal(decode(DLT_LINUX_SLL2, &f, NULL, &seg), PKT_TRUNCATED);
}

static void test_bsd_loopback(void **state)
{
	static const uint8_t af_inet_le[4] = { 2, 0, 0, 0 };
	static const uint8_t af_inet_be[4] = { 0, 0, 0, 2 };
	static const uint8_t af_inet6_darwin_be[4] = { 0, 0, 0, 30 };
	static const uint8_t af_inet6_bsd_le[4] = { 24, 0, 0, 0 };
	static const uint8_t af_unknown[4] = { 0, 0, 0, 99 };
	struct frame f = { .n = 0 };
	struct tcp_seg seg;

	(void)state;
	put(&f, af_inet_le, 4);
	put(&f, ip4_tcp, sizeof(ip4_tcp));
	assert_int_equal(decode(DLT_NULL, &f, NULL, &seg), PKT_TCP);
	expect_ip4_seg(&seg);

	f.n = 0;
	put(&f, af_inet_be, 4);
	put(&f, ip4_tcp, sizeof(ip4_tcp));
	assert_int_equal(decode(DLT_NULL, &f, NULL, &seg), PKT_TCP);
	assert_int_equal(decode(DLT_LOOP, &f, NULL, &seg), PKT_TCP);
	expect_ip4_seg(&seg);

	f.n = 0;
	put(&f, af_inet6_darwin_be, 4);
	put(&f, ip6_tcp, sizeof(ip6_tcp));
	assert_int_equal(decode(DLT_LOOP, &f, NULL, &seg), PKT_TCP);
	expect_ip6_seg(&seg);

	f.n = 0;
	put(&f, af_inet6_bsd_le, 4);
	put(&f, ip6_tcp, sizeof(ip6_tcp));
	assert_int_equal(decode(DLT_NULL, &f, NULL, &seg), PKT_TCP);
	expect_ip6_seg(&seg);

	f.n = 0;
	put(&f, af_unknown, 4);
	put(&f, ip4_tcp, sizeof(ip4_tcp));
	assert_int_equal(decode(DLT_NULL, &f, NULL, &seg), PKT_NOT_TCP);
	f.n = 3;
	assert_int_equal(decode(DLT_NULL, &f, NULL, &seg), PKT_TRUNCATED);
}

static void test_raw_ip(void **state)
{
	struct frame f = { .n = 0 };
	struct counters cnt = { 0 };
	struct tcp_seg seg;

	(void)state;
	put(&f, ip4_tcp, sizeof(ip4_tcp));
	assert_int_equal(decode(DLT_RAW, &f, NULL, &seg), PKT_TCP);
	expect_ip4_seg(&seg);
	assert_int_equal(decode(DLT_IPV4, &f, NULL, &seg), PKT_TCP);
	expect_ip4_seg(&seg);
	assert_int_equal(decode(101, &f, NULL, &seg), PKT_TCP);  /* LINKTYPE_RAW */
	/* DLT_IPV6 insists on IPv6 whatever the nibble says */
	assert_int_equal(decode(DLT_IPV6, &f, &cnt, &seg), PKT_MALFORMED);
	assert_int_equal(cnt.malformed_packets, 1);

	f.n = 0;
	put(&f, ip6_tcp, sizeof(ip6_tcp));
	assert_int_equal(decode(DLT_RAW, &f, NULL, &seg), PKT_TCP);
	expect_ip6_seg(&seg);
	assert_int_equal(decode(DLT_IPV6, &f, NULL, &seg), PKT_TCP);

	f.b[0] = 0x50;        /* version 5 */
	assert_int_equal(decode(DLT_RAW, &f, NULL, &seg), PKT_MALFORMED);
	f.n = 0;
	assert_int_equal(decode(DLT_RAW, &f, NULL, &seg), PKT_TRUNCATED);
}

static void test_unsupported_link(void **state)
{
	struct frame f = { .n = 0 };
	struct counters cnt = { 0 };
	struct tcp_seg seg;

	(void)state;
	put(&f, ip4_tcp, sizeof(ip4_tcp));
	assert_int_equal(decode(DLT_IEEE802_11, &f, &cnt, &seg),
			 PKT_UNSUPPORTED_LINK);
	assert_int_equal(cnt.unsupported_link, 1);
	assert_int_equal(cnt.not_tcp, 0);
	assert_false(link_supported(DLT_IEEE802_11));
	assert_false(link_supported(DLT_PPP));
	assert_true(link_supported(DLT_EN10MB));
	assert_true(link_supported(DLT_LINUX_SLL2));
	assert_true(link_supported(DLT_LOOP));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ethernet_ipv4),
		cmocka_unit_test(test_ethernet_vlan),
		cmocka_unit_test(test_ethernet_qinq),
		cmocka_unit_test(test_ethernet_tag_truncated),
		cmocka_unit_test(test_ethernet_snap),
		cmocka_unit_test(test_ethernet_not_ip),
		cmocka_unit_test(test_linux_sll),
		cmocka_unit_test(test_linux_sll2),
		cmocka_unit_test(test_bsd_loopback),
		cmocka_unit_test(test_raw_ip),
		cmocka_unit_test(test_unsupported_link),
	};

	return cmocka_run_group_tests_name("link", tests, NULL, NULL);
}
