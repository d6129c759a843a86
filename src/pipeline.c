/* pipeline.c - connects the stages: decoded TCP segments go to the flow
 * table, each flow's bytes to the application protocol recognised from its
 * content (never its port), HTTP exchanges that carry SCEP to the SCEP
 * decoder, and SCEP events to the transaction table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode_queue.h"
#include "devlog.h"
#include "flow.h"
#include "format.h"
#include "http1.h"
#include "http2.h"
#include "keylog.h"
#include "pipeline.h"
#include "scep.h"
#include "sink.h"
#include "spill.h"
#include "strutil.h"
#include "tls.h"
#include "txn.h"

enum app_proto { APP_UNKNOWN, APP_HTTP1, APP_HTTP2, APP_TLS, APP_OTHER };

/* The HTTP layer of a connection, over TCP or over TLS: HTTP/1 (which may
 * upgrade to h2c) or HTTP/2, chosen by ALPN or by the first bytes. */
struct http_layer {
	enum app_proto kind;
	struct http1_conn *h1;
	struct http2_conn *h2;
};

/* Per-flow application state, created by flow_app_open. */
struct app_conn {
	struct sd_ctx *ctx;
	enum app_proto proto;       /* what runs on TCP */
	struct http_layer http;
	struct tls_conn *tls;
	/* The flow table names the sender of the first packet "client" when
	 * it saw no SYN; when that packet is a response, content says the
	 * roles are the other way round and the layers above get this view. */
	int swapped;
	struct flow view;
	int carried_scep;
	uint64_t exchanges;         /* HTTP exchanges seen (any, SCEP or not) */
	/* h2c upgrade: the HTTP/1 request answered 101 is HTTP/2 stream 1 */
	char *upgrade_method, *upgrade_uri, *upgrade_host;
};

static const char *tls_cipher_label(const struct tls_info *ti, char *buf, size_t len)
{
	if (!ti->has_cipher_suite)
		return NULL;
	if (ti->cipher_name)
		return ti->cipher_name;
	snprintf(buf, len, "0x%04X", ti->cipher_suite);
	return buf;
}

static char *tls_alert_text(const struct tls_info *ti)
{
	const struct tls_alert *al;
	const char *name, *level;

	if (ti->failure)
		return strdup(ti->failure);
	if (!ti->n_alerts)
		return NULL;
	al = &ti->alerts[0];
	name = tls_alert_name(al->desc);
	level = tls_alert_level_name(al->level);
	return str_printf("%s alert %s %s", al->dir == DIR_TO_SERVER ? "client" : "server",
			  level ? level : "encrypted", name ? name : "(encrypted)");
}

static char *tls_offered_text(const struct tls_info *ti)
{
	char buf[160] = "";
	size_t i, n = 0;
	const char *name;

	for (i = 0; i < ti->n_offered_versions && n + 16 < sizeof(buf); i++) {
		name = tls_version_name(ti->offered_versions[i]);
		if (name)   /* GREASE values have no name */
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? ", " : "", name);
	}
	if (!n && ti->legacy_version && tls_version_name(ti->legacy_version))
		snprintf(buf, sizeof(buf), "%s", tls_version_name(ti->legacy_version));
	return buf[0] ? strdup(buf) : NULL;
}

/* What TLS said, in the SCEP layer's terms (copied: the TLS state goes). */
static struct scep_tls *tls_summary(struct tls_conn *tls)
{
	const struct tls_info *ti = tls_get_info(tls);
	struct scep_tls *t = calloc(1, sizeof(*t));
	const char *v, *c;
	char buf[16];

	if (!t)
		return NULL;
	v = ti->version ? tls_version_name(ti->version) : NULL;
	c = tls_cipher_label(ti, buf, sizeof(buf));
	t->version = str_dup_or_null(v);
	t->cipher = str_dup_or_null(c);
	t->sni = str_dup_or_null(ti->sni);
	t->alpn = str_dup_or_null(ti->alpn);
	t->alert = tls_alert_text(ti);
	t->note = str_dup_or_null(ti->decrypt_note);
	t->handshake_failed = ti->handshake_failed;
	t->offered = tls_offered_text(ti);
	t->resumed = ti->resumed ? str_dup_or_null(ti->resumed_by) : NULL;
	if (ti->n_server_certs) {
		char d[16];
		const struct scep_cert *leaf = ti->server_certs[0];

		t->server_cert = str_printf("%s (issuer %s, to %s)", leaf->subject ? leaf->subject : "?",
					    leaf->issuer ? leaf->issuer : "?", fmt_date(leaf->not_after, d, sizeof(d)));
	}
	t->bytes_to_server = ti->bytes[DIR_TO_SERVER];
	t->bytes_to_client = ti->bytes[DIR_TO_CLIENT];
	return t;
}

/* Servers that carried SCEP in this capture: opaque TLS toward them is
 * part of the story (a failed handshake, an enrollment without a key log). */
static void remember_scep_server(struct sd_ctx *ctx, const struct endpoint *srv)
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

static void deliver_event(struct sd_ctx *ctx, struct scep_event *ev)
{
	if (ev->op != SCEP_OP_TLS)
		ctx->cnt.scep_exchanges++;
	if (ev->problem)
		ctx->cnt.scep_decode_errors++;
	if (ctx->on_event)
		ctx->on_event(ctx, ev);
	txn_add_event(ctx->txns, ev);
}

/* Hands decoded events on in the order their exchanges ended; wait: also
 * those still being decoded. */
static void deliver_decoded(struct sd_ctx *ctx, int wait)
{
	struct scep_event *ev;
	int dropped;

	while (decode_queue_pending(ctx->decode)) {
		ev = decode_queue_pop(ctx->decode, wait, &dropped);
		if (ev)
			deliver_event(ctx, ev);
		else if (!dropped)
			return;   /* the oldest is still being decoded */
	}
}

static void make_room_to_decode(struct sd_ctx *ctx)
{
	struct scep_event *ev;
	int dropped;

	while (decode_queue_full(ctx->decode)) {
		ev = decode_queue_pop(ctx->decode, 1, &dropped);
		if (ev)
			deliver_event(ctx, ev);
	}
}

static void on_http_exchange(void *arg, const struct http_exchange *x)
{
	struct app_conn *a = arg;
	struct sd_ctx *ctx = a->ctx;

	ctx->cnt.http_exchanges++;
	a->exchanges++;
	if (x->status == 101 && x->method && !a->upgrade_method) {
		a->upgrade_method = strdup(x->method);
		a->upgrade_uri = str_dup_or_null(x->uri);
		a->upgrade_host = str_dup_or_null(x->host);
	}
	if (scep_classify(x) == SCEP_OP_NONE)
		return;
	a->carried_scep = 1;
	/* now, not when decoded: what is decided as a TLS connection closes
	 * must not depend on how far the decode thread has got */
	remember_scep_server(ctx, &x->server);
	make_room_to_decode(ctx);
	if (decode_queue_push(ctx->decode, x, ctx->keys, a->tls ? tls_summary(a->tls) : NULL) < 0)
		ctx->cnt.scep_decode_errors++;   /* out of memory copying it */
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

/* Most TLS on a gateway is not SCEP. An opaque connection is shown when
 * its server carries SCEP in this capture, when either side sent a fatal
 * alert (a device refusing the proxy's certificate), or with -v; the rest
 * is counted. When that is known as it closes, it goes on at once; else it
 * waits for the end in a ring of --max-opaque-tls, in case its server
 * carries SCEP later, and past the cap the oldest is given up
 * (tls_opaque_capped): held for the whole capture they grew with it. */
static void hold_opaque_tls(struct sd_ctx *ctx, struct scep_event *ev)
{
	size_t cap = ctx->opt.max_opaque_tls;

	if (opaque_tls_relevant(ctx, ev)) {
		/* behind the exchanges still being decoded, as if there were none */
		make_room_to_decode(ctx);
		decode_queue_push_event(ctx->decode, ev);
		return;
	}
	if (!ctx->opaque_tls && cap)
		ctx->opaque_tls = calloc(cap, sizeof(*ctx->opaque_tls));
	if (!ctx->opaque_tls) {
		give_up_opaque_tls(ctx, ev, 1);
		return;
	}
	if (ctx->n_opaque_tls == cap) {
		give_up_opaque_tls(ctx, ctx->opaque_tls[ctx->opaque_head], 1);
		ctx->opaque_tls[ctx->opaque_head] = ev;
		ctx->opaque_head = (ctx->opaque_head + 1) % cap;
		return;
	}
	ctx->opaque_tls[(ctx->opaque_head + ctx->n_opaque_tls++) % cap] = ev;
}

static struct scep_event *opaque_tls_at(const struct sd_ctx *ctx, size_t i)
{
	return ctx->opaque_tls[(ctx->opaque_head + i) % ctx->opt.max_opaque_tls];
}

static void settle_opaque_tls(struct sd_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->n_opaque_tls; i++) {
		struct scep_event *ev = opaque_tls_at(ctx, i);

		if (opaque_tls_relevant(ctx, ev))
			deliver_event(ctx, ev);
		else
			give_up_opaque_tls(ctx, ev, 0);
	}
	free(ctx->opaque_tls);
	ctx->opaque_tls = NULL;
	ctx->n_opaque_tls = ctx->opaque_head = 0;
}

/* A TLS connection whose HTTP never came through (no key log, a failed
 * handshake) still goes on the timeline with what TLS itself said. */
static void report_opaque_tls(struct app_conn *a, const struct flow *f)
{
	const struct tls_info *ti = tls_get_info(a->tls);
	struct scep_event *ev;

	if (a->exchanges || !ti->saw_client_hello)
		return;
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return;
	ev->op = SCEP_OP_TLS;
	ev->flow_id = f->id;
	ev->client = a->view.client;
	ev->server = a->view.server;
	ev->req_first_ts_ns = f->first_ts_ns;
	ev->req_last_ts_ns = f->first_ts_ns;
	ev->res_last_ts_ns = f->last_ts_ns;
	ev->req_first_frame = f->first_frame;
	ev->res_last_frame = f->last_frame;
	ev->host = str_dup_or_null(ti->sni);
	ev->tls = tls_summary(a->tls);
	hold_opaque_tls(a->ctx, ev);
}

static void *flow_app_open(void *arg, const struct flow *f)
{
	struct app_conn *a = calloc(1, sizeof(*a));

	(void)f;
	if (a)
		a->ctx = arg;
	return a;
}

/* HTTP/1 answered "101 Switching Protocols" to Upgrade: h2c: the rest of
 * the connection is HTTP/2, starting inside the event that held the 101. */
static void http_layer_upgrade(struct app_conn *a, struct http_layer *L,
			       const struct stream_event *ev)
{
	struct stream_event rest;
	size_t n = http1_upgrade_rest(L->h1);

	L->h2 = http2_open(&a->ctx->http1, &a->ctx->cnt, &a->view, on_http_exchange, a, 1);
	if (!L->h2) {
		L->kind = APP_OTHER;
		return;
	}
	if (a->upgrade_method)
		http2_set_upgrade_request(L->h2, a->upgrade_method, a->upgrade_uri, a->upgrade_host);
	L->kind = APP_HTTP2;
	if (n && n <= ev->len && ev->kind == STREAM_DATA) {
		rest = *ev;
		rest.data = ev->data + ev->len - n;
		rest.len = n;
		http2_event(L->h2, &rest);
	}
}

/* alpn: what TLS negotiated (NULL over plain TCP). */
static void http_layer_feed(struct app_conn *a, struct http_layer *L,
			    const struct stream_event *ev, const char *alpn)
{
	if (L->kind == APP_UNKNOWN) {
		if (ev->kind != STREAM_DATA || !ev->len)
			return;
		if ((alpn && !strcmp(alpn, "h2")) || http2_probe(ev->data, ev->len, ev->dir)) {
			L->h2 = http2_open(&a->ctx->http1, &a->ctx->cnt, &a->view, on_http_exchange, a, 0);
			L->kind = L->h2 ? APP_HTTP2 : APP_OTHER;
		} else if (http1_probe(ev->data, ev->len, ev->dir)) {
			L->h1 = http1_open(&a->ctx->http1, &a->ctx->cnt, &a->view, on_http_exchange, a);
			L->kind = L->h1 ? APP_HTTP1 : APP_OTHER;
		} else {
			L->kind = APP_OTHER;
		}
	}
	if (L->kind == APP_HTTP2) {
		http2_event(L->h2, ev);
	} else if (L->kind == APP_HTTP1) {
		http1_event(L->h1, ev);
		if (http1_upgraded_to_h2(L->h1))
			http_layer_upgrade(a, L, ev);
	}
}

static void http_layer_close(struct http_layer *L)
{
	if (L->h1)
		http1_close(L->h1);
	if (L->h2)
		http2_close(L->h2);
	memset(L, 0, sizeof(*L));
}

static void on_tls_plaintext(void *arg, const struct stream_event *ev)
{
	struct app_conn *a = arg;

	http_layer_feed(a, &a->http, ev, tls_get_info(a->tls)->alpn);
}

static void swap_roles(struct app_conn *a, const struct flow *f)
{
	a->swapped = 1;
	a->view.client = f->server;
	a->view.server = f->client;
}

/* The first bytes of either direction decide the protocol; a flow that
 * starts with a gap stays undecided until data arrives. */
static void app_detect(struct app_conn *a, const struct flow *f,
		       const struct stream_event *ev)
{
	enum stream_dir other = ev->dir == DIR_TO_SERVER ? DIR_TO_CLIENT : DIR_TO_SERVER;
	int tls;

	if (ev->kind != STREAM_DATA || !ev->len)
		return;
	a->view = *f;
	tls = tls_probe(ev->data, ev->len);
	if (tls != TLS_PROBE_NO) {
		if (!f->saw_syn && (tls == TLS_PROBE_CLIENT) != (ev->dir == DIR_TO_SERVER))
			swap_roles(a, f);
		a->tls = tls_open(a->ctx->keylog, &a->ctx->cnt, &a->view, on_tls_plaintext, a);
		tls_set_budget(a->tls, &a->ctx->mem);
		a->proto = a->tls ? APP_TLS : APP_OTHER;
		return;
	}
	if (!f->saw_syn && (http1_probe(ev->data, ev->len, other) ||
			    (ev->dir == DIR_TO_SERVER && http2_probe(ev->data, ev->len, DIR_TO_CLIENT))))
		swap_roles(a, f);
	else if (!http1_probe(ev->data, ev->len, ev->dir) && !http2_probe(ev->data, ev->len, ev->dir)) {
		a->proto = APP_OTHER;
		return;
	}
	a->proto = APP_HTTP1;   /* the HTTP layer tells 1 from 2 itself */
}

/* Whether anyone will read this connection's bytes again (flow.h). */
static int bytes_read(const struct app_conn *a)
{
	if (a->proto == APP_OTHER || (a->proto == APP_HTTP1 && a->http.kind == APP_OTHER))
		return FLOW_BYTES_UNREAD;
	if (a->proto == APP_TLS && tls_unreadable(a->tls))
		return FLOW_BYTES_UNREAD;
	return FLOW_BYTES_READ;
}

static int flow_app_event(void *app, const struct flow *f, const struct stream_event *ev)
{
	struct app_conn *a = app;
	struct stream_event flipped;

	if (!a)
		return FLOW_BYTES_READ;
	if (a->proto == APP_UNKNOWN)
		app_detect(a, f, ev);
	if (a->proto != APP_HTTP1 && a->proto != APP_TLS)
		return bytes_read(a);
	if (a->swapped) {
		flipped = *ev;
		flipped.dir = ev->dir == DIR_TO_SERVER ? DIR_TO_CLIENT : DIR_TO_SERVER;
		ev = &flipped;
	}
	if (a->proto == APP_TLS)
		tls_event(a->tls, ev);
	else
		http_layer_feed(a, &a->http, ev, NULL);
	return bytes_read(a);
}

static void flow_app_close(void *app, const struct flow *f)
{
	struct app_conn *a = app;

	if (!a)
		return;
	if (a->tls)
		tls_finish(a->tls);
	http_layer_close(&a->http);
	if (a->tls) {
		report_opaque_tls(a, f);
		tls_close(a->tls);
	}
	if (a->carried_scep && a->ctx->opt.write_file)
		extract_add(&a->ctx->scep_flows, &f->client, &f->server, f->first_ts_ns, f->last_ts_ns);
	free(a->upgrade_method);
	free(a->upgrade_uri);
	free(a->upgrade_host);
	free(a);
}

/* What the flow table sheds last under memory pressure. */
static int flow_app_looked_like_scep(void *app)
{
	const struct app_conn *a = app;

	return a && (a->carried_scep || (a->http.h1 && http1_scep_seen(a->http.h1)) ||
		     (a->http.h2 && http2_scep_seen(a->http.h2)));
}

static const struct flow_app_ops app_ops = {
	.open = flow_app_open,
	.event = flow_app_event,
	.close = flow_app_close,
	.looked_like_scep = flow_app_looked_like_scep,
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
	for (i = 0; i < ctx->opt.n_ca_certs; i++) {
		if (scep_keys_load_certs(ctx->keys, ctx->opt.ca_certs[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "scepdump: --ca-cert %s: %s\n", ctx->opt.ca_certs[i], err);
			return -1;
		}
	}
	return 0;
}

static int load_keylogs(struct sd_ctx *ctx)
{
	char err[256];
	size_t i, before;
	uint64_t capped;

	for (i = 0; i < ctx->opt.n_keylogs; i++) {
		before = keylog_count(ctx->keylog);
		capped = keylog_capped(ctx->keylog);
		if (keylog_load_file(ctx->keylog, ctx->opt.keylogs[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "scepdump: --keylog %s: %s\n", ctx->opt.keylogs[i], err);
			return -1;
		}
		/* bad lines are skipped, not fatal: the good ones still decrypt */
		if (keylog_count(ctx->keylog) == before)
			fprintf(stderr, "scepdump: --keylog %s: no TLS secrets in NSS key log format%s%s; TLS stays encrypted\n",
				ctx->opt.keylogs[i], err[0] ? ": " : "", err);
		else if (err[0])
			fprintf(stderr, "scepdump: --keylog %s: %s (skipped)\n", ctx->opt.keylogs[i], err);
		if (keylog_capped(ctx->keylog) > capped)
			fprintf(stderr, "scepdump: --keylog %s: %llu secrets past the memory budget "
				"(--max-memory) or %u entries not kept: their connections stay encrypted\n",
				ctx->opt.keylogs[i], (unsigned long long)(keylog_capped(ctx->keylog) - capped),
				KEYLOG_MAX_ENTRIES);
	}
	return 0;
}

void pipeline_add_keylog_text(struct sd_ctx *ctx, const uint8_t *text, size_t len)
{
	if (ctx->keylog && len)
		keylog_add_text(ctx->keylog, text, len);
}

int pipeline_init(struct sd_ctx *ctx)
{
	struct flow_limits lim = {
		.max_flows = ctx->opt.max_flows,
		.max_flow_buffer = ctx->opt.max_flow_buffer,
		.max_total_buffer = ctx->opt.max_total_buffer,
		.idle_timeout_ns = ctx->opt.idle_timeout_ns,
		.mem = &ctx->mem,
	};
	struct txn_limits tlim = {
		.max_txns = ctx->opt.max_txns,
		.max_events = ctx->opt.max_txn_exchanges,
		.max_loose = ctx->opt.max_txns,
	};

	ctx->mem.limit = ctx->opt.max_memory;
	ctx->http1.mem = &ctx->mem;
	ctx->http1.max_body = ctx->opt.max_body;
	ctx->http1.max_h2_streams = ctx->opt.max_h2_streams;
	ctx->http1.max_h2_header_list = ctx->opt.max_h2_header_list;
	ctx->http1.settings = http1_settings_new();
	ctx->ipr = ip_reasm_new(ctx->opt.max_flow_buffer);
	ip_reasm_verify_checksums(ctx->ipr, ctx->opt.checksums);
	ctx->flows = flow_table_new(&lim, &ctx->cnt, &app_ops, ctx);
	ctx->keys = scep_keys_new();
	ctx->txns = txn_table_new(&tlim, &ctx->cnt);
	ctx->keylog = keylog_new();
	keylog_set_budget(ctx->keylog, &ctx->mem);
	ctx->decode = decode_queue_new(ctx->opt.decode_threads);
	decode_queue_set_budget(ctx->decode, &ctx->mem);
	if (!ctx->http1.settings || !ctx->ipr || !ctx->flows || !ctx->keys || !ctx->txns ||
	    !ctx->keylog || !ctx->decode) {
		fprintf(stderr, "scepdump: out of memory setting up\n");
		return -1;
	}
	return load_keys(ctx) < 0 || load_keylogs(ctx) < 0 ? -1 : 0;
}

int mem_budget_reached(const struct sd_ctx *ctx)
{
	size_t k;

	for (k = 0; k < MEM_KINDS; k++)
		if (ctx->mem.refused[k])
			return 1;
	return ctx->cnt.flows_shed_not_scep || ctx->cnt.flows_shed_idle;
}

void pipeline_report(const struct sd_ctx *ctx, struct report *r)
{
	memset(r, 0, sizeof(*r));
	r->opt = &ctx->opt;
	r->txns = ctx->txns;
	r->spill = ctx->spill;
	r->summary = txn_summary(ctx->txns);
	r->cnt = &ctx->cnt;
	r->mem = &ctx->mem;
	r->memory_reached = mem_budget_reached(ctx);
	r->first_ts_ns = ctx->first_ts_ns;
	r->last_ts_ns = ctx->last_ts_ns;
	r->interrupted_by = ctx->interrupted_by;
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
	deliver_decoded(ctx, 0);
	/* Live output: a scan of open transactions at most once a second of
	 * capture time, after every exchange that ended before this packet is
	 * in (waiting for the decode thread: without live output there is
	 * nothing to close early, and no reason to wait). */
	if (p->ts_ns >= ctx->next_txn_expiry_ns && txn_table_streams(ctx->txns)) {
		deliver_decoded(ctx, 1);
		txn_expire(ctx->txns, p->ts_ns, ctx->opt.idle_timeout_ns);
		ctx->next_txn_expiry_ns = p->ts_ns + 1000000000ull;
	}
}

static void settle_free_opaque(struct sd_ctx *ctx)
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

/* A cap hit while reading a device log loses its later lines: said once
 * per file, and counted. */
static void report_device_log_caps(struct sd_ctx *ctx, const char *path,
				   const struct devlog_list *l)
{
	if (l->bytes_capped)
		fprintf(stderr, "scepdump: --device-log %s: %llu bytes past %s not read; "
			"enrollments logged there are not in the timeline\n", path,
			(unsigned long long)l->bytes_capped,
			l->budget_capped ? "the memory budget (--max-memory)" : "the 256 MiB limit");
	if (l->lines_capped)
		fprintf(stderr, "scepdump: --device-log %s: %llu lines past the %u-line limit not read\n",
			path, (unsigned long long)l->lines_capped, DEVLOG_LINES_MAX);
	if (l->capped)
		fprintf(stderr, "scepdump: --device-log %s: %llu SCEP events past %s not kept\n",
			path, (unsigned long long)l->capped,
			l->budget_capped ? "the memory budget (--max-memory)" : "the 200000-event limit");
	ctx->cnt.device_bytes_capped += l->bytes_capped;
	ctx->cnt.device_lines_capped += l->lines_capped;
	ctx->cnt.device_events_capped += l->capped;
}

/* Device logs are read after the packets: lines without a date take the
 * capture's, and every transaction they may join exists by then. */
static void merge_device_logs(struct sd_ctx *ctx)
{
	struct devlog_opts o;
	struct devlog_list l;
	char err[256];
	size_t i;

	devlog_opts_init(&o);
	o.force = (enum devlog_format)ctx->opt.devlog_format;
	o.default_tz_offset_s = ctx->opt.device_tz_s;
	o.skew_ns = ctx->opt.device_skew_ns;
	/* the reader takes the date in each line's own offset */
	o.ref_ts_ns = ctx->first_ts_ns;
	o.year = ctx->opt.device_year;
	o.month = ctx->opt.device_month;
	o.day = ctx->opt.device_day;
	o.mem = &ctx->mem;
	for (i = 0; i < ctx->opt.n_devlogs; i++) {
		memset(&l, 0, sizeof(l));
		if (devlog_read_file_opts(ctx->opt.devlogs[i], &o, &l, err, sizeof(err)) < 0) {
			/* err names the file already */
			fprintf(stderr, "scepdump: --device-log %s\n", err);
			ctx->input_errors++;
		} else {
			if (l.note[0])
				fprintf(stderr, "scepdump: --device-log %s: %s\n", ctx->opt.devlogs[i], l.note);
			report_device_log_caps(ctx, ctx->opt.devlogs[i], &l);
			ctx->cnt.device_events += l.n;
			ctx->cnt.device_lines_unparsed += l.unparsed_lines;
			txn_add_device_events(ctx->txns, &l);
		}
		devlog_list_free(&l);
	}
}

void pipeline_finish(struct sd_ctx *ctx)
{
	if (ctx->flows)
		flow_table_flush(ctx->flows);
	if (ctx->decode)
		deliver_decoded(ctx, 1);
	settle_opaque_tls(ctx);
	if (ctx->txns)
		merge_device_logs(ctx);
	if (ctx->txns)
		txn_finish(ctx->txns);
	ctx->cnt.keylog_capped = keylog_capped(ctx->keylog);
	if (ctx->cnt.txns_evicted)
		fprintf(stderr, "scepdump: %llu transactions past --max-transactions %zu are counted in the "
			"summary but not listed\n", (unsigned long long)ctx->cnt.txns_evicted,
			ctx->opt.max_txns);
}

/* A live capture with nothing to read for a while: what the decode thread
 * finished meanwhile is shown now, not with the next packet. */
void pipeline_idle(struct sd_ctx *ctx)
{
	deliver_decoded(ctx, 0);
}

void pipeline_free(struct sd_ctx *ctx)
{
	/* closing what is left may still hand exchanges to the decode queue */
	if (ctx->flows)
		flow_table_free(ctx->flows);
	/* before the keys, which the decode thread reads */
	decode_queue_free(ctx->decode);
	ctx->decode = NULL;
	/* after the flows: their HTTP/1 parsers read these settings */
	http1_settings_free(ctx->http1.settings);
	ctx->http1.settings = NULL;
	if (ctx->ipr)
		ip_reasm_free(ctx->ipr);
	if (ctx->txns)
		txn_table_free(ctx->txns);
	spill_free(ctx->spill);
	ctx->spill = NULL;
	if (ctx->keys)
		scep_keys_free(ctx->keys);
	extract_free(&ctx->scep_flows);
	settle_free_opaque(ctx);
	if (ctx->keylog)
		keylog_free(ctx->keylog);
	ctx->keylog = NULL;
	ctx->flows = NULL;
	ctx->ipr = NULL;
	ctx->txns = NULL;
	ctx->keys = NULL;
}
