/* metrics.h - the run's figures for Prometheus (--metrics): tallies that
 * grow one settled transaction at a time, and the text exposition format
 * node_exporter's textfile collector reads. Held in the run context. */
#ifndef SCEPDUMP_METRICS_H
#define SCEPDUMP_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "summary.h"
#include "txn.h"

struct counters;

/* Enrollment latency buckets, seconds: an RA answering from memory takes
 * milliseconds, NDES with a CA behind it a second or two, a client polling
 * a PENDING request minutes. */
#define METRICS_LATENCY_BUCKETS 16
/* Servers told apart in the enrollment series (each is 8 series, one per
 * verdict); the transactions of further ones are labelled server="other",
 * so a scan or a misconfigured fleet cannot grow the file without end. */
#define METRICS_MAX_SERVERS 256
/* HTTP statuses counted each on its own; others are status="other". */
#define METRICS_HTTP_STATUS_MAX 600
/* failInfo values with a name (scep_fail_info), then one for the rest */
#define METRICS_FAILINFO_SLOTS 6

struct metrics_server {
	char name[ENDPOINT_STRLEN];        /* "192.0.2.1:443"; "other", "none" */
	uint64_t by_verdict[VERDICT_COUNT];
};

struct metrics {
	/* transactions (txn_is_endpoint_group tells them apart), per server
	 * in name order, and endpoint-level groups per verdict */
	struct metrics_server *servers;
	size_t n_servers, servers_alloc;
	struct metrics_server other, none;
	uint64_t group_verdicts[VERDICT_COUNT];
	/* REJECTED enrollments by their final CertRep's failInfo */
	uint64_t fail_info[METRICS_FAILINFO_SLOTS];
	/* the summary's latency (txn_latency), as a histogram */
	uint64_t latency_buckets[METRICS_LATENCY_BUCKETS];   /* not cumulative */
	uint64_t latency_count, latency_sum_ns;
	uint64_t polls[TXN_POLL_KINDS];
	/* exchanges answered with an HTTP status other than 200 */
	uint64_t http_status[METRICS_HTTP_STATUS_MAX];
	uint64_t http_status_other;
	/* the file (src/metrics_file.c): when it is due next and whether the
	 * last write failed (said once until one succeeds) */
	uint64_t next_write_ms;
	int write_failing;
};

/* What the figures of the transaction stage do not hold. */
struct metrics_run {
	const struct counters *cnt;
	const char *version;
	double now_s;                      /* wall clock, for the last-update gauge */
};

/* Counts one transaction the transaction stage settled (txn_settled_cb). */
void metrics_add_txn(struct metrics *m, const struct txn *t);
/* The exposition format, every metric with HELP and TYPE. Returns 0, or -1
 * when out could not take it (errno set). */
int metrics_write(FILE *out, const struct metrics *m, const struct metrics_run *run);
void metrics_free(struct metrics *m);

#endif
