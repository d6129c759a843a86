/* sink.h - the outputs: a human timeline and JSON Lines. Sinks only read
 * the transaction table and counters; dissectors never print. */
#ifndef SCEPDUMP_SINK_H
#define SCEPDUMP_SINK_H

#include <stdio.h>

struct sd_ctx;

void sink_text_write(FILE *out, const struct sd_ctx *ctx);
void sink_json_write(FILE *out, const struct sd_ctx *ctx);

#endif
