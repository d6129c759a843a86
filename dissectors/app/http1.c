/* http1.c - HTTP/1.x exchanges from one reassembled TCP connection: owns the
 * libhtp connection parser, the bodies kept for SCEP candidates and the
 * resynchronisation after gaps. Trusts nothing in the stream: libhtp parses
 * the messages, our own scans (query, media type, resync, head lines) go
 * through rd. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <htp/htp.h>

#include "app.h"
#include "counters.h"
#include "http1.h"
#include "http_body.h"
#include "membudget.h"
#include "reader.h"
#include "strutil.h"

/* libhtp's default hard limit (18000) would turn a long GET message= into a
 * parse error, yet that is exactly the request IIS answers with 404.14 and we
 * want to show it. This caps each line libhtp buffers. */
#define HTTP1_MAX_LINE (256u * 1024u)
/* A head line longer than libhtp takes (or than the memory budget allows)
 * is not a reason to lose the exchange: libhtp gets its first LINE_KEEP
 * bytes and its last ELIDE_TAIL (" HTTP/1.1\r" of a request line), the
 * middle is skipped and the exchange says so. */
#define ELIDE_TAIL 64u
#define LINE_KEEP (HTTP1_MAX_LINE - 2 * ELIDE_TAIL)
/* Request bytes libhtp refuses for now (HTP_STREAM_DATA_OTHER, e.g. after a
 * CONNECT until its response) are held here, at most this much. */
#define HTTP1_MAX_PENDING (64u * 1024u)
/* Longest message start the resync scanner must see: "HTTP/1.1 200 ". */
#define RESYNC_HOLD 16
#define ERROR_TEXT_MAX 200

enum verdict { V_UNDECIDED = 0, V_KEEP, V_SKIP };

/* Where rl_scan is in a request line. */
enum rl_state { RL_METHOD = 0, RL_PATH, RL_QUERY, RL_DONE };

struct side_state {
	int present, done;
	int damaged;          /* a gap hit this side */
	uint64_t gap_bytes;
	uint64_t conflict_bytes;  /* contradicted by a retransmission */
	uint32_t snaplen;     /* bytes of it were cut by this snap length */
	int parse_error;      /* the parser failed on this side */
	uint64_t first_ts, last_ts, first_frame, last_frame;
	struct http_body body;
};

/* Our state for one libhtp transaction; lives in the connection's list in
 * creation order until libhtp's transaction is destroyed. */
struct xstate {
	struct xstate *next;
	htp_tx_t *tx;
	uint64_t seq;
	enum verdict verdict;
	int response_only;
	int emitted;
	int tx_done;          /* libhtp finished it: safe to htp_tx_destroy */
	int damaged;          /* a gap, a conflict or a parse failure */
	uint64_t gap_bytes;
	int parse_error;
	char *error_text;
	int rl_scep;          /* its request line had operation= (rl_scan) */
	/* head lines libhtp keeps in the transaction until it is destroyed,
	 * charged to the budget (MEM_http_lines) */
	size_t head_charged;
	struct side_state req, res;
};

struct dir_state {
	/* the event whose bytes are being fed, and the last one fed */
	uint64_t frame, ts, first_frame, first_ts;
	int feeding, feed_at_event_start;
	/* Frames and times of every event that fed the side in progress:
	 * reordered segments make the completing packet neither the latest
	 * nor the highest-numbered, and the timeline wants both ends. */
	int span_on;
	uint64_t span_min_frame, span_max_frame, span_min_ts, span_max_ts;
	/* resync: skip bytes until something that starts a message */
	int resync, at_line_start;
	uint8_t hold[RESYNC_HOLD];
	size_t hold_len;
	/* bytes libhtp asked us to give again later (DATA_OTHER), charged
	 * to the budget (MEM_http_lines) */
	uint8_t *pending;
	size_t pending_len;
	/* The head line being fed (request or status line, header or trailer
	 * line). libhtp buffers an unfinished line whole: the bytes of it fed
	 * are charged to the budget until its LF, and then move to
	 * head_charged (the lines libhtp keeps), which the transaction takes
	 * over when its head is complete. */
	size_t line_len;      /* bytes of the line fed (charged) */
	uint64_t line_wire;   /* bytes of the line so far, skipped ones too */
	uint8_t line_first;   /* its first byte: a lone CR is a blank line */
	int first_line;       /* it is a message's first line (line_begin) */
	int head_done;        /* a blank line ended the head: a new one next */
	int eliding;          /* over LINE_KEEP or refused: middle skipped */
	int elide_refused;    /* ... because the memory budget refused */
	size_t elide_kept;    /* bytes fed before the skipping began */
	uint8_t tail[ELIDE_TAIL];  /* the last bytes of a skipped middle */
	size_t tail_len;
	size_t head_charged;
	/* "operation=" at a parameter start in the request line, found on
	 * every byte of it, also in a skipped middle (rl_scan) */
	enum rl_state rl_state;
	struct http_query_scan rl_query;
	int rl_scep;
	/* bytes a retransmission contradicted that belong to the next
	 * exchange in this direction (none was in flight) */
	uint64_t conflict_pending;
};

struct http1_conn {
	size_t max_body;
	struct counters *cnt;
	struct mem_budget *mem;
	int scep_seen;        /* an exchange was kept as a SCEP candidate */
	uint64_t flow_id;
	struct endpoint client, server;
	http_exchange_cb cb;
	void *cb_arg;
	htp_cfg_t *hcfg;
	int own_hcfg;         /* no shared settings were given: ours to free */
	htp_connp_t *connp;
	struct xstate *head, *tail;
	uint64_t next_seq;
	struct dir_state dir[2];
	int closed;           /* both directions closed for libhtp */
	int tunnel;           /* CONNECT succeeded: the rest is not HTTP */
	int upgraded_h2;      /* 101 to "Upgrade: h2c": the rest is HTTP/2 */
	size_t upgrade_rest;  /* bytes of the last event after the 101 */
	uint64_t resets;      /* parser_reset calls: a feed stops at one */
	uint64_t gap_accepted;  /* gap bytes libhtp took during one feed */
	uint32_t gap_snaplen;   /* the gap being fed is a snap length cut */
	struct held_request *held;
};

/* A request cut by the snap length before its head was read whole: the
 * parser cannot go on from the hole, so its response comes out of the
 * next parser as one without a request. Held (copied) until then, the two
 * are handed on as the one exchange they are. */
struct held_request {
	struct http_exchange e;
	char *strs[8];
	uint8_t *body;
};

static const char *const methods[] = {
	"GET", "POST", "HEAD", "PUT", "OPTIONS", "DELETE", "CONNECT", "PATCH",
	"TRACE",
};

static int is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* Compares the next bytes of r with the n bytes of s: -1 differ, 0 r ended
 * while they agreed, 1 all n agree. */
static int rd_prefix(struct rd *r, const char *s, size_t n)
{
	uint8_t c;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!rd_u8(r, &c))
			return 0;
		if (c != (uint8_t)s[i])
			return -1;
	}
	return 1;
}

/* Match state of a candidate message start against the probe grammar:
 * -1 cannot be one, 0 could still become one, 1 is one. */
static int start_match(const uint8_t *p, size_t len, enum stream_dir dir)
{
	struct rd r;
	uint8_t c;
	size_t i, k;
	int m, best = -1;

	rd_init(&r, p, len);
	if (dir == DIR_TO_CLIENT) {
		/* "HTTP/1." DIGIT SP DIGIT DIGIT DIGIT */
		if ((m = rd_prefix(&r, "HTTP/1.", 7)) != 1)
			return m;
		for (i = 0; i < 5; i++) {
			if (!rd_u8(&r, &c))
				return 0;
			if (i == 1 ? c != ' ' : !is_digit(c))
				return -1;
		}
		return 1;
	}
	for (k = 0; k < sizeof(methods) / sizeof(methods[0]); k++) {
		rd_init(&r, p, len);
		m = rd_prefix(&r, methods[k], strlen(methods[k]));
		if (m == 1)
			m = rd_prefix(&r, " ", 1);
		if (m == 1)
			return 1;
		if (m == 0)
			best = 0;
	}
	return best;
}

int http1_probe(const uint8_t *data, size_t len, enum stream_dir dir)
{
	return start_match(data, len, dir) == 1;
}

/* --- small helpers over libhtp types -------------------------------------- */

static struct http1_conn *conn_of(htp_tx_t *tx)
{
	return htp_connp_get_user_data(tx->connp);
}

static const bstr *header_value(htp_table_t *t, const char *name)
{
	htp_header_t *h;

	if (!t)
		return NULL;
	h = htp_table_get_c(t, name);
	return h ? h->value : NULL;
}

/* SCEP always names its operation in the query (RFC 8894 section 4.1):
 * the candidate rule both HTTP layers share (http.h). */
static int query_has_operation(const bstr *q)
{
	return q && http_query_names_operation((const char *)bstr_ptr(q), bstr_len(q));
}

/* The media type of a Content-Type value, lower-cased into out. */
static void media_type(const bstr *v, char *out, size_t outlen)
{
	struct rd r;
	uint8_t c;
	size_t n = 0;

	out[0] = '\0';
	if (!v || outlen == 0)
		return;
	rd_init(&r, bstr_ptr(v), bstr_len(v));
	while (rd_u8(&r, &c) && (c == ' ' || c == '\t'))
		;
	if (r.err)
		return;
	do {
		if (c == ';' || c == ' ' || c == '\t')
			break;
		if (n + 1 >= outlen)
			break;
		out[n++] = (char)str_ascii_lower(c);
	} while (rd_u8(&r, &c));
	out[n] = '\0';
}

static int is_x509_type(const char *mt)
{
	return strncmp(mt, "application/x-x509-", 19) == 0;
}

static int is_pki_request_type(const char *mt)
{
	return strcmp(mt, "application/x-pki-message") == 0 ||
	       strcmp(mt, "application/pkcs7-mime") == 0 || is_x509_type(mt);
}

static int is_pki_response_type(const char *mt)
{
	return strcmp(mt, "application/x-pki-message") == 0 || is_x509_type(mt);
}

/* --- transaction state ---------------------------------------------------- */

static void xstate_free(struct http1_conn *c, struct xstate *x)
{
	http_body_free(&x->req.body, c->mem);
	http_body_free(&x->res.body, c->mem);
	mem_release(c->mem, MEM_http_lines, x->head_charged);
	free(x->error_text);
	free(x);
}

static void side_conflict(struct xstate *x, struct side_state *s, uint64_t n)
{
	x->damaged = 1;
	s->conflict_bytes += n;
}

static struct xstate *xstate_get(htp_tx_t *tx)
{
	struct http1_conn *c = conn_of(tx);
	struct xstate *x = htp_tx_get_user_data(tx);

	if (x || !c)
		return x;
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->tx = tx;
	x->seq = ++c->next_seq;
	if (c->tail)
		c->tail->next = x;
	else
		c->head = x;
	c->tail = x;
	htp_tx_set_user_data(tx, x);
	return x;
}

/* The parser failed or met something malformed on side s (NULL: not
 * known which): the exchange is damaged and says how. */
static void set_error(struct xstate *x, struct side_state *s, const char *text)
{
	size_t n;

	x->parse_error = 1;
	x->damaged = 1;
	if (s)
		s->parse_error = 1;
	if (x->error_text || !text)
		return;
	n = strnlen(text, ERROR_TEXT_MAX);
	x->error_text = malloc(n + 1);
	if (x->error_text) {
		memcpy(x->error_text, text, n);
		x->error_text[n] = '\0';
	}
}

/* A side starts where libhtp's cursor is: at the very start of the event's
 * bytes the event's first frame carried it, otherwise the event's frame. */
static void side_start(struct http1_conn *c, struct side_state *s,
		       enum stream_dir d)
{
	struct dir_state *ds = &c->dir[d];
	size_t consumed = d == DIR_TO_SERVER ?
		htp_connp_req_data_consumed(c->connp) :
		htp_connp_res_data_consumed(c->connp);

	s->present = 1;
	if (ds->feeding && ds->feed_at_event_start && consumed == 0) {
		s->first_frame = ds->first_frame;
		s->first_ts = ds->first_ts;
	} else {
		s->first_frame = ds->frame;
		s->first_ts = ds->ts;
	}
	s->last_frame = s->first_frame;
	s->last_ts = s->first_ts;
	ds->span_on = 1;
	ds->span_min_frame = ds->span_max_frame = s->first_frame;
	ds->span_min_ts = ds->span_max_ts = s->first_ts;
}

static void span_widen(struct dir_state *ds, uint64_t frame, uint64_t ts)
{
	if (!ds->span_on || !frame)
		return;
	if (frame < ds->span_min_frame)
		ds->span_min_frame = frame;
	if (frame > ds->span_max_frame)
		ds->span_max_frame = frame;
	if (ts < ds->span_min_ts)
		ds->span_min_ts = ts;
	if (ts > ds->span_max_ts)
		ds->span_max_ts = ts;
}

static void side_end(struct http1_conn *c, struct side_state *s,
		     enum stream_dir d)
{
	struct dir_state *ds = &c->dir[d];

	s->done = 1;
	s->last_frame = ds->frame;
	s->last_ts = ds->ts;
	if (!s->present) {
		s->present = 1;
		s->first_frame = s->last_frame;
		s->first_ts = s->last_ts;
	}
	if (ds->span_on) {
		span_widen(ds, s->last_frame, s->last_ts);
		s->first_frame = ds->span_min_frame;
		s->last_frame = ds->span_max_frame;
		s->first_ts = ds->span_min_ts;
		s->last_ts = ds->span_max_ts;
		ds->span_on = 0;
	}
}

/* --- emitting ------------------------------------------------------------- */

struct strpool {
	char *s[16];
	size_t n;
};

static const char *pool_dup(struct strpool *p, const bstr *b)
{
	char *s;

	if (!b || p->n >= sizeof(p->s) / sizeof(p->s[0]))
		return NULL;
	/* bstr_util_memdup_to_c escapes embedded NULs, so C strings stay whole */
	s = bstr_util_memdup_to_c(bstr_ptr(b), bstr_len(b));
	if (s)
		p->s[p->n++] = s;
	return s;
}

static void fill_side(struct http_side *o, const struct side_state *s)
{
	o->present = s->present;
	o->first_ts_ns = s->first_ts;
	o->last_ts_ns = s->last_ts;
	o->damaged = s->damaged;
	o->gap_bytes = s->gap_bytes;
	o->conflict_bytes = s->conflict_bytes;
	o->snaplen = s->snaplen;
	o->parse_error = s->parse_error;
	o->first_frame = s->first_frame;
	o->last_frame = s->last_frame;
	http_body_export(&s->body, o);
}

/* libhtp's flag for something malformed it read past, and the side it
 * was on (NULL: libhtp does not say). */
static const char *flag_error(struct xstate *x, uint64_t flags, struct side_state **side)
{
	*side = NULL;
	if (flags & (HTP_REQUEST_INVALID | HTP_REQUEST_INVALID_C_L | HTP_REQUEST_INVALID_T_E))
		*side = &x->req;
	if (flags & HTP_REQUEST_INVALID)
		return "invalid request line or headers";
	if (flags & HTP_REQUEST_INVALID_C_L)
		return "invalid Content-Length";
	if (flags & HTP_REQUEST_INVALID_T_E)
		return "invalid Transfer-Encoding";
	if (flags & HTP_STATUS_LINE_INVALID) {
		*side = &x->res;
		return "invalid status line";
	}
	if (flags & HTP_FIELD_UNPARSEABLE)
		return "unparseable header field";
	if (flags & HTP_HEADERS_TOO_MANY)
		return "more header fields than libhtp reads (1024)";
	return NULL;
}

static void held_free(struct held_request *h)
{
	size_t i;

	if (!h)
		return;
	for (i = 0; i < sizeof(h->strs) / sizeof(h->strs[0]); i++)
		free(h->strs[i]);
	free(h->body);
	free(h);
}

/* Copies what a request-only exchange holds; NULL when out of memory (it
 * is then handed on alone, as before). */
static struct held_request *held_copy(const struct http_exchange *e)
{
	struct held_request *h = calloc(1, sizeof(*h));
	const char **fields[] = { &h->e.host, &h->e.method, &h->e.uri, &h->e.path, &h->e.query,
				  &h->e.req.content_type, &h->e.req.content_length, &h->e.error_text };
	size_t i;

	if (!h)
		return NULL;
	h->e = *e;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (!*fields[i])
			continue;
		h->strs[i] = strdup(*fields[i]);
		if (!h->strs[i]) {
			held_free(h);
			return NULL;
		}
		*fields[i] = h->strs[i];
	}
	if (e->req.body_len) {
		h->body = malloc(e->req.body_len);
		if (!h->body) {
			held_free(h);
			return NULL;
		}
		memcpy(h->body, e->req.body, e->req.body_len);
		h->e.req.body = h->body;
	}
	return h;
}

/* The held request goes on alone: what came next was not its response. */
static void held_flush(struct http1_conn *c)
{
	struct held_request *h = c->held;

	if (!h)
		return;
	c->held = NULL;
	c->cb(c->cb_arg, &h->e);
	held_free(h);
}

/* e is a response the parser saw without its request: the held request
 * is its request. */
static void held_join(struct http1_conn *c, struct http_exchange *e)
{
	const struct http_exchange *r = &c->held->e;

	e->seq = r->seq;
	e->host = r->host;
	e->method = r->method;
	e->uri = r->uri;
	e->path = r->path;
	e->query = r->query;
	e->req = r->req;
	e->damaged |= r->damaged;
	e->gap_bytes += r->gap_bytes;
	e->parse_error |= r->parse_error;
	if (!e->error_text)
		e->error_text = r->error_text;
}

/* Hands x to the callback (when it is a SCEP candidate) exactly once. */
static void emit(struct http1_conn *c, struct xstate *x)
{
	struct http_exchange e;
	struct strpool p;
	htp_tx_t *tx = x->tx;
	struct side_state *fside;
	const char *ferr;
	size_t i;

	if (x->emitted)
		return;
	x->emitted = 1;
	if (c->held && (x->verdict != V_KEEP || !x->response_only))
		held_flush(c);
	if (x->verdict != V_KEEP) {
		c->cnt->http_skipped++;
		return;
	}
	memset(&e, 0, sizeof(e));
	memset(&p, 0, sizeof(p));
	e.flow_id = c->flow_id;
	e.seq = x->seq;
	e.client = c->client;
	e.server = c->server;
	e.version = HTTP_V1;
	if (tx && !x->response_only && x->req.present) {
		const bstr *host = header_value(tx->request_headers, "host");

		e.method = pool_dup(&p, tx->request_method);
		e.uri = pool_dup(&p, tx->request_uri);
		if (tx->parsed_uri_raw) {
			e.path = pool_dup(&p, tx->parsed_uri_raw->path);
			e.query = pool_dup(&p, tx->parsed_uri_raw->query);
		}
		e.host = pool_dup(&p, host ? host : tx->request_hostname);
		e.req.content_type = pool_dup(&p,
			header_value(tx->request_headers, "content-type"));
		e.req.content_length = pool_dup(&p,
			header_value(tx->request_headers, "content-length"));
	}
	if (tx && x->res.present) {
		e.status = tx->response_status_number > 0 ?
			tx->response_status_number : 0;
		e.status_text = pool_dup(&p, tx->response_message);
		e.server_header = pool_dup(&p,
			header_value(tx->response_headers, "server"));
		e.location = pool_dup(&p,
			header_value(tx->response_headers, "location"));
		e.connection = pool_dup(&p,
			header_value(tx->response_headers, "connection"));
		e.res.content_type = pool_dup(&p,
			header_value(tx->response_headers, "content-type"));
		e.res.content_length = pool_dup(&p,
			header_value(tx->response_headers, "content-length"));
		if (tx->response_status_number == HTP_STATUS_INVALID)
			set_error(x, &x->res, "invalid status code");
	}
	if (tx && (ferr = flag_error(x, tx->flags, &fside)) != NULL)
		set_error(x, fside, ferr);
	fill_side(&e.req, &x->req);
	fill_side(&e.res, &x->res);
	if (x->parse_error)
		c->cnt->http_parse_errors++;
	e.damaged = x->damaged;
	e.gap_bytes = x->gap_bytes;
	e.parse_error = x->parse_error;
	e.error_text = x->error_text;
	if (c->held) {
		held_join(c, &e);
		c->cb(c->cb_arg, &e);
		held_free(c->held);
		c->held = NULL;
	} else if (x->req.snaplen && x->req.present && !x->res.present && !x->response_only &&
		   (c->held = held_copy(&e)) != NULL) {
		/* its response, if captured, comes after the parser's reset */
	} else {
		c->cb(c->cb_arg, &e);
	}
	for (i = 0; i < p.n; i++)
		free(p.s[i]);
	/* the callback had its copy: the bodies are not needed any more */
	http_body_free(&x->req.body, c->mem);
	http_body_free(&x->res.body, c->mem);
}

/* Emits every exchange not yet handed out, in connection order. */
static void emit_all(struct http1_conn *c)
{
	struct xstate *x;

	for (x = c->head; x; x = x->next)
		emit(c, x);
}

/* Destroys what libhtp and we are both done with; runs outside libhtp's
 * callbacks, as htp_tx_destroy must (Suricata does the same). */
static void reap(struct http1_conn *c)
{
	struct xstate **pp = &c->head, *x;

	c->tail = NULL;
	while ((x = *pp) != NULL) {
		if (x->tx_done && x->emitted) {
			*pp = x->next;
			htp_tx_set_user_data(x->tx, NULL);
			htp_tx_destroy(x->tx);
			xstate_free(c, x);
			continue;
		}
		c->tail = x;
		pp = &x->next;
	}
}

/* --- libhtp callbacks ----------------------------------------------------- */

static void keep(struct http1_conn *c, struct xstate *x)
{
	x->verdict = V_KEEP;
	c->scep_seen = 1;
}

/* The transaction takes over the charge for the head lines libhtp keeps
 * in it (released when it is destroyed). */
static void head_charge_to(struct http1_conn *c, struct xstate *x, enum stream_dir d)
{
	x->head_charged += c->dir[d].head_charged;
	c->dir[d].head_charged = 0;
}

/* A new exchange in d takes the contradicted bytes that were waiting for
 * it (mark_conflict). */
static void conflict_to(struct http1_conn *c, struct xstate *x, struct side_state *s,
			enum stream_dir d)
{
	if (c->dir[d].conflict_pending) {
		side_conflict(x, s, c->dir[d].conflict_pending);
		c->dir[d].conflict_pending = 0;
	}
}

static int on_req_start(htp_tx_t *tx)
{
	struct http1_conn *c = conn_of(tx);
	struct xstate *x = xstate_get(tx);

	if (x) {
		side_start(c, &x->req, DIR_TO_SERVER);
		conflict_to(c, x, &x->req, DIR_TO_SERVER);
	}
	return HTP_OK;
}

/* SCEP always names its operation in the query (RFC 8894 section 4.1):
 * the parsed query, or our own scan of the line (rl_scan) when libhtp got
 * only its start and end. */
static int on_req_line(htp_tx_t *tx)
{
	struct http1_conn *c = conn_of(tx);
	struct xstate *x = xstate_get(tx);

	if (!x || !c)
		return HTP_OK;
	x->rl_scep |= c->dir[DIR_TO_SERVER].rl_scep;
	if (x->verdict == V_UNDECIDED &&
	    ((tx->parsed_uri_raw && query_has_operation(tx->parsed_uri_raw->query)) || x->rl_scep))
		keep(c, x);
	return HTP_OK;
}

/* POST PKIOperation always carries operation= too, but a PKI body type is
 * kept whatever the URL says (some proxies rewrite URLs). */
static int on_req_headers(htp_tx_t *tx)
{
	struct http1_conn *c = conn_of(tx);
	struct xstate *x = xstate_get(tx);
	char mt[64];

	if (!x || !c)
		return HTP_OK;
	head_charge_to(c, x, DIR_TO_SERVER);
	if (x->verdict != V_UNDECIDED)
		return HTP_OK;
	media_type(header_value(tx->request_headers, "content-type"), mt, sizeof(mt));
	if (is_pki_request_type(mt))
		keep(c, x);
	else {
		x->verdict = V_SKIP;
		http_body_free(&x->req.body, c->mem);
	}
	return HTP_OK;
}

static void on_body(struct xstate *x, struct side_state *s,
		    struct http1_conn *c, htp_tx_data_t *d)
{
	if (d->data == NULL && d->len > 0) {
		/* libhtp's own gap path (identity bodies only) */
		x->damaged = 1;
		x->gap_bytes += d->len;
		s->damaged = 1;
		s->gap_bytes += d->len;
		if (c->gap_snaplen > s->snaplen)
			s->snaplen = c->gap_snaplen;
		c->gap_accepted += d->len;
	}
	if (d->len == 0 || x->verdict == V_SKIP)
		return;
	http_body_append(&s->body, d->data, d->len, c->max_body, c->cnt, c->mem);
}

static int on_req_body(htp_tx_data_t *d)
{
	struct xstate *x = xstate_get(d->tx);

	if (x && !x->response_only)
		on_body(x, &x->req, conn_of(d->tx), d);
	return HTP_OK;
}

static int on_req_complete(htp_tx_t *tx)
{
	struct xstate *x = xstate_get(tx);

	/* libhtp completes a made-up request for a response without one */
	if (x && !x->response_only) {
		side_end(conn_of(tx), &x->req, DIR_TO_SERVER);
		head_charge_to(conn_of(tx), x, DIR_TO_SERVER);   /* trailers */
	}
	return HTP_OK;
}

static int on_res_start(htp_tx_t *tx)
{
	struct xstate *x = xstate_get(tx);

	if (!x)
		return HTP_OK;
	/* libhtp makes a transaction with no request line for a response it
	 * cannot match (capture started mid-connection) */
	if (tx->request_line == NULL && !x->req.present)
		x->response_only = 1;
	side_start(conn_of(tx), &x->res, DIR_TO_CLIENT);
	conflict_to(conn_of(tx), x, &x->res, DIR_TO_CLIENT);
	return HTP_OK;
}

/* Whether an Upgrade header value lists the token "h2c" (RFC 7540 section
 * 3.2: HTTP/2 over cleartext TCP), case-insensitively. */
static int upgrade_is_h2c(const bstr *v)
{
	struct rd r;
	uint8_t c;
	char tok[3];
	size_t n = 0;
	int end, over = 0;

	if (!v)
		return 0;
	rd_init(&r, bstr_ptr(v), bstr_len(v));
	for (;;) {
		end = !rd_u8(&r, &c);
		if (end || c == ',') {
			if (!over && n == 3 && memcmp(tok, "h2c", 3) == 0)
				return 1;
			if (end)
				return 0;
			n = 0;
			over = 0;
		} else if (c != ' ' && c != '\t') {
			if (n < sizeof(tok))
				tok[n++] = (char)str_ascii_lower(c);
			else
				over = 1;
		}
	}
}

static int on_res_headers(htp_tx_t *tx)
{
	struct xstate *x = xstate_get(tx);
	struct http1_conn *c = conn_of(tx);
	char mt[64];

	/* libhtp tunnels everything after a 101; we remember that the rest
	 * is HTTP/2 so the pipeline can hand it over */
	if (c && tx->response_status_number == 101 &&
	    upgrade_is_h2c(header_value(tx->request_headers, "upgrade")) &&
	    upgrade_is_h2c(header_value(tx->response_headers, "upgrade")))
		c->upgraded_h2 = 1;
	if (x && c)
		head_charge_to(c, x, DIR_TO_CLIENT);
	if (!x || !x->response_only || x->verdict != V_UNDECIDED)
		return HTP_OK;
	media_type(header_value(tx->response_headers, "content-type"), mt, sizeof(mt));
	if (is_pki_response_type(mt))
		keep(c, x);
	else
		x->verdict = V_SKIP;
	return HTP_OK;
}

static int on_res_body(htp_tx_data_t *d)
{
	struct xstate *x = xstate_get(d->tx);

	if (x)
		on_body(x, &x->res, conn_of(d->tx), d);
	return HTP_OK;
}

static int on_res_complete(htp_tx_t *tx)
{
	struct http1_conn *c = conn_of(tx);
	struct xstate *x = xstate_get(tx);

	if (!x)
		return HTP_OK;
	side_end(c, &x->res, DIR_TO_CLIENT);
	head_charge_to(c, x, DIR_TO_CLIENT);   /* trailers */
	/* no request will ever come for it: do not wait for libhtp's
	 * transaction end, which needs the next request or the close */
	if (x->response_only)
		emit(c, x);
	return HTP_OK;
}

static int on_tx_complete(htp_tx_t *tx)
{
	struct xstate *x = xstate_get(tx);

	if (!x)
		return HTP_OK;
	emit(conn_of(tx), x);
	x->tx_done = 1;
	return HTP_OK;
}

/* libhtp 0.5.42 recovers from most malformations by itself (an invalid
 * chunk length turns the rest into a body that runs to the close) and only
 * says so in its log; the log entry names no transaction, so it goes to the
 * one in progress in the direction being parsed. */
static int on_log(htp_log_t *l)
{
	static const char *const benign[] = {
		"Unable to match response to request",  /* response-only */
		"Gaps are not allowed",                 /* handled in on_gap */
		"parser is in HTP_STREAM_ERROR",        /* repeats the first */
	};
	struct http1_conn *c;
	enum stream_dir d;
	htp_tx_t *tx;
	struct xstate *x;
	size_t i;

	if (!l || l->level != HTP_LOG_ERROR || !l->connp || !l->msg)
		return HTP_OK;
	for (i = 0; i < sizeof(benign) / sizeof(benign[0]); i++)
		if (strstr(l->msg, benign[i]))
			return HTP_OK;
	c = htp_connp_get_user_data(l->connp);
	if (!c)
		return HTP_OK;
	if (c->dir[DIR_TO_SERVER].feeding)
		d = DIR_TO_SERVER;
	else if (c->dir[DIR_TO_CLIENT].feeding)
		d = DIR_TO_CLIENT;
	else
		d = (l->file && strstr(l->file, "request")) ? DIR_TO_SERVER : DIR_TO_CLIENT;
	tx = d == DIR_TO_SERVER ? htp_connp_get_in_tx(l->connp) :
				  htp_connp_get_out_tx(l->connp);
	x = tx ? htp_tx_get_user_data(tx) : NULL;
	if (x && !x->emitted)
		set_error(x, d == DIR_TO_SERVER ? &x->req : &x->res, l->msg);
	return HTP_OK;
}

/* --- connection parser lifecycle ------------------------------------------ */

static int parser_new(struct http1_conn *c)
{
	c->connp = htp_connp_create(c->hcfg);
	if (!c->connp)
		return -1;
	/* libhtp only stores addresses; ours are in the exchange already */
	htp_connp_open(c->connp, NULL, c->client.port, NULL, c->server.port, NULL);
	htp_connp_set_user_data(c->connp, c);
	return 0;
}

/* Forgets the head line and held bytes of d (the parser that held them
 * is gone) and gives their charge back. */
static void dir_forget(struct http1_conn *c, struct dir_state *ds)
{
	mem_release(c->mem, MEM_http_lines, ds->line_len + ds->head_charged + ds->pending_len);
	free(ds->pending);
	ds->pending = NULL;
	ds->pending_len = 0;
	ds->line_len = 0;
	ds->line_wire = 0;
	ds->first_line = 0;
	ds->head_done = 0;
	ds->eliding = 0;
	ds->tail_len = 0;
	ds->head_charged = 0;
	ds->rl_state = RL_METHOD;
	ds->rl_scep = 0;
}

/* Emits and forgets everything in flight, then starts a fresh parser whose
 * two directions wait for a message start. */
static void parser_reset(struct http1_conn *c)
{
	struct xstate *x, *next;
	int d;

	c->resets++;
	emit_all(c);
	if (c->connp)
		htp_connp_destroy_all(c->connp);
	c->connp = NULL;
	for (x = c->head; x; x = next) {
		next = x->next;
		xstate_free(c, x);
	}
	c->head = c->tail = NULL;
	for (d = 0; d < 2; d++) {
		c->dir[d].resync = 1;
		c->dir[d].at_line_start = 1;
		c->dir[d].hold_len = 0;
		dir_forget(c, &c->dir[d]);
	}
	if (parser_new(c) < 0)
		c->closed = 1;
}

static htp_cfg_t *config_new(void)
{
	htp_cfg_t *cfg = htp_config_create();

	if (!cfg)
		return NULL;
	htp_config_set_server_personality(cfg, HTP_SERVER_IIS_7_5);
	htp_config_set_field_limits(cfg, HTTP1_MAX_LINE, HTTP1_MAX_LINE);
	/* warnings would pile up in the connection's message list */
	htp_config_set_log_level(cfg, HTP_LOG_ERROR);
	/* nothing here reads cookies or credentials: not parsed, not kept */
	htp_config_set_parse_request_cookies(cfg, 0);
	htp_config_set_parse_request_auth(cfg, 0);
	htp_config_register_request_start(cfg, on_req_start);
	htp_config_register_request_line(cfg, on_req_line);
	htp_config_register_request_headers(cfg, on_req_headers);
	htp_config_register_request_body_data(cfg, on_req_body);
	htp_config_register_request_complete(cfg, on_req_complete);
	htp_config_register_response_start(cfg, on_res_start);
	htp_config_register_response_headers(cfg, on_res_headers);
	htp_config_register_response_body_data(cfg, on_res_body);
	htp_config_register_response_complete(cfg, on_res_complete);
	htp_config_register_transaction_complete(cfg, on_tx_complete);
	htp_config_register_log(cfg, on_log);
	return cfg;
}

/* A wrapper, not the libhtp type itself, so callers need no libhtp header. */
struct http1_settings {
	htp_cfg_t *hcfg;
};

struct http1_settings *http1_settings_new(void)
{
	struct http1_settings *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->hcfg = config_new();
	if (!st->hcfg) {
		free(st);
		return NULL;
	}
	return st;
}

void http1_settings_free(struct http1_settings *st)
{
	if (!st)
		return;
	htp_config_destroy(st->hcfg);
	free(st);
}

struct http1_conn *http1_open(const struct http1_config *cfg,
			      struct counters *cnt, const struct flow *f,
			      http_exchange_cb cb, void *cb_arg)
{
	struct http1_conn *c;

	if (!cfg || !cnt || !f || !cb)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->max_body = cfg->max_body;
	c->cnt = cnt;
	c->mem = cfg->mem;
	c->flow_id = f->id;
	c->client = f->client;
	c->server = f->server;
	c->cb = cb;
	c->cb_arg = cb_arg;
	c->own_hcfg = !cfg->settings;
	c->hcfg = cfg->settings ? cfg->settings->hcfg : config_new();
	if (!c->hcfg || parser_new(c) < 0) {
		if (c->hcfg && c->own_hcfg)
			htp_config_destroy(c->hcfg);
		free(c);
		return NULL;
	}
	/* joined mid-connection: the first bytes may be mid-message */
	if (!f->saw_syn) {
		c->dir[0].resync = c->dir[1].resync = 1;
		c->dir[0].at_line_start = c->dir[1].at_line_start = 1;
	}
	return c;
}

/* --- feeding -------------------------------------------------------------- */

static htp_tx_t *tx_in_progress(struct http1_conn *c, enum stream_dir d)
{
	return d == DIR_TO_SERVER ? htp_connp_get_in_tx(c->connp) :
				    htp_connp_get_out_tx(c->connp);
}

static struct xstate *x_in_progress(struct http1_conn *c, enum stream_dir d)
{
	htp_tx_t *tx = c->connp ? tx_in_progress(c, d) : NULL;
	struct xstate *x = tx ? htp_tx_get_user_data(tx) : NULL;

	return x && !x->emitted ? x : NULL;
}

static int htp_feed(struct http1_conn *c, enum stream_dir d,
		    const uint8_t *data, size_t len)
{
	return d == DIR_TO_SERVER ? htp_connp_req_data(c->connp, NULL, data, len) :
				    htp_connp_res_data(c->connp, NULL, data, len);
}

/* Whether what libhtp reads next in d would be what a request says: a
 * message whose verdict is still open and whose request line or headers
 * have operation= or a PKI type (the same test as on_req_line and
 * on_req_headers, on what libhtp read before it failed). */
static void decide_failed(struct http1_conn *c, struct xstate *x, htp_tx_t *tx)
{
	char mt[64];

	if (x->verdict != V_UNDECIDED || x->response_only)
		return;
	x->rl_scep |= c->dir[DIR_TO_SERVER].rl_scep;
	media_type(header_value(tx->request_headers, "content-type"), mt, sizeof(mt));
	if (x->rl_scep || (tx->parsed_uri_raw && query_has_operation(tx->parsed_uri_raw->query)) ||
	    is_pki_request_type(mt))
		keep(c, x);
}

/* libhtp gave up on the stream: mark what was in flight, start over. A
 * SCEP request the failure hit is emitted with the error, not skipped. */
static void stream_error(struct http1_conn *c, enum stream_dir d)
{
	htp_log_t *log = htp_connp_get_last_error(c->connp);
	htp_tx_t *tx = tx_in_progress(c, d);
	struct xstate *x = tx ? htp_tx_get_user_data(tx) : NULL;
	struct side_state *fside;
	const char *text;

	if (x) {
		/* libhtp logs some failures only as warnings (too many
		 * headers), which it does not keep: its flags say then */
		text = log && log->msg ? log->msg : flag_error(x, tx->flags, &fside);
		if (d == DIR_TO_SERVER)
			decide_failed(c, x, tx);
		set_error(x, d == DIR_TO_SERVER ? &x->req : &x->res, text ? text : "HTTP parse error");
	} else {
		c->cnt->http_parse_errors++;
	}
	parser_reset(c);
}

/* Holds bytes libhtp will take later, charged to the budget. Returns -1
 * when it could not (the exchange in flight says why; the parser was
 * reset). */
static int pending_keep(struct http1_conn *c, enum stream_dir d, const uint8_t *p, size_t n)
{
	struct dir_state *ds = &c->dir[d];
	struct xstate *x;
	uint8_t *nb;

	if (n > HTTP1_MAX_PENDING - ds->pending_len ||
	    mem_charge(c->mem, MEM_http_lines, n) < 0) {
		/* libhtp would not take it and we will not hold more */
		if ((x = x_in_progress(c, d)) != NULL)
			set_error(x, d == DIR_TO_SERVER ? &x->req : &x->res,
				  n > HTTP1_MAX_PENDING - ds->pending_len ?
				  "bytes held for libhtp over 64 KiB" :
				  "bytes held for libhtp refused by the memory budget");
		else
			c->cnt->http_parse_errors++;
		parser_reset(c);
		return -1;
	}
	nb = realloc(ds->pending, ds->pending_len + n);
	if (!nb) {
		mem_release(c->mem, MEM_http_lines, n);
		parser_reset(c);
		return -1;
	}
	memcpy(nb + ds->pending_len, p, n);
	ds->pending = nb;
	ds->pending_len += n;
	return 0;
}

static size_t consumed(struct http1_conn *c, enum stream_dir d)
{
	return d == DIR_TO_SERVER ? htp_connp_req_data_consumed(c->connp) :
				    htp_connp_res_data_consumed(c->connp);
}

/* Feeds bytes to libhtp as they are and deals with its answer. Returns
 * how many bytes were dealt with: fewer than len only when the parser was
 * reset. After a tunnel start, *tunnel_at is where in data it began. */
static size_t feed_htp(struct http1_conn *c, enum stream_dir d,
		       const uint8_t *data, size_t len, size_t *tunnel_at)
{
	size_t used;

	switch (htp_feed(c, d, data, len)) {
	case HTP_STREAM_ERROR:
		used = consumed(c, d);
		stream_error(c, d);
		return used < len ? used : len;
	case HTP_STREAM_TUNNEL:
		c->tunnel = 1;
		used = consumed(c, d);
		*tunnel_at = used < len ? used : len;
		return len;
	case HTP_STREAM_DATA_OTHER:
		used = consumed(c, d);
		if (used < len && pending_keep(c, d, data + used, len - used) < 0)
			return used;
		return len;
	default:
		return len;
	}
}

/* The body libhtp reads in d, if it is in one: 1 with *left the bytes
 * still to come (UINT64_MAX: until the close, or chunked, *chunked set),
 * 0 when the next bytes are head lines (a request or status line, headers,
 * trailers, or the line libhtp peeks at after a body to find the next
 * request). */
static int in_body(struct http1_conn *c, enum stream_dir d, uint64_t *left, int *chunked)
{
	htp_tx_t *tx = tx_in_progress(c, d);
	enum htp_transfer_coding_t coding;
	int64_t cl, got;
	int body;

	*left = UINT64_MAX;
	*chunked = 0;
	if (!tx)
		return 0;
	if (d == DIR_TO_SERVER) {
		body = tx->request_progress == HTP_REQUEST_BODY;
		coding = tx->request_transfer_coding;
		cl = tx->request_content_length;
		got = tx->request_message_len;
	} else {
		body = tx->response_progress == HTP_RESPONSE_BODY;
		coding = tx->response_transfer_coding;
		cl = tx->response_content_length;
		got = tx->response_message_len;
	}
	if (!body)
		return 0;
	if (coding == HTP_CODING_CHUNKED) {
		*chunked = 1;
		return 1;
	}
	if (coding != HTP_CODING_IDENTITY)
		return 0;
	if (cl < 0)
		return 1;
	if (got >= cl)
		return 0;
	*left = (uint64_t)(cl - got);
	return 1;
}

/* The query part of the request line in r, up to its end (' ') or the
 * piece's, through the candidate rule in one call. */
static void rl_scan_query(struct dir_state *ds, struct rd *r)
{
	const uint8_t *end = memchr(rd_ptr(r), ' ', rd_left(r));
	size_t n = end ? (size_t)(end - rd_ptr(r)) : rd_left(r);
	struct rd span;

	rd_init(&span, rd_ptr(r), n);
	rd_skip(r, n);
	if (http_query_scan(&ds->rl_query, rd_ptr(&span), rd_left(&span))) {
		ds->rl_scep = 1;
		ds->rl_state = RL_DONE;
	} else if (rd_left(r) > 0) {
		ds->rl_state = RL_DONE;    /* the ' ' before the version */
	}
}

/* Applies the candidate rule (http_query_scan) to the request line's
 * query, across pieces, skipped middle included: a message= too long to
 * keep may come before operation=. */
static void rl_scan(struct dir_state *ds, const uint8_t *p, size_t n)
{
	struct rd r;
	uint8_t b;

	rd_init(&r, p, n);
	while (ds->rl_state != RL_DONE && rd_left(&r) > 0) {
		if (ds->rl_state == RL_QUERY) {
			rl_scan_query(ds, &r);
			continue;
		}
		if (!rd_u8(&r, &b))
			break;
		if (ds->rl_state == RL_METHOD && b == ' ') {
			ds->rl_state = RL_PATH;
		} else if (ds->rl_state == RL_PATH && b == '?') {
			ds->rl_state = RL_QUERY;
			http_query_scan_init(&ds->rl_query);
		} else if (ds->rl_state == RL_PATH && b == ' ') {
			ds->rl_state = RL_DONE;
		}
	}
}

/* A head line begins in d. It is the first line of a message unless
 * libhtp is reading headers or trailers and no blank line ended them (after
 * a body, libhtp peeks at the next line to see whether a request starts). */
static void line_begin(struct http1_conn *c, enum stream_dir d, uint8_t first)
{
	struct dir_state *ds = &c->dir[d];
	htp_tx_t *tx = tx_in_progress(c, d);
	int progress = !tx ? -1 : d == DIR_TO_SERVER ? (int)tx->request_progress :
						     (int)tx->response_progress;
	int inside = progress == HTP_REQUEST_HEADERS || progress == HTP_REQUEST_TRAILER;

	/* the request and response progress values are the same numbers */
	ds->first_line = !inside || ds->head_done;
	ds->head_done = 0;
	if (ds->first_line) {
		ds->rl_state = RL_METHOD;
		ds->rl_scep = 0;
	}
	ds->line_first = first;
}

/* Keeps the last ELIDE_TAIL bytes of a line's skipped middle. */
static void tail_push(struct dir_state *ds, const uint8_t *p, size_t n)
{
	size_t keep;

	if (n >= ELIDE_TAIL) {
		memcpy(ds->tail, p + (n - ELIDE_TAIL), ELIDE_TAIL);
		ds->tail_len = ELIDE_TAIL;
		return;
	}
	keep = ds->tail_len + n > ELIDE_TAIL ? ELIDE_TAIL - n : ds->tail_len;
	memmove(ds->tail, ds->tail + (ds->tail_len - keep), keep);
	memcpy(ds->tail + keep, p, n);
	ds->tail_len = keep + n;
}

/* The line whose middle was skipped ended: its exchange says so. */
static void mark_elided(struct http1_conn *c, enum stream_dir d)
{
	struct dir_state *ds = &c->dir[d];
	struct xstate *x = x_in_progress(c, d);
	const char *what = !ds->first_line ? "header line" :
		d == DIR_TO_SERVER ? "request line" : "status line";
	char text[ERROR_TEXT_MAX];

	if (ds->elide_refused)
		snprintf(text, sizeof(text), "%s of %" PRIu64 " bytes: the memory budget refused it after %zu; "
			 "the rest up to its last %zu bytes was not read", what, ds->line_wire,
			 ds->elide_kept, ds->tail_len);
	else
		snprintf(text, sizeof(text), "%s of %" PRIu64 " bytes, over the %u read: only its first %zu "
			 "and last %zu bytes were read", what, ds->line_wire, HTTP1_MAX_LINE,
			 ds->elide_kept, ds->tail_len);
	if (x)
		set_error(x, d == DIR_TO_SERVER ? &x->req : &x->res, text);
	else
		c->cnt->http_parse_errors++;
}

/* Feeds the next head line bytes in r, up to and including its LF if it
 * is there. libhtp buffers an unfinished line: what is fed is charged to
 * the budget (MEM_http_lines) first. A line past LINE_KEEP, or one the
 * budget refuses, has its middle skipped (only its last ELIDE_TAIL bytes
 * are kept, to give libhtp a line end it can parse). Returns -1 when the
 * parser was reset (r then holds what it did not take). */
static int feed_line(struct http1_conn *c, enum stream_dir d, struct rd *r, size_t *tunnel_at,
		     size_t base)
{
	struct dir_state *ds = &c->dir[d];
	const uint8_t *p = rd_ptr(r), *lf = memchr(p, '\n', rd_left(r));
	size_t n = lf ? (size_t)(lf - p) : rd_left(r), take = 0, used, at = 0;
	struct rd peek = *r;
	uint8_t first = '\n';
	uint64_t resets = c->resets;
	int blank;

	if (!ds->line_wire && !ds->eliding) {
		rd_u8(&peek, &first);
		line_begin(c, d, first);
	}
	if (d == DIR_TO_SERVER && ds->first_line)
		rl_scan(ds, p, n);
	ds->line_wire += n;
	if (!ds->eliding) {
		take = n < LINE_KEEP - ds->line_len ? n : LINE_KEEP - ds->line_len;
		if (take < n)
			ds->eliding = 1;
		if (take && mem_charge(c->mem, MEM_http_lines, take) < 0) {
			take = 0;
			ds->eliding = ds->elide_refused = 1;
		}
		if (ds->eliding)
			ds->elide_kept = ds->line_len + take;
		if (take) {
			ds->line_len += take;
			used = feed_htp(c, d, p, take, &at);
			if (used < take || c->resets != resets) {
				rd_skip(r, used);
				return -1;
			}
			if (c->tunnel) {
				*tunnel_at = base + at;
				return 0;
			}
		}
	}
	if (ds->eliding)
		tail_push(ds, p + take, n - take);
	rd_skip(r, n);
	if (!lf)
		return 0;
	if (ds->eliding) {
		uint8_t tail[ELIDE_TAIL];
		size_t tn = ds->tail_len;

		memcpy(tail, ds->tail, tn);
		used = feed_htp(c, d, tail, tn, &at);
		if (used < tn || c->resets != resets)
			return -1;
		mark_elided(c, d);
	}
	/* the line is whole: libhtp keeps it with its message */
	blank = ds->line_wire == 0 || (ds->line_wire == 1 && ds->line_first == '\r');
	if (blank && !ds->first_line)
		ds->head_done = 1;
	ds->head_charged += ds->line_len;
	ds->line_len = 0;
	ds->line_wire = 0;
	ds->eliding = ds->elide_refused = 0;
	ds->tail_len = 0;
	ds->first_line = 0;
	used = feed_htp(c, d, rd_ptr(r), 1, &at);
	rd_skip(r, used);
	if (used < 1 || c->resets != resets)
		return -1;
	if (c->tunnel)
		*tunnel_at = base + n + at;
	return 0;
}

/* Feeds bytes to libhtp: a body as it comes, head lines one at a time
 * (feed_line) so each is charged and capped. Returns how many bytes were
 * dealt with: fewer than len only when the parser was reset, and the rest
 * then belongs to the resync scanner. */
static size_t feed(struct http1_conn *c, enum stream_dir d,
		   const uint8_t *data, size_t len)
{
	struct dir_state *ds = &c->dir[d];
	struct rd r;
	size_t n, used, at = 0;
	uint64_t left;
	int chunked;

	uint64_t resets = c->resets;

	rd_init(&r, data, len);
	while (rd_left(&r) && !c->tunnel) {
		size_t base = len - rd_left(&r);

		/* side_start: a piece after the first is not the event's start */
		if (base)
			ds->feed_at_event_start = 0;

		if (ds->pending_len) {
			/* libhtp waits for the other direction: hold the rest */
			n = rd_left(&r);
			return pending_keep(c, d, rd_ptr(&r), n) < 0 ? len - n : len;
		}
		if (!in_body(c, d, &left, &chunked)) {
			if (feed_line(c, d, &r, &at, base) < 0)
				return len - rd_left(&r);
			continue;
		}
		ds->head_done = 0;
		n = rd_left(&r);
		if (left < n)
			n = (size_t)left;
		if (chunked) {
			/* chunk sizes are lines: stop at each, so the end of
			 * the body is seen where the next head starts */
			const uint8_t *lf = memchr(rd_ptr(&r), '\n', n);

			if (lf)
				n = (size_t)(lf - rd_ptr(&r)) + 1;
		}
		used = feed_htp(c, d, rd_ptr(&r), n, &at);
		rd_skip(&r, used);
		if (used < n || c->resets != resets)
			return len - rd_left(&r);
		if (c->tunnel)
			at += base;
	}
	if (c->tunnel && c->upgraded_h2 && d == DIR_TO_CLIENT)
		c->upgrade_rest = len - at;
	return len;
}

/* Gives held-back bytes another try once the other direction moved. */
static void retry_pending(struct http1_conn *c, enum stream_dir d)
{
	struct dir_state *ds = &c->dir[d];
	uint8_t *p = ds->pending;
	size_t n = ds->pending_len, used;

	if (!n || c->closed || c->tunnel)
		return;
	ds->pending = NULL;
	ds->pending_len = 0;
	ds->feeding = 1;
	ds->feed_at_event_start = 0;
	used = feed(c, d, p, n);
	if (used < n)
		c->cnt->http_resync_bytes += n - used;
	ds->feeding = 0;
	mem_release(c->mem, MEM_http_lines, n);
	free(p);
}

/* Skips bytes until a message start at a line start (or at the start of a
 * segment, or right after a gap or a reset), then feeds from there. A start split across events is held
 * in ds->hold until it is decided. */
static void resync_scan(struct http1_conn *c, enum stream_dir d,
			const uint8_t *data, size_t len)
{
	struct dir_state *ds = &c->dir[d];
	struct rd r;
	uint8_t b;
	int m;

	rd_init(&r, data, len);
	while (ds->resync && !c->closed && !c->tunnel && rd_u8(&r, &b)) {
		if (!ds->at_line_start && ds->hold_len == 0) {
			ds->at_line_start = (b == '\n');
			c->cnt->http_resync_bytes++;
			continue;
		}
		ds->at_line_start = 0;
		ds->hold[ds->hold_len++] = b;
		m = start_match(ds->hold, ds->hold_len, d);
		if (m == 0 && ds->hold_len < sizeof(ds->hold))
			continue;
		if (m == 1) {
			uint8_t held[RESYNC_HOLD];
			size_t n = ds->hold_len, used;

			memcpy(held, ds->hold, n);
			ds->hold_len = 0;
			ds->resync = 0;
			ds->feed_at_event_start = 0;
			used = feed(c, d, held, n);
			if (used < n) {
				c->cnt->http_resync_bytes += n - used;
				continue;
			}
			if (!rd_left(&r) || ds->resync || c->closed || c->tunnel)
				continue;
			used = feed(c, d, rd_ptr(&r), rd_left(&r));
			rd_skip(&r, used);
			continue;
		}
		c->cnt->http_resync_bytes += ds->hold_len;
		ds->at_line_start = (b == '\n');
		ds->hold_len = 0;
	}
}
static void on_data(struct http1_conn *c, const struct stream_event *ev)
{
	struct dir_state *ds = &c->dir[ev->dir];
	size_t used = 0;

	ds->feeding = 1;
	ds->feed_at_event_start = 1;
	if (!ds->resync) {
		used = feed(c, ev->dir, ev->data, ev->len);
	} else if (ds->hold_len == 0) {
		/* a new message usually starts a new segment, even when the
		 * end of the lost one had no line end */
		ds->at_line_start = 1;
	}
	if (used < ev->len)
		resync_scan(c, ev->dir, ev->data + used, ev->len - used);
	ds->feeding = 0;
	retry_pending(c, ev->dir == DIR_TO_SERVER ? DIR_TO_CLIENT : DIR_TO_SERVER);
}

/*
 * Gaps. libhtp 0.5.42 takes a gap as data == NULL, len > 0, but only inside
 * an identity body (Content-Length or until close): it passes the hole to
 * the body callback as (NULL, len) and keeps its place. Anywhere else (line,
 * headers, chunked body, between messages) it refuses with "Gaps are not
 * allowed during this state" and its state no longer matches the stream.
 * Suricata's generic app-layer gives up on a flow whose parser refuses gaps;
 * we want the exchanges after the hole, so we do better than that:
 * - accepted by libhtp: the exchange is marked damaged with the gap size,
 *   its kept body has zeros in the hole, parsing goes on;
 * - refused: every exchange whose side in that direction had not completed
 *   is marked damaged (their bytes may be in the hole), all in flight are
 *   emitted as they are, the parser is rebuilt, and both directions skip
 *   bytes until a request line (METHOD SP) or a status line (HTTP/1.x NNN)
 *   starts at a line start. A request whose response is in the hole is
 *   thus emitted without one; a response after the hole whose request came
 *   before it is emitted as response-only (method NULL).
 */
static void on_gap(struct http1_conn *c, const struct stream_event *ev)
{
	struct dir_state *ds = &c->dir[ev->dir];
	struct xstate *x;
	htp_tx_t *tx;
	uint64_t rest;
	int rc;

	if (ds->resync) {
		ds->hold_len = 0;
		ds->at_line_start = 1;
		return;
	}
	if (ds->pending_len) {
		parser_reset(c);
		return;
	}
	c->gap_accepted = 0;
	c->gap_snaplen = ev->snaplen;
	tx = tx_in_progress(c, ev->dir);
	rc = htp_feed(c, ev->dir, NULL, ev->len);
	c->gap_snaplen = 0;
	if (rc == HTP_STREAM_DATA && c->gap_accepted >= ev->len)
		return;
	rest = ev->len > c->gap_accepted ? ev->len - c->gap_accepted : 0;
	x = tx ? htp_tx_get_user_data(tx) : NULL;
	if (x && !x->emitted && c->gap_accepted == 0) {
		struct side_state *s = ev->dir == DIR_TO_SERVER ? &x->req : &x->res;

		x->damaged = 1;
		x->gap_bytes += rest;
		s->damaged = 1;
		s->gap_bytes += rest;
	}
	for (x = c->head; x; x = x->next) {
		struct side_state *s = ev->dir == DIR_TO_SERVER ? &x->req : &x->res;

		if (!x->emitted && !s->done) {
			x->damaged = s->damaged = 1;
			if (ev->snaplen > s->snaplen)
				s->snaplen = ev->snaplen;
		}
	}
	parser_reset(c);
}

/* n bytes in d had a copy on the wire with other content (a conflicting
 * TCP retransmission): which one the endpoint took is unknown, so the
 * exchange they belong to is damaged. That is the one in flight in d;
 * bytes already delivered (delivered: a STREAM_CONFLICT) with none in
 * flight belonged to the last one not yet emitted; otherwise they are the
 * start of the next one. The overlap itself is counted by reassembly. */
static void mark_conflict(struct http1_conn *c, enum stream_dir d, uint64_t n, int delivered)
{
	struct xstate *x = x_in_progress(c, d), *y;

	if (!x && delivered)
		for (y = c->head; y; y = y->next)
			if (!y->emitted)
				x = y;
	if (!x) {
		c->dir[d].conflict_pending += n;
		return;
	}
	side_conflict(x, d == DIR_TO_SERVER ? &x->req : &x->res, n);
}

static void on_close(struct http1_conn *c, const struct stream_event *ev)
{
	if (ev->kind == STREAM_FIN && ev->dir == DIR_TO_SERVER) {
		/* the client is done sending; responses may still come */
		htp_connp_req_close(c->connp, NULL);
		return;
	}
	/* server FIN or RST: nothing more can be answered, and a body that
	 * runs until the close ends here */
	htp_connp_close(c->connp, NULL);
	emit_all(c);
	c->closed = 1;
}

void http1_event(struct http1_conn *c, const struct stream_event *ev)
{
	struct dir_state *ds;

	if (!c || !ev || c->closed || c->tunnel || c->upgraded_h2 ||
	    ev->dir > DIR_TO_CLIENT)
		return;
	ds = &c->dir[ev->dir];
	if (ev->kind == STREAM_DATA || ev->kind == STREAM_GAP) {
		ds->frame = ev->frame;
		ds->ts = ev->ts_ns;
		ds->first_frame = ev->first_frame;
		ds->first_ts = ev->first_ts_ns;
		span_widen(ds, ev->first_frame, ev->first_ts_ns);
		span_widen(ds, ev->frame, ev->ts_ns);
	}
	switch (ev->kind) {
	case STREAM_DATA:
		if (ev->conflict_bytes)
			mark_conflict(c, ev->dir, ev->conflict_bytes, 0);
		if (ev->data && ev->len)
			on_data(c, ev);
		break;
	case STREAM_GAP:
		if (ev->len)
			on_gap(c, ev);
		break;
	case STREAM_FIN:
	case STREAM_RST:
		on_close(c, ev);
		break;
	case STREAM_CONFLICT:
		/* not data: the bytes were delivered before */
		if (ev->len)
			mark_conflict(c, ev->dir, ev->len, 1);
		break;
	}
	if (c->connp)
		reap(c);
}

int http1_upgraded_to_h2(const struct http1_conn *c)
{
	return c && c->upgraded_h2;
}

size_t http1_upgrade_rest(const struct http1_conn *c)
{
	return c && c->upgraded_h2 ? c->upgrade_rest : 0;
}

int http1_scep_seen(const struct http1_conn *c)
{
	return c && c->scep_seen;
}

void http1_close(struct http1_conn *c)
{
	struct xstate *x, *next;
	int d;

	if (!c)
		return;
	if (c->connp) {
		if (!c->closed)
			htp_connp_close(c->connp, NULL);
		emit_all(c);
		htp_connp_destroy_all(c->connp);
	}
	held_flush(c);
	for (x = c->head; x; x = next) {
		next = x->next;
		xstate_free(c, x);
	}
	for (d = 0; d < 2; d++)
		dir_forget(c, &c->dir[d]);
	if (c->own_hcfg)
		htp_config_destroy(c->hcfg);
	free(c);
}

/* --- registration with the application-layer dispatcher (app.h) -------- */

static void *http1_app_open(const struct app_open *o)
{
	return http1_open(o->env->http, o->env->cnt, o->view, o->on_exchange, o->arg);
}

static int http1_app_event(void *c, const struct stream_event *ev)
{
	http1_event(c, ev);
	return FLOW_BYTES_READ;
}

static void http1_app_close(void *c)
{
	http1_close(c);
}

static int http1_app_scep_seen(const void *c)
{
	return http1_scep_seen(c);
}

const struct app_layer_ops http1_app_ops = {
	.probe = http1_probe,
	.open = http1_app_open,
	.event = http1_app_event,
	.close = http1_app_close,
	.scep_seen = http1_app_scep_seen,
};
