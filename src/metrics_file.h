/* metrics_file.h - --metrics FILE: the run's figures (metrics.h) rewritten
 * whole every --metrics-interval seconds and at the end, for a collector
 * that may read it at any moment. */
#ifndef SCEPDUMP_METRICS_FILE_H
#define SCEPDUMP_METRICS_FILE_H

struct sd_ctx;

/* Before any packet, after privileges are dropped (the file is written as
 * the user the capture runs as): counts each transaction as it settles and
 * writes the file a first time. Nothing without --metrics. */
void metrics_file_start(struct sd_ctx *ctx);
/* Between packets and on idle: rewrites the file when it is due. */
void metrics_file_tick(struct sd_ctx *ctx);
/* After pipeline_finish: the last write, equal to the summary. */
void metrics_file_finish(struct sd_ctx *ctx);

#endif
