/* test_http2.c - HTTP/2 exchanges from byte streams built here: frames
 * assembled by hand, header blocks made by nghttp2's own HPACK deflater, fed
 * to dissectors/app/http2.c through its public interface; plus a real nghttp /
 * nghttpd capture (tests/unit/data/h2-prior-knowledge.pcap) through the
 * capture, TCP and flow layers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <nghttp2/nghttp2.h>

#include "capture.h"
#include "counters.h"
#include "flow.h"
#include "http2.h"
#include "membudget.h"
#include "packet.h"
#include "testutil.h"

/* exchanges a harness keeps: test_many_streams completes a thousand */
#define MAX_X 1024

struct xcopy {
	uint64_t seq;
	char *host, *method, *uri, *path, *query, *server_header, *location;
	char *error_text, *reset, *req_ct, *req_cl, *res_ct, *res_cl;
	int status, damaged, parse_error, version;
	uint64_t gap_bytes;
	struct {
		int present, capped, damaged, parse_error;
		uint64_t first_frame, last_frame, wire, gap_bytes, conflict;
		uint8_t *body;
		size_t len;
	} req, res;
};

struct harness {
	struct http2_conn *c;
	struct counters cnt;
	struct flow f;
	struct xcopy x[MAX_X];
	size_t n;
	uint64_t frame;
	int bytewise;
};

static char *sdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void on_exchange(void *arg, const struct http_exchange *e)
{
	struct harness *h = arg;
	struct xcopy *x;

	assert_true(h->n < MAX_X);
	x = &h->x[h->n++];
	x->seq = e->seq;
	x->version = e->version;
	x->host = sdup(e->host);
	x->method = sdup(e->method);
	x->uri = sdup(e->uri);
	x->path = sdup(e->path);
	x->query = sdup(e->query);
	x->status = e->status;
	x->server_header = sdup(e->server_header);
	x->location = sdup(e->location);
	x->req_ct = sdup(e->req.content_type);
	x->req_cl = sdup(e->req.content_length);
	x->res_ct = sdup(e->res.content_type);
	x->res_cl = sdup(e->res.content_length);
	x->damaged = e->damaged;
	x->gap_bytes = e->gap_bytes;
	x->parse_error = e->parse_error;
	x->error_text = sdup(e->error_text);
	x->reset = sdup(e->reset);
#define SIDE(s) \
	x->s.present = e->s.present; \
	x->s.capped = e->s.body_capped; \
	x->s.damaged = e->s.damaged; \
	x->s.gap_bytes = e->s.gap_bytes; \
	x->s.parse_error = e->s.parse_error; \
	x->s.conflict = e->s.conflict_bytes; \
	x->s.first_frame = e->s.first_frame; \
	x->s.last_frame = e->s.last_frame; \
	x->s.wire = e->s.body_wire_len; \
	x->s.len = e->s.body_len; \
	x->s.body = NULL; \
	if (e->s.body_len) { \
		x->s.body = malloc(e->s.body_len); \
		assert_non_null(x->s.body); \
		memcpy(x->s.body, e->s.body, e->s.body_len); \
	}
	SIDE(req)
	SIDE(res)
#undef SIDE
}

static void xcopy_free(struct xcopy *x)
{
	free(x->host); free(x->method); free(x->uri); free(x->path);
	free(x->query); free(x->server_header); free(x->location);
	free(x->error_text); free(x->reset);
	free(x->req_ct); free(x->req_cl); free(x->res_ct); free(x->res_cl);
	free(x->req.body); free(x->res.body);
}

static struct harness *h_open_cfg(const struct http1_config *cfg, int saw_syn, int bytewise,
				  int after_upgrade)
{
	struct harness *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	h->f.id = 9;
	h->f.client.family = 4;
	h->f.client.port = 50000;
	h->f.server.family = 4;
	h->f.server.port = 80;
	h->f.saw_syn = saw_syn;
	h->bytewise = bytewise;
	h->c = http2_open(cfg, &h->cnt, &h->f, on_exchange, h, after_upgrade);
	assert_non_null(h->c);
	return h;
}

static struct harness *h_open(size_t max_body, int saw_syn, int bytewise,
			      int after_upgrade)
{
	struct http1_config cfg = { .max_body = max_body };

	return h_open_cfg(&cfg, saw_syn, bytewise, after_upgrade);
}

static void h_event(struct harness *h, enum stream_ev_kind kind,
		    enum stream_dir dir, const void *data, size_t len)
{
	struct stream_event ev = {
		.kind = kind, .dir = dir, .data = data, .len = len,
		.frame = h->frame, .first_frame = h->frame,
		.ts_ns = h->frame * 1000, .first_ts_ns = h->frame * 1000,
	};

	http2_event(h->c, &ev);
}

/* One segment: a new frame number; bytewise feeds it one byte per event
 * (same frame), which must change nothing. */
static void h_data(struct harness *h, enum stream_dir dir, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	h->frame++;
	if (!h->bytewise) {
		h_event(h, STREAM_DATA, dir, p, len);
		return;
	}
	for (i = 0; i < len; i++)
		h_event(h, STREAM_DATA, dir, p + i, 1);
}

static void h_gap(struct harness *h, enum stream_dir dir, size_t len)
{
	h->frame++;
	h_event(h, STREAM_GAP, dir, NULL, len);
}

static void h_close(struct harness *h)
{
	http2_close(h->c);
	h->c = NULL;
}

static void h_free(struct harness *h)
{
	size_t i;

	if (h->c)
		http2_close(h->c);
	for (i = 0; i < h->n; i++)
		xcopy_free(&h->x[i]);
	free(h);
}

static void assert_str_same(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_body(const uint8_t *body, size_t len, const void *want, size_t wlen)
{
	assert_int_equal(len, wlen);
	if (wlen)
		assert_memory_equal(body, want, wlen);
}

#define Q DIR_TO_SERVER
#define S DIR_TO_CLIENT

/* --- building HTTP/2 bytes ------------------------------------------------ */

struct buf {
	uint8_t d[1 << 16];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	assert_true(n <= sizeof(b->d) - b->n);
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void put_frame(struct buf *b, uint8_t type, uint8_t flags, uint32_t sid,
		      const void *payload, size_t len)
{
	uint8_t h[9] = {
		(uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len, type, flags,
		(uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid,
	};

	put(b, h, 9);
	if (len)
		put(b, payload, len);
}

enum { T_DATA = 0, T_HEADERS = 1, T_PRIORITY = 2, T_RST = 3, T_SETTINGS = 4,
       T_PUSH = 5, T_PING = 6, T_GOAWAY = 7, T_WINDOW = 8, T_CONT = 9 };
enum { END_STREAM = 1, ACK = 1, END_HEADERS = 4, PADDED = 8, PRIO = 0x20 };

/* HPACK block from NULL-terminated name, value pairs. */
static size_t hpack(nghttp2_hd_deflater *def, uint8_t *out, size_t outlen, ...)
{
	nghttp2_nv nv[16];
	size_t n = 0;
	const char *name;
	ssize_t rv;
	va_list ap;

	va_start(ap, outlen);
	while ((name = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);

		assert_true(n < 16);
		nv[n].name = (uint8_t *)(uintptr_t)name;
		nv[n].namelen = strlen(name);
		nv[n].value = (uint8_t *)(uintptr_t)value;
		nv[n].valuelen = strlen(value);
		nv[n].flags = NGHTTP2_NV_FLAG_NONE;
		n++;
	}
	va_end(ap);
	rv = nghttp2_hd_deflate_hd(def, out, outlen, nv, n);
	assert_true(rv > 0);
	return (size_t)rv;
}

static void put_preface(struct buf *b)
{
	static const char pre[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

	put(b, pre, 24);
}

static void put_settings(struct buf *b, uint16_t id, uint32_t v)
{
	uint8_t p[6] = { (uint8_t)(id >> 8), (uint8_t)id, (uint8_t)(v >> 24),
			 (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	put_frame(b, T_SETTINGS, 0, 0, p, id ? 6 : 0);
}

static void put_code(struct buf *b, uint8_t type, uint32_t sid, uint32_t a, uint32_t code)
{
	uint8_t p[8] = { (uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8), (uint8_t)a,
			 (uint8_t)(code >> 24), (uint8_t)(code >> 16), (uint8_t)(code >> 8), (uint8_t)code };

	if (type == T_RST)
		put_frame(b, T_RST, 0, sid, p + 4, 4);
	else
		put_frame(b, type, 0, sid, p, 8);
}

/* DATA with pad bytes of padding (PADDED when pad >= 0). */
static void put_data(struct buf *b, uint32_t sid, uint8_t flags, const void *p,
		     size_t n, int pad)
{
	uint8_t f[512];

	if (pad < 0) {
		put_frame(b, T_DATA, flags, sid, p, n);
		return;
	}
	assert_true(1 + n + (size_t)pad <= sizeof(f));
	f[0] = (uint8_t)pad;
	memcpy(f + 1, p, n);
	memset(f + 1 + n, 0xee, (size_t)pad);
	put_frame(b, T_DATA, flags | PADDED, sid, f, 1 + n + (size_t)pad);
}

/* A connection's two byte streams and their deflaters. */
struct conn {
	struct buf q, s;
	nghttp2_hd_deflater *dq, *ds;
};

static struct conn *conn_new(void)
{
	struct conn *k = calloc(1, sizeof(*k));

	assert_non_null(k);
	assert_int_equal(nghttp2_hd_deflate_new(&k->dq, 4096), 0);
	assert_int_equal(nghttp2_hd_deflate_new(&k->ds, 4096), 0);
	put_preface(&k->q);
	put_settings(&k->q, 3, 100);
	put_settings(&k->s, 3, 128);
	put_frame(&k->s, T_SETTINGS, ACK, 0, NULL, 0);
	put_frame(&k->q, T_SETTINGS, ACK, 0, NULL, 0);
	return k;
}

static void conn_free(struct conn *k)
{
	nghttp2_hd_deflate_del(k->dq);
	nghttp2_hd_deflate_del(k->ds);
	free(k);
}

static void req_headers(struct conn *k, uint32_t sid, uint8_t flags,
			const char *method, const char *path, const char *ct)
{
	uint8_t blk[4096];
	size_t n;

	if (ct)
		n = hpack(k->dq, blk, sizeof(blk), ":method", method, ":scheme", "http",
			  ":authority", "ndes.example", ":path", path,
			  "content-type", ct, "user-agent", "sscep/0.10", NULL);
	else
		n = hpack(k->dq, blk, sizeof(blk), ":method", method, ":scheme", "http",
			  ":authority", "ndes.example", ":path", path,
			  "user-agent", "sscep/0.10", NULL);
	put_frame(&k->q, T_HEADERS, flags | END_HEADERS, sid, blk, n);
}

static void res_headers(struct conn *k, uint32_t sid, uint8_t flags,
			const char *status, const char *ct)
{
	uint8_t blk[4096];
	size_t n = hpack(k->ds, blk, sizeof(blk), ":status", status,
			 "server", "nginx/1.22.1", "content-type", ct, NULL);

	put_frame(&k->s, T_HEADERS, flags | END_HEADERS, sid, blk, n);
}

/* --- tests ---------------------------------------------------------------- */

static void test_probe(void **state)
{
	const uint8_t settings[] = { 0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100 };
	const uint8_t settings_ack[] = { 0, 0, 0, 4, 1, 0, 0, 0, 0 };
	const uint8_t data_frame[] = { 0, 0, 6, 0, 0, 0, 0, 0, 1 };

	(void)state;
	assert_int_equal(http2_probe((const uint8_t *)"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24, Q), 1);
	assert_int_equal(http2_probe((const uint8_t *)"PRI * HTTP/2.0\r\n", 16, Q), 1);
	assert_int_equal(http2_probe((const uint8_t *)"PRI * HTTP/2.0\r\n\r\nXX", 20, Q), 0);
	assert_int_equal(http2_probe((const uint8_t *)"PRI * HTTP", 10, Q), 0);
	assert_int_equal(http2_probe((const uint8_t *)"GET / HTTP/1.1\r\n", 16, Q), 0);
	assert_int_equal(http2_probe(settings, sizeof(settings), S), 1);
	assert_int_equal(http2_probe(settings, sizeof(settings), Q), 0);
	assert_int_equal(http2_probe(settings_ack, sizeof(settings_ack), S), 0);
	assert_int_equal(http2_probe(data_frame, sizeof(data_frame), S), 0);
	assert_int_equal(http2_probe((const uint8_t *)"HTTP/1.1 200 OK\r\n", 17, S), 0);
	assert_int_equal(http2_probe(NULL, 0, S), 0);
}

static void test_getcacaps(void **state)
{
	static const char caps[] = "POSTPKIOperation\nSHA-256\nAES\nSCEPStandard";
	struct conn *k = conn_new();
	struct harness *h = h_open(1 << 20, 1, 0, 0);
	struct xcopy *x;

	(void)state;
	req_headers(k, 1, END_STREAM, "GET", "/cgi-bin/pkiclient.exe?operation=GetCACaps&message=ca", NULL);
	res_headers(k, 1, 0, "200", "text/plain");
	put_data(&k->s, 1, END_STREAM, caps, strlen(caps), -1);
	h_data(h, Q, k->q.d, k->q.n);
	assert_int_equal(h->n, 0);
	h_data(h, S, k->s.d, k->s.n);
	assert_int_equal(h->n, 1);
	x = &h->x[0];
	assert_int_equal(x->version, HTTP_V2);
	assert_int_equal(x->seq, 1);
	assert_string_equal(x->method, "GET");
	assert_string_equal(x->uri, "/cgi-bin/pkiclient.exe?operation=GetCACaps&message=ca");
	assert_string_equal(x->path, "/cgi-bin/pkiclient.exe");
	assert_string_equal(x->query, "operation=GetCACaps&message=ca");
	assert_string_equal(x->host, "ndes.example");
	assert_int_equal(x->status, 200);
	assert_string_equal(x->res_ct, "text/plain");
	assert_string_equal(x->server_header, "nginx/1.22.1");
	assert_null(x->req_ct);
	assert_body(x->res.body, x->res.len, caps, strlen(caps));
	assert_true(x->req.present);
	assert_true(x->res.present);
	assert_int_equal(x->req.first_frame, 1);
	assert_int_equal(x->req.last_frame, 1);
	assert_int_equal(x->res.first_frame, 2);
	assert_false(x->damaged);
	assert_false(x->parse_error);
	assert_null(x->reset);
	assert_null(x->error_text);
	assert_int_equal(h->cnt.h2_header_errors, 0);
	assert_int_equal(h->cnt.h2_frame_errors, 0);
	assert_int_equal(h->cnt.h2_frames, 7);
	h_free(h);
	conn_free(k);
}

/* POST PKIOperation: body over three padded DATA frames in separate
 * segments; the response header block split over HEADERS + CONTINUATION. */
static void run_post(struct harness *h)
{
	struct conn *k = conn_new();
	uint8_t body[600], blk[4096];
	size_t n, i;

	for (i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 7);
	req_headers(k, 1, 0, "POST", "/scep?operation=PKIOperation", "application/x-pki-message");
	h_data(h, Q, k->q.d, k->q.n);
	k->q.n = 0;
	put_data(&k->q, 1, 0, body, 200, 10);
	put_data(&k->q, 1, 0, body + 200, 250, 0);
	h_data(h, Q, k->q.d, k->q.n);
	k->q.n = 0;
	put_data(&k->q, 1, END_STREAM, body + 450, 150, 255);
	h_data(h, Q, k->q.d, k->q.n);
	n = hpack(k->ds, blk, sizeof(blk), ":status", "200", "content-type",
		  "application/x-pki-message", "content-length", "3",
		  "server", "Microsoft-IIS/10.0", NULL);
	put_frame(&k->s, T_HEADERS, 0, 1, blk, 5);
	put_frame(&k->s, T_CONT, 0, 1, blk + 5, 4);
	put_frame(&k->s, T_CONT, END_HEADERS, 1, blk + 9, n - 9);
	put_data(&k->s, 1, END_STREAM, "\x30\x80\x00", 3, -1);
	h_data(h, S, k->s.d, k->s.n);
	conn_free(k);
}

static void test_post_padded_continuation(void **state)
{
	struct harness *h = h_open(1 << 20, 1, 0, 0);
	struct xcopy *x;
	uint8_t body[600];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 7);
	run_post(h);
	assert_int_equal(h->n, 1);
	x = &h->x[0];
	assert_string_equal(x->method, "POST");
	assert_string_equal(x->query, "operation=PKIOperation");
	assert_string_equal(x->req_ct, "application/x-pki-message");
	assert_body(x->req.body, x->req.len, body, sizeof(body));
	assert_int_equal(x->req.wire, 600);
	assert_int_equal(x->req.first_frame, 1);
	assert_int_equal(x->req.last_frame, 3);
	assert_int_equal(x->status, 200);
	assert_string_equal(x->res_ct, "application/x-pki-message");
	assert_string_equal(x->res_cl, "3");
	assert_string_equal(x->server_header, "Microsoft-IIS/10.0");
	assert_body(x->res.body, x->res.len, "\x30\x80\x00", 3);
	assert_false(x->parse_error);
	assert_int_equal(h->cnt.h2_frame_errors, 0);
	h_free(h);
}

/* Two streams interleaved frame by frame; stream 5 cancelled by the client;
 * GOAWAY PROTOCOL_ERROR from the server with last stream 3 refuses 7. */
static void run_interleaved(struct harness *h)
{
	struct conn *k = conn_new();

	req_headers(k, 1, 0, "POST", "/scep?operation=PKIOperation", "application/x-pki-message");
	req_headers(k, 3, END_STREAM, "GET", "/scep?operation=GetCACert", NULL);
	put_data(&k->q, 1, 0, "AAAA", 4, -1);
	req_headers(k, 5, END_STREAM, "GET", "/scep?operation=GetNextCACert", NULL);
	put_data(&k->q, 1, END_STREAM, "BBBB", 4, -1);
	put_code(&k->q, T_RST, 5, 0, 8);
	h_data(h, Q, k->q.d, k->q.n);
	k->q.n = 0;
	res_headers(k, 3, 0, "200", "application/x-x509-ca-cert");
	res_headers(k, 1, 0, "200", "application/x-pki-message");
	put_data(&k->s, 3, 0, "CA", 2, -1);
	put_data(&k->s, 1, 0, "r1", 2, -1);
	put_data(&k->s, 3, END_STREAM, "CERT", 4, -1);
	put_data(&k->s, 1, END_STREAM, "resp", 4, -1);
	h_data(h, S, k->s.d, k->s.n);
	k->s.n = 0;
	req_headers(k, 7, END_STREAM, "GET", "/scep?operation=GetCACaps", NULL);
	h_data(h, Q, k->q.d, k->q.n);
	put_code(&k->s, T_GOAWAY, 0, 3, 1);
	h_data(h, S, k->s.d, k->s.n);
	conn_free(k);
}

static void test_interleaved_rst_goaway(void **state)
{
	struct harness *h = h_open(1 << 20, 1, 0, 0);

	(void)state;
	run_interleaved(h);
	assert_int_equal(h->n, 4);
	/* completion order: 5 reset, 3, 1, 7 refused */
	assert_int_equal(h->x[0].seq, 3);
	assert_string_equal(h->x[0].query, "operation=GetNextCACert");
	assert_string_equal(h->x[0].reset, "RST_STREAM CANCEL by client");
	assert_false(h->x[0].res.present);
	assert_int_equal(h->x[1].seq, 2);
	assert_string_equal(h->x[1].query, "operation=GetCACert");
	assert_body(h->x[1].res.body, h->x[1].res.len, "CACERT", 6);
	assert_null(h->x[1].reset);
	assert_int_equal(h->x[2].seq, 1);
	assert_body(h->x[2].req.body, h->x[2].req.len, "AAAABBBB", 8);
	assert_body(h->x[2].res.body, h->x[2].res.len, "r1resp", 6);
	assert_int_equal(h->x[3].seq, 4);
	assert_string_equal(h->x[3].query, "operation=GetCACaps");
	assert_string_equal(h->x[3].reset, "GOAWAY PROTOCOL_ERROR by server");
	h_free(h);
}

/* The client announces a bigger HPACK table; the server's encoder uses it
 * only after its SETTINGS ACK, and the inflater must allow it from there.
 * Requests reuse the dynamic table. */
static void test_table_size_and_reuse(void **state)
{
	struct conn *k = calloc(1, sizeof(*k));
	struct harness *h = h_open(1 << 20, 1, 0, 0);
	size_t i;
	uint8_t blk[4096];
	size_t n, first_len = 0;

	(void)state;
	assert_non_null(k);
	assert_int_equal(nghttp2_hd_deflate_new(&k->dq, 4096), 0);
	assert_int_equal(nghttp2_hd_deflate_new(&k->ds, 8192), 0);
	put_preface(&k->q);
	put_settings(&k->q, 1, 8192);
	put_settings(&k->s, 0, 0);
	put_frame(&k->s, T_SETTINGS, ACK, 0, NULL, 0);
	assert_int_equal(nghttp2_hd_deflate_change_table_size(k->ds, 8192), 0);
	for (i = 0; i < 3; i++) {
		uint32_t sid = 1 + 2 * (uint32_t)i;

		n = hpack(k->dq, blk, sizeof(blk), ":method", "GET", ":scheme", "http",
			  ":authority", "ndes.example",
			  ":path", "/cgi-bin/pkiclient.exe?operation=GetCACert&message=CA-ident",
			  "user-agent", "sscep/0.10", NULL);
		if (i == 0)
			first_len = n;
		else
			/* :authority and user-agent now indexed (nghttp2 never indexes :path) */
			assert_true(n + 10 < first_len);
		put_frame(&k->q, T_HEADERS, END_STREAM | END_HEADERS, sid, blk, n);
		n = hpack(k->ds, blk, sizeof(blk), ":status", "200",
			  "content-type", "application/x-x509-ca-cert", NULL);
		put_frame(&k->s, T_HEADERS, END_HEADERS, sid, blk, n);
		put_data(&k->s, sid, END_STREAM, "C", 1, -1);
	}
	h_data(h, Q, k->q.d, k->q.n);
	h_data(h, S, k->s.d, k->s.n);
	assert_int_equal(h->cnt.h2_header_errors, 0);
	assert_int_equal(h->n, 3);
	for (i = 0; i < 3; i++) {
		assert_string_equal(h->x[i].uri, "/cgi-bin/pkiclient.exe?operation=GetCACert&message=CA-ident");
		assert_string_equal(h->x[i].host, "ndes.example");
		assert_int_equal(h->x[i].status, 200);
		assert_string_equal(h->x[i].res_ct, "application/x-x509-ca-cert");
		assert_null(h->x[i].error_text);
	}
	h_free(h);
	conn_free(k);
}

static void compare_bytewise(void (*run)(struct harness *), size_t want)
{
	struct harness *a = h_open(1 << 20, 1, 0, 0), *b = h_open(1 << 20, 1, 1, 0);
	size_t i;

	run(a);
	run(b);
	h_close(a);
	h_close(b);
	assert_int_equal(a->n, want);
	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		struct xcopy *x = &a->x[i], *y = &b->x[i];

		assert_int_equal(x->seq, y->seq);
		assert_string_equal(x->uri, y->uri);
		assert_int_equal(x->status, y->status);
		assert_int_equal(x->req.first_frame, y->req.first_frame);
		assert_int_equal(x->req.last_frame, y->req.last_frame);
		assert_int_equal(x->res.first_frame, y->res.first_frame);
		assert_int_equal(x->res.last_frame, y->res.last_frame);
		assert_body(y->req.body, y->req.len, x->req.body, x->req.len);
		assert_body(y->res.body, y->res.len, x->res.body, x->res.len);
		assert_int_equal(x->parse_error, y->parse_error);
		assert_str_same(x->reset, y->reset);
	}
	assert_int_equal(a->cnt.h2_frames, b->cnt.h2_frames);
	h_free(a);
	h_free(b);
}

static void test_bytewise_equals_oneshot(void **state)
{
	(void)state;
	compare_bytewise(run_post, 1);
	compare_bytewise(run_interleaved, 4);
}

/* The capture begins after the first request: the second one's header block
 * refers to dynamic table entries we never saw (NGHTTP2_ERR_HEADER_COMP).
 * The exchange still comes out, its DATA paired by stream id. */
static void test_mid_connection(void **state)
{
	struct conn *k = conn_new();
	struct harness *h = h_open(1 << 20, 0, 0, 0);
	struct xcopy *x;

	(void)state;
	req_headers(k, 1, 0, "POST", "/scep?operation=PKIOperation", "application/x-pki-message");
	res_headers(k, 1, END_STREAM, "200", "application/x-pki-message");
	k->q.n = k->s.n = 0;
	req_headers(k, 3, 0, "POST", "/scep?operation=PKIOperation", "application/x-pki-message");
	put_data(&k->q, 3, END_STREAM, "\x30\x82req", 5, -1);
	res_headers(k, 3, 0, "200", "application/x-pki-message");
	put_data(&k->s, 3, END_STREAM, "\x30\x82res", 5, -1);
	h_data(h, Q, k->q.d, k->q.n);
	h_data(h, S, k->s.d, k->s.n);
	assert_int_equal(h->n, 1);
	x = &h->x[0];
	assert_true(x->parse_error);
	assert_non_null(x->error_text);
	assert_non_null(strstr(x->error_text, "request and response headers undecodable"));
	assert_body(x->req.body, x->req.len, "\x30\x82req", 5);
	assert_body(x->res.body, x->res.len, "\x30\x82res", 5);
	assert_true(x->req.present);
	assert_int_equal(h->cnt.h2_header_errors, 2);
	h_free(h);
	conn_free(k);
}

/* A capture that begins mid-frame finds its way to the next frame header. */
static void test_mid_frame_resync(void **state)
{
	struct conn *k = conn_new();
	struct harness *h = h_open(1 << 20, 0, 0, 0);
	uint8_t junk[700];

	(void)state;
	memset(junk, 0x41, sizeof(junk));
	k->q.n = k->s.n = 0;
	put_data(&k->q, 1, 0, junk, 400, -1);   /* the tail of an old frame */
	req_headers(k, 3, END_STREAM, "GET", "/scep?operation=GetCACaps", NULL);
	res_headers(k, 3, 0, "200", "text/plain");
	put_data(&k->s, 3, END_STREAM, "caps", 4, -1);
	h_data(h, Q, k->q.d + 100, k->q.n - 100);
	h_data(h, S, k->s.d, k->s.n);
	assert_int_equal(h->n, 1);
	assert_string_equal(h->x[0].query, "operation=GetCACaps");
	assert_body(h->x[0].res.body, h->x[0].res.len, "caps", 4);
	assert_int_equal(h->cnt.h2_resync_bytes, 400 + 9 - 100);
	h_free(h);
	conn_free(k);
}

/* A gap inside a DATA frame keeps the framing: zeros in the body, damaged.
 * A gap across frames loses it: the streams in flight are damaged and the
 * parser finds the next frame of a stream it knows. */
static void test_gaps(void **state)
{
	struct conn *k = conn_new();
	struct harness *h = h_open(1 << 20, 1, 0, 0);
	uint8_t big[400];
	size_t off;

	(void)state;
	memset(big, 0x55, sizeof(big));
	req_headers(k, 1, END_STREAM, "GET", "/scep?operation=GetCACert", NULL);
	req_headers(k, 3, END_STREAM, "GET", "/scep?operation=GetCACaps", NULL);
	h_data(h, Q, k->q.d, k->q.n);
	res_headers(k, 1, 0, "200", "application/x-x509-ca-cert");
	put_data(&k->s, 1, END_STREAM, big, sizeof(big), -1);
	off = k->s.n;
	/* in-frame gap: 100 body bytes of stream 1 missing */
	h_data(h, S, k->s.d, off - 300);
	h_gap(h, S, 100);
	h_data(h, S, k->s.d + off - 200, 200);
	assert_int_equal(h->n, 1);
	assert_true(h->x[0].damaged);
	assert_true(h->x[0].res.damaged);
	assert_int_equal(h->x[0].gap_bytes, 100);
	assert_int_equal(h->x[0].res.len, 400);
	assert_int_equal(h->x[0].res.body[99], 0x55);
	assert_int_equal(h->x[0].res.body[100], 0);
	assert_int_equal(h->x[0].res.body[199], 0);
	assert_int_equal(h->x[0].res.body[200], 0x55);
	/* cross-frame gap: stream 3's headers and first DATA are lost */
	k->s.n = 0;
	res_headers(k, 3, 0, "200", "text/plain");
	off = k->s.n;
	put_data(&k->s, 3, 0, "lost", 4, -1);
	put_data(&k->s, 3, END_STREAM, "tail", 4, -1);
	/* the hole ends inside the header of the frame carrying "lost" */
	h_gap(h, S, off + 5);
	h_data(h, S, k->s.d + off + 5, k->s.n - off - 5);
	h_close(h);
	assert_int_equal(h->n, 2);
	assert_int_equal(h->x[1].seq, 2);
	assert_true(h->x[1].damaged);
	assert_true(h->x[1].res.damaged);
	assert_int_equal(h->x[1].status, 0);
	assert_string_equal(h->x[1].query, "operation=GetCACaps");
	assert_body(h->x[1].res.body, h->x[1].res.len, "tail", 4);
	assert_int_equal(h->cnt.h2_header_errors, 1);
	assert_int_equal(h->cnt.h2_resync_bytes, 8);
	h_free(h);
	conn_free(k);
}

/* Not SCEP: no bodies kept, counted as skipped; bodies over max_body are
 * capped and counted. */
static void test_skip_and_cap(void **state)
{
	struct conn *k = conn_new();
	struct harness *h = h_open(10, 1, 0, 0);
	uint8_t big[300];

	(void)state;
	memset(big, 1, sizeof(big));
	req_headers(k, 1, END_STREAM, "GET", "/index.html", NULL);
	res_headers(k, 1, 0, "200", "text/html");
	put_data(&k->s, 1, END_STREAM, big, sizeof(big), -1);
	req_headers(k, 3, END_STREAM, "GET", "/scep?operation=GetCACert", NULL);
	res_headers(k, 3, 0, "200", "application/x-x509-ca-cert");
	put_data(&k->s, 3, END_STREAM, big, sizeof(big), -1);
	h_data(h, Q, k->q.d, k->q.n);
	h_data(h, S, k->s.d, k->s.n);
	assert_int_equal(h->n, 1);
	assert_int_equal(h->cnt.http_skipped, 1);
	assert_int_equal(h->x[0].res.len, 10);
	assert_int_equal(h->x[0].res.wire, 300);
	assert_true(h->x[0].res.capped);
	assert_int_equal(h->cnt.http_bodies_capped, 1);
	h_free(h);
	conn_free(k);
}

/* The candidate rule HTTP/1 shares (http.h, test_http1.c): "operation="
 * at a parameter start, '&' alone separating parameters. HTTP/2 used to
 * take a bare "operation" with no '='; HTTP/1 did not. */
static void test_candidate_rule(void **state)
{
	static const struct { const char *path; int scep; } cases[] = {
		{ "/scep?message=ca&OPERATION=GetCACert", 1 },
		{ "/scep?x=1;operation=GetCACert", 0 },
		{ "/scep?operation", 0 },
		{ "/scep?operation&message=ca", 0 },
		{ "/scep/operation=GetCACert", 0 },
	};
	struct conn *k;
	struct harness *h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		k = conn_new();
		h = h_open(1 << 20, 1, 0, 0);
		req_headers(k, 1, END_STREAM, "GET", cases[i].path, NULL);
		res_headers(k, 1, END_STREAM, "404", "text/html");
		h_data(h, Q, k->q.d, k->q.n);
		h_data(h, S, k->s.d, k->s.n);
		assert_int_equal(http2_scep_seen(h->c), cases[i].scep);
		assert_int_equal(h->n, (size_t)cases[i].scep);
		assert_int_equal(h->cnt.http_skipped, (uint64_t)!cases[i].scep);
		h_free(h);
		conn_free(k);
	}
}

/* --max-h2-streams: a third stream in flight is counted and skipped; its
 * header block still goes through the inflater, so a later stream decodes.
 * --max-h2-header-list: a request over it keeps what fit and says so. */
static void test_stream_and_header_list_caps(void **state)
{
	struct http1_config cfg = { .max_body = 1 << 20, .max_h2_streams = 2,
				    .max_h2_header_list = 320 };
	struct conn *k = conn_new();
	struct harness *h = h_open_cfg(&cfg, 1, 0, 0);

	(void)state;
	req_headers(k, 1, END_STREAM, "GET", "/scep?operation=GetCACaps", NULL);
	req_headers(k, 3, END_STREAM, "GET", "/scep?operation=GetCACert", NULL);
	req_headers(k, 5, END_STREAM, "GET", "/scep?operation=GetCACaps&third", NULL);
	h_data(h, Q, k->q.d, k->q.n);
	k->q.n = 0;
	assert_int_equal(h->cnt.h2_streams_capped, 1);
	res_headers(k, 1, END_STREAM, "200", "text/plain");
	res_headers(k, 3, END_STREAM, "200", "application/x-x509-ca-cert");
	res_headers(k, 5, END_STREAM, "200", "text/plain");
	h_data(h, S, k->s.d, k->s.n);
	assert_int_equal(h->n, 2);
	assert_string_equal(h->x[0].uri, "/scep?operation=GetCACaps");
	assert_string_equal(h->x[1].uri, "/scep?operation=GetCACert");
	assert_int_equal(h->cnt.h2_header_errors, 0);
	/* the table stayed in step: a fourth stream, with a long header,
	 * decodes up to the list cap */
	{
		uint8_t blk[4096];
		char longv[400];
		size_t n;

		memset(longv, 'a', sizeof(longv) - 1);
		longv[sizeof(longv) - 1] = '\0';
		n = hpack(k->dq, blk, sizeof(blk), ":method", "GET", ":scheme", "http",
			  ":authority", "ndes.example", ":path", "/scep?operation=GetCACaps&fourth",
			  "x-long", longv, NULL);
		put_frame(&k->q, T_HEADERS, END_STREAM | END_HEADERS, 7, blk, n);
		h_data(h, Q, k->q.d, k->q.n);
	}
	k->s.n = 0;
	res_headers(k, 7, END_STREAM, "200", "text/plain");
	h_data(h, S, k->s.d, k->s.n);
	assert_int_equal(h->n, 3);
	assert_string_equal(h->x[2].uri, "/scep?operation=GetCACaps&fourth");
	assert_int_equal(h->cnt.h2_headers_capped, 1);
	assert_non_null(h->x[2].error_text);
	assert_non_null(strstr(h->x[2].error_text, "--max-h2-header-list"));
	h_free(h);
	conn_free(k);
}

/* Server push: the promised stream's request comes from PUSH_PROMISE. */
static void test_push_promise(void **state)
{
	struct conn *k = conn_new();
	struct harness *h = h_open(1 << 20, 1, 0, 0);
	uint8_t p[512];
	size_t n;

	(void)state;
	req_headers(k, 1, END_STREAM, "GET", "/scep?operation=GetCACaps", NULL);
	h_data(h, Q, k->q.d, k->q.n);
	p[0] = 0;
	p[1] = 0;
	p[2] = 0;
	p[3] = 2;
	n = hpack(k->ds, p + 4, sizeof(p) - 4, ":method", "GET", ":scheme", "http",
		  ":authority", "ndes.example", ":path", "/scep?operation=GetCACert", NULL);
	put_frame(&k->s, T_PUSH, END_HEADERS, 1, p, 4 + n);
	res_headers(k, 1, 0, "200", "text/plain");
	put_data(&k->s, 1, END_STREAM, "caps", 4, -1);
	res_headers(k, 2, 0, "200", "application/x-x509-ca-cert");
	put_data(&k->s, 2, END_STREAM, "cert", 4, -1);
	h_data(h, S, k->s.d, k->s.n);
	assert_int_equal(h->n, 2);
	assert_string_equal(h->x[1].query, "operation=GetCACert");
	assert_string_equal(h->x[1].method, "GET");
	assert_int_equal(h->x[1].status, 200);
	assert_body(h->x[1].res.body, h->x[1].res.len, "cert", 4);
	h_free(h);
	conn_free(k);
}

/* After "101 Switching Protocols" to h2c: the client preface follows, stream
 * 1 answers the HTTP/1 upgrade request. */
static void test_after_upgrade(void **state)
{
	struct conn *k = conn_new();
	struct harness *h = h_open(1 << 20, 1, 0, 1);

	(void)state;
	http2_set_upgrade_request(h->c, "GET", "/scep?operation=GetCACaps", "ndes.example");
	res_headers(k, 1, 0, "200", "text/plain");
	put_data(&k->s, 1, END_STREAM, "caps", 4, -1);
	h_data(h, Q, k->q.d, k->q.n);
	h_data(h, S, k->s.d, k->s.n);
	assert_int_equal(h->n, 1);
	assert_string_equal(h->x[0].method, "GET");
	assert_string_equal(h->x[0].query, "operation=GetCACaps");
	assert_string_equal(h->x[0].host, "ndes.example");
	assert_false(h->x[0].req.present);
	assert_int_equal(h->x[0].status, 200);
	assert_body(h->x[0].res.body, h->x[0].res.len, "caps", 4);
	h_free(h);
	conn_free(k);
}

/* Request without response is emitted at close; a 1xx before the final
 * status and trailers after the body do not replace it. */
static void test_open_at_close_and_trailers(void **state)
{
	struct conn *k = conn_new();
	struct harness *h = h_open(1 << 20, 1, 0, 0);
	uint8_t blk[256];
	size_t n;

	(void)state;
	req_headers(k, 1, END_STREAM, "GET", "/scep?operation=GetCACert", NULL);
	req_headers(k, 3, END_STREAM, "GET", "/scep?operation=GetCACaps", NULL);
	h_data(h, Q, k->q.d, k->q.n);
	n = hpack(k->ds, blk, sizeof(blk), ":status", "103", NULL);
	put_frame(&k->s, T_HEADERS, END_HEADERS, 1, blk, n);
	res_headers(k, 1, 0, "200", "application/x-x509-ca-cert");
	put_data(&k->s, 1, 0, "cert", 4, -1);
	n = hpack(k->ds, blk, sizeof(blk), "content-type", "x/trailer", NULL);
	put_frame(&k->s, T_HEADERS, END_HEADERS | END_STREAM, 1, blk, n);
	h_data(h, S, k->s.d, k->s.n);
	assert_int_equal(h->n, 1);
	assert_int_equal(h->x[0].status, 200);
	assert_string_equal(h->x[0].res_ct, "application/x-x509-ca-cert");
	h_close(h);
	assert_int_equal(h->n, 2);
	assert_string_equal(h->x[1].query, "operation=GetCACaps");
	assert_false(h->x[1].res.present);
	assert_int_equal(h->x[1].status, 0);
	h_free(h);
	conn_free(k);
}

/* Hostile lengths: a frame length over the announced maximum, a pad length
 * past the frame, a RST_STREAM of the wrong size. Nothing overruns, the
 * errors are counted. */
static void test_malformed(void **state)
{
	struct conn *k = conn_new();
	struct harness *h = h_open(1 << 20, 1, 0, 0);
	uint8_t bad[4] = { 200, 'a', 'b', 'c' };

	(void)state;
	req_headers(k, 1, END_STREAM, "GET", "/scep?operation=GetCACert", NULL);
	put_frame(&k->q, T_RST, 0, 1, "\0\0", 2);
	h_data(h, Q, k->q.d, k->q.n);
	res_headers(k, 1, 0, "200", "application/x-x509-ca-cert");
	put_frame(&k->s, T_DATA, PADDED, 1, bad, sizeof(bad));
	put_data(&k->s, 1, END_STREAM, "ok", 2, -1);
	h_data(h, S, k->s.d, k->s.n);
	assert_int_equal(h->n, 1);
	assert_true(h->x[0].parse_error);
	assert_body(h->x[0].res.body, h->x[0].res.len, "ok", 2);
	assert_int_equal(h->cnt.h2_frame_errors, 2);
	h_free(h);
	conn_free(k);
}

/* --- stream table, HPACK ceiling, memory budget, conflicts ---------------- */

/* Bytes of a connection built in pieces bigger than struct buf holds. */
static void h_buf(struct harness *h, enum stream_dir dir, struct buf *b)
{
	h_data(h, dir, b->d, b->n);
	b->n = 0;
}

/* A thousand open streams, then a header block of 16,000 fields on the
 * last one opened: every decoded field looks its stream up, and the
 * lookup compares about one stream, not a thousand (a list made this
 * capture shape take 16-20 s for 16 MB). Streams completed out of order
 * are emitted in completion order with their creation seq. */
static void test_many_streams(void **state)
{
	struct http1_config cfg = { .max_body = 1 << 20, .max_h2_streams = 1000 };
	struct conn *k = conn_new();
	struct harness *h = h_open_cfg(&cfg, 1, 0, 0);
	static uint8_t block[16000];
	uint64_t before, steps;
	uint32_t i, sid;
	char path[64];

	(void)state;
	h_buf(h, S, &k->s);
	for (i = 0; i < 1000; i++) {
		snprintf(path, sizeof(path), "/scep?operation=PKIOperation&n=%u", (unsigned)i);
		req_headers(k, 1 + 2 * i, 0, "POST", path, "application/x-pki-message");
		if (k->q.n > sizeof(k->q.d) - 512)
			h_buf(h, Q, &k->q);
	}
	h_buf(h, Q, &k->q);
	assert_int_equal(h->cnt.h2_streams_capped, 0);
	/* eight lookups or so a stream: its fields, its frame */
	assert_true(http2_lookup_steps(h->c) < 20 * 1000);
	/* indexed ":method GET" (static entry 2), one byte per field */
	memset(block, 0x82, sizeof(block));
	before = http2_lookup_steps(h->c);
	put_frame(&k->q, T_HEADERS, END_HEADERS, 1999, block, sizeof(block));
	h_buf(h, Q, &k->q);
	steps = http2_lookup_steps(h->c) - before;
	/* about one per field (a list would compare 16,000,000) */
	assert_true(steps >= 16000);
	assert_true(steps < 3 * 16000);
	assert_int_equal(h->cnt.h2_header_errors, 0);
	/* streams 1999, 1997, ... 1981 end first, newest first */
	for (i = 0; i < 10; i++) {
		sid = 1999 - 2 * i;
		put_data(&k->q, sid, END_STREAM, "x", 1, -1);
		res_headers(k, sid, END_STREAM, "200", "application/x-pki-message");
	}
	h_buf(h, Q, &k->q);
	h_buf(h, S, &k->s);
	assert_int_equal(h->n, 10);
	for (i = 0; i < 10; i++) {
		assert_int_equal(h->x[i].seq, 1000 - i);
		snprintf(path, sizeof(path), "/scep?operation=PKIOperation&n=%u", (unsigned)(999 - i));
		assert_string_equal(h->x[i].uri, path);
	}
	/* the rest at close, in creation order */
	h_close(h);
	assert_int_equal(h->n, 1000);
	for (i = 10; i < 1000; i++)
		assert_int_equal(h->x[i].seq, i - 9);
	h_free(h);
	conn_free(k);
}

/* The server allows the client's encoder a 4 GiB table: the inflater is
 * held to 64 KiB whatever SETTINGS say, and that is counted. An encoder
 * that stays within it decodes as before. */
static void test_table_ceiling_counted(void **state)
{
	struct conn *k = calloc(1, sizeof(*k));
	struct harness *h = h_open(1 << 20, 1, 0, 0);

	(void)state;
	assert_non_null(k);
	assert_int_equal(nghttp2_hd_deflate_new(&k->dq, 4096), 0);
	assert_int_equal(nghttp2_hd_deflate_new(&k->ds, 4096), 0);
	put_preface(&k->q);
	put_settings(&k->q, 0, 0);
	put_settings(&k->s, 1, 0xffffffffu);
	put_frame(&k->s, T_SETTINGS, ACK, 0, NULL, 0);
	put_frame(&k->q, T_SETTINGS, ACK, 0, NULL, 0);
	h_buf(h, S, &k->s);
	req_headers(k, 1, END_STREAM, "GET", "/scep?operation=GetCACaps", NULL);
	h_buf(h, Q, &k->q);
	res_headers(k, 1, 0, "200", "text/plain");
	put_data(&k->s, 1, END_STREAM, "AES", 3, -1);
	h_buf(h, S, &k->s);
	assert_int_equal(h->n, 1);
	assert_string_equal(h->x[0].uri, "/scep?operation=GetCACaps");
	assert_false(h->x[0].damaged);
	assert_int_equal(h->cnt.h2_tables_capped, 1);
	assert_int_equal(h->cnt.h2_header_errors, 0);
	h_free(h);
	conn_free(k);
}

/* An encoder that takes the 1 MiB it was allowed: its direction's header
 * blocks cannot be decoded within our ceiling, and the exchange says so;
 * the HPACK memory stays small (a budget with no limit counts it). */
static void test_table_over_ceiling(void **state)
{
	struct mem_budget mem = { .limit = 0 };
	struct http1_config cfg = { .max_body = 1 << 20, .mem = &mem };
	struct conn *k = calloc(1, sizeof(*k));
	struct harness *h = h_open_cfg(&cfg, 1, 0, 0);
	uint8_t blk[8192];
	char v[4001];
	size_t n, i, most = 0;

	(void)state;
	assert_non_null(k);
	memset(v, 'v', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	assert_int_equal(nghttp2_hd_deflate_new(&k->dq, 1 << 20), 0);
	assert_int_equal(nghttp2_hd_deflate_new(&k->ds, 4096), 0);
	put_preface(&k->q);
	put_settings(&k->q, 0, 0);
	put_settings(&k->s, 1, 1 << 20);
	put_frame(&k->s, T_SETTINGS, ACK, 0, NULL, 0);
	put_frame(&k->q, T_SETTINGS, ACK, 0, NULL, 0);
	assert_int_equal(nghttp2_hd_deflate_change_table_size(k->dq, 1 << 20), 0);
	h_buf(h, S, &k->s);
	h_buf(h, Q, &k->q);
	for (i = 0; i < 40; i++) {
		char name[32];

		snprintf(name, sizeof(name), "x-fill-%zu", i);
		n = hpack(k->dq, blk, sizeof(blk), ":method", "GET", ":scheme", "http",
			  ":path", "/scep?operation=GetCACaps", name, v, NULL);
		put_frame(&k->q, T_HEADERS, END_STREAM | END_HEADERS, 1 + 2 * (uint32_t)i, blk, n);
		h_buf(h, Q, &k->q);
		if (mem.held[MEM_hpack] > most)
			most = mem.held[MEM_hpack];
	}
	assert_int_equal(h->cnt.h2_tables_capped, 1);
	assert_int_equal(h->cnt.h2_header_errors, 1);
	/* 160 kB of fields that the encoder indexed; a table of 64 KiB and
	 * buffers at most */
	assert_true(most < 64 * 1024 + 16 * 1024);
	h_close(h);
	assert_true(h->n >= 1);
	assert_true(h->x[0].damaged);
	assert_true(h->x[0].req.parse_error);
	assert_non_null(strstr(h->x[0].error_text, "header table over the 65536 bytes kept"));
	assert_non_null(strstr(h->x[0].error_text, "SETTINGS allowed 1048576"));
	assert_int_equal(mem.used, 0);
	h_free(h);
	conn_free(k);
}

/* One GET with a long :path, answered, at a given budget limit above what
 * the connection's opening took. */
static void budget_run(size_t room, struct mem_budget *mem, struct harness **out)
{
	struct http1_config cfg = { .max_body = 1 << 20, .mem = mem };
	struct conn *k = conn_new();
	struct harness *h = h_open_cfg(&cfg, 1, 0, 0);
	char path[3000];

	memset(mem->refused, 0, sizeof(mem->refused));
	mem->peak = mem->used;
	mem->limit = mem->used + room;
	memset(path, 'p', sizeof(path) - 1);
	memcpy(path, "/scep?operation=GetCACaps&x=", 28);
	path[sizeof(path) - 1] = '\0';
	req_headers(k, 1, END_STREAM, "GET", path, NULL);
	res_headers(k, 1, 0, "200", "text/plain");
	put_data(&k->s, 1, END_STREAM, "AES\nSHA-256", 11, -1);
	h_buf(h, Q, &k->q);
	h_buf(h, S, &k->s);
	h_close(h);
	conn_free(k);
	*out = h;
}

/* At every budget from nothing to plenty: the budget is never passed,
 * nothing crashes, every charge is given back, and what could not be kept
 * is said: the stream cap (no stream), the HPACK decoder, or the kept
 * header fields; somewhere in the range each of them happens, and with
 * room enough the exchange is whole. */
static void test_budget_sweep(void **state)
{
	int seen_stream = 0, seen_hpack = 0, seen_fields = 0, seen_whole = 0;
	size_t room;

	(void)state;
	for (room = 0; room <= 24 * 1024; room += 64) {
		struct mem_budget mem = { .limit = 0 };
		struct harness *h;
		int k;

		budget_run(room, &mem, &h);
		assert_true(mem.peak <= mem.limit);
		assert_int_equal(mem.used, 0);
		for (k = 0; k < MEM_KINDS; k++)
			assert_int_equal(mem.held[k], 0);
		if (h->cnt.h2_streams_capped) {
			seen_stream = 1;
			assert_int_equal(h->n, 0);
		} else if (h->n == 1 && h->x[0].error_text &&
			   strstr(h->x[0].error_text, "memory budget refused the HPACK decoder")) {
			seen_hpack = 1;
			assert_true(h->x[0].damaged);
			assert_true(h->cnt.h2_headers_capped >= 1);
		} else if (h->n == 1 && h->x[0].error_text &&
			   strstr(h->x[0].error_text, "header fields refused by the memory budget")) {
			seen_fields = 1;
			assert_true(h->cnt.h2_headers_capped >= 1);
		} else if (h->n == 1 && !h->x[0].error_text) {
			seen_whole = 1;
			assert_int_equal(h->x[0].status, 200);
			assert_int_equal(strlen(h->x[0].uri), 2999);
			assert_body(h->x[0].res.body, h->x[0].res.len, "AES\nSHA-256", 11);
		} else if (h->n == 1) {
			/* a body refused: capped and counted */
			assert_true(h->x[0].res.capped);
			assert_int_equal(h->cnt.http_bodies_capped, 1);
		} else {
			/* :path refused before the stream showed it was SCEP:
			 * capped as --max-h2-header-list caps, and skipped */
			seen_fields = 1;
			assert_int_equal(h->n, 0);
			assert_true(h->cnt.h2_headers_capped >= 1);
			assert_int_equal(h->cnt.http_skipped, 1);
		}
		h_free(h);
	}
	assert_true(seen_stream);
	assert_true(seen_hpack);
	assert_true(seen_fields);
	assert_true(seen_whole);
}

/* http2_scep_seen: the test that keeps a stream, per connection. */
static void test_scep_seen(void **state)
{
	struct conn *k = conn_new();
	struct harness *h = h_open(1 << 20, 1, 0, 0);

	(void)state;
	req_headers(k, 1, END_STREAM, "GET", "/index.html", NULL);
	h_buf(h, Q, &k->q);
	assert_false(http2_scep_seen(h->c));
	req_headers(k, 3, END_STREAM, "POST", "/enroll", "application/x-pki-message");
	h_buf(h, Q, &k->q);
	assert_true(http2_scep_seen(h->c));
	h_free(h);
	conn_free(k);

	k = conn_new();
	h = h_open(1 << 20, 1, 0, 0);
	req_headers(k, 1, END_STREAM, "GET", "/cgi-bin/pkiclient.exe?operation=GetCACert", NULL);
	h_buf(h, Q, &k->q);
	assert_true(http2_scep_seen(h->c));
	h_free(h);
	conn_free(k);
	assert_false(http2_scep_seen(NULL));
}

static void h_conflict_event(struct harness *h, enum stream_ev_kind kind, enum stream_dir dir,
			     const void *data, size_t len, size_t conflict)
{
	struct stream_event ev = {
		.kind = kind, .dir = dir, .data = data, .len = len, .conflict_bytes = conflict,
	};

	h->frame++;
	ev.frame = ev.first_frame = h->frame;
	http2_event(h->c, &ev);
}

/* Retransmissions with other bytes damage the stream they hit: the one
 * whose frame is in flight; for bytes delivered before with none in
 * flight, the newest stream; else the stream of the next frame. Nothing is
 * counted here (reassembly counted the overlap) and no bytes are fed. */
static void test_conflicts(void **state)
{
	struct conn *k = conn_new();
	struct harness *h = h_open(1 << 20, 1, 0, 0);
	uint8_t body[40];

	(void)state;
	memset(body, 0x30, sizeof(body));
	h_buf(h, Q, &k->q);
	h_buf(h, S, &k->s);
	/* before any stream: the next frame's */
	h_conflict_event(h, STREAM_CONFLICT, Q, NULL, 9, 0);
	req_headers(k, 1, 0, "POST", "/scep?operation=PKIOperation", "application/x-pki-message");
	put_data(&k->q, 1, END_STREAM, body, sizeof(body), -1);
	/* the DATA frame cut in two: its second part had other bytes */
	h_data(h, Q, k->q.d, k->q.n - 10);
	h_conflict_event(h, STREAM_DATA, Q, k->q.d + k->q.n - 10, 10, 4);
	k->q.n = 0;
	/* between frames, nothing in flight: the newest stream */
	h_conflict_event(h, STREAM_CONFLICT, S, NULL, 6, 0);
	res_headers(k, 1, END_STREAM, "200", "application/x-pki-message");
	h_buf(h, S, &k->s);
	assert_int_equal(h->n, 1);
	assert_true(h->x[0].damaged);
	assert_int_equal(h->x[0].req.conflict, 9 + 4);
	assert_int_equal(h->x[0].res.conflict, 6);
	assert_false(h->x[0].parse_error);
	assert_body(h->x[0].req.body, h->x[0].req.len, body, sizeof(body));
	assert_int_equal(h->x[0].status, 200);
	assert_int_equal(h->cnt.h2_frame_errors, 0);
	assert_int_equal(h->cnt.tcp_overlaps_conflicting, 0);
	assert_int_equal(h->cnt.http_parse_errors, 0);
	h_free(h);
	conn_free(k);
}

/* --- the real capture ----------------------------------------------------- */

struct cap_ctx {
	struct harness *h;
	struct http1_config cfg;
};

static void *cap_open(void *arg, const struct flow *f)
{
	struct cap_ctx *cc = arg;

	return http2_open(&cc->cfg, &cc->h->cnt, f, on_exchange, cc->h, 0);
}

static int cap_event(void *app, const struct flow *f, const struct stream_event *ev)
{
	(void)f;
	http2_event(app, ev);
	return FLOW_BYTES_READ;
}

static void cap_close(void *app, const struct flow *f)
{
	(void)f;
	http2_close(app);
}

/* nghttp -> nghttpd --no-tls (prior knowledge) on loopback: a GET
 * GetCACaps and a POST PKIOperation of 3000 bytes, one connection each. */
static void test_capture_prior_knowledge(void **state)
{
	static const struct flow_app_ops ops = { .open = cap_open, .event = cap_event, .close = cap_close };
	struct flow_limits lim = { .max_flows = 16, .max_flow_buffer = 1 << 20,
				   .max_total_buffer = 1 << 22 };
	struct cap_ctx cc = { .cfg = { .max_body = 1 << 20 } };
	char *path = test_data_path("h2-prior-knowledge.pcap");
	const char *paths[1] = { path };
	char err[256];
	struct capture *cap;
	struct flow_table *ft;
	struct ip_reasm *ipr;
	struct pkt p;
	struct tcp_seg seg;
	size_t body_len;
	uint8_t *body = test_load("h2-prior-knowledge.body", &body_len);

	(void)state;
	cc.h = calloc(1, sizeof(*cc.h));
	assert_non_null(cc.h);
	cap = capture_open_files(paths, 1, NULL, err, sizeof(err));
	assert_non_null(cap);
	ipr = ip_reasm_new(1 << 20);
	ft = flow_table_new(&lim, &cc.h->cnt, &ops, &cc);
	assert_non_null(ft);
	while (capture_next(cap, &p, err, sizeof(err)) == 1)
		if (pkt_decode_tcp(&p, ipr, &cc.h->cnt, &seg) == PKT_TCP)
			flow_table_input(ft, &seg);
	flow_table_flush(ft);
	flow_table_free(ft);
	ip_reasm_free(ipr);
	capture_close(cap);
	free(path);
	assert_int_equal(cc.h->n, 2);
	assert_int_equal(cc.h->cnt.h2_header_errors, 0);
	assert_int_equal(cc.h->cnt.h2_frame_errors, 0);
	assert_string_equal(cc.h->x[0].method, "GET");
	assert_string_equal(cc.h->x[0].query, "operation=GetCACaps");
	assert_string_equal(cc.h->x[0].host, "127.0.0.1:8080");
	assert_int_equal(cc.h->x[0].status, 200);
	assert_body(cc.h->x[0].res.body, cc.h->x[0].res.len,
		    "POSTPKIOperation\nSHA-256\nAES\nSCEPStandard\n", 42);
	assert_true(cc.h->x[0].req.first_frame > 0);
	assert_true(cc.h->x[0].res.last_frame >= cc.h->x[0].res.first_frame);
	assert_true(cc.h->x[0].res.first_frame > cc.h->x[0].req.first_frame);
	assert_string_equal(cc.h->x[1].method, "POST");
	assert_string_equal(cc.h->x[1].req_ct, "application/x-pki-message");
	assert_body(cc.h->x[1].req.body, cc.h->x[1].req.len, body, body_len);
	assert_int_equal(cc.h->x[1].status, 200);
	free(body);
	h_free(cc.h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_getcacaps),
		cmocka_unit_test(test_post_padded_continuation),
		cmocka_unit_test(test_interleaved_rst_goaway),
		cmocka_unit_test(test_table_size_and_reuse),
		cmocka_unit_test(test_bytewise_equals_oneshot),
		cmocka_unit_test(test_mid_connection),
		cmocka_unit_test(test_mid_frame_resync),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_skip_and_cap),
		cmocka_unit_test(test_candidate_rule),
		cmocka_unit_test(test_stream_and_header_list_caps),
		cmocka_unit_test(test_push_promise),
		cmocka_unit_test(test_after_upgrade),
		cmocka_unit_test(test_open_at_close_and_trailers),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_capture_prior_knowledge),
		cmocka_unit_test(test_many_streams),
		cmocka_unit_test(test_table_ceiling_counted),
		cmocka_unit_test(test_table_over_ceiling),
		cmocka_unit_test(test_budget_sweep),
		cmocka_unit_test(test_scep_seen),
		cmocka_unit_test(test_conflicts),
	};

	return cmocka_run_group_tests_name("http2", tests, NULL, NULL);
}
