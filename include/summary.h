/* summary.h - the end-of-run figures both sinks print: transactions per
 * verdict, per server and per client, and enrollment latency. */
#ifndef SCEPDUMP_SUMMARY_H
#define SCEPDUMP_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "txn.h"

#define VERDICT_COUNT (VERDICT_DELIVERED + 1)

struct summary_group {
	struct endpoint ep;         /* servers: addr:port; clients: addr, port 0 */
	size_t total;
	size_t by_verdict[VERDICT_COUNT];
};

/* Where each group sits in its array, by address: open addressing, a slot
 * holds the position + 1 (0: empty). So a summary of thousands of clients
 * is counted in constant time per transaction. */
struct group_index {
	size_t *slot;
	size_t cap;                 /* a power of two, at least twice the groups */
};

struct summary {
	/* what the listing shows (txn_is_endpoint_group tells them apart):
	 * transactions, counted per verdict, per server and per client, and
	 * endpoint-level groups, counted per verdict on their own (an HTTP
	 * error or a failed TLS handshake there is no enrollment's verdict) */
	size_t transactions;
	size_t endpoint_groups;
	size_t by_verdict[VERDICT_COUNT];
	size_t group_verdicts[VERDICT_COUNT];
	/* first PKIOperation request byte to the last response byte */
	size_t n_latency, lat_alloc;
	uint64_t *latencies;        /* n_latency values, sorted by summary_finish */
	uint64_t latency_p50, latency_p90, latency_p99, latency_max;
	uint64_t damaged_exchanges;
	struct summary_group *servers, *clients;   /* most transactions first */
	size_t n_servers, n_clients;
	size_t servers_alloc, clients_alloc;
	struct group_index server_idx, client_idx; /* until summary_finish sorts */
	/* Servers and clients told apart: at most max_groups each (0: no cap;
	 * the transaction table sets --max-transactions in the summaries it
	 * keeps), so a capture with
	 * millions of clients does not grow the summary without end. The
	 * transactions of further ones are counted together here. */
	size_t max_groups;
	struct summary_group other_servers, other_clients;
};

/* 1 for what the listing shows as an endpoint-level group (exchanges of
 * no enrollment: GetCACaps, GetCACert, TLS, their errors; anything else
 * without a transactionID or a verdict), 0 for a transaction. The summary
 * and the JSON "type" tell the two apart by this rule. */
int txn_is_endpoint_group(const struct txn *t);

/* The enrollment's own latency: its first PKIOperation request to the last
 * byte of its last CertRep (preparation exchanges left out). An HTTP error
 * page is no CertRep: an enrollment without one has no latency (0). */
int txn_latency(const struct txn *t, uint64_t *lat);

struct counters;

/* The "capped" figure of the summary line: how many times a cap or the
 * memory budget cut something short, whatever it was. Counters of things
 * (flows, bodies, headers, streams, exchanges, transactions, device log
 * events and lines, key log entries, refused charges, shed connections)
 * count one each; counters of bytes (reassembly, TLS handshake, device
 * log) count one when any byte was lost, since their size would drown the
 * rest. Kernel drops (capture_dropped) are no cap and are not in it. */
uint64_t summary_capped(const struct counters *c);

/* Counting in: s starts zeroed (max_groups set); a transaction, or the
 * figures of another summary not yet finished. -1 when memory ran out
 * (what was counted stays). */
int summary_add_txn(struct summary *s, const struct txn *t);
int summary_add_summary(struct summary *s, const struct summary *from);
/* Done counting: groups ordered, latencies sorted and their percentiles
 * computed; nothing is added after this. The transaction table does it
 * once, at txn_finish (txn_summary). */
int summary_finish(struct summary *s);
void summary_free(struct summary *s);

#endif
