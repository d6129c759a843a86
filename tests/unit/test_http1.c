/* test_http1.c - HTTP/1 exchanges from crafted byte streams: feeds
 * dissectors/app/http1.c through its public interface with a fake flow and keeps
 * deep copies of what it emits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "counters.h"
#include "http1.h"
#include "membudget.h"

#define MAX_X 16

struct xcopy {
	uint64_t flow_id, seq;
	char *host, *method, *uri, *path, *query, *status_text;
	char *server_header, *location, *connection, *error_text;
	char *req_ct, *req_cl, *res_ct, *res_cl;
	int status, damaged, parse_error;
	uint64_t gap_bytes;
	struct {
		int present, capped, parse_error;
		uint64_t first_frame, last_frame, first_ts, last_ts, wire, conflict;
		uint8_t *body;
		size_t len;
	} req, res;
};

struct harness {
	struct http1_conn *c;
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
	x->flow_id = e->flow_id;
	x->seq = e->seq;
	x->host = sdup(e->host);
	x->method = sdup(e->method);
	x->uri = sdup(e->uri);
	x->path = sdup(e->path);
	x->query = sdup(e->query);
	x->status = e->status;
	x->status_text = sdup(e->status_text);
	x->server_header = sdup(e->server_header);
	x->location = sdup(e->location);
	x->connection = sdup(e->connection);
	x->req_ct = sdup(e->req.content_type);
	x->req_cl = sdup(e->req.content_length);
	x->res_ct = sdup(e->res.content_type);
	x->res_cl = sdup(e->res.content_length);
	x->damaged = e->damaged;
	x->gap_bytes = e->gap_bytes;
	x->parse_error = e->parse_error;
	x->error_text = sdup(e->error_text);
#define SIDE(s) \
	x->s.present = e->s.present; \
	x->s.capped = e->s.body_capped; \
	x->s.parse_error = e->s.parse_error; \
	x->s.conflict = e->s.conflict_bytes; \
	x->s.first_frame = e->s.first_frame; \
	x->s.last_frame = e->s.last_frame; \
	x->s.first_ts = e->s.first_ts_ns; \
	x->s.last_ts = e->s.last_ts_ns; \
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
	free(x->query); free(x->status_text); free(x->server_header);
	free(x->location); free(x->connection); free(x->error_text);
	free(x->req_ct); free(x->req_cl); free(x->res_ct); free(x->res_cl);
	free(x->req.body); free(x->res.body);
}

/* mem: the budget the connection charges (NULL: none). */
static struct harness *h_open_mem(size_t max_body, int saw_syn, int bytewise,
				  struct mem_budget *mem)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct http1_config cfg = { .max_body = max_body, .mem = mem };

	assert_non_null(h);
	h->f.id = 7;
	h->f.client.family = 4;
	h->f.client.addr[0] = 10;
	h->f.client.addr[3] = 1;
	h->f.client.port = 50000;
	h->f.server.family = 4;
	h->f.server.addr[0] = 10;
	h->f.server.addr[3] = 2;
	h->f.server.port = 80;
	h->f.saw_syn = saw_syn;
	h->bytewise = bytewise;
	h->c = http1_open(&cfg, &h->cnt, &h->f, on_exchange, h);
	assert_non_null(h->c);
	return h;
}

static struct harness *h_open(size_t max_body, int saw_syn, int bytewise)
{
	return h_open_mem(max_body, saw_syn, bytewise, NULL);
}

static void h_event(struct harness *h, enum stream_ev_kind kind,
		    enum stream_dir dir, const void *data, size_t len)
{
	struct stream_event ev = {
		.kind = kind, .dir = dir, .data = data, .len = len,
		.frame = h->frame, .first_frame = h->frame,
		.ts_ns = h->frame * 1000, .first_ts_ns = h->frame * 1000,
	};

	http1_event(h->c, &ev);
}

/* One "segment": a new frame number; bytewise splits it into 1-byte events
 * of the same frame, which must not change anything. */
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

static void h_str(struct harness *h, enum stream_dir dir, const char *s)
{
	h_data(h, dir, s, strlen(s));
}

static void h_gap(struct harness *h, enum stream_dir dir, size_t len)
{
	h->frame++;
	h_event(h, STREAM_GAP, dir, NULL, len);
}

/* A DATA event some of whose bytes had a held copy with other content. */
static void h_data_conflict(struct harness *h, enum stream_dir dir, const char *s, size_t conflict)
{
	struct stream_event ev = {
		.kind = STREAM_DATA, .dir = dir, .data = (const uint8_t *)s, .len = strlen(s),
		.conflict_bytes = conflict,
	};

	h->frame++;
	ev.frame = ev.first_frame = h->frame;
	http1_event(h->c, &ev);
}

/* len bytes already delivered were contradicted by a retransmission. */
static void h_conflict(struct harness *h, enum stream_dir dir, size_t len)
{
	struct stream_event ev = { .kind = STREAM_CONFLICT, .dir = dir, .len = len };

	h->frame++;
	ev.frame = ev.first_frame = h->frame;
	http1_event(h->c, &ev);
}

static void h_fin(struct harness *h, enum stream_dir dir)
{
	h->frame++;
	h_event(h, STREAM_FIN, dir, NULL, 0);
}

static void h_close(struct harness *h)
{
	http1_close(h->c);
	h->c = NULL;
}

static void h_free(struct harness *h)
{
	size_t i;

	if (h->c)
		http1_close(h->c);
	for (i = 0; i < h->n; i++)
		xcopy_free(&h->x[i]);
	free(h);
}

static void assert_body(const uint8_t *body, size_t len, const void *want, size_t wlen)
{
	assert_int_equal(len, wlen);
	if (wlen)
		assert_memory_equal(body, want, wlen);
}

#define Q DIR_TO_SERVER
#define S DIR_TO_CLIENT

static const char pki_resp_hdr[] =
	"HTTP/1.1 200 OK\r\n"
	"Content-Type: application/x-pki-message\r\n"
	"Server: Microsoft-IIS/10.0\r\n"
	"Content-Length: 6\r\n\r\n";

/* --- tests ---------------------------------------------------------------- */

static void test_probe(void **state)
{
	(void)state;
	assert_int_equal(http1_probe((const uint8_t *)"GET / HTTP/1.1", 14, Q), 1);
	assert_int_equal(http1_probe((const uint8_t *)"POST /x", 7, Q), 1);
	assert_int_equal(http1_probe((const uint8_t *)"OPTIONS *", 9, Q), 1);
	assert_int_equal(http1_probe((const uint8_t *)"GETX / ", 7, Q), 0);
	assert_int_equal(http1_probe((const uint8_t *)"GET", 3, Q), 0);
	assert_int_equal(http1_probe((const uint8_t *)"get / ", 6, Q), 0);
	assert_int_equal(http1_probe((const uint8_t *)"\x16\x03\x01\x02", 4, Q), 0);
	assert_int_equal(http1_probe((const uint8_t *)"HTTP/1.1 200 OK", 15, S), 1);
	assert_int_equal(http1_probe((const uint8_t *)"HTTP/1.0 404", 12, S), 1);
	assert_int_equal(http1_probe((const uint8_t *)"HTTP/2.0 200", 12, S), 0);
	assert_int_equal(http1_probe((const uint8_t *)"HTTP/1.1 20", 11, S), 0);
	assert_int_equal(http1_probe((const uint8_t *)"GET / HTTP/1.1", 14, S), 0);
	assert_int_equal(http1_probe((const uint8_t *)"HTTP/1.1 200", 12, Q), 0);
	assert_int_equal(http1_probe(NULL, 0, Q), 0);
}

static void test_get_pkioperation(void **state)
{
	struct harness *h = h_open(1 << 20, 1, 0);
	struct xcopy *x;

	(void)state;
	h_str(h, Q, "GET /cgi-bin/pkiclient.exe?operation=PKIOperation&message=MIIB%2Bx%3D HTTP/1.1\r\n"
		    "Host: ndes.example:8080\r\n\r\n");
	assert_int_equal(h->n, 0);
	h_data(h, S, pki_resp_hdr, strlen(pki_resp_hdr));
	h_data(h, S, "\x30\x82\x00\x01\x00\xff", 6);
	assert_int_equal(h->n, 1);
	x = &h->x[0];
	assert_int_equal(x->flow_id, 7);
	assert_int_equal(x->seq, 1);
	assert_string_equal(x->method, "GET");
	assert_string_equal(x->uri, "/cgi-bin/pkiclient.exe?operation=PKIOperation&message=MIIB%2Bx%3D");
	assert_string_equal(x->path, "/cgi-bin/pkiclient.exe");
	assert_string_equal(x->query, "operation=PKIOperation&message=MIIB%2Bx%3D");
	assert_string_equal(x->host, "ndes.example:8080");
	assert_int_equal(x->status, 200);
	assert_string_equal(x->status_text, "OK");
	assert_string_equal(x->server_header, "Microsoft-IIS/10.0");
	assert_string_equal(x->res_ct, "application/x-pki-message");
	assert_string_equal(x->res_cl, "6");
	assert_null(x->req_ct);
	assert_null(x->location);
	assert_true(x->req.present);
	assert_true(x->res.present);
	assert_body(x->res.body, x->res.len, "\x30\x82\x00\x01\x00\xff", 6);
	assert_int_equal(x->res.wire, 6);
	assert_int_equal(x->req.len, 0);
	assert_false(x->damaged);
	assert_false(x->parse_error);
	/* frames: request in frame 1, response headers 2, body 3 */
	assert_int_equal(x->req.first_frame, 1);
	assert_int_equal(x->req.last_frame, 1);
	assert_int_equal(x->res.first_frame, 2);
	assert_int_equal(x->res.last_frame, 3);
	assert_int_equal(x->res.last_ts, 3000);
	assert_int_equal(h->cnt.http_skipped, 0);
	h_free(h);
}

static void test_post_binary_nul(void **state)
{
	static const uint8_t req_body[] = { 0x30, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00 };
	struct harness *h = h_open(1 << 20, 1, 0);
	struct xcopy *x;

	(void)state;
	h_str(h, Q, "POST /scep?Operation=PKIOperation HTTP/1.1\r\nHost: ca\r\n"
		    "Content-Type: application/x-pki-message\r\nContent-Length: 7\r\n\r\n");
	h_data(h, Q, req_body, 3);
	h_data(h, Q, req_body + 3, 4);
	h_data(h, S, pki_resp_hdr, strlen(pki_resp_hdr));
	h_data(h, S, "\x00\x00\x00\x00\x00\x00", 6);
	h_close(h);
	assert_int_equal(h->n, 1);
	x = &h->x[0];
	assert_string_equal(x->method, "POST");
	assert_string_equal(x->query, "Operation=PKIOperation");
	assert_string_equal(x->req_ct, "application/x-pki-message");
	assert_string_equal(x->req_cl, "7");
	assert_body(x->req.body, x->req.len, req_body, sizeof(req_body));
	assert_int_equal(x->req.wire, 7);
	assert_body(x->res.body, x->res.len, "\0\0\0\0\0\0", 6);
	assert_int_equal(x->req.first_frame, 1);
	assert_int_equal(x->req.last_frame, 3);
	h_free(h);
}

static void test_pki_content_type_without_operation(void **state)
{
	struct harness *h = h_open(1 << 20, 1, 0);

	(void)state;
	h_str(h, Q, "POST /submit HTTP/1.1\r\nContent-Type: Application/PKCS7-MIME; smime-type=x\r\n"
		    "Content-Length: 2\r\n\r\nab");
	h_str(h, S, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(h->n, 1);
	assert_body(h->x[0].req.body, h->x[0].req.len, "ab", 2);
	assert_int_equal(h->x[0].status, 204);
	h_free(h);
}

static void test_chunked_response(void **state)
{
	struct harness *h = h_open(1 << 20, 1, 0);
	struct xcopy *x;

	(void)state;
	h_str(h, Q, "GET /scep?operation=GetCACert&message=0 HTTP/1.1\r\nHost: ca\r\n\r\n");
	h_str(h, S, "HTTP/1.1 200 OK\r\nContent-Type: application/x-x509-ca-ra-cert\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n");
	h_str(h, S, "3\r\nef");
	h_str(h, S, "g\r\n0\r\n\r\n");
	assert_int_equal(h->n, 1);
	x = &h->x[0];
	assert_string_equal(x->res_ct, "application/x-x509-ca-ra-cert");
	assert_null(x->res_cl);
	assert_body(x->res.body, x->res.len, "abcdefg", 7);
	assert_int_equal(x->res.wire, 7);
	assert_int_equal(x->res.first_frame, 2);
	assert_int_equal(x->res.last_frame, 4);
	h_free(h);
}

static void test_keepalive_three(void **state)
{
	struct harness *h = h_open(1 << 20, 1, 0);
	char body[2] = { 0, 0 };
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		char req[128];

		snprintf(req, sizeof(req), "GET /scep?operation=GetCACaps&n=%d HTTP/1.1\r\nHost: ca\r\n\r\n", i);
		h_str(h, Q, req);
		h_str(h, S, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\n");
		body[0] = (char)('A' + i);
		h_str(h, S, body);
		assert_int_equal(h->n, (size_t)i + 1);
	}
	for (i = 0; i < 3; i++) {
		char q[64];

		snprintf(q, sizeof(q), "operation=GetCACaps&n=%d", i);
		assert_int_equal(h->x[i].seq, (uint64_t)i + 1);
		assert_string_equal(h->x[i].query, q);
		assert_string_equal(h->x[i].res_ct, "text/plain");
		assert_int_equal(h->x[i].res.len, 1);
		assert_int_equal(h->x[i].res.body[0], 'A' + i);
	}
	h_close(h);
	assert_int_equal(h->n, 3);
	h_free(h);
}

static void test_pipelined(void **state)
{
	struct harness *h = h_open(1 << 20, 1, 0);

	(void)state;
	h_str(h, Q, "GET /scep?operation=GetCACaps HTTP/1.1\r\nHost: ca\r\n\r\n"
		    "GET /scep?operation=GetCACert HTTP/1.1\r\nHost: ca\r\n\r\n");
	assert_int_equal(h->n, 0);
	h_str(h, S, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nAES\n"
		    "HTTP/1.1 200 OK\r\nContent-Type: application/x-x509-ca-cert\r\n"
		    "Content-Length: 3\r\n\r\n\x30\x03\x01");
	assert_int_equal(h->n, 2);
	assert_string_equal(h->x[0].query, "operation=GetCACaps");
	assert_body(h->x[0].res.body, h->x[0].res.len, "AES\n", 4);
	assert_string_equal(h->x[1].query, "operation=GetCACert");
	assert_string_equal(h->x[1].res_ct, "application/x-x509-ca-cert");
	assert_body(h->x[1].res.body, h->x[1].res.len, "\x30\x03\x01", 3);
	assert_int_equal(h->x[0].seq, 1);
	assert_int_equal(h->x[1].seq, 2);
	h_free(h);
}

static void test_body_until_close(void **state)
{
	struct harness *h = h_open(1 << 20, 1, 0);

	(void)state;
	h_str(h, Q, "GET /scep?operation=GetCACert HTTP/1.1\r\nHost: ca\r\n\r\n");
	h_str(h, S, "HTTP/1.1 200 OK\r\nContent-Type: application/x-x509-ca-cert\r\n"
		    "Connection: close\r\n\r\nabc");
	h_str(h, S, "def");
	assert_int_equal(h->n, 0);
	h_fin(h, S);
	assert_int_equal(h->n, 1);
	assert_body(h->x[0].res.body, h->x[0].res.len, "abcdef", 6);
	assert_string_equal(h->x[0].connection, "close");
	assert_int_equal(h->x[0].res.last_frame, 3);
	h_close(h);
	assert_int_equal(h->n, 1);
	h_free(h);
}

static void test_100_continue(void **state)
{
	struct harness *h = h_open(1 << 20, 1, 0);

	(void)state;
	h_str(h, Q, "POST /scep?operation=PKIOperation HTTP/1.1\r\nHost: ca\r\n"
		    "Content-Length: 4\r\nExpect: 100-continue\r\n\r\n");
	h_str(h, S, "HTTP/1.1 100 Continue\r\n\r\n");
	h_data(h, Q, "\x30\x02\x05\x00", 4);
	h_str(h, S, "HTTP/1.1 200 OK\r\nContent-Type: application/x-pki-message\r\n"
		    "Content-Length: 2\r\n\r\nok");
	assert_int_equal(h->n, 1);
	assert_int_equal(h->x[0].status, 200);
	assert_string_equal(h->x[0].status_text, "OK");
	assert_body(h->x[0].req.body, h->x[0].req.len, "\x30\x02\x05\x00", 4);
	assert_body(h->x[0].res.body, h->x[0].res.len, "ok", 2);
	h_free(h);
}

static void test_http10_and_head(void **state)
{
	struct harness *h = h_open(1 << 20, 1, 0);

	(void)state;
	h_str(h, Q, "HEAD /scep?operation=GetCACaps HTTP/1.1\r\nHost: ca\r\n\r\n");
	h_str(h, S, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
	h_str(h, Q, "GET /scep?operation=GetCACaps HTTP/1.0\r\n\r\n");
	h_str(h, S, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nPOSTPKIOperation\n");
	assert_int_equal(h->n, 1);
	assert_string_equal(h->x[0].method, "HEAD");
	assert_int_equal(h->x[0].res.len, 0);
	assert_string_equal(h->x[0].res_cl, "100");
	h_fin(h, S);
	assert_int_equal(h->n, 2);
	assert_string_equal(h->x[1].method, "GET");
	assert_null(h->x[1].host);
	assert_body(h->x[1].res.body, h->x[1].res.len, "POSTPKIOperation\n", 17);
	h_free(h);
}

static void test_response_only(void **state)
{
	struct harness *h = h_open(1 << 20, 0, 0);

	(void)state;
	h_data(h, S, pki_resp_hdr, strlen(pki_resp_hdr));
	h_str(h, S, "123456");
	assert_int_equal(h->n, 1);
	assert_null(h->x[0].method);
	assert_null(h->x[0].uri);
	assert_null(h->x[0].query);
	assert_false(h->x[0].req.present);
	assert_true(h->x[0].res.present);
	assert_int_equal(h->x[0].status, 200);
	assert_body(h->x[0].res.body, h->x[0].res.len, "123456", 6);
	/* a response-only exchange of another type is not SCEP */
	h_str(h, S, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nhi");
	assert_int_equal(h->n, 1);
	h_str(h, S, "HTTP/1.1 200 OK\r\nContent-Type: application/x-x509-ca-ra-cert\r\n"
		    "Content-Length: 2\r\n\r\nca");
	h_close(h);
	assert_int_equal(h->n, 2);
	assert_null(h->x[1].method);
	assert_string_equal(h->x[1].res_ct, "application/x-x509-ca-ra-cert");
	assert_body(h->x[1].res.body, h->x[1].res.len, "ca", 2);
	assert_int_equal(h->cnt.http_skipped, 1);
	h_free(h);
}

static void test_request_only_at_close(void **state)
{
	struct harness *h = h_open(1 << 20, 1, 0);

	(void)state;
	h_str(h, Q, "POST /scep?operation=PKIOperation HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz");
	h_fin(h, Q);
	assert_int_equal(h->n, 0);
	h_close(h);
	assert_int_equal(h->n, 1);
	assert_int_equal(h->x[0].status, 0);
	assert_false(h->x[0].res.present);
	assert_true(h->x[0].req.present);
	assert_null(h->x[0].status_text);
	assert_body(h->x[0].req.body, h->x[0].req.len, "xyz", 3);
	h_free(h);
}

static void test_gap_in_response_body(void **state)
{
	struct harness *h = h_open(1 << 20, 1, 0);

	(void)state;
	h_str(h, Q, "GET /scep?operation=GetCACert HTTP/1.1\r\n\r\n");
	h_str(h, S, "HTTP/1.1 200 OK\r\nContent-Type: application/x-x509-ca-cert\r\n"
		    "Content-Length: 10\r\n\r\nab");
	h_gap(h, S, 5);
	h_str(h, S, "cde");
	assert_int_equal(h->n, 1);
	assert_true(h->x[0].damaged);
	assert_int_equal(h->x[0].gap_bytes, 5);
	assert_body(h->x[0].res.body, h->x[0].res.len, "ab\0\0\0\0\0cde", 10);
	assert_int_equal(h->x[0].res.wire, 10);
	h_str(h, Q, "GET /scep?operation=GetCACaps HTTP/1.1\r\n\r\n");
	h_str(h, S, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nAES");
	assert_int_equal(h->n, 2);
	assert_false(h->x[1].damaged);
	assert_int_equal(h->x[1].gap_bytes, 0);
	assert_string_equal(h->x[1].query, "operation=GetCACaps");
	assert_body(h->x[1].res.body, h->x[1].res.len, "AES", 3);
	h_free(h);
}

/* libhtp refuses gaps outside identity bodies: we emit, reset, resync. */
static void test_gap_in_headers_resyncs(void **state)
{
	struct harness *h = h_open(1 << 20, 1, 0);

	(void)state;
	h_str(h, Q, "GET /scep?operation=GetCACert HTTP/1.1\r\n\r\n");
	h_str(h, S, "HTTP/1.1 200 OK\r\nContent-Ty");
	h_gap(h, S, 40);
	assert_int_equal(h->n, 1);
	assert_true(h->x[0].damaged);
	assert_int_equal(h->x[0].gap_bytes, 40);
	assert_int_equal(h->x[0].status, 200);
	/* the tail of the lost response, then a clean exchange */
	h_str(h, S, "ngth: 5\r\n\r\n\x30\x03GET");
	h_str(h, Q, "GET /scep?operation=PKIOperation&message=x HTTP/1.1\r\n\r\n");
	h_str(h, S, "HTTP/1.1 200 OK\r\nContent-Type: application/x-pki-message\r\n"
		    "Content-Length: 2\r\n\r\nOK");
	assert_int_equal(h->n, 2);
	assert_false(h->x[1].damaged);
	assert_string_equal(h->x[1].query, "operation=PKIOperation&message=x");
	assert_body(h->x[1].res.body, h->x[1].res.len, "OK", 2);
	assert_true(h->cnt.http_resync_bytes > 0);
	h_free(h);
}

/* libhtp gives up on a second 100 Continue: the exchange is emitted with
 * the error, the parser is rebuilt and the next exchange parses cleanly. */
static void test_parse_error_resyncs(void **state)
{
	struct harness *h = h_open(1 << 20, 1, 0);

	(void)state;
	h_str(h, Q, "POST /scep?operation=PKIOperation HTTP/1.1\r\nContent-Length: 1\r\n\r\n");
	h_str(h, S, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n");
	assert_int_equal(h->n, 1);
	assert_true(h->x[0].parse_error);
	assert_non_null(h->x[0].error_text);
	assert_non_null(strstr(h->x[0].error_text, "100-Continue"));
	assert_int_equal(h->cnt.http_parse_errors, 1);
	h_str(h, Q, "x\r\nGET /scep?operation=GetCACaps HTTP/1.1\r\n\r\n");
	h_str(h, S, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nAES");
	assert_int_equal(h->n, 2);
	assert_false(h->x[1].parse_error);
	assert_string_equal(h->x[1].query, "operation=GetCACaps");
	assert_body(h->x[1].res.body, h->x[1].res.len, "AES", 3);
	h_free(h);
}

/* An invalid chunk length: libhtp logs it and reads the rest as body. */
static void test_bad_chunk_flagged(void **state)
{
	struct harness *h = h_open(1 << 20, 1, 0);

	(void)state;
	h_str(h, Q, "GET /scep?operation=GetCACert HTTP/1.1\r\n\r\n");
	h_str(h, S, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
		    "Content-Type: application/x-x509-ca-cert\r\n\r\nzz\r\n");
	h_fin(h, S);
	assert_int_equal(h->n, 1);
	assert_true(h->x[0].parse_error);
	assert_non_null(strstr(h->x[0].error_text, "chunk"));
	assert_int_equal(h->cnt.http_parse_errors, 1);
	h_free(h);
}

static void test_non_scep_skipped(void **state)
{
	struct harness *h = h_open(1 << 20, 1, 0);

	(void)state;
	h_str(h, Q, "GET /index.html HTTP/1.1\r\nHost: www\r\n\r\n");
	h_str(h, S, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\n<html");
	h_str(h, Q, "GET /x?notoperation=1&xoperation=2 HTTP/1.1\r\n\r\n");
	h_str(h, S, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	h_close(h);
	assert_int_equal(h->n, 0);
	assert_int_equal(h->cnt.http_skipped, 2);
	h_free(h);
}

static void test_body_cap(void **state)
{
	struct harness *h = h_open(8, 1, 0);

	(void)state;
	h_str(h, Q, "GET /scep?operation=GetCACert HTTP/1.1\r\n\r\n");
	h_str(h, S, "HTTP/1.1 200 OK\r\nContent-Type: application/x-x509-ca-cert\r\n"
		    "Content-Length: 20\r\n\r\n0123456789");
	h_str(h, S, "abcdefghij");
	assert_int_equal(h->n, 1);
	assert_true(h->x[0].res.capped);
	assert_body(h->x[0].res.body, h->x[0].res.len, "01234567", 8);
	assert_int_equal(h->x[0].res.wire, 20);
	assert_int_equal(h->cnt.http_bodies_capped, 1);
	h_free(h);
}

static void test_long_get_url(void **state)
{
	struct harness *h = h_open(1 << 20, 1, 0);
	size_t n = 20000, pre;
	char *req = malloc(n + 64);

	(void)state;
	assert_non_null(req);
	pre = (size_t)sprintf(req, "GET /scep?operation=PKIOperation&message=");
	memset(req + pre, 'A', n);
	strcpy(req + pre + n, " HTTP/1.1\r\n\r\n");
	h_str(h, Q, req);
	h_str(h, S, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(h->n, 1);
	assert_int_equal(h->x[0].status, 404);
	assert_int_equal(strlen(h->x[0].query), strlen("operation=PKIOperation&message=") + n);
	assert_false(h->x[0].parse_error);
	free(req);
	h_free(h);
}

/* One script run whole and byte by byte must give the same exchanges. */
static void script(struct harness *h)
{
	static const uint8_t bin[] = { 0x30, 0x00, 0x0d, 0x0a, 0x00, 0xff };

	h_str(h, Q, "POST /scep?operation=PKIOperation HTTP/1.1\r\nHost: ca\r\n"
		    "Content-Length: 6\r\n\r\n");
	h_data(h, Q, bin, sizeof(bin));
	h_str(h, S, "HTTP/1.1 200 OK\r\nContent-Type: application/x-pki-message\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
	h_str(h, Q, "GET /scep?operation=GetCACaps HTTP/1.1\r\n\r\n"
		    "GET /index.html HTTP/1.1\r\n\r\n"
		    "GET /scep?operation=GetCACert HTTP/1.1\r\n\r\n");
	h_str(h, S, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nAES\n"
		    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
		    "HTTP/1.1 200 OK\r\nContent-Type: application/x-x509-ca-cert\r\n\r\nCERT");
	h_fin(h, S);
	h_close(h);
}

static void assert_str_same(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void test_bytewise_equals_oneshot(void **state)
{
	struct harness *a = h_open(1 << 20, 1, 0);
	struct harness *b = h_open(1 << 20, 1, 1);
	size_t i;

	(void)state;
	script(a);
	script(b);
	assert_int_equal(a->n, 3);
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->cnt.http_skipped, 1);
	assert_int_equal(b->cnt.http_skipped, 1);
	for (i = 0; i < a->n; i++) {
		struct xcopy *x = &a->x[i], *y = &b->x[i];

		assert_int_equal(x->seq, y->seq);
		assert_str_same(x->method, y->method);
		assert_str_same(x->uri, y->uri);
		assert_str_same(x->query, y->query);
		assert_str_same(x->host, y->host);
		assert_str_same(x->res_ct, y->res_ct);
		assert_int_equal(x->status, y->status);
		assert_int_equal(x->req.first_frame, y->req.first_frame);
		assert_int_equal(x->req.last_frame, y->req.last_frame);
		assert_int_equal(x->res.first_frame, y->res.first_frame);
		assert_int_equal(x->res.last_frame, y->res.last_frame);
		assert_body(y->req.body, y->req.len, x->req.body, x->req.len);
		assert_body(y->res.body, y->res.len, x->res.body, x->res.len);
		assert_int_equal(x->res.wire, y->res.wire);
	}
	assert_body(a->x[0].res.body, a->x[0].res.len, "abcde", 5);
	assert_body(a->x[0].req.body, a->x[0].req.len, "\x30\x00\x0d\x0a\x00\xff", 6);
	assert_body(a->x[2].res.body, a->x[2].res.len, "CERT", 4);
	h_free(a);
	h_free(b);
}

/* h2c upgrade (RFC 7540 section 3.2): the request and its 101 are one
 * HTTP/1 exchange; what follows the 101's header block in the same segment
 * is HTTP/2 and is reported, and later bytes are ignored. */
static void test_h2c_upgrade(void **state)
{
	static const char settings[] = "\x00\x00\x06\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64";
	static const char resp[] = "HTTP/1.1 101 Switching Protocols\r\n"
				   "Connection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
	struct harness *h = h_open(1 << 20, 1, 0);
	uint8_t seg[128];

	(void)state;
	h_str(h, Q, "GET /scep?operation=GetCACaps HTTP/1.1\r\nHost: ndes\r\n"
		    "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
		    "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");
	assert_false(http1_upgraded_to_h2(h->c));
	memcpy(seg, resp, strlen(resp));
	memcpy(seg + strlen(resp), settings, 15);
	h_data(h, S, seg, strlen(resp) + 15);
	assert_true(http1_upgraded_to_h2(h->c));
	assert_int_equal(http1_upgrade_rest(h->c), 15);
	h_str(h, Q, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
	h_close(h);
	assert_int_equal(h->n, 1);
	assert_string_equal(h->x[0].method, "GET");
	assert_string_equal(h->x[0].query, "operation=GetCACaps");
	assert_int_equal(h->x[0].status, 101);
	assert_false(h->x[0].parse_error);
	assert_int_equal(h->cnt.http_resync_bytes, 0);
	h_free(h);
}

/* Upgrade to something else (websocket) or a 101 without h2c is not h2c. */
static void test_upgrade_not_h2c(void **state)
{
	struct harness *h = h_open(1 << 20, 1, 0);

	(void)state;
	h_str(h, Q, "GET /scep?operation=GetCACaps HTTP/1.1\r\nHost: ndes\r\n"
		    "Connection: Upgrade\r\nUpgrade: websocket, h2cx\r\n\r\n");
	h_str(h, S, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
	assert_false(http1_upgraded_to_h2(h->c));
	assert_int_equal(http1_upgrade_rest(h->c), 0);
	h_free(h);
}

/* --- parse failures, memory budget, conflicts, SCEP detection ------------- */

/* Feeds s in segments of at most chunk bytes, each its own frame. */
static void h_chunks(struct harness *h, enum stream_dir dir, const char *s, size_t len, size_t chunk)
{
	size_t off, n;

	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		h_data(h, dir, s + off, n);
	}
}

/* A CertRep whose response has more header fields than libhtp reads
 * (1,024): shown on the exchange of its request, as a parse failure of
 * the response, damaged; not "200 with an empty body" plus a request
 * without a response. */
static void test_too_many_response_headers(void **state)
{
	struct harness *h = h_open(1 << 20, 1, 0);
	size_t cap = 64 * 1100 + 256, n, i;
	char *resp = malloc(cap);
	struct xcopy *x;

	(void)state;
	assert_non_null(resp);
	h_str(h, Q, "GET /scep?operation=PKIOperation&message=MIIB HTTP/1.1\r\nHost: ca\r\n\r\n");
	n = (size_t)sprintf(resp, "HTTP/1.1 200 OK\r\nContent-Type: application/x-pki-message\r\n"
			    "Content-Length: 5\r\n");
	for (i = 0; i < 1100; i++)
		n += (size_t)sprintf(resp + n, "X-Filler-%zu: %zu\r\n", i, i);
	n += (size_t)sprintf(resp + n, "\r\n\x30\x03\x02\x01");
	h_chunks(h, S, resp, n, 1448);
	h_fin(h, S);
	h_close(h);
	assert_int_equal(h->n, 1);
	x = &h->x[0];
	assert_string_equal(x->method, "GET");
	assert_string_equal(x->query, "operation=PKIOperation&message=MIIB");
	assert_true(x->req.present);
	assert_true(x->res.present);
	assert_int_equal(x->status, 200);
	assert_true(x->damaged);
	assert_true(x->parse_error);
	assert_true(x->res.parse_error);
	assert_false(x->req.parse_error);
	assert_non_null(x->error_text);
	assert_non_null(strstr(x->error_text, "header fields"));
	assert_int_equal(h->cnt.http_parse_errors, 1);
	assert_int_equal(h->cnt.http_skipped, 0);
	free(resp);
	h_free(h);
}

/* "GET ...?operation=PKIOperation&message=<300 KiB>": longer than the
 * 256 KiB line libhtp takes. The exchange stays (it is SCEP), keeps its
 * response and says its request line was not read whole. */
/* The candidate rule HTTP/1 and HTTP/2 share (http.h): "operation=" at
 * a parameter start, and only '&' starts a parameter. HTTP/1 used to take
 * ';' as well, HTTP/2 did not; test_http2.c holds HTTP/2 to the same. */
static void test_candidate_rule(void **state)
{
	static const struct { const char *query; int scep; } cases[] = {
		{ "operation=GetCACert", 1 },
		{ "message=ca&OPERATION=GetCACert", 1 },
		{ "&&operation=", 1 },
		{ "x=1;operation=GetCACert", 0 },
		{ "xoperation=1&operatio=2", 0 },
		{ "operation", 0 },
		{ "", 0 },
	};
	struct http_query_scan s;
	struct harness *h;
	size_t i, k, len;
	char line[128];

	(void)state;
	assert_false(http_query_names_operation(NULL, 0));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = strlen(cases[i].query);
		assert_int_equal(http_query_names_operation(cases[i].query, len), cases[i].scep);
		/* a byte at a time, as a request line too long to keep is read */
		http_query_scan_init(&s);
		for (k = 0; k < len; k++)
			http_query_scan(&s, (const uint8_t *)cases[i].query + k, 1);
		assert_int_equal(s.found, cases[i].scep);
		/* and the whole way through the HTTP/1 layer, both feeds */
		for (k = 0; k < 2; k++) {
			h = h_open(1 << 20, 1, (int)k);
			snprintf(line, sizeof(line), "GET /scep?%s HTTP/1.1\r\nHost: ca\r\n\r\n", cases[i].query);
			h_str(h, Q, line);
			h_str(h, S, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
			assert_int_equal(http1_scep_seen(h->c), cases[i].scep);
			h_close(h);
			assert_int_equal(h->n, (size_t)cases[i].scep);
			h_free(h);
		}
	}
}

static char *long_get(size_t n, const char *pre, const char *post, size_t *line_len)
{
	size_t lp = strlen(pre), lq = strlen(post);
	char *req = malloc(lp + n + lq + 64);

	assert_non_null(req);
	memcpy(req, pre, lp);
	memset(req + lp, 'A', n);
	strcpy(req + lp + n, post);
	/* the line's length: up to its LF, the CR included */
	*line_len = (size_t)(strchr(req + lp + n, '\n') - req);
	return req;
}

static void long_get_case(int bytewise)
{
	struct harness *h = h_open(1 << 20, 1, bytewise);
	size_t line_len;
	char *req = long_get(300 * 1024, "GET /scep?operation=PKIOperation&message=",
			     " HTTP/1.1\r\nHost: ca\r\n\r\n", &line_len);
	char want[64];
	struct xcopy *x;

	h_chunks(h, Q, req, strlen(req), 1448);
	h_str(h, S, "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\n404.1");
	h_close(h);
	assert_int_equal(h->n, 1);
	x = &h->x[0];
	assert_string_equal(x->method, "GET");
	assert_string_equal(x->host, "ca");
	assert_int_equal(x->status, 404);
	assert_true(x->damaged);
	assert_true(x->req.parse_error);
	assert_false(x->res.parse_error);
	assert_non_null(x->query);
	assert_memory_equal(x->query, "operation=PKIOperation&message=AAAA", 35);
	snprintf(want, sizeof(want), "request line of %zu bytes", line_len);
	assert_non_null(strstr(x->error_text, want));
	assert_int_equal(h->cnt.http_skipped, 0);
	assert_int_equal(h->cnt.http_parse_errors, 1);
	assert_int_equal(h->cnt.http_resync_bytes, 0);
	free(req);
	h_free(h);
}

static void test_request_line_over_cap(void **state)
{
	(void)state;
	long_get_case(0);
	long_get_case(1);
}

/* operation= after a message= too long to keep: found in the skipped
 * middle of the line, so the exchange is still SCEP. */
static void test_operation_in_skipped_middle(void **state)
{
	struct harness *h = h_open(1 << 20, 1, 0);
	size_t n = 270000, pad = 200;
	char *req = malloc(32 + n + 64 + pad + 64), *p;

	(void)state;
	assert_non_null(req);
	p = req + sprintf(req, "GET /scep?message=");
	memset(p, 'A', n);
	p += n;
	p += sprintf(p, "&operation=PKIOperation&pad=");
	memset(p, 'B', pad);
	strcpy(p + pad, " HTTP/1.1\r\n\r\n");
	h_chunks(h, Q, req, strlen(req), 1448);
	h_str(h, S, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	assert_true(http1_scep_seen(h->c));
	h_close(h);
	assert_int_equal(h->n, 1);
	assert_int_equal(h->cnt.http_skipped, 0);
	assert_true(h->x[0].damaged);
	assert_int_equal(h->x[0].status, 404);
	free(req);
	h_free(h);
}

/* A header line the memory budget refuses: its middle is skipped as a line
 * over the cap would be, and the headers after it are read. What libhtp
 * kept of the line stays charged until the exchange is done, so the body
 * finds the budget full and is capped (counted). The budget is never
 * exceeded and everything charged is given back. */
static void test_budget_refuses_header_line(void **state)
{
	struct mem_budget mem = { .limit = 100 * 1024 };
	struct harness *h = h_open_mem(1 << 20, 1, 0, &mem);
	size_t big = 200 * 1024, n;
	char *req = malloc(big + 256);
	struct xcopy *x;
	int k;

	(void)state;
	assert_non_null(req);
	n = (size_t)sprintf(req, "POST /scep?operation=PKIOperation HTTP/1.1\r\nX-Big: ");
	memset(req + n, 'x', big);
	n += big;
	n += (size_t)sprintf(req + n, "\r\nContent-Type: application/x-pki-message\r\n"
			     "Content-Length: 4\r\n\r\nabcd");
	h_chunks(h, Q, req, n, 1448);
	h_data(h, S, pki_resp_hdr, strlen(pki_resp_hdr));
	h_data(h, S, "\x30\x04\x00\x00\x00\x00", 6);
	assert_int_equal(h->n, 1);
	x = &h->x[0];
	assert_true(x->damaged);
	assert_true(x->req.parse_error);
	assert_non_null(strstr(x->error_text, "memory budget"));
	assert_string_equal(x->req_ct, "application/x-pki-message");
	assert_true(x->req.capped);
	assert_int_equal(x->req.wire, 4);
	/* and so is the response's, while the request holds the budget */
	assert_true(x->res.capped);
	assert_int_equal(h->cnt.http_bodies_capped, 2);
	assert_int_equal(x->status, 200);
	assert_true(mem.refused[MEM_http_lines] >= 1);
	assert_true(mem.peak <= mem.limit);
	h_close(h);
	assert_int_equal(mem.used, 0);
	for (k = 0; k < MEM_KINDS; k++)
		assert_int_equal(mem.held[k], 0);
	free(req);
	h_free(h);
}

/* A body the budget refuses to grow is capped as --max-body caps it. */
static void test_budget_caps_body(void **state)
{
	struct mem_budget mem = { .limit = 16 * 1024 };
	struct harness *h = h_open_mem(1 << 20, 1, 0, &mem);
	static char body[64 * 1024];
	char head[160];

	(void)state;
	memset(body, 'b', sizeof(body));
	snprintf(head, sizeof(head), "POST /scep?operation=PKIOperation HTTP/1.1\r\n"
		 "Content-Type: application/x-pki-message\r\nContent-Length: %zu\r\n\r\n", sizeof(body));
	h_str(h, Q, head);
	h_chunks(h, Q, body, sizeof(body), 1448);
	h_str(h, S, "HTTP/1.1 500 Error\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(h->n, 1);
	assert_true(h->x[0].req.capped);
	assert_true(h->x[0].req.len < sizeof(body));
	assert_int_equal(h->x[0].req.wire, sizeof(body));
	assert_int_equal(h->cnt.http_bodies_capped, 1);
	assert_true(mem.refused[MEM_http_bodies] >= 1);
	assert_true(mem.peak <= mem.limit);
	h_close(h);
	assert_int_equal(mem.used, 0);
	h_free(h);
}

/* Without a limit the budget still counts: a head's lines are held (the
 * bytes before each LF) while libhtp keeps them, and given back when the
 * exchange is done. */
static void test_budget_accounts_lines(void **state)
{
	static const char req[] = "GET /scep?operation=GetCACaps HTTP/1.1\r\nHost: ca\r\n\r\n";
	struct mem_budget mem = { .limit = 0 };
	struct harness *h = h_open_mem(1 << 20, 1, 0, &mem);

	(void)state;
	h_str(h, Q, "GET /scep?operation=GetCACaps HTTP/1.1\r\nHo");
	/* the unfinished "Ho" is charged with the line before it */
	assert_int_equal(mem.held[MEM_http_lines], strlen("GET /scep?operation=GetCACaps HTTP/1.1\r") + 2);
	h_str(h, Q, "st: ca\r\n\r\n");
	/* three lines, each without its LF */
	assert_int_equal(mem.held[MEM_http_lines], strlen(req) - 3);
	h_str(h, S, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nAES");
	assert_int_equal(h->n, 1);
	assert_int_equal(mem.held[MEM_http_lines], 0);
	assert_int_equal(mem.held[MEM_http_bodies], 0);
	assert_true(mem.peak > 0);
	h_close(h);
	assert_int_equal(mem.used, 0);
	h_free(h);
}

/* Bytes libhtp asks to be given again later (after a CONNECT, until its
 * answer) are held and charged; past the budget they are dropped with
 * the parser reset, and counted. */
static void test_budget_refuses_pending(void **state)
{
	struct mem_budget mem = { .limit = 256 };
	struct harness *h = h_open_mem(1 << 20, 1, 0, &mem);
	static char more[1024];

	(void)state;
	memset(more, 'z', sizeof(more) - 1);
	h_str(h, Q, "CONNECT ca:443 HTTP/1.1\r\n\r\n");
	h_str(h, Q, more);
	assert_true(mem.refused[MEM_http_lines] >= 1);
	assert_true(mem.peak <= mem.limit);
	h_close(h);
	assert_int_equal(mem.used, 0);
	h_free(h);
}

/* http1_scep_seen: the test that keeps an exchange, per connection. */
static void test_scep_seen(void **state)
{
	struct harness *h = h_open(1 << 20, 1, 0);

	(void)state;
	h_str(h, Q, "GET /index.html HTTP/1.1\r\nHost: www\r\n\r\n");
	h_str(h, S, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
	assert_false(http1_scep_seen(h->c));
	h_str(h, Q, "GET /x?xoperation=1 HTTP/1.1\r\n\r\n");
	assert_false(http1_scep_seen(h->c));
	h_str(h, Q, "GET /cgi-bin/pkiclient.exe?operation=GetCACaps HTTP/1.1\r\n\r\n");
	assert_true(http1_scep_seen(h->c));
	h_free(h);

	h = h_open(1 << 20, 1, 0);
	h_str(h, Q, "POST /enroll HTTP/1.1\r\nContent-Type: application/x-pki-message\r\n"
		    "Content-Length: 1\r\n\r\nx");
	assert_true(http1_scep_seen(h->c));
	h_free(h);

	/* a response whose request the capture missed, with a PKI type */
	h = h_open(1 << 20, 0, 0);
	h_data(h, S, pki_resp_hdr, strlen(pki_resp_hdr));
	h_data(h, S, "\x30\x04\x00\x00\x00\x00", 6);
	assert_true(http1_scep_seen(h->c));
	h_free(h);
	assert_false(http1_scep_seen(NULL));
}

/* A retransmission with other bytes (reassembly's conflict_bytes on DATA,
 * STREAM_CONFLICT for bytes delivered before) damages the exchange it hit,
 * whichever that is, and counts nothing: reassembly counted the overlap. */
static void test_conflicts(void **state)
{
	struct harness *h = h_open(1 << 20, 1, 0);

	(void)state;
	/* in flight: a POST body */
	h_str(h, Q, "POST /scep?operation=PKIOperation HTTP/1.1\r\n"
		    "Content-Type: application/x-pki-message\r\nContent-Length: 8\r\n\r\nabcd");
	h_data_conflict(h, Q, "efgh", 4);
	h_data(h, S, pki_resp_hdr, strlen(pki_resp_hdr));
	h_data(h, S, "\x30\x04\x00\x00\x00\x00", 6);
	assert_int_equal(h->n, 1);
	assert_true(h->x[0].damaged);
	assert_int_equal(h->x[0].req.conflict, 4);
	assert_int_equal(h->x[0].res.conflict, 0);
	assert_false(h->x[0].parse_error);
	assert_body(h->x[0].req.body, h->x[0].req.len, "abcdefgh", 8);

	/* delivered before, nothing in flight that way: the request waiting
	 * for its response */
	h_str(h, Q, "GET /scep?operation=GetCACaps HTTP/1.1\r\n\r\n");
	h_conflict(h, Q, 7);
	h_str(h, S, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nAES");
	assert_int_equal(h->n, 2);
	assert_true(h->x[1].damaged);
	assert_int_equal(h->x[1].req.conflict, 7);
	assert_body(h->x[1].res.body, h->x[1].res.len, "AES", 3);

	/* nothing unfinished: the next exchange in that direction */
	h_conflict(h, S, 5);
	h_data_conflict(h, Q, "GET /scep?operation=GetCACert HTTP/1.1\r\n\r\n", 6);
	h_str(h, S, "HTTP/1.1 200 OK\r\nContent-Type: application/x-x509-ca-cert\r\n"
		    "Content-Length: 2\r\n\r\nCA");
	assert_int_equal(h->n, 3);
	assert_true(h->x[2].damaged);
	assert_int_equal(h->x[2].req.conflict, 6);
	assert_int_equal(h->x[2].res.conflict, 5);
	assert_string_equal(h->x[2].query, "operation=GetCACert");
	assert_int_equal(h->cnt.http_parse_errors, 0);
	assert_int_equal(h->cnt.tcp_overlaps_conflicting, 0);
	assert_int_equal(h->cnt.http_resync_bytes, 0);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_get_pkioperation),
		cmocka_unit_test(test_post_binary_nul),
		cmocka_unit_test(test_pki_content_type_without_operation),
		cmocka_unit_test(test_chunked_response),
		cmocka_unit_test(test_keepalive_three),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_body_until_close),
		cmocka_unit_test(test_100_continue),
		cmocka_unit_test(test_http10_and_head),
		cmocka_unit_test(test_response_only),
		cmocka_unit_test(test_request_only_at_close),
		cmocka_unit_test(test_gap_in_response_body),
		cmocka_unit_test(test_gap_in_headers_resyncs),
		cmocka_unit_test(test_parse_error_resyncs),
		cmocka_unit_test(test_bad_chunk_flagged),
		cmocka_unit_test(test_non_scep_skipped),
		cmocka_unit_test(test_candidate_rule),
		cmocka_unit_test(test_body_cap),
		cmocka_unit_test(test_long_get_url),
		cmocka_unit_test(test_bytewise_equals_oneshot),
		cmocka_unit_test(test_h2c_upgrade),
		cmocka_unit_test(test_upgrade_not_h2c),
		cmocka_unit_test(test_too_many_response_headers),
		cmocka_unit_test(test_request_line_over_cap),
		cmocka_unit_test(test_operation_in_skipped_middle),
		cmocka_unit_test(test_budget_refuses_header_line),
		cmocka_unit_test(test_budget_caps_body),
		cmocka_unit_test(test_budget_accounts_lines),
		cmocka_unit_test(test_budget_refuses_pending),
		cmocka_unit_test(test_scep_seen),
		cmocka_unit_test(test_conflicts),
	};

	return cmocka_run_group_tests_name("http1", tests, NULL, NULL);
}
