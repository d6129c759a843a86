/* pipeline.c - connects the stages: decoded TCP segments go to the flow
 * table, each flow's bytes to the application protocol recognised from its
 * content (never its port), HTTP exchanges that carry SCEP to the SCEP
 * decoder, and SCEP events to the transaction table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "http1.h"
#include "pipeline.h"
#include "scep.h"
#include "txn.h"

enum app_proto { APP_UNKNOWN, APP_HTTP1, APP_OTHER };

/* Per-flow application state, created by flow_app_open. */
struct app_conn {
	struct sd_ctx *ctx;
	enum app_proto proto;
	struct http1_conn *h1;
	/* The flow table names the sender of the first packet "client" when
	 * it saw no SYN; when that packet is a response, content says the
	 * roles are the other way round and the layers above get this view. */
	int swapped;
	struct flow view;
	int carried_scep;
};

static void on_http_exchange(void *arg, const struct http_exchange *x)
{
	struct app_conn *a = arg;
	struct sd_ctx *ctx = a->ctx;
	struct scep_event *ev;

	ctx->cnt.http_exchanges++;
	if (scep_classify(x) == SCEP_OP_NONE)
		return;
	a->carried_scep = 1;
	ev = scep_event_from_exchange(x, ctx->keys);
	if (!ev)
		return;
	ctx->cnt.scep_exchanges++;
	if (ev->problem)
		ctx->cnt.scep_decode_errors++;
	if (ctx->on_event)
		ctx->on_event(ctx, ev);
	txn_add_event(ctx->txns, ev);
}

static void *flow_app_open(void *arg, const struct flow *f)
{
	struct app_conn *a = calloc(1, sizeof(*a));

	(void)f;
	if (a)
		a->ctx = arg;
	return a;
}

/* The first bytes of either direction decide the protocol; a flow that
 * starts with a gap stays undecided until data arrives. */
static void app_detect(struct app_conn *a, const struct flow *f,
		       const struct stream_event *ev)
{
	enum stream_dir other = ev->dir == DIR_TO_SERVER ? DIR_TO_CLIENT : DIR_TO_SERVER;

	if (ev->kind != STREAM_DATA || !ev->len)
		return;
	a->view = *f;
	if (!f->saw_syn && http1_probe(ev->data, ev->len, other)) {
		a->swapped = 1;
		a->view.client = f->server;
		a->view.server = f->client;
	} else if (!http1_probe(ev->data, ev->len, ev->dir)) {
		a->proto = APP_OTHER;
		return;
	}
	a->h1 = http1_open(&a->ctx->http1, &a->ctx->cnt, &a->view, on_http_exchange, a);
	a->proto = a->h1 ? APP_HTTP1 : APP_OTHER;
}

static void flow_app_event(void *app, const struct flow *f, const struct stream_event *ev)
{
	struct app_conn *a = app;
	struct stream_event flipped;

	if (!a)
		return;
	if (a->proto == APP_UNKNOWN)
		app_detect(a, f, ev);
	if (a->proto != APP_HTTP1)
		return;
	if (a->swapped) {
		flipped = *ev;
		flipped.dir = ev->dir == DIR_TO_SERVER ? DIR_TO_CLIENT : DIR_TO_SERVER;
		ev = &flipped;
	}
	http1_event(a->h1, ev);
}

static void flow_app_close(void *app, const struct flow *f)
{
	struct app_conn *a = app;

	if (!a)
		return;
	if (a->h1)
		http1_close(a->h1);
	if (a->carried_scep && a->ctx->opt.write_file)
		extract_add(&a->ctx->scep_flows, &f->client, &f->server, f->first_ts_ns, f->last_ts_ns);
	free(a);
}

static const struct flow_app_ops app_ops = {
	.open = flow_app_open,
	.event = flow_app_event,
	.close = flow_app_close,
};

static int load_keys(struct sd_ctx *ctx)
{
	char err[256];
	size_t i;

	for (i = 0; i < ctx->opt.n_keys; i++) {
		if (scep_keys_load_pass(ctx->keys, ctx->opt.keys[i], ctx->opt.key_pass, err, sizeof(err)) < 0) {
			fprintf(stderr, "scepdump: --key %s: %s\n", ctx->opt.keys[i], err);
			return -1;
		}
	}
	return 0;
}

int pipeline_init(struct sd_ctx *ctx)
{
	struct flow_limits lim = {
		.max_flows = ctx->opt.max_flows,
		.max_flow_buffer = ctx->opt.max_flow_buffer,
		.max_total_buffer = ctx->opt.max_total_buffer,
		.idle_timeout_ns = ctx->opt.idle_timeout_ns,
	};

	ctx->http1.max_body = ctx->opt.max_body;
	ctx->ipr = ip_reasm_new(ctx->opt.max_flow_buffer);
	ctx->flows = flow_table_new(&lim, &ctx->cnt, &app_ops, ctx);
	ctx->keys = scep_keys_new();
	ctx->txns = txn_table_new();
	if (!ctx->ipr || !ctx->flows || !ctx->keys || !ctx->txns) {
		fprintf(stderr, "scepdump: out of memory setting up\n");
		return -1;
	}
	return load_keys(ctx);
}

void pipeline_packet(struct sd_ctx *ctx, const struct pkt *p)
{
	struct tcp_seg seg;

	ctx->cnt.packets++;
	ctx->cnt.bytes += p->wirelen;
	if (!ctx->first_ts_ns || p->ts_ns < ctx->first_ts_ns)
		ctx->first_ts_ns = p->ts_ns;
	if (p->ts_ns > ctx->last_ts_ns)
		ctx->last_ts_ns = p->ts_ns;
	if (pkt_decode_tcp(p, ctx->ipr, &ctx->cnt, &seg) != PKT_TCP)
		return;
	if (ctx->opt.checksums) {
		ctx->cnt.ip_checksum_bad += seg.ip_checksum == CHECKSUM_BAD;
		ctx->cnt.tcp_checksum_bad += seg.tcp_checksum == CHECKSUM_BAD;
	}
	flow_table_input(ctx->flows, &seg);
	flow_table_expire(ctx->flows, p->ts_ns);
	/* a scan of open transactions at most once a second of capture time */
	if (p->ts_ns >= ctx->next_txn_expiry_ns) {
		txn_expire(ctx->txns, p->ts_ns, ctx->opt.idle_timeout_ns);
		ctx->next_txn_expiry_ns = p->ts_ns + 1000000000ull;
	}
}

void pipeline_finish(struct sd_ctx *ctx)
{
	if (ctx->flows)
		flow_table_flush(ctx->flows);
	if (ctx->txns)
		txn_finish(ctx->txns);
}

void pipeline_free(struct sd_ctx *ctx)
{
	if (ctx->flows)
		flow_table_free(ctx->flows);
	if (ctx->ipr)
		ip_reasm_free(ctx->ipr);
	if (ctx->txns)
		txn_table_free(ctx->txns);
	if (ctx->keys)
		scep_keys_free(ctx->keys);
	extract_free(&ctx->scep_flows);
	ctx->flows = NULL;
	ctx->ipr = NULL;
	ctx->txns = NULL;
	ctx->keys = NULL;
}
