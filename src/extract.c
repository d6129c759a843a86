/* extract.c - -w FILE: a second read of the input files keeps the packets
 * of the connections that carried SCEP. A second pass (rather than holding
 * every packet until its connection proves to be SCEP) keeps memory flat
 * on a gateway's capture; it is why -w needs files, not stdin or live. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "counters.h"
#include "extract.h"

int extract_add(struct extract_list *l, const struct endpoint *client,
		const struct endpoint *server, uint64_t first_ts_ns, uint64_t last_ts_ns)
{
	struct extract_flow *f = realloc(l->flows, (l->n + 1) * sizeof(*f));

	if (!f)
		return -1;
	l->flows = f;
	f += l->n++;
	f->client = *client;
	f->server = *server;
	f->first_ts_ns = first_ts_ns;
	f->last_ts_ns = last_ts_ns;
	return 0;
}

/* The flow table closes a connection at its FINs; the last ACKs come just
 * after. They are kept for this long, unless a new SYN reuses the ports. */
#define EXTRACT_TAIL_NS (60ull * 1000000000ull)

static int same_tuple(const struct extract_flow *f, const struct tcp_seg *seg)
{
	return (endpoint_eq(&seg->src, &f->client) && endpoint_eq(&seg->dst, &f->server)) ||
	       (endpoint_eq(&seg->src, &f->server) && endpoint_eq(&seg->dst, &f->client));
}

static int wanted(const struct extract_list *l, uint8_t *reused, const struct tcp_seg *seg)
{
	int syn_only = (seg->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct extract_flow *f = &l->flows[i];

		if (seg->ts_ns < f->first_ts_ns || !same_tuple(f, seg))
			continue;
		if (seg->ts_ns <= f->last_ts_ns)
			return 1;
		if (syn_only)
			reused[i] = 1;
		if (!reused[i] && seg->ts_ns - f->last_ts_ns <= EXTRACT_TAIL_NS)
			return 1;
	}
	return 0;
}

static pcap_dumper_t *open_output(const char *path, int linktype, pcap_t **dead)
{
	pcap_dumper_t *d;

	*dead = pcap_open_dead_with_tstamp_precision(linktype, 262144, PCAP_TSTAMP_PRECISION_NANO);
	if (!*dead)
		return NULL;
	d = pcap_dump_open(*dead, path);
	if (!d)
		fprintf(stderr, "scepdump: -w %s: %s\n", path, pcap_geterr(*dead));
	return d;
}

long extract_write(const struct extract_list *l, const char *const *paths, size_t n_paths,
		   const char *out_path)
{
	struct counters scratch;
	struct ip_reasm *ipr = ip_reasm_new(1u << 20);
	struct capture *cap;
	pcap_dumper_t *dump = NULL;
	pcap_t *dead = NULL;
	char err[512];
	struct pkt p;
	struct tcp_seg seg;
	long written = 0, other_link = 0;
	int linktype = -1, rc;

	uint8_t *reused = calloc(l->n ? l->n : 1, 1);

	cap = ipr && reused ? capture_open_files(paths, n_paths, NULL, err, sizeof(err)) : NULL;
	if (!cap) {
		fprintf(stderr, "scepdump: -w %s: reading the input again: %s\n", out_path,
			ipr && reused ? err : "out of memory");
		ip_reasm_free(ipr);
		free(reused);
		return -1;
	}
	memset(&scratch, 0, sizeof(scratch));
	while ((rc = capture_next(cap, &p, err, sizeof(err))) != 0) {
		struct pcap_pkthdr h;

		if (rc != 1)
			continue;   /* errors: reported on the first pass already */
		if (pkt_decode_tcp(&p, ipr, &scratch, &seg) != PKT_TCP || !wanted(l, reused, &seg))
			continue;
		if (linktype < 0) {
			linktype = p.linktype;
			dump = open_output(out_path, linktype, &dead);
			if (!dump) {
				written = -1;
				break;
			}
		}
		if (p.linktype != linktype) {
			other_link++;
			continue;
		}
		h.ts.tv_sec = (time_t)(p.ts_ns / 1000000000ull);
		h.ts.tv_usec = (suseconds_t)(p.ts_ns % 1000000000ull);   /* ns: nano dumper */
		h.caplen = p.caplen;
		h.len = p.wirelen;
		pcap_dump((u_char *)dump, &h, p.data);
		written++;
	}
	if (!dump && written == 0)
		fprintf(stderr, "scepdump: -w %s: no connection carried SCEP; nothing written\n", out_path);
	if (other_link)
		fprintf(stderr, "scepdump: -w %s: %ld packets left out: their link type differs from the first one written (%s)\n",
			out_path, other_link, pcap_datalink_val_to_name(linktype));
	if (dump)
		pcap_dump_close(dump);
	if (dead)
		pcap_close(dead);
	capture_close(cap);
	ip_reasm_free(ipr);
	free(reused);
	return written;
}

void extract_free(struct extract_list *l)
{
	free(l->flows);
	l->flows = NULL;
	l->n = 0;
}
