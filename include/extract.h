/* extract.h - -w FILE: the packets of the connections that carried SCEP,
 * written to a new pcap, so a user can share a small capture instead of a
 * gateway's whole one. */
#ifndef SCEPDUMP_EXTRACT_H
#define SCEPDUMP_EXTRACT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/* Where -w writes: a file the caller opened before reading any input (so a
 * path that cannot be written costs no analysis, and an input is never
 * taken for it), not yet truncated. */
struct extract_out {
	FILE *f;
	const char *path;           /* as given, for messages */
	/* 0, or the latest packet time the first pass read before a signal
	 * stopped it: the second pass ends at the first packet past it */
	uint64_t until_ts_ns;
	/* raised by a signal handler: the pass ends between two records */
	const volatile sig_atomic_t *stop;
};

/* Reads the input files again and writes every packet of a listed flow to
 * out->f from its start (a regular file is truncated first), flushing each
 * record. Whatever happens the file is a pcap of whole records: a record
 * that cannot be written whole is cut off again, a file that cannot even
 * take the pcap header is removed, and one with no packet to keep still
 * gets its header. out->f is closed on return. Returns the number of
 * packets written, or -1 after one line on stderr naming the file, the
 * error and what it holds. Stopped by *out->stop, it says so in one line
 * and returns what was written. */
long extract_write(const struct extract_list *l, const char *const *paths, size_t n_paths,
		   const struct extract_out *out);
void extract_free(struct extract_list *l);

#endif
