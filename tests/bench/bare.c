/* bare.c - the floor scepdump is measured against: a bare libpcap
 * pcap_next_ex loop counting packets and bytes ("the speed of reading the
 * file"), and with --parse also Ethernet/IPv4/TCP decoding and a 5-tuple
 * lookup/insert in an open-addressing hash table ("read + flow lookup").
 *
 * It trusts nothing in the file: every header length is checked against
 * the captured length before it is used.
 *
 *   bare [--parse] FILE
 */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct flow_key {
	uint32_t a_ip, b_ip; /* the lower (ip, port) first: both directions meet */
	uint16_t a_port, b_port;
};

struct slot {
	struct flow_key k;
	uint64_t packets;
	int used;
};

struct table {
	struct slot *s;
	size_t cap, n; /* cap is a power of two, kept at most half full */
};

static uint64_t key_hash(const struct flow_key *k)
{
	uint64_t h = ((uint64_t)k->a_ip << 32 | k->b_ip) * 0x9e3779b97f4a7c15ull;

	h ^= ((uint64_t)k->a_port << 16 | k->b_port) * 0xc2b2ae3d27d4eb4full;
	return h ^ (h >> 29);
}

static struct slot *table_find(struct table *t, const struct flow_key *k)
{
	size_t i = (size_t)key_hash(k) & (t->cap - 1);

	while (t->s[i].used && memcmp(&t->s[i].k, k, sizeof(*k)))
		i = (i + 1) & (t->cap - 1);
	return &t->s[i];
}

static void table_grow(struct table *t)
{
	struct table n = { calloc(t->cap * 2, sizeof(struct slot)), t->cap * 2, t->n };
	size_t i;

	if (!n.s) {
		fputs("bare: out of memory\n", stderr);
		exit(2);
	}
	for (i = 0; i < t->cap; i++)
		if (t->s[i].used)
			*table_find(&n, &t->s[i].k) = t->s[i];
	free(t->s);
	*t = n;
}

static uint16_t be16(const u_char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *p;
	uint64_t packets = 0, bytes = 0, tcp = 0, skipped = 0;
	struct table t = { NULL, 1 << 12, 0 };
	int parse = 0, rc;
	const char *file;
	pcap_t *pc;

	if (argc == 3 && !strcmp(argv[1], "--parse"))
		parse = 1;
	else if (argc != 2) {
		fputs("usage: bare [--parse] FILE\n", stderr);
		return 2;
	}
	file = argv[argc - 1];
	pc = pcap_open_offline(file, err);
	if (!pc) {
		fprintf(stderr, "bare: %s\n", err);
		return 2;
	}
	if (parse && pcap_datalink(pc) != DLT_EN10MB) {
		fputs("bare: --parse reads Ethernet captures only\n", stderr);
		return 2;
	}
	t.s = calloc(t.cap, sizeof(struct slot));
	while ((rc = pcap_next_ex(pc, &h, &p)) == 1) {
		size_t n = h->caplen, off = 14, ihl, tot;
		uint16_t type, sp, dp;
		struct flow_key k;
		uint32_t sip, dip;
		struct slot *s;

		packets++;
		bytes += h->caplen;
		if (!parse)
			continue;
		if (n < 14) {
			skipped++;
			continue;
		}
		type = be16(p + 12);
		while ((type == 0x8100 || type == 0x88a8) && n >= off + 4) {
			type = be16(p + off + 2);
			off += 4;
		}
		if (type != 0x0800 || n < off + 20 || (p[off] >> 4) != 4) {
			skipped++;
			continue;
		}
		ihl = (size_t)(p[off] & 15) * 4;
		tot = be16(p + off + 2);
		if (ihl < 20 || tot < ihl || p[off + 9] != 6 || (be16(p + off + 6) & 0x1fff) ||
		    n < off + ihl + 20) {
			skipped++;
			continue;
		}
		memcpy(&sip, p + off + 12, 4);
		memcpy(&dip, p + off + 16, 4);
		sp = be16(p + off + ihl);
		dp = be16(p + off + ihl + 2);
		if (sip < dip || (sip == dip && sp <= dp))
			k = (struct flow_key){ sip, dip, sp, dp };
		else
			k = (struct flow_key){ dip, sip, dp, sp };
		tcp++;
		s = table_find(&t, &k);
		if (!s->used) {
			if (2 * (t.n + 1) > t.cap) {
				table_grow(&t);
				s = table_find(&t, &k);
			}
			s->k = k;
			s->used = 1;
			t.n++;
		}
		s->packets++;
	}
	if (rc != PCAP_ERROR_BREAK) {
		fprintf(stderr, "bare: %s\n", pcap_geterr(pc));
		return 2;
	}
	printf("packets=%" PRIu64 " bytes=%" PRIu64, packets, bytes);
	if (parse)
		printf(" tcp=%" PRIu64 " flows=%zu skipped=%" PRIu64, tcp, t.n, skipped);
	putchar('\n');
	pcap_close(pc);
	free(t.s);
	return 0;
}
