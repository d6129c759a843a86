/* metrics_file.c - when and how the --metrics file is written: a new file
 * beside it (FILE.tmp: the textfile collector reads only *.prom), synced,
 * then renamed over it, so a scrape sees the old figures or the new ones,
 * never half a file. A write that fails (directory gone, disk full) is said
 * once and tried again at the next interval; the capture goes on. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
/* the fuzz harnesses build the library without configure's config.h */
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "format.h"
#include "metrics.h"
#include "metrics_file.h"
#include "pipeline.h"
#include "strutil.h"
#include "txn.h"

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void count_settled(void *arg, const struct txn *t)
{
	struct sd_ctx *ctx = arg;

	metrics_add_txn(&ctx->metrics, t);
}

/* Writes path.tmp and renames it over path. 0, or -1 with errno set. */
static int write_atomically(const struct sd_ctx *ctx, const char *path, const char *tmp)
{
	struct metrics_run run = { .cnt = &ctx->cnt, .version = PACKAGE_VERSION };
	struct timespec now;
	int fd, rc, e;
	FILE *f;

	clock_gettime(CLOCK_REALTIME, &now);
	run.now_s = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	if (!f) {
		e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return -1;
	}
	errno = 0;
	rc = metrics_write(f, &ctx->metrics, &run);
	if (rc == 0 && fflush(f) != 0)
		rc = -1;
	if (rc == 0 && fsync(fd) != 0)
		rc = -1;
	e = errno;
	if (fclose(f) != 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	if (rc == 0 && rename(tmp, path) != 0) {
		rc = -1;
		e = errno;
	}
	if (rc < 0) {
		unlink(tmp);
		errno = e;
	}
	return rc;
}

static void write_now(struct sd_ctx *ctx)
{
	const char *path = ctx->opt.metrics_file;
	char *tmp = str_printf("%s.tmp", path);
	int rc = tmp ? write_atomically(ctx, path, tmp) : (errno = ENOMEM, -1);

	if (rc < 0 && !ctx->metrics.write_failing)
		fprintf(stderr, "scepdump: --metrics %s: %s; trying again every %u s\n", path,
			fmt_write_error(errno), ctx->opt.metrics_interval_s);
	ctx->metrics.write_failing = rc < 0;
	free(tmp);
	ctx->metrics.next_write_ms = monotonic_ms() + ctx->opt.metrics_interval_s * 1000ull;
}

void metrics_file_start(struct sd_ctx *ctx)
{
	if (!ctx->opt.metrics_file)
		return;
	txn_table_on_settled(ctx->txns, count_settled, ctx);
	write_now(ctx);
}

void metrics_file_tick(struct sd_ctx *ctx)
{
	if (ctx->opt.metrics_file && monotonic_ms() >= ctx->metrics.next_write_ms)
		write_now(ctx);
}

void metrics_file_finish(struct sd_ctx *ctx)
{
	if (ctx->opt.metrics_file)
		write_now(ctx);
}
