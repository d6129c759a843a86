/* manyflows.c - writes a capture of N distinct short TCP connections, one
 * after the other, to check that scepdump's memory stays bounded however
 * many flows a capture holds (tests/bench/manyflows.sh).
 *
 *   manyflows -o OUT.pcap [-n FLOWS]
 *
 * Each connection (Ethernet/IPv4/TCP, valid checksums) is 7 packets, 10 us
 * apart: SYN, SYN-ACK, ACK, one data segment from the client, FIN-ACK from
 * the client, FIN-ACK from the server, last ACK. Even connections carry a
 * tiny HTTP GET without operation= (to port 80), odd ones 40 bytes that are
 * not HTTP (to port 8080). Flow i comes from 10.a.b.c (the 24 low bits of
 * i) port 1024 + i % 64000 to 192.0.2.(1 + i % 250), so every 5-tuple
 * differs (N is at most 2^24). Deterministic: same N, same bytes.
 * Prints key=value facts (flows, packets, bytes, seconds) on stdout. */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define F_FIN 0x01
#define F_SYN 0x02
#define F_PSH 0x08
#define F_ACK 0x10

static pcap_dumper_t *dumper;
static uint64_t ts_us = 1700000000ull * 1000000ull;
static uint64_t packets, bytes;

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* One frame from src to dst; addresses are 4 bytes, ports host order. */
static void emit(const uint8_t *src, uint16_t sport, const uint8_t *dst, uint16_t dport,
		 uint32_t seq, uint32_t ack, uint8_t flags, const void *data, size_t len)
{
	uint8_t f[14 + 20 + 20 + 64];
	uint8_t *ip = f + 14, *tcp = ip + 20;
	struct pcap_pkthdr h;
	uint32_t s;
	size_t tot = 20 + 20 + len;

	memset(f, 0, sizeof(f));
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)tot);
	put16(ip + 4, (uint16_t)packets);
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	put16(ip + 10, fold(sum16(ip, 20, 0)));
	put16(tcp, sport);
	put16(tcp + 2, dport);
	put32(tcp + 4, seq);
	put32(tcp + 8, ack);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	put16(tcp + 14, 64240);
	memcpy(tcp + 20, data, len);
	s = sum16(ip + 12, 8, 0) + 6 + (uint32_t)(20 + len);
	put16(tcp + 16, fold(sum16(tcp, 20 + len, s)));

	h.ts.tv_sec = (time_t)(ts_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(ts_us % 1000000);
	h.caplen = h.len = (bpf_u_int32)(14 + tot);
	pcap_dump((u_char *)dumper, &h, f);
	ts_us += 10;
	packets++;
	bytes += 16 + h.caplen;
}

int main(int argc, char **argv)
{
	static const char get[] = "GET /index.html HTTP/1.1\r\nHost: www\r\n\r\n";
	static const char junk[] = "\x16\x00\x7f\x01 not http, not scep \xff\xfe\x00\x01\x02\x03\x04\x05\x06";
	const char *out = NULL;
	uint64_t n = 1000000, i;
	pcap_t *dead;
	int c;

	while ((c = getopt(argc, argv, "o:n:")) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'n': n = strtoull(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (!out || optind != argc || n == 0 || n > (1u << 24))
		goto usage;
	dead = pcap_open_dead(DLT_EN10MB, 65535);
	if (!dead || !(dumper = pcap_dump_open(dead, out))) {
		fprintf(stderr, "manyflows: cannot write %s: %s\n", out, dead ? pcap_geterr(dead) : "pcap_open_dead failed");
		return 2;
	}
	for (i = 0; i < n; i++) {
		uint8_t cli[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
		uint8_t srv[4] = { 192, 0, 2, (uint8_t)(1 + i % 250) };
		uint16_t cp = (uint16_t)(1024 + i % 64000), sp = (i & 1) ? 8080 : 80;
		uint32_t cs = (uint32_t)(i * 2654435761u), ss = cs ^ 0x5a5a5a5au;
		const void *d = (i & 1) ? (const void *)junk : (const void *)get;
		size_t dl = (i & 1) ? sizeof(junk) - 1 : sizeof(get) - 1;

		emit(cli, cp, srv, sp, cs, 0, F_SYN, NULL, 0);
		emit(srv, sp, cli, cp, ss, cs + 1, F_SYN | F_ACK, NULL, 0);
		emit(cli, cp, srv, sp, cs + 1, ss + 1, F_ACK, NULL, 0);
		emit(cli, cp, srv, sp, cs + 1, ss + 1, F_PSH | F_ACK, d, dl);
		emit(cli, cp, srv, sp, cs + 1 + (uint32_t)dl, ss + 1, F_FIN | F_ACK, NULL, 0);
		emit(srv, sp, cli, cp, ss + 1, cs + 2 + (uint32_t)dl, F_FIN | F_ACK, NULL, 0);
		emit(cli, cp, srv, sp, cs + 2 + (uint32_t)dl, ss + 2, F_ACK, NULL, 0);
	}
	pcap_dump_close(dumper);
	pcap_close(dead);
	printf("flows=%" PRIu64 "\npackets=%" PRIu64 "\nbytes=%" PRIu64 "\nseconds=%.3f\n",
	       n, packets, bytes + 24, (double)(packets * 10) / 1e6);
	return 0;
usage:
	fprintf(stderr, "usage: manyflows -o OUT.pcap [-n FLOWS (1 to 16777216)]\n");
	return 2;
}
