/* extract.h - -w FILE: the packets of the connections that carried SCEP,
 * written to a new pcap, so a user can share a small capture instead of a
 * gateway's whole one. */
#ifndef SCEPDUMP_EXTRACT_H
#define SCEPDUMP_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"

/* One connection to keep: both endpoints and when it was seen, so a later
 * connection reusing the same ports is not taken along. */
struct extract_flow {
	struct endpoint client, server;
	uint64_t first_ts_ns, last_ts_ns;
};

struct extract_list {
	struct extract_flow *flows;
	size_t n;
};

int extract_add(struct extract_list *l, const struct endpoint *client,
		const struct endpoint *server, uint64_t first_ts_ns, uint64_t last_ts_ns);
/* Reads the input files again and writes every packet of a listed flow to
 * out_path. Returns the number of packets written, or -1 after printing
 * one line to stderr. */
long extract_write(const struct extract_list *l, const char *const *paths, size_t n_paths,
		   const char *out_path);
void extract_free(struct extract_list *l);

#endif
