/* pipeline.h - the one run context and the hand-offs between stages:
 * packet -> TCP segment -> flow/reassembly -> HTTP -> SCEP -> transactions. */
#ifndef SCEPDUMP_PIPELINE_H
#define SCEPDUMP_PIPELINE_H

#include "app.h"
#include "counters.h"
#include "extract.h"
#include "http1.h"
#include "membudget.h"
#include "metrics.h"
#include "options.h"
#include "packet.h"
#include "summary.h"

struct capture;
struct decode_queue;
struct report;
struct flow_table;
struct scep_event;
struct scep_keys;
struct spill;
struct keylog;
struct livew;
struct outrot;
struct txn_table;

struct sd_ctx {
	struct sd_options opt;
	struct counters cnt;
	struct mem_budget mem;      /* --max-memory, charged by every growing buffer */
	struct ip_reasm *ipr;
	struct flow_table *flows;
	struct app_env app;         /* what the app layers borrow (app.h) */
	struct http1_config http1;
	struct scep_keys *keys;
	struct decode_queue *decode;  /* SCEP exchanges on their way to txns */
	struct keylog *keylog;      /* TLS secrets: --keylog files and pcapng blocks */
	struct txn_table *txns;
	struct spill *spill;        /* offline: finished transactions' listing, on disk */
	size_t listed;              /* --verdict: transactions listed so far (live, spilled) */
	int spill_failed;           /* said once; the rest stay in the table */
	uint64_t first_ts_ns, last_ts_ns;
	uint64_t next_txn_expiry_ns;
	struct extract_list scep_flows;     /* for -w: connections that carried SCEP */
	struct livew *livew;        /* live -w: held, then written (livew.h) */
	struct outrot *json_out;    /* --json-file */
	uint64_t next_out_check_ns; /* live -w: held connections expired, files checked */
	size_t settled[VERDICT_COUNT];  /* live: transactions shown, by verdict (SIGUSR1) */
	/* connections that carried no SCEP, by what they spoke: said when
	 * the capture had no SCEP at all */
	struct endpoint_tally seen_tls, seen_http, seen_other;
	struct endpoint *scep_servers;      /* servers that carried SCEP */
	struct tls_tally *tls_tally;        /* TLS for the summary's hints (opaque_tls.c) */
	size_t n_scep_servers;
	/* TLS without readable HTTP whose relevance is known only at the end:
	 * a FIFO ring of opt.max_opaque_tls entries */
	struct scep_event **opaque_tls;
	size_t opaque_head, n_opaque_tls;
	struct metrics metrics;     /* --metrics: tallies and when the file is due */
	int input_errors;
	/* reading files stopped by this signal (SIGINT, SIGTERM) before their
	 * end: the report covers the part read. 0 otherwise (live, a signal
	 * is the normal end). */
	int interrupted_by;
	/* several -r files: tells each frame's file and number in it */
	const struct capture *frames_from;
	/* live capture: told of each SCEP exchange as it completes */
	void (*on_event)(struct sd_ctx *ctx, const struct scep_event *ev);
};

/* Builds the stages from ctx->opt; prints one line and returns -1 when a
 * key file cannot be used. */
int pipeline_init(struct sd_ctx *ctx);
/* The memory budget shed connections or refused a buffer in this run. */
int mem_budget_reached(const struct sd_ctx *ctx);
/* What the sinks print at the end (sink.h), after pipeline_finish: r
 * borrows from ctx. */
void pipeline_report(const struct sd_ctx *ctx, struct report *r);
void pipeline_packet(struct sd_ctx *ctx, const struct pkt *p);
/* No packet for a while (live capture): passes on what was decoded. */
void pipeline_idle(struct sd_ctx *ctx);
/* TLS secrets that arrived inside the capture (pcapng Decryption Secrets
 * Blocks), in NSS key log format. */
void pipeline_add_keylog_text(struct sd_ctx *ctx, const uint8_t *text, size_t len);
/* End of input: flushes flows, closes open exchanges, settles verdicts. */
void pipeline_finish(struct sd_ctx *ctx);
void pipeline_free(struct sd_ctx *ctx);

#endif
