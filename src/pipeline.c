/* pipeline.c - connects the stages: decoded TCP segments go to the flow
 * table, each flow's bytes to the app-layer dispatcher (app.h), HTTP
 * exchanges that carry SCEP to the SCEP decoder, and SCEP events to the
 * transaction table. Glue only: what each stage decides lives in its own
 * file (opaque TLS retention in opaque_tls.c, key files in keys.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "capture.h"
#include "decode_queue.h"
#include "devlog.h"
#include "flow.h"
#include "keylog.h"
#include "key_files.h"
#include "livew.h"
#include "opaque_tls.h"
#include "pipeline.h"
#include "scep.h"
#include "sink.h"
#include "spill.h"
#include "tls.h"
#include "tls_summary.h"
#include "txn.h"

/* Merged frame numbers are in no file the user has: with several -r
 * files each frame is also named by its file and its number there. */
static void find_origins(const struct capture *cap, struct scep_event *ev)
{
	capture_frame_origin(cap, ev->req_first_frame, &ev->req_first_origin);
	capture_frame_origin(cap, ev->req_last_frame, &ev->req_last_origin);
	capture_frame_origin(cap, ev->res_first_frame, &ev->res_first_origin);
	capture_frame_origin(cap, ev->res_last_frame, &ev->res_last_origin);
}

static void deliver_event(struct sd_ctx *ctx, struct scep_event *ev)
{
	if (ctx->frames_from)
		find_origins(ctx->frames_from, ev);
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

/* An HTTP exchange the app layer read: SCEP goes to the decode queue. */
static int on_http_exchange(void *arg, const struct http_exchange *x, const struct tls_conn *tls)
{
	struct sd_ctx *ctx = arg;

	ctx->cnt.http_exchanges++;
	if (scep_classify(x) == SCEP_OP_NONE)
		return 0;
	/* now, not when decoded: what is decided as a TLS connection closes
	 * must not depend on how far the decode thread has got */
	opaque_tls_note_scep_server(ctx, &x->server);
	if (ctx->livew)
		livew_scep(ctx->livew, &x->client, &x->server);
	make_room_to_decode(ctx);
	if (decode_queue_push(ctx->decode, x, ctx->keys, tls ? tls_summary(tls) : NULL) < 0)
		ctx->cnt.scep_decode_errors++;   /* out of memory copying it */
	return 1;
}

/* What a connection without SCEP spoke, and to whom (the view's server:
 * the roles the content showed). */
static void note_seen(struct sd_ctx *ctx, const struct app_conn_end *end)
{
	const struct flow *v = end->view ? end->view : end->flow;

	if (end->carried_scep)
		return;
	if (end->tls)
		endpoint_tally_add(&ctx->seen_tls, &v->server, tls_get_info(end->tls)->sni);
	else if (end->exchanges)
		endpoint_tally_add(&ctx->seen_http, &v->server, NULL);
	else
		endpoint_tally_add(&ctx->seen_other, &v->server, NULL);
}

/* A connection closed: TLS whose HTTP never came through still goes on the
 * timeline with what TLS itself said (opaque_tls.c decides when), and -w
 * keeps the connections that carried SCEP. */
static void on_conn_end(void *arg, const struct app_conn_end *end)
{
	struct sd_ctx *ctx = arg;
	const struct flow *f = end->flow;
	struct scep_event *ev = opaque_tls_event(end);

	opaque_tls_count(ctx, end);
	if (ev && opaque_tls_hold(ctx, ev)) {
		/* behind the exchanges still being decoded, as if there were none */
		make_room_to_decode(ctx);
		decode_queue_push_event(ctx->decode, ev);
	}
	note_seen(ctx, end);
	if (ctx->livew)
		livew_closed(ctx->livew, &f->client, &f->server, end->carried_scep);
	else if (end->carried_scep && ctx->opt.write_file)
		extract_add(&ctx->scep_flows, &f->client, &f->server, f->first_ts_ns, f->last_ts_ns);
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
	ctx->app = (struct app_env){
		.http = &ctx->http1,
		.cnt = &ctx->cnt,
		.mem = &ctx->mem,
		.on_exchange = on_http_exchange,
		.on_close = on_conn_end,
		.arg = ctx,
	};
	ctx->flows = flow_table_new(&lim, &ctx->cnt, &app_flow_ops, &ctx->app);
	ctx->keys = scep_keys_new();
	ctx->txns = txn_table_new(&tlim, &ctx->cnt);
	ctx->keylog = keylog_new();
	ctx->app.keylog = ctx->keylog;
	keylog_set_budget(ctx->keylog, &ctx->mem);
	ctx->decode = decode_queue_new(ctx->opt.decode_threads);
	decode_queue_set_budget(ctx->decode, &ctx->mem);
	if (!ctx->http1.settings || !ctx->ipr || !ctx->flows || !ctx->keys || !ctx->txns ||
	    !ctx->keylog || !ctx->decode) {
		fprintf(stderr, "scepdump: out of memory setting up\n");
		return -1;
	}
	return keys_load(ctx);
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
	r->seen_tls = &ctx->seen_tls;
	r->seen_http = &ctx->seen_http;
	r->seen_other = &ctx->seen_other;
	r->n_hints = opaque_tls_hints(ctx, &r->hints);
	if (ctx->livew) {
		r->w_path = ctx->opt.write_file;
		r->w_out = outrot_stats(livew_out(ctx->livew));
		r->w_hold = livew_stats(ctx->livew);
	}
	if (ctx->json_out) {
		r->json_path = ctx->opt.json_file;
		r->json_out = outrot_stats(ctx->json_out);
	}
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
	if (ctx->livew)
		livew_packet(ctx->livew, p, &seg);
	flow_table_input(ctx->flows, &seg);
	flow_table_expire(ctx->flows, p->ts_ns);
	if (ctx->livew && p->ts_ns >= ctx->next_out_check_ns) {
		livew_expire(ctx->livew, p->ts_ns);
		ctx->next_out_check_ns = p->ts_ns + 1000000000ull;
	}
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
	opaque_tls_settle(ctx, deliver_event);
	if (ctx->txns)
		merge_device_logs(ctx);
	if (ctx->txns)
		txn_finish(ctx->txns);
	ctx->cnt.keylog_capped = keylog_capped(ctx->keylog);
	if (ctx->cnt.txns_evicted)
		fprintf(stderr, "scepdump: %llu transaction%s past --max-transactions %zu %s counted in the "
			"summary but not listed\n", (unsigned long long)ctx->cnt.txns_evicted,
			ctx->cnt.txns_evicted == 1 ? "" : "s", ctx->opt.max_txns,
			ctx->cnt.txns_evicted == 1 ? "is" : "are");
}

/* A live capture with nothing to read for a while: what the decode thread
 * finished meanwhile is shown now, not with the next packet. */
void pipeline_idle(struct sd_ctx *ctx)
{
	deliver_decoded(ctx, 0);
	if (ctx->livew)
		outrot_check(livew_out(ctx->livew));
	if (ctx->json_out)
		outrot_check(ctx->json_out);
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
	metrics_free(&ctx->metrics);
	livew_free(ctx->livew);
	ctx->livew = NULL;
	outrot_free(ctx->json_out);
	ctx->json_out = NULL;
	opaque_tls_free(ctx);
	if (ctx->keylog)
		keylog_free(ctx->keylog);
	ctx->keylog = NULL;
	ctx->flows = NULL;
	ctx->ipr = NULL;
	ctx->txns = NULL;
	ctx->keys = NULL;
}
