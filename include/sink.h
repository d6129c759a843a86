/* sink.h - the outputs: a human timeline, JSON Lines and one HTML page.
 * Sinks only read what they are handed (options, transactions, the
 * summary, counters); they never see the run context, and dissectors
 * never print. */
#ifndef SCEPDUMP_SINK_H
#define SCEPDUMP_SINK_H

#include <stdint.h>
#include <stdio.h>

struct counters;
struct endpoint_tally;
struct livew_stats;
struct outrot_stats;
struct mem_budget;
struct scep_event;
struct scep_input;
struct sd_options;
struct spill;
struct summary;
struct txn;
struct txn_table;

/* What the end-of-run report prints; whoever ran the pipeline fills it in
 * after txn_finish. */
struct report {
	const struct sd_options *opt;
	const struct txn_table *txns;     /* settled, in listing order */
	struct spill *spill;              /* finished transactions waiting on disk, or NULL */
	const struct summary *summary;    /* txn_summary; NULL: no memory to build it */
	const struct counters *cnt;
	const struct mem_budget *mem;
	int memory_reached;               /* the budget shed or refused something */
	uint64_t first_ts_ns, last_ts_ns; /* the first and last packet, 0: none */
	int interrupted_by;               /* reading files stopped by this signal, else 0 */
	/* connections without SCEP, by what they spoke */
	const struct endpoint_tally *seen_tls, *seen_http, *seen_other;
	/* live -w and --json-file (NULL: not written): what reached them */
	const char *w_path, *json_path;
	const struct outrot_stats *w_out, *json_out;
	const struct livew_stats *w_hold;
	/* one-line hints for the summary (why TLS hid SCEP, what keys matched) */
	const char *const *hints;
	size_t n_hints;
	/* --verdict/--failed: the options as given, and how many transactions
	 * the listing showed (txns holds only those); NULL: all listed */
	const char *listing_filter;
	size_t n_listed;
};

/* The listing at the end of input, then the summary: transactions already
 * streamed are not printed again, spilled ones (spill.h) are copied in
 * their place. -1 when one of those could not be read back (said on
 * stderr); the summary is printed all the same. */
int sink_text_write(FILE *out, const struct report *r);
int sink_json_write(FILE *out, const struct report *r);
/* One self-contained HTML page: the summary, then a swimlane for every
 * transaction, streamed or not (the file is the whole record). */
void sink_html_write(FILE *out, const struct report *r);
/* One transaction as the listing shows it, printed now: live capture
 * prints each as it settles, and offline the spill keeps it rendered. */
void sink_text_txn(FILE *out, const struct sd_options *opt, const struct txn *t);
void sink_json_txn(FILE *out, const struct sd_options *opt, const struct txn *t);
/* Live capture: one SCEP exchange as it completes. */
void sink_text_event(FILE *out, const struct sd_options *opt, const struct scep_event *ev);
void sink_json_event(FILE *out, const struct sd_options *opt, const struct scep_event *ev);
/* scepdump decode: one input (a pkiMessage, certificates or caps). */
void sink_text_input(FILE *out, const struct sd_options *opt, const struct scep_input *in);
void sink_json_input(FILE *out, const struct sd_options *opt, const struct scep_input *in);

#endif
