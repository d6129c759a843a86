/* render.c - when the listing is printed and from where: live, each
 * enrollment and exchange as it settles; reading files, each finished
 * transaction rendered at once and kept on disk (spill.h) until the end;
 * then the report of what was not shown yet, and the summary. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "outfile.h"
#include "outrot.h"
#include "pipeline.h"
#include "render.h"
#include "sink.h"
#include "spill.h"
#include "txn.h"

/* --verdict/--failed: the one place that decides which transactions the
 * listing shows (live, spilled and at the end, text, JSON and HTML); the
 * summary and --check still count them all. */
static int listed(const struct txn *t, const void *arg)
{
	const struct sd_options *o = arg;

	return !o->listing_verdicts || (t->verdict < 32 && (o->listing_verdicts & (1u << t->verdict)));
}

/* One transaction as the listing shows it. */
static void render_listing(FILE *out, const void *arg, const struct txn *t)
{
	const struct sd_ctx *ctx = arg;

	if (!listed(t, &ctx->opt))
		return;
	if (ctx->opt.json)
		sink_json_txn(out, &ctx->opt, t);
	else if (!ctx->opt.quiet)
		sink_text_txn(out, &ctx->opt, t);
}

/* Renders into a string what render would print. */
static char *render_to_string(void (*render)(FILE *, const void *, const struct txn *),
			      const void *arg, const struct txn *t, size_t *len)
{
	char *buf = NULL;
	FILE *m = open_memstream(&buf, len);

	if (!m)
		return NULL;
	render(m, arg, t);
	if (fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void render_json(FILE *out, const void *arg, const struct txn *t)
{
	const struct sd_ctx *ctx = arg;

	sink_json_txn(out, &ctx->opt, t);
}

/* --json-file: text rendered whole, then written a line at a time (each
 * line reaches the file whole or is counted lost). */
static void json_file_put(struct sd_ctx *ctx, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nl;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end - 1;
		outrot_write(ctx->json_out, p, (size_t)(nl - p) + 1, NULL, 0, time(NULL));
	}
}

/* Live capture: print each enrollment as soon as it settles. */
static void stream_txn(void *arg, const struct txn *t)
{
	struct sd_ctx *ctx = arg;
	int was_bad = ferror(stdout);
	size_t len = 0;
	char *line;

	ctx->settled[t->verdict < VERDICT_COUNT ? t->verdict : VERDICT_NONE]++;
	if (!listed(t, &ctx->opt))
		return;
	ctx->listed++;
	errno = 0;
	render_listing(stdout, arg, t);
	out_check_stdout(was_bad, "transactions from here on are not shown");
	if (ctx->json_out && (line = render_to_string(render_json, ctx, t, &len)) != NULL) {
		json_file_put(ctx, line, len);
		free(line);
	}
}

/* Reading files: a transaction whose final CertRep came can change no more;
 * it is rendered now and waits on disk for the end (spill.h). */
static int spill_txn(void *arg, const struct txn *t)
{
	struct sd_ctx *ctx = arg;
	size_t llen = 0, clen = 0;
	char *listing, *check = NULL, err[256];
	int rc = -1;

	if (ctx->spill_failed)
		return -1;
	listing = render_to_string(render_listing, ctx, t, &llen);
	ctx->listed += listed(t, &ctx->opt);
	if (listing && ctx->opt.check)
		check = render_to_string(check_print_line, NULL, t, &clen);
	if (!listing || (ctx->opt.check && !check))
		snprintf(err, sizeof(err), "out of memory");
	else
		rc = spill_add(ctx->spill, t, listing, llen, check, clen, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "scepdump: %s: finished transactions stay in memory from here on\n", err);
		ctx->spill_failed = 1;
	}
	free(listing);
	free(check);
	return rc;
}

/* Device logs (their lines join finished transactions at the end) and
 * --html (it draws them all) need every transaction in the table to the
 * end: then none is released, live or offline. */
static int needs_all_at_end(const struct sd_options *o)
{
	return o->n_devlogs || o->html_file;
}

/* Reading files only: live capture prints as it goes. */
static void start_spill(struct sd_ctx *ctx)
{
	char err[256];

	if (ctx->opt.mode != MODE_OFFLINE || ctx->opt.no_spill || needs_all_at_end(&ctx->opt))
		return;
	ctx->spill = spill_new(err, sizeof(err));
	if (!ctx->spill) {
		fprintf(stderr, "scepdump: %s: finished transactions stay in memory (--no-spill)\n", err);
		return;
	}
	txn_table_on_release(ctx->txns, spill_txn, ctx);
}

/* Live: a transaction printed as it settled is needed again only for the
 * summary, which the table keeps: days on a gateway do not grow memory. */
static int forget_printed(void *arg, const struct txn *t)
{
	(void)arg;
	return t->streamed ? 0 : -1;
}

static void stream_event(struct sd_ctx *ctx, const struct scep_event *ev)
{
	int was_bad = ferror(stdout);

	/* --verdict: an exchange comes before its transaction's verdict */
	if (ctx->opt.listing_verdicts)
		return;
	errno = 0;
	if (ctx->opt.json)
		sink_json_event(stdout, &ctx->opt, ev);
	else if (!ctx->opt.quiet)
		sink_text_event(stdout, &ctx->opt, ev);
	out_check_stdout(was_bad, "exchanges from here on are not shown");
}

void render_setup(struct sd_ctx *ctx, int reading)
{
	if (ctx->opt.mode == MODE_LIVE) {
		txn_table_on_close(ctx->txns, stream_txn, ctx);
		ctx->on_event = stream_event;
		/* --check names failures at the end */
		if (!needs_all_at_end(&ctx->opt) && !ctx->opt.check)
			txn_table_on_release(ctx->txns, forget_printed, ctx);
	} else if (reading) {
		start_spill(ctx);
	}
}

int render_filter_report(struct sd_ctx *ctx, struct report *r)
{
	struct txn_table *v;
	size_t i;

	if (!ctx->opt.listing_verdicts)
		return 0;
	v = txn_table_view(ctx->txns, listed, &ctx->opt);
	if (!v) {
		fprintf(stderr, "scepdump: out of memory choosing the transactions to list\n");
		return -1;
	}
	r->txns = v;
	r->listing_filter = ctx->opt.verdict_label;
	r->n_listed = ctx->listed;
	for (i = 0; i < txn_count(v); i++)
		r->n_listed += !txn_get(v, i)->streamed;
	return 0;
}

void render_free_report(struct sd_ctx *ctx, struct report *r)
{
	if (r->txns && r->txns != ctx->txns)
		txn_table_view_free((struct txn_table *)r->txns);
	r->txns = NULL;
}

void render_print_report(struct sd_ctx *ctx, const struct report *r)
{
	int was_bad = ferror(stdout);

	errno = 0;
	if ((ctx->opt.json ? sink_json_write(stdout, r) : sink_text_write(stdout, r)) < 0)
		ctx->input_errors++;
	out_check_stdout(was_bad, ctx->opt.quiet ? "the summary is incomplete" : "the listing and summary are incomplete");
	if (ctx->json_out) {
		char *text = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&text, &len);

		if (m) {
			sink_json_write(m, r);
			if (fclose(m) == 0)
				json_file_put(ctx, text, len);
			free(text);
		}
	}
}
