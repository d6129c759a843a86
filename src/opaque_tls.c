/* opaque_tls.c - the retention policy for TLS connections whose HTTP
 * could not be read. Most TLS on a gateway is not SCEP: an opaque
 * connection is shown when its server carries SCEP in this capture, when
 * either side sent a fatal alert (a device refusing the proxy's
 * certificate), or with -v; the rest is counted. A policy of the run, not
 * of a dissector: it weighs one connection against the whole capture, and
 * its state (a ring of --max-opaque-tls events, the SCEP servers) lives in
 * the run context. Reads only what the TLS layer already parsed. */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "opaque_tls.h"
#include "pipeline.h"
#include "scep.h"
#include "strutil.h"
#include "tls.h"
#include "tls_summary.h"

void opaque_tls_note_scep_server(struct sd_ctx *ctx, const struct endpoint *srv)
{
	struct endpoint *n;
	size_t i;

	for (i = 0; i < ctx->n_scep_servers; i++)
		if (endpoint_eq(&ctx->scep_servers[i], srv))
			return;
	n = realloc(ctx->scep_servers, (ctx->n_scep_servers + 1) * sizeof(*n));
	if (!n)
		return;
	ctx->scep_servers = n;
	ctx->scep_servers[ctx->n_scep_servers++] = *srv;
}

static int opaque_tls_relevant(const struct sd_ctx *ctx, const struct scep_event *ev)
{
	size_t i;

	if (ctx->opt.verbose || (ev->tls && ev->tls->alert && strstr(ev->tls->alert, "alert")))
		return 1;
	for (i = 0; i < ctx->n_scep_servers; i++)
		if (endpoint_eq(&ctx->scep_servers[i], &ev->server))
			return 1;
	return 0;
}

/* capped: given up before the end, when its server might still have
 * carried SCEP; else known not to be part of any SCEP story */
static void give_up_opaque_tls(struct sd_ctx *ctx, struct scep_event *ev, int capped)
{
	if (capped)
		ctx->cnt.tls_opaque_capped++;
	else
		ctx->cnt.tls_not_shown++;
	scep_event_free(ev);
}

struct scep_event *opaque_tls_event(const struct app_conn_end *end)
{
	const struct tls_info *ti;
	const struct flow *f = end->flow;
	struct scep_event *ev;

	if (!end->tls || end->exchanges)
		return NULL;
	ti = tls_get_info(end->tls);
	if (!ti->saw_client_hello)
		return NULL;
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return NULL;
	ev->op = SCEP_OP_TLS;
	ev->flow_id = f->id;
	ev->client = end->view->client;
	ev->server = end->view->server;
	ev->req_first_ts_ns = f->first_ts_ns;
	ev->req_last_ts_ns = f->first_ts_ns;
	ev->res_last_ts_ns = f->last_ts_ns;
	ev->req_first_frame = f->first_frame;
	ev->res_last_frame = f->last_frame;
	ev->host = str_dup_or_null(ti->sni);
	ev->tls = tls_summary(end->tls);
	return ev;
}

/* When relevance is known as the connection closes, it goes on at once;
 * else it waits for the end in a ring of --max-opaque-tls, in case its
 * server carries SCEP later, and past the cap the oldest is given up
 * (tls_opaque_capped): held for the whole capture they grew with it. */
int opaque_tls_hold(struct sd_ctx *ctx, struct scep_event *ev)
{
	size_t cap = ctx->opt.max_opaque_tls;

	if (opaque_tls_relevant(ctx, ev))
		return 1;
	if (!ctx->opaque_tls && cap)
		ctx->opaque_tls = calloc(cap, sizeof(*ctx->opaque_tls));
	if (!ctx->opaque_tls) {
		give_up_opaque_tls(ctx, ev, 1);
		return 0;
	}
	if (ctx->n_opaque_tls == cap) {
		give_up_opaque_tls(ctx, ctx->opaque_tls[ctx->opaque_head], 1);
		ctx->opaque_tls[ctx->opaque_head] = ev;
		ctx->opaque_head = (ctx->opaque_head + 1) % cap;
		return 0;
	}
	ctx->opaque_tls[(ctx->opaque_head + ctx->n_opaque_tls++) % cap] = ev;
	return 0;
}

static struct scep_event *opaque_tls_at(const struct sd_ctx *ctx, size_t i)
{
	return ctx->opaque_tls[(ctx->opaque_head + i) % ctx->opt.max_opaque_tls];
}

void opaque_tls_settle(struct sd_ctx *ctx, void (*deliver)(struct sd_ctx *ctx, struct scep_event *ev))
{
	size_t i;

	for (i = 0; i < ctx->n_opaque_tls; i++) {
		struct scep_event *ev = opaque_tls_at(ctx, i);

		if (opaque_tls_relevant(ctx, ev))
			deliver(ctx, ev);
		else
			give_up_opaque_tls(ctx, ev, 0);
	}
	free(ctx->opaque_tls);
	ctx->opaque_tls = NULL;
	ctx->n_opaque_tls = ctx->opaque_head = 0;
}

void opaque_tls_free(struct sd_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->n_opaque_tls; i++)
		scep_event_free(opaque_tls_at(ctx, i));
	free(ctx->opaque_tls);
	free(ctx->scep_servers);
	ctx->opaque_tls = NULL;
	ctx->scep_servers = NULL;
	ctx->n_opaque_tls = ctx->opaque_head = ctx->n_scep_servers = 0;
}
