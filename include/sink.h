/* sink.h - the outputs: a human timeline and JSON Lines. Sinks only read
 * the transaction table and counters; dissectors never print. */
#ifndef SCEPDUMP_SINK_H
#define SCEPDUMP_SINK_H

#include <stdio.h>

struct sd_ctx;
struct scep_event;
struct scep_input;
struct txn;

/* The whole report at the end of input; transactions already streamed are
 * not printed again, spilled ones (spill.h) are copied in their place.
 * -1 when one of those could not be read back (said on stderr). */
int sink_text_write(FILE *out, const struct sd_ctx *ctx);
int sink_json_write(FILE *out, const struct sd_ctx *ctx);
/* One self-contained HTML page: summary, then a swimlane per transaction. */
void sink_html_write(FILE *out, const struct sd_ctx *ctx);
/* One transaction now (live capture prints each as it settles). */
void sink_text_txn(FILE *out, const struct sd_ctx *ctx, const struct txn *t);
void sink_json_txn(FILE *out, const struct sd_ctx *ctx, const struct txn *t);
/* Live capture: one SCEP exchange as it completes. */
void sink_text_event(FILE *out, const struct sd_ctx *ctx, const struct scep_event *ev);
void sink_json_event(FILE *out, const struct sd_ctx *ctx, const struct scep_event *ev);
/* scepdump decode: one input (a pkiMessage, certificates or caps). */
void sink_text_input(FILE *out, const struct sd_ctx *ctx, const struct scep_input *in);
void sink_json_input(FILE *out, const struct sd_ctx *ctx, const struct scep_input *in);

#endif
