/* test_app.c - the application-layer dispatcher (dissectors/app/app.c)
 * through app_flow_ops, the way the stream stage drives it: a fake run
 * (struct app_env) records what it is told, and the stream events carry
 * TLS, HTTP/1 and HTTP/2 bytes built here from their RFCs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "app.h"
#include "counters.h"
#include "http1.h"
#include "packet.h"
#include "tls.h"

#define MAX_X 8

/* One exchange as the run heard it, copied out of the borrowed view. */
struct xrec {
	uint64_t flow_id, seq;
	enum http_version version;
	struct endpoint client, server;
	char *method, *uri;
	int status;
	int over_tls;
};

/* The one on_close report, copied. */
struct endrec {
	int flow_is_ours;
	struct endpoint client, server;
	int tls;
	int saw_client_hello, saw_server_hello;
	char *sni;
	uint64_t exchanges;
	int carried_scep;
};

struct rig {
	struct counters cnt;
	struct http1_config http;
	struct app_env env;
	struct flow f;
	void *app;
	uint64_t frame;
	int verdict;                /* what on_exchange answers: carried SCEP */
	struct xrec x[MAX_X];
	size_t n;
	int closes;
	struct endrec end;
};

static char *sdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int on_exchange(void *arg, const struct http_exchange *e, const struct tls_conn *tls)
{
	struct rig *g = arg;
	struct xrec *x;

	assert_true(g->n < MAX_X);
	x = &g->x[g->n++];
	x->flow_id = e->flow_id;
	x->seq = e->seq;
	x->version = e->version;
	x->client = e->client;
	x->server = e->server;
	x->method = sdup(e->method);
	x->uri = sdup(e->uri);
	x->status = e->status;
	x->over_tls = tls != NULL;
	return g->verdict;
}

static void on_close(void *arg, const struct app_conn_end *end)
{
	struct rig *g = arg;
	const struct tls_info *ti;

	g->closes++;
	g->end.flow_is_ours = end->flow == &g->f;
	g->end.client = end->view->client;
	g->end.server = end->view->server;
	g->end.tls = end->tls != NULL;
	if (end->tls) {
		/* the connection is still readable here, and only here */
		ti = tls_get_info(end->tls);
		g->end.saw_client_hello = ti->saw_client_hello;
		g->end.saw_server_hello = ti->saw_server_hello;
		g->end.sni = sdup(ti->sni);
	}
	g->end.exchanges = end->exchanges;
	g->end.carried_scep = end->carried_scep;
}

static void set_endpoint(struct endpoint *ep, uint8_t last, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->family = 4;
	ep->addr[0] = 192;
	ep->addr[1] = 0;
	ep->addr[2] = 2;
	ep->addr[3] = last;
	ep->port = port;
}

/* A connection the flow table named: "client" 192.0.2.1:50000 (the SYN's
 * sender, or without a SYN the first packet's), "server" 192.0.2.2:80. */
static struct rig *rig_open(int saw_syn)
{
	struct rig *g = calloc(1, sizeof(*g));

	assert_non_null(g);
	g->http.max_body = 1 << 20;
	g->env.http = &g->http;
	g->env.cnt = &g->cnt;
	g->env.on_exchange = on_exchange;
	g->env.on_close = on_close;
	g->env.arg = g;
	g->f.id = 42;
	set_endpoint(&g->f.client, 1, 50000);
	set_endpoint(&g->f.server, 2, 80);
	g->f.saw_syn = saw_syn;
	g->f.first_frame = g->f.last_frame = 1;
	g->app = app_flow_ops.open(&g->env, &g->f);
	assert_non_null(g->app);
	return g;
}

static int rig_event(struct rig *g, enum stream_ev_kind kind, enum stream_dir dir,
		     const void *data, size_t len)
{
	struct stream_event ev = {
		.kind = kind, .dir = dir, .data = data, .len = len,
	};

	g->frame++;
	g->f.last_frame = g->frame;
	ev.frame = ev.first_frame = g->frame;
	ev.ts_ns = ev.first_ts_ns = g->frame * 1000;
	return app_flow_ops.event(g->app, &g->f, &ev);
}

static int rig_data(struct rig *g, enum stream_dir dir, const void *data, size_t len)
{
	return rig_event(g, STREAM_DATA, dir, data, len);
}

static int rig_str(struct rig *g, enum stream_dir dir, const char *s)
{
	return rig_data(g, dir, s, strlen(s));
}

static void rig_close(struct rig *g)
{
	app_flow_ops.close(g->app, &g->f);
	g->app = NULL;
}

static void rig_free(struct rig *g)
{
	size_t i;

	if (g->app)
		rig_close(g);
	for (i = 0; i < g->n; i++) {
		free(g->x[i].method);
		free(g->x[i].uri);
	}
	free(g->end.sni);
	free(g);
}

#define Q DIR_TO_SERVER
#define S DIR_TO_CLIENT

/* --- building wire bytes ------------------------------------------------- */

struct buf {
	uint8_t d[2048];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	assert_true(n <= sizeof(b->d) - b->n);
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void put_u8(struct buf *b, unsigned v)
{
	uint8_t c = (uint8_t)v;

	put(b, &c, 1);
}

static void put_be16(struct buf *b, unsigned v)
{
	put_u8(b, v >> 8);
	put_u8(b, v);
}

static void put_be24(struct buf *b, size_t v)
{
	put_u8(b, (unsigned)(v >> 16));
	put_u8(b, (unsigned)(v >> 8));
	put_u8(b, (unsigned)v);
}

/* Fills in a length field of width bytes at 'at' with what followed it. */
static void patch_len(struct buf *b, size_t at, size_t width)
{
	size_t v = b->n - at - width, i;

	for (i = 0; i < width; i++)
		b->d[at + i] = (uint8_t)(v >> (8 * (width - 1 - i)));
}

/* HTTP/2 (RFC 9113 section 4.1): 24-bit length, type, flags, stream id. */
enum { H2_DATA = 0, H2_HEADERS = 1, H2_SETTINGS = 4 };
enum { H2_END_STREAM = 0x1, H2_ACK = 0x1, H2_END_HEADERS = 0x4 };

static void put_frame(struct buf *b, uint8_t type, uint8_t flags, uint32_t sid,
		      const void *payload, size_t len)
{
	put_be24(b, len);
	put_u8(b, type);
	put_u8(b, flags);
	put_u8(b, sid >> 24);
	put_u8(b, sid >> 16);
	put_u8(b, sid >> 8);
	put_u8(b, sid);
	if (len)
		put(b, payload, len);
}

/* HPACK (RFC 7541 section 6.2.2): a literal without indexing whose name is
 * static table entry idx (under 15: the 4-bit prefix holds it), the value
 * as a raw string (H = 0, 7-bit length). */
static void hpack_literal(struct buf *b, unsigned idx, const char *value)
{
	size_t n = strlen(value);

	assert_true(idx < 15 && n < 127);
	put_u8(b, idx);
	put_u8(b, (unsigned)n);
	put(b, value, n);
}

#define SCEP_CAPS_URI "/cgi-bin/pkiclient.exe?operation=GetCACaps"
#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

/* The client's side of one HTTP/2 GET: the preface, an empty SETTINGS and
 * HEADERS on stream 1 ending the stream. HPACK static table (RFC 7541
 * appendix A): 2 is ":method: GET", 6 ":scheme: http", 4 the name ":path",
 * 1 the name ":authority"; 0x80 | index is an indexed field. */
static void h2_client_get(struct buf *b, const char *path)
{
	struct buf hb = { .n = 0 };

	put(b, H2_PREFACE, strlen(H2_PREFACE));
	put_frame(b, H2_SETTINGS, 0, 0, NULL, 0);
	put_u8(&hb, 0x80 | 2);
	put_u8(&hb, 0x80 | 6);
	hpack_literal(&hb, 4, path);
	hpack_literal(&hb, 1, "ca.example");
	put_frame(b, H2_HEADERS, H2_END_STREAM | H2_END_HEADERS, 1, hb.d, hb.n);
}

/* The server's side: its SETTINGS (the server preface), the ACK of the
 * client's, and ":status: 200" (static index 8) with a body ending stream 1. */
static void h2_server_ok(struct buf *b)
{
	static const char caps[] = "POSTPKIOperation\nSHA-256\n";
	uint8_t status = 0x80 | 8;

	put_frame(b, H2_SETTINGS, 0, 0, NULL, 0);
	put_frame(b, H2_SETTINGS, H2_ACK, 0, NULL, 0);
	put_frame(b, H2_HEADERS, H2_END_HEADERS, 1, &status, 1);
	put_frame(b, H2_DATA, H2_END_STREAM, 1, caps, strlen(caps));
}

/* TLS (RFC 8446 sections 5.1 and 4.1.2): a handshake record holding a
 * ClientHello for TLS 1.3 with server_name "ca.example". */
static void tls_client_hello(struct buf *b)
{
	static const char host[] = "ca.example";
	size_t rec, hs, exts, ext, list;
	unsigned i;

	put_u8(b, 22);                  /* handshake */
	put_be16(b, 0x0301);
	rec = b->n;
	put_be16(b, 0);
	put_u8(b, 1);                   /* client_hello */
	hs = b->n;
	put_be24(b, 0);
	put_be16(b, 0x0303);            /* legacy_version */
	for (i = 0; i < 32; i++)
		put_u8(b, i);           /* random */
	put_u8(b, 0);                   /* legacy_session_id */
	put_be16(b, 2);
	put_be16(b, 0x1301);            /* TLS_AES_128_GCM_SHA256 */
	put_u8(b, 1);
	put_u8(b, 0);                   /* compression: null */
	exts = b->n;
	put_be16(b, 0);
	put_be16(b, 0);                 /* server_name (RFC 6066 section 3) */
	ext = b->n;
	put_be16(b, 0);
	list = b->n;
	put_be16(b, 0);
	put_u8(b, 0);                   /* host_name */
	put_be16(b, strlen(host));
	put(b, host, strlen(host));
	patch_len(b, list, 2);
	patch_len(b, ext, 2);
	put_be16(b, 43);                /* supported_versions */
	put_be16(b, 3);
	put_u8(b, 2);
	put_be16(b, 0x0304);
	patch_len(b, exts, 2);
	patch_len(b, hs, 3);
	patch_len(b, rec, 2);
}

/* The answer: a ServerHello choosing TLS 1.3 and TLS_AES_128_GCM_SHA256. */
static void tls_server_hello(struct buf *b)
{
	size_t rec, hs, exts;
	unsigned i;

	put_u8(b, 22);
	put_be16(b, 0x0303);
	rec = b->n;
	put_be16(b, 0);
	put_u8(b, 2);                   /* server_hello */
	hs = b->n;
	put_be24(b, 0);
	put_be16(b, 0x0303);
	for (i = 0; i < 32; i++)
		put_u8(b, 0x80 + i);
	put_u8(b, 0);                   /* legacy_session_id_echo */
	put_be16(b, 0x1301);
	put_u8(b, 0);
	exts = b->n;
	put_be16(b, 0);
	put_be16(b, 43);
	put_be16(b, 2);
	put_be16(b, 0x0304);
	patch_len(b, exts, 2);
	patch_len(b, hs, 3);
	patch_len(b, rec, 2);
}

/* An application_data record whose content is opaque without keys. */
static void tls_app_data(struct buf *b, uint8_t fill)
{
	size_t i;

	put_u8(b, 23);
	put_be16(b, 0x0303);
	put_be16(b, 40);
	for (i = 0; i < 40; i++)
		put_u8(b, fill);
}

static const char scep_get[] =
	"GET " SCEP_CAPS_URI " HTTP/1.1\r\nHost: ca.example\r\n\r\n";
static const char caps_ok[] =
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 25\r\n\r\n"
	"POSTPKIOperation\nSHA-256\n";

static void assert_roles(const struct endpoint *client, const struct endpoint *server,
			 const struct endpoint *want_client, const struct endpoint *want_server)
{
	assert_true(endpoint_eq(client, want_client));
	assert_true(endpoint_eq(server, want_server));
}

/* --- tests ---------------------------------------------------------------- */

/* A SYN fixed the roles: a SCEP GET and its answer are one HTTP/1 exchange,
 * and the connection looks like SCEP from the request on, whatever the run
 * says of the exchange. */
static void test_http1_scep_get(void **state)
{
	struct rig *g = rig_open(1);
	struct xrec *x;

	(void)state;
	assert_int_equal(app_flow_ops.looked_like_scep(g->app), 0);
	assert_int_equal(rig_str(g, Q, scep_get), FLOW_BYTES_READ);
	assert_int_equal(g->n, 0);
	assert_int_equal(app_flow_ops.looked_like_scep(g->app), 1);
	assert_int_equal(rig_str(g, S, caps_ok), FLOW_BYTES_READ);
	assert_int_equal(g->n, 1);
	x = &g->x[0];
	assert_int_equal(x->version, HTTP_V1);
	assert_int_equal(x->flow_id, 42);
	assert_int_equal(x->seq, 1);
	assert_string_equal(x->method, "GET");
	assert_string_equal(x->uri, SCEP_CAPS_URI);
	assert_int_equal(x->status, 200);
	assert_false(x->over_tls);
	assert_roles(&x->client, &x->server, &g->f.client, &g->f.server);
	assert_int_equal(app_flow_ops.looked_like_scep(g->app), 1);
	rig_close(g);
	assert_int_equal(g->closes, 1);
	assert_true(g->end.flow_is_ours);
	assert_false(g->end.tls);
	assert_int_equal(g->end.exchanges, 1);
	/* the run said "not SCEP" (verdict 0) */
	assert_false(g->end.carried_scep);
	assert_roles(&g->end.client, &g->end.server, &g->f.client, &g->f.server);
	rig_free(g);
}

/* What on_exchange answers reaches the end report and looked_like_scep. */
static void test_http1_run_says_scep(void **state)
{
	struct rig *g = rig_open(1);

	(void)state;
	g->verdict = 1;
	rig_str(g, Q, scep_get);
	rig_str(g, S, caps_ok);
	assert_int_equal(g->n, 1);
	assert_int_equal(app_flow_ops.looked_like_scep(g->app), 1);
	rig_close(g);
	assert_true(g->end.carried_scep);
	assert_int_equal(g->end.exchanges, 1);
	rig_free(g);
}

/* A GET without operation= is HTTP/1 all the same, but nothing about it
 * looks like SCEP: HTTP/1 keeps it to itself (http_skipped) and the
 * connection is one to shed first. */
static void test_http1_not_scep(void **state)
{
	struct rig *g = rig_open(1);

	(void)state;
	assert_int_equal(rig_str(g, Q, "GET /index.html HTTP/1.1\r\nHost: www.example\r\n\r\n"),
			 FLOW_BYTES_READ);
	assert_int_equal(app_flow_ops.looked_like_scep(g->app), 0);
	assert_int_equal(rig_str(g, S, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
					"Content-Length: 2\r\n\r\nhi"),
			 FLOW_BYTES_READ);
	assert_int_equal(app_flow_ops.looked_like_scep(g->app), 0);
	rig_close(g);
	assert_int_equal(g->n, 0);
	assert_int_equal(g->cnt.http_skipped, 1);
	assert_int_equal(g->closes, 1);
	assert_false(g->end.carried_scep);
	rig_free(g);
}

/* Without a SYN, a request sent first toward the flow table's server is
 * read the way round it came: no swap. */
static void test_http1_no_syn_request_keeps_roles(void **state)
{
	struct rig *g = rig_open(0);

	(void)state;
	rig_str(g, Q, scep_get);
	rig_str(g, S, caps_ok);
	assert_int_equal(g->n, 1);
	assert_string_equal(g->x[0].method, "GET");
	assert_roles(&g->x[0].client, &g->x[0].server, &g->f.client, &g->f.server);
	rig_close(g);
	assert_roles(&g->end.client, &g->end.server, &g->f.client, &g->f.server);
	rig_free(g);
}

/* Without a SYN the flow table named the first packet's sender client;
 * when those bytes are an HTTP/1 response (a status line), the sender was
 * the server: the exchanges and the end report carry the swapped roles. */
static void test_http1_response_first_swaps(void **state)
{
	struct rig *g = rig_open(0);

	(void)state;
	/* the answer to a GetCACert the capture missed (RFC 8894 section 4.2.1) */
	assert_int_equal(rig_str(g, Q, "HTTP/1.1 200 OK\r\nContent-Type: application/x-x509-ca-cert\r\n"
					"Content-Length: 2\r\n\r\nCA"),
			 FLOW_BYTES_READ);
	/* the next exchange: the request flows "to client" as the table sees it */
	assert_int_equal(rig_str(g, S, scep_get), FLOW_BYTES_READ);
	assert_int_equal(rig_str(g, Q, caps_ok), FLOW_BYTES_READ);
	assert_int_equal(g->n, 2);
	assert_null(g->x[0].method);
	assert_int_equal(g->x[0].status, 200);
	assert_roles(&g->x[0].client, &g->x[0].server, &g->f.server, &g->f.client);
	assert_string_equal(g->x[1].method, "GET");
	assert_string_equal(g->x[1].uri, SCEP_CAPS_URI);
	assert_int_equal(g->x[1].status, 200);
	assert_roles(&g->x[1].client, &g->x[1].server, &g->f.server, &g->f.client);
	rig_close(g);
	assert_int_equal(g->end.exchanges, 2);
	assert_roles(&g->end.client, &g->end.server, &g->f.server, &g->f.client);
	rig_free(g);
}

/* HTTP/2 with prior knowledge (RFC 9113 section 3.3): the client preface
 * opens HTTP/2, not HTTP/1 and not nothing. */
static void test_h2_prior_knowledge(void **state)
{
	struct rig *g = rig_open(1);
	struct buf c = { .n = 0 }, s = { .n = 0 };

	(void)state;
	h2_client_get(&c, SCEP_CAPS_URI);
	h2_server_ok(&s);
	assert_int_equal(rig_data(g, Q, c.d, c.n), FLOW_BYTES_READ);
	assert_int_equal(app_flow_ops.looked_like_scep(g->app), 1);
	assert_int_equal(rig_data(g, S, s.d, s.n), FLOW_BYTES_READ);
	assert_int_equal(g->n, 1);
	assert_int_equal(g->x[0].version, HTTP_V2);
	assert_int_equal(g->x[0].seq, 1);
	assert_string_equal(g->x[0].method, "GET");
	assert_string_equal(g->x[0].uri, SCEP_CAPS_URI);
	assert_int_equal(g->x[0].status, 200);
	assert_roles(&g->x[0].client, &g->x[0].server, &g->f.client, &g->f.server);
	/* the frames built above are well formed */
	assert_int_equal(g->cnt.h2_frame_errors, 0);
	assert_int_equal(g->cnt.h2_resync_bytes, 0);
	rig_close(g);
	assert_int_equal(g->end.exchanges, 1);
	assert_false(g->end.tls);
	rig_free(g);
}

/* Bytes no layer claims (an SSH banner, RFC 4253 section 4.2): nothing of
 * the connection will be read, from either direction, with or without a
 * SYN. */
static void test_unknown_protocol_unread(void **state)
{
	int syn;

	(void)state;
	for (syn = 0; syn <= 1; syn++) {
		struct rig *g = rig_open(syn);

		assert_int_equal(rig_str(g, Q, "SSH-2.0-OpenSSH_9.6\r\n"), FLOW_BYTES_UNREAD);
		assert_int_equal(rig_str(g, S, "SSH-2.0-OpenSSH_9.6\r\n"), FLOW_BYTES_UNREAD);
		/* an HTTP request later on does not reopen the question */
		assert_int_equal(rig_str(g, Q, scep_get), FLOW_BYTES_UNREAD);
		assert_int_equal(app_flow_ops.looked_like_scep(g->app), 0);
		rig_close(g);
		assert_int_equal(g->n, 0);
		assert_int_equal(g->closes, 1);
		assert_false(g->end.tls);
		assert_int_equal(g->end.exchanges, 0);
		rig_free(g);
	}
}

/* A ClientHello opens TLS; without a key log the handshake is metadata
 * only and no HTTP exchange comes out of the encrypted records. */
static void test_tls_without_keys(void **state)
{
	struct rig *g = rig_open(1);
	struct buf ch = { .n = 0 }, sh = { .n = 0 }, q = { .n = 0 }, r = { .n = 0 };

	(void)state;
	tls_client_hello(&ch);
	tls_server_hello(&sh);
	tls_app_data(&q, 0x11);
	tls_app_data(&r, 0x22);
	assert_int_equal(rig_data(g, Q, ch.d, ch.n), FLOW_BYTES_READ);
	rig_data(g, S, sh.d, sh.n);
	rig_data(g, Q, q.d, q.n);
	rig_data(g, S, r.d, r.n);
	/* TLS cannot tell SCEP apart, and nothing carried came out */
	assert_int_equal(app_flow_ops.looked_like_scep(g->app), 0);
	rig_close(g);
	assert_int_equal(g->n, 0);
	assert_int_equal(g->closes, 1);
	assert_true(g->end.tls);
	assert_true(g->end.saw_client_hello);
	assert_true(g->end.saw_server_hello);
	assert_string_equal(g->end.sni, "ca.example");
	assert_int_equal(g->end.exchanges, 0);
	assert_false(g->end.carried_scep);
	assert_roles(&g->end.client, &g->end.server, &g->f.client, &g->f.server);
	rig_free(g);
}

/* Edge (a): a SYN named the roles, so a ServerHello sent first toward the
 * server is not TLS the other way round; it is nothing. Without the SYN
 * the same bytes swap the roles and open TLS: as for HTTP, the other
 * direction is asked only when no SYN was seen. */
static void test_tls_server_hello_against_syn(void **state)
{
	struct buf sh = { .n = 0 };
	struct rig *g;

	(void)state;
	tls_server_hello(&sh);

	g = rig_open(1);
	assert_int_equal(rig_data(g, Q, sh.d, sh.n), FLOW_BYTES_UNREAD);
	rig_close(g);
	assert_false(g->end.tls);
	assert_int_equal(g->end.exchanges, 0);
	rig_free(g);

	g = rig_open(0);
	assert_int_equal(rig_data(g, Q, sh.d, sh.n), FLOW_BYTES_READ);
	rig_close(g);
	assert_true(g->end.tls);
	assert_true(g->end.saw_server_hello);
	assert_false(g->end.saw_client_hello);
	assert_roles(&g->end.client, &g->end.server, &g->f.server, &g->f.client);
	rig_free(g);
}

/* Edge (b): without a SYN, an HTTP/2 client preface sent first toward the
 * flow table's client came from the real client: the roles swap and the
 * connection is HTTP/2, as HTTP/1 and TLS already did. With a SYN the same
 * bytes are read as sent, and match nothing. */
static void test_h2_preface_toward_client(void **state)
{
	struct buf c = { .n = 0 }, s = { .n = 0 };
	struct rig *g;

	(void)state;
	h2_client_get(&c, SCEP_CAPS_URI);
	h2_server_ok(&s);

	g = rig_open(0);
	assert_int_equal(rig_data(g, S, c.d, c.n), FLOW_BYTES_READ);
	assert_int_equal(rig_data(g, Q, s.d, s.n), FLOW_BYTES_READ);
	assert_int_equal(g->n, 1);
	assert_int_equal(g->x[0].version, HTTP_V2);
	assert_string_equal(g->x[0].method, "GET");
	assert_string_equal(g->x[0].uri, SCEP_CAPS_URI);
	assert_int_equal(g->x[0].status, 200);
	assert_roles(&g->x[0].client, &g->x[0].server, &g->f.server, &g->f.client);
	rig_close(g);
	assert_int_equal(g->end.exchanges, 1);
	assert_roles(&g->end.client, &g->end.server, &g->f.server, &g->f.client);
	rig_free(g);

	g = rig_open(1);
	assert_int_equal(rig_data(g, S, c.d, c.n), FLOW_BYTES_UNREAD);
	assert_int_equal(rig_data(g, Q, s.d, s.n), FLOW_BYTES_UNREAD);
	rig_close(g);
	assert_int_equal(g->n, 0);
	assert_int_equal(g->end.exchanges, 0);
	rig_free(g);
}

/* A flow that starts with a gap stays undecided; the first data decides. */
static void test_gap_first_then_request(void **state)
{
	struct rig *g = rig_open(1);

	(void)state;
	assert_int_equal(rig_event(g, STREAM_GAP, Q, NULL, 100), FLOW_BYTES_READ);
	assert_int_equal(rig_str(g, Q, scep_get), FLOW_BYTES_READ);
	assert_int_equal(rig_str(g, S, caps_ok), FLOW_BYTES_READ);
	assert_int_equal(g->n, 1);
	assert_string_equal(g->x[0].uri, SCEP_CAPS_URI);
	rig_free(g);
}

/* A connection without any bytes still closes once, with nothing in it. */
static void test_close_without_data(void **state)
{
	struct rig *g = rig_open(1);

	(void)state;
	rig_event(g, STREAM_FIN, Q, NULL, 0);
	rig_close(g);
	assert_int_equal(g->closes, 1);
	assert_true(g->end.flow_is_ours);
	assert_false(g->end.tls);
	assert_int_equal(g->end.exchanges, 0);
	assert_false(g->end.carried_scep);
	assert_int_equal(g->n, 0);
	rig_free(g);
}

/* open() returns NULL when out of memory; the stream stage still calls. */
static void test_null_connection(void **state)
{
	struct flow f;
	struct stream_event ev = { .kind = STREAM_DATA, .dir = Q,
				   .data = (const uint8_t *)"GET ", .len = 4 };

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(app_flow_ops.event(NULL, &f, &ev), FLOW_BYTES_READ);
	assert_int_equal(app_flow_ops.looked_like_scep(NULL), 0);
	app_flow_ops.close(NULL, &f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http1_scep_get),
		cmocka_unit_test(test_http1_run_says_scep),
		cmocka_unit_test(test_http1_not_scep),
		cmocka_unit_test(test_http1_no_syn_request_keeps_roles),
		cmocka_unit_test(test_http1_response_first_swaps),
		cmocka_unit_test(test_h2_prior_knowledge),
		cmocka_unit_test(test_unknown_protocol_unread),
		cmocka_unit_test(test_tls_without_keys),
		cmocka_unit_test(test_tls_server_hello_against_syn),
		cmocka_unit_test(test_h2_preface_toward_client),
		cmocka_unit_test(test_gap_first_then_request),
		cmocka_unit_test(test_close_without_data),
		cmocka_unit_test(test_null_connection),
	};

	return cmocka_run_group_tests_name("app", tests, NULL, NULL);
}
