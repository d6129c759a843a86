/* http2.c - HTTP/2 exchanges from one reassembled TCP connection: owns the
 * frame parser, the two HPACK inflaters, the stream table and the bodies kept
 * for SCEP candidates. Trusts nothing in the stream: frame bytes are read
 * through rd and every length is compared to what is left; header blocks go
 * to nghttp2's inflater, whose output is copied before it is kept.
 *
 * Why our own frame parser: nghttp2_session is an endpoint, not a passive
 * decoder (fed captured bytes it rejects the peer's SETTINGS ACK and
 * responses on streams it never opened), so only its HPACK part is used.
 *
 * The parser streams: no frame is buffered whole. DATA goes to the body as it
 * arrives, header block fragments go to the inflater as they arrive (it keeps
 * its own state between calls), so a 16 MB frame costs no memory and feeding
 * one byte at a time gives the same result as one-shot. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "app.h"
#include "counters.h"
#include "http2.h"
#include "http_body.h"
#include "membudget.h"
#include "reader.h"
#include "strutil.h"

#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24u
/* http2_probe accepts a preface prefix this long: "PRI * HTTP/2.0\r\n" is
 * already unmistakable, and a first segment may stop inside the preface. */
#define H2_PREFACE_PROBE 16u
#define H2_FRAME_HDR 9u
#define H2_DEFAULT_MAX_FRAME 16384u      /* RFC 9113 section 4.2 */
#define H2_HARD_MAX_FRAME 0xffffffu      /* 24-bit length: 16 MB */
/* Decoded header list kept per side (RFC 9113 counts name + value + 32 per
 * field). nghttp2 itself refuses a single field over 64 kB
 * (NGHTTP2_HD_MAX_NV), so a longer list is only many fields. */
#define H2_MAX_HEADER_LIST (64u * 1024u)      /* default of --max-h2-header-list */
/* Streams in flight at once; more are counted (h2_streams_capped) and their
 * frames ignored, though their header blocks still go through the inflater
 * so the dynamic table stays right. */
#define H2_MAX_STREAMS 1000u                  /* default of --max-h2-streams */
/* Our ceiling on an HPACK dynamic table, whatever SETTINGS_HEADER_TABLE_SIZE
 * allows the encoder: a server advertising 4 GiB made one connection's
 * table grow to 327 MB. Browsers and curl ask for at most 64 KiB, SCEP
 * clients keep the 4,096 default; an encoder that really uses more than
 * this makes its direction's header blocks undecodable, and says why. Also
 * what a mid-connection inflater accepts: we never saw the SETTINGS that
 * raised it past 4096, and refusing the encoder's size update would lose
 * every header block. */
#define H2_TABLE_CEILING (64u * 1024u)
/* Buckets of the stream table at first; doubled as streams are added, so
 * a lookup compares about one stream whatever --max-h2-streams is. */
#define H2_BUCKETS_MIN 16u
/* Bytes of a frame's fixed part collected before its content: pad length,
 * priority, promised stream, error codes; GOAWAY keeps 8 + some debug data. */
#define H2_PRE_MAX 64u
/* SETTINGS frames in flight (sent, not yet acknowledged) remembered per
 * direction; a peer that never acknowledges must not grow a list. */
#define H2_SETTINGS_QUEUE 8u

enum h2_type {
	F_DATA = 0, F_HEADERS = 1, F_PRIORITY = 2, F_RST_STREAM = 3,
	F_SETTINGS = 4, F_PUSH_PROMISE = 5, F_PING = 6, F_GOAWAY = 7,
	F_WINDOW_UPDATE = 8, F_CONTINUATION = 9
};

enum {
	FL_END_STREAM = 0x01, FL_ACK = 0x01, FL_END_HEADERS = 0x04,
	FL_PADDED = 0x08, FL_PRIORITY = 0x20
};

enum { SET_HEADER_TABLE_SIZE = 1, SET_MAX_FRAME_SIZE = 5 };

enum verdict { V_UNDECIDED = 0, V_KEEP, V_SKIP };

enum side_id { SIDE_REQ = 0, SIDE_RES = 1 };

struct side_state {
	int present, ended;
	int damaged;          /* a gap hit this side */
	uint64_t gap_bytes;
	uint64_t conflict_bytes;  /* contradicted by a retransmission */
	int parse_error;      /* a malformed frame or header block on this side */
	uint64_t first_ts, last_ts, first_frame, last_frame;
	struct http_body body;
	int blocks;           /* header blocks begun on this side */
	int final_seen;       /* response: a block with a final (>= 200) status */
	int undecodable;      /* a header block of this side could not be decoded */
	int list_capped;
	size_t list_size;
	char *content_type, *content_length;
};

struct h2_stream {
	struct h2_stream *next, *prev;  /* creation order */
	struct h2_stream *hnext;        /* the next in its hash bucket */
	size_t charged;                 /* MEM_http_lines: itself, its strings */
	uint32_t id;
	uint64_t seq;
	enum verdict verdict;
	int pushed;
	char *method, *path, *authority, *host;
	int status;
	char *server, *location;
	char *reset;
	char *error_text;
	int parse_error, damaged;
	uint64_t gap_bytes;
	struct side_state side[2];
};

enum fstate {
	FS_PREFACE,  /* to-server: the 24-byte client preface */
	FS_HEADER,   /* collecting a 9-byte frame header */
	FS_PRE,      /* collecting the frame's fixed part (pad length, ...) */
	FS_CONTENT,  /* the frame's content: body, header block, settings */
	FS_PAD,      /* padding */
	FS_RESYNC    /* framing lost: looking for a plausible frame header */
};

/* Why a direction's header blocks are no longer decoded. */
enum hpack_why {
	HPACK_OK = 0,
	HPACK_STATE_UNKNOWN,  /* bytes lost, or a capture begun mid-connection */
	HPACK_OVER_CEILING,   /* the encoder used a table over H2_TABLE_CEILING */
	HPACK_REFUSED         /* the memory budget refused the inflater */
};

struct dir_state {
	nghttp2_hd_inflater *inf;
	int hpack_lost;       /* dynamic table unknown: no more header blocks */
	enum hpack_why hpack_why;
	/* a table size over H2_TABLE_CEILING was allowed to this direction's
	 * encoder: the largest, for the error text */
	uint32_t table_asked;
	/* contradicted bytes waiting for the next frame of a stream */
	uint64_t conflict_next;
	enum fstate st;
	size_t preface_got;
	uint8_t fh[H2_FRAME_HDR];
	size_t fh_len;
	/* the frame being parsed */
	uint32_t flen, fsid;
	uint8_t ftype, fflags;
	uint8_t pre[H2_PRE_MAX];
	size_t pre_need, pre_len;
	uint32_t content_left, pad_left;
	int frame_bad;        /* malformed: its content is skipped */
	uint8_t set[6];
	size_t set_len;
	/* header block in progress: HEADERS or PUSH_PROMISE + CONTINUATIONs */
	int in_block;
	uint32_t block_sid;    /* stream the frames carry */
	uint32_t block_target; /* stream whose headers they are (promised one) */
	enum side_id block_side;
	int block_end_stream;
	int block_keep;        /* target exists: keep what is decoded */
	/* largest frame the other side allows us (its SETTINGS_MAX_FRAME_SIZE) */
	uint32_t max_frame;
	int max_frame_known;
	/* table sizes the other side announced, in order, applied at this
	 * side's SETTINGS ACK: from then on this side's encoder uses them */
	uint32_t pend_table[H2_SETTINGS_QUEUE];
	int pend_has[H2_SETTINGS_QUEUE];
	size_t pend_n;
	/* frames and times of every event that fed the frame being parsed */
	uint64_t f_min_frame, f_max_frame, f_min_ts, f_max_ts;
	/* the event being fed */
	uint64_t ev_frame, ev_ts, ev_first_frame, ev_first_ts;
};

struct http2_conn {
	size_t max_body;
	size_t max_streams, max_header_list;
	struct counters *cnt;
	struct mem_budget *mem;
	/* the inflaters allocate through us: their tables and field buffers
	 * are charged to mem (MEM_hpack); hpack_refused says one was refused */
	nghttp2_mem ngmem;
	int hpack_refused;
	int hpack_opening;    /* http2_open: allocations are not refused */
	int scep_seen;        /* a stream was kept as a SCEP candidate */
	/* streams by id: buckets of hnext chains (n_buckets a power of 2);
	 * lookup_steps counts the streams compared, for the unit tests */
	struct h2_stream **buckets;
	size_t n_buckets;
	uint64_t lookup_steps;
	uint64_t flow_id;
	struct endpoint client, server;
	http_exchange_cb cb;
	void *cb_arg;
	struct h2_stream *head, *tail;
	size_t n_streams;
	uint64_t next_seq;
	struct dir_state dir[2];
	/* stream ids seen, to tell a frame for a stream already emitted from
	 * one whose opening the capture missed */
	uint32_t first_client_sid, max_client_sid, max_push_sid;
	char *goaway;         /* GOAWAY with an error code, for open streams */
	int closed;
};

static const char *const error_names[] = {
	"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR",
	"SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR",
	"REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR",
	"ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
};

/* --- probe ---------------------------------------------------------------- */

static uint32_t be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* Splits a 9-byte frame header read through rd. Returns 0 when short. */
static int parse_frame_header(const uint8_t *p, size_t n, uint32_t *len,
			      uint8_t *type, uint8_t *flags, uint32_t *sid,
			      int *reserved)
{
	struct rd r;
	uint8_t l[3];
	uint32_t s;

	rd_init(&r, p, n);
	if (!rd_copy(&r, l, 3) || !rd_u8(&r, type) || !rd_u8(&r, flags) ||
	    !rd_be32(&r, &s))
		return 0;
	*len = be24(l);
	*sid = s & 0x7fffffffu;
	*reserved = (s & 0x80000000u) != 0;
	return 1;
}

int http2_probe(const uint8_t *data, size_t len, enum stream_dir dir)
{
	uint32_t flen, sid;
	uint8_t type, flags;
	int reserved;

	if (!data)
		return 0;
	if (dir == DIR_TO_SERVER) {
		size_t n = len < H2_PREFACE_LEN ? len : H2_PREFACE_LEN;

		return n >= H2_PREFACE_PROBE && memcmp(data, H2_PREFACE, n) == 0;
	}
	/* the server's preface is a SETTINGS frame (RFC 9113 section 3.4) */
	if (!parse_frame_header(data, len, &flen, &type, &flags, &sid, &reserved))
		return 0;
	return type == F_SETTINGS && flags == 0 && sid == 0 && !reserved &&
	       flen % 6 == 0 && flen <= 6 * 16;
}

/* --- small helpers -------------------------------------------------------- */

/* Copies wire bytes into a C string; embedded NULs become "\0" so the string
 * stays whole (libhtp's bstr_util_memdup_to_c does the same for HTTP/1). */
static char *copy_value(const uint8_t *p, size_t n)
{
	size_t i, extra = 0, o = 0;
	char *s;

	for (i = 0; i < n; i++)
		extra += p[i] == 0;
	s = malloc(n + extra + 1);
	if (!s)
		return NULL;
	for (i = 0; i < n; i++) {
		if (p[i] == 0) {
			s[o++] = '\\';
			s[o++] = '0';
		} else {
			s[o++] = (char)p[i];
		}
	}
	s[o] = '\0';
	return s;
}

static int name_is(const nghttp2_nv *nv, const char *name)
{
	size_t n = strlen(name);

	return nv->namelen == n && memcmp(nv->name, name, n) == 0;
}

/* The media type of a Content-Type value, lower-cased into out. */
static void media_type(const char *v, char *out, size_t outlen)
{
	struct rd r;
	uint8_t c;
	size_t n = 0;

	out[0] = '\0';
	if (!v || outlen == 0)
		return;
	rd_init(&r, v, strlen(v));
	while (rd_u8(&r, &c) && (c == ' ' || c == '\t'))
		;
	if (r.err)
		return;
	do {
		if (c == ';' || c == ' ' || c == '\t' || n + 1 >= outlen)
			break;
		out[n++] = (char)str_ascii_lower(c);
	} while (rd_u8(&r, &c));
	out[n] = '\0';
}

/* SCEP names its operation in the query (RFC 8894 section 4.1: the rule
 * both HTTP layers share is http_query_names_operation); PKI media types
 * are kept whatever the URL says. */
static int is_pki_request_type(const char *ct)
{
	char mt[64];

	media_type(ct, mt, sizeof(mt));
	return strcmp(mt, "application/x-pki-message") == 0 ||
	       strcmp(mt, "application/pkcs7-mime") == 0 ||
	       strncmp(mt, "application/x-x509-", 19) == 0;
}

static int is_pki_response_type(const char *ct)
{
	char mt[64];

	media_type(ct, mt, sizeof(mt));
	return strcmp(mt, "application/x-pki-message") == 0 ||
	       strncmp(mt, "application/x-x509-", 19) == 0;
}

static const char *query_of(const char *path)
{
	const char *q = path ? strchr(path, '?') : NULL;

	return q ? q + 1 : NULL;
}

static const char *error_name(uint32_t code, char *buf, size_t n)
{
	if (code < sizeof(error_names) / sizeof(error_names[0]))
		return error_names[code];
	snprintf(buf, n, "error 0x%x", (unsigned)code);
	return buf;
}

/* --- streams -------------------------------------------------------------- */

/* Copies a decoded header value into *dst (replacing what was there),
 * charged to the stream (MEM_http_lines). 0, or -1 when the budget or the
 * allocator refused: *dst is then as it was. */
static int keep_value(struct http2_conn *c, struct h2_stream *s, char **dst,
		      const uint8_t *p, size_t n)
{
	size_t old = *dst ? strlen(*dst) + 1 : 0, need = n + 1, i;
	char *v;

	for (i = 0; i < n; i++)
		need += p[i] == 0;      /* copy_value writes a NUL as "\0" */
	if (mem_charge(c->mem, MEM_http_lines, need) < 0)
		return -1;
	v = copy_value(p, n);
	if (!v) {
		mem_release(c->mem, MEM_http_lines, need);
		return -1;
	}
	free(*dst);
	mem_release(c->mem, MEM_http_lines, old);
	s->charged = s->charged - old + need;
	*dst = v;
	return 0;
}

static void side_free(struct http2_conn *c, struct side_state *s)
{
	http_body_free(&s->body, c->mem);
	free(s->content_type);
	free(s->content_length);
}

static void stream_free(struct http2_conn *c, struct h2_stream *s)
{
	side_free(c, &s->side[SIDE_REQ]);
	side_free(c, &s->side[SIDE_RES]);
	free(s->method);
	free(s->path);
	free(s->authority);
	free(s->host);
	free(s->server);
	free(s->location);
	free(s->reset);
	free(s->error_text);
	mem_release(c->mem, MEM_http_lines, s->charged);
	free(s);
}

/* Something about the stream was not kept or not right (error_text says
 * what); counted in http_parse_errors when it is emitted. */
static void set_error(struct h2_stream *s, const char *text)
{
	s->parse_error = 1;
	if (!s->error_text && text)
		s->error_text = strdup(text);   /* our own constant texts */
}

/* A malformed frame or undecodable header block on side (NULL: not
 * known): the exchange is damaged as by a gap, and says why. */
static void set_failure(struct h2_stream *s, struct side_state *side, const char *text)
{
	set_error(s, text);
	s->damaged = 1;
	if (side)
		side->parse_error = 1;
}

static void set_reset(struct h2_stream *s, const char *text)
{
	if (!s->reset && text)
		s->reset = strdup(text);
}

/* Fibonacci hashing: client ids are 1, 3, 5..., pushed ones even; the
 * multiply spreads both over the high bits. n is a power of 2. */
static size_t hash_id(uint32_t id, size_t n)
{
	return (size_t)(((uint64_t)id * 0x9e3779b97f4a7c15ull) >> 32) & (n - 1);
}

static size_t bucket_of(const struct http2_conn *c, uint32_t id)
{
	return hash_id(id, c->n_buckets);
}

static struct h2_stream *stream_find(struct http2_conn *c, uint32_t id)
{
	struct h2_stream *s;

	if (!c->n_buckets)
		return NULL;
	for (s = c->buckets[bucket_of(c, id)]; s; s = s->hnext) {
		c->lookup_steps++;
		if (s->id == id)
			return s;
	}
	return NULL;
}

/* Doubles the bucket array once there are as many streams as buckets. A
 * refused or failed growth keeps the old array: longer chains, same
 * answers. */
static void buckets_grow(struct http2_conn *c)
{
	size_t n = c->n_buckets ? c->n_buckets * 2 : H2_BUCKETS_MIN, i;
	struct h2_stream **nb, *s, *next;

	if (c->n_streams < c->n_buckets)
		return;
	if (mem_charge(c->mem, MEM_http_lines, n * sizeof(*nb)) < 0)
		return;
	nb = calloc(n, sizeof(*nb));
	if (!nb) {
		mem_release(c->mem, MEM_http_lines, n * sizeof(*nb));
		return;
	}
	for (i = 0; i < c->n_buckets; i++) {
		for (s = c->buckets[i]; s; s = next) {
			next = s->hnext;
			s->hnext = nb[hash_id(s->id, n)];
			nb[hash_id(s->id, n)] = s;
		}
	}
	mem_release(c->mem, MEM_http_lines, c->n_buckets * sizeof(*nb));
	free(c->buckets);
	c->buckets = nb;
	c->n_buckets = n;
}

static struct h2_stream *stream_new(struct http2_conn *c, uint32_t id)
{
	struct h2_stream *s;
	size_t b;

	if (c->n_streams >= c->max_streams) {
		c->cnt->h2_streams_capped++;
		return NULL;
	}
	buckets_grow(c);
	if (!c->n_buckets) {
		/* no table to find it in: capped as the budget refused */
		c->cnt->h2_streams_capped++;
		return NULL;
	}
	/* a stream is mostly the header fields it keeps: it is charged
	 * with them, and a refusal is the stream cap's */
	if (mem_charge(c->mem, MEM_http_lines, sizeof(*s)) < 0) {
		c->cnt->h2_streams_capped++;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		mem_release(c->mem, MEM_http_lines, sizeof(*s));
		return NULL;
	}
	s->charged = sizeof(*s);
	s->id = id;
	s->seq = ++c->next_seq;
	s->prev = c->tail;
	if (c->tail)
		c->tail->next = s;
	else
		c->head = s;
	c->tail = s;
	b = bucket_of(c, id);
	s->hnext = c->buckets[b];
	c->buckets[b] = s;
	c->n_streams++;
	return s;
}

static void stream_unlink(struct http2_conn *c, struct h2_stream *s)
{
	struct h2_stream **pp;

	if (s->prev)
		s->prev->next = s->next;
	else
		c->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		c->tail = s->prev;
	for (pp = &c->buckets[bucket_of(c, s->id)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == s) {
			*pp = s->hnext;
			break;
		}
	}
	s->next = s->prev = s->hnext = NULL;
	c->n_streams--;
}

static void keep(struct http2_conn *c, struct h2_stream *s)
{
	s->verdict = V_KEEP;
	c->scep_seen = 1;
}

/* Decides whether the stream is a SCEP candidate once its headers are known.
 * Undecodable request headers leave it to the response's media type; when
 * those are undecodable too it stays undecided and is emitted, because it
 * may be SCEP and the exchange says its headers were lost. */
static void decide(struct http2_conn *c, struct h2_stream *s)
{
	struct side_state *q = &s->side[SIDE_REQ], *r = &s->side[SIDE_RES];

	if (s->verdict != V_UNDECIDED)
		return;
	if (s->path || s->method) {
		const char *query = query_of(s->path);

		if (query && http_query_names_operation(query, strlen(query)))
			keep(c, s);
		else if (is_pki_request_type(q->content_type))
			keep(c, s);
		else if (!q->undecodable)
			s->verdict = V_SKIP;
	} else if (r->final_seen && !r->undecodable && !q->undecodable) {
		if (is_pki_response_type(r->content_type))
			keep(c, s);
		else
			s->verdict = V_SKIP;
	}
	if (s->verdict == V_SKIP) {
		http_body_free(&q->body, c->mem);
		http_body_free(&r->body, c->mem);
	}
}

/* Widens a side's frame/time span with the frame being parsed in d. */
static void side_touch(struct http2_conn *c, struct side_state *s,
		       enum stream_dir d)
{
	struct dir_state *ds = &c->dir[d];

	if (!s->present) {
		s->present = 1;
		s->first_frame = ds->f_min_frame;
		s->last_frame = ds->f_max_frame;
		s->first_ts = ds->f_min_ts;
		s->last_ts = ds->f_max_ts;
		return;
	}
	if (ds->f_min_frame < s->first_frame)
		s->first_frame = ds->f_min_frame;
	if (ds->f_max_frame > s->last_frame)
		s->last_frame = ds->f_max_frame;
	if (ds->f_min_ts < s->first_ts)
		s->first_ts = ds->f_min_ts;
	if (ds->f_max_ts > s->last_ts)
		s->last_ts = ds->f_max_ts;
}

static void fill_side(struct http_side *o, const struct side_state *s)
{
	o->present = s->present;
	o->first_ts_ns = s->first_ts;
	o->last_ts_ns = s->last_ts;
	o->first_frame = s->first_frame;
	o->last_frame = s->last_frame;
	http_body_export(&s->body, o);
	o->damaged = s->damaged;
	o->gap_bytes = s->gap_bytes;
	o->conflict_bytes = s->conflict_bytes;
	o->parse_error = s->parse_error;
	o->content_type = s->content_type;
	o->content_length = s->content_length;
}

/* Why the header blocks of d stopped decoding, for the exchange. */
static void hpack_why_text(const struct dir_state *ds, char *buf, size_t n)
{
	switch (ds->hpack_why) {
	case HPACK_OVER_CEILING:
		snprintf(buf, n, "its encoder used a header table over the %u bytes kept; "
			 "SETTINGS allowed %" PRIu32, H2_TABLE_CEILING, ds->table_asked);
		break;
	case HPACK_REFUSED:
		snprintf(buf, n, "the memory budget refused the HPACK decoder");
		break;
	default:
		snprintf(buf, n, "HPACK state unknown: capture began mid-connection or lost bytes");
		break;
	}
}

/* A stream whose header blocks could not be decoded says which and why. */
static void mark_undecodable(struct http2_conn *c, struct h2_stream *s)
{
	struct side_state *q = &s->side[SIDE_REQ], *r = &s->side[SIDE_RES];
	/* a promised request is in the server's header blocks */
	const struct dir_state *ds = &c->dir[q->undecodable && !s->pushed ? DIR_TO_SERVER : DIR_TO_CLIENT];
	char why[160], text[240];

	if (!q->undecodable && !r->undecodable)
		return;
	hpack_why_text(ds, why, sizeof(why));
	snprintf(text, sizeof(text), "%s headers undecodable (%s)",
		 q->undecodable && r->undecodable ? "request and response" :
		 q->undecodable ? "request" : "response", why);
	if (q->undecodable)
		set_failure(s, q, text);
	if (r->undecodable)
		set_failure(s, r, text);
}

/* Hands s to the callback (when it is a SCEP candidate), unlinks and frees
 * it. */
static void emit(struct http2_conn *c, struct h2_stream *s)
{
	struct http_exchange e;
	char *path = NULL, *query = NULL;
	const char *q;

	stream_unlink(c, s);
	decide(c, s);
	if (s->verdict == V_SKIP) {
		c->cnt->http_skipped++;
		stream_free(c, s);
		return;
	}
	mark_undecodable(c, s);
	if (s->parse_error)
		c->cnt->http_parse_errors++;
	memset(&e, 0, sizeof(e));
	e.flow_id = c->flow_id;
	e.seq = s->seq;
	e.client = c->client;
	e.server = c->server;
	e.version = HTTP_V2;
	e.host = s->authority ? s->authority : s->host;
	e.method = s->method;
	e.uri = s->path;
	if (s->path) {
		q = strchr(s->path, '?');
		path = q ? strndup(s->path, (size_t)(q - s->path)) : strdup(s->path);
		query = q ? strdup(q + 1) : NULL;
	}
	e.path = path;
	e.query = query;
	e.status = s->status;
	e.server_header = s->server;
	e.location = s->location;
	fill_side(&e.req, &s->side[SIDE_REQ]);
	fill_side(&e.res, &s->side[SIDE_RES]);
	e.damaged = s->damaged;
	e.gap_bytes = s->gap_bytes;
	e.parse_error = s->parse_error;
	e.error_text = s->error_text;
	e.reset = s->reset;
	c->cb(c->cb_arg, &e);
	free(path);
	free(query);
	stream_free(c, s);
}

static void maybe_emit(struct http2_conn *c, struct h2_stream *s)
{
	if (s->side[SIDE_REQ].ended && s->side[SIDE_RES].ended)
		emit(c, s);
}

static void emit_all(struct http2_conn *c)
{
	while (c->head) {
		if (c->goaway)
			set_reset(c->head, c->goaway);
		emit(c, c->head);
	}
}

/* --- HPACK ---------------------------------------------------------------- */

static ssize_t inflate_step(nghttp2_hd_inflater *inf, nghttp2_nv *nv,
			    int *flags, const uint8_t *in, size_t len, int final)
{
#if NGHTTP2_VERSION_NUM >= 0x013c00
	/* 1.60 deprecates hd2 for hd3 (nghttp2_ssize); same contract */
	return (ssize_t)nghttp2_hd_inflate_hd3(inf, nv, flags, in, len, final);
#else
	return nghttp2_hd_inflate_hd2(inf, nv, flags, in, len, final);
#endif
}

/* Where a field of the exchange is kept, if it is one: NULL otherwise. */
static char **field_slot(struct h2_stream *s, enum side_id side, const nghttp2_nv *nv)
{
	struct side_state *st = &s->side[side];

	if (name_is(nv, "content-type"))
		return &st->content_type;
	if (name_is(nv, "content-length"))
		return &st->content_length;
	if (side == SIDE_REQ) {
		if (name_is(nv, ":method"))
			return &s->method;
		if (name_is(nv, ":path"))
			return &s->path;
		if (name_is(nv, ":authority"))
			return &s->authority;
		if (name_is(nv, "host"))
			return &s->host;
		return NULL;
	}
	if (name_is(nv, "server"))
		return &s->server;
	if (name_is(nv, "location"))
		return &s->location;
	return NULL;
}

/* Keeps what the exchange shows of one field. -1: the budget refused. */
static int keep_field(struct http2_conn *c, struct h2_stream *s, enum side_id side,
		      const nghttp2_nv *nv)
{
	char **slot;

	if (side == SIDE_RES && name_is(nv, ":status")) {
		struct rd r;
		uint8_t ch;
		int v = 0, n = 0;

		rd_init(&r, nv->value, nv->valuelen);
		while (rd_u8(&r, &ch) && ch >= '0' && ch <= '9' && n < 3) {
			v = v * 10 + (ch - '0');
			n++;
		}
		if (n == 3 && nv->valuelen == 3)
			s->status = v;
		else
			set_failure(s, &s->side[SIDE_RES], "invalid :status");
		return 0;
	}
	slot = field_slot(s, side, nv);
	return slot ? keep_value(c, s, slot, nv->value, nv->valuelen) : 0;
}

/* One decoded field of the block in progress in d. */
static void on_field(struct http2_conn *c, enum stream_dir d, const nghttp2_nv *nv)
{
	struct dir_state *ds = &c->dir[d];
	struct h2_stream *s;
	struct side_state *side;

	if (!ds->block_keep || !(s = stream_find(c, ds->block_target)))
		return;
	side = &s->side[ds->block_side];
	/* trailers (a later request block, a response block after the final
	 * status) carry nothing the exchange shows */
	if (ds->block_side == SIDE_REQ ? side->blocks > 1 : side->final_seen)
		return;
	if (side->list_capped)
		return;
	if (side->list_size > c->max_header_list ||
	    nv->namelen + nv->valuelen + 32 > c->max_header_list - side->list_size) {
		side->list_capped = 1;
		c->cnt->h2_headers_capped++;
		set_error(s, "header list over --max-h2-header-list: the rest was not kept");
		return;
	}
	side->list_size += nv->namelen + nv->valuelen + 32;
	if (keep_field(c, s, ds->block_side, nv) < 0) {
		/* the budget refused: capped as the list cap caps */
		side->list_capped = 1;
		c->cnt->h2_headers_capped++;
		set_error(s, "header fields refused by the memory budget: the rest was not kept");
	}
}

/* The inflater refused a block: its dynamic table no longer matches the
 * encoder's (capture began mid-connection, bytes lost), and nghttp2 refuses
 * everything after an error, so this direction's headers stay unknown. */
static void hpack_fail(struct http2_conn *c, enum stream_dir d)
{
	struct dir_state *ds = &c->dir[d];

	if (!ds->hpack_lost)
		c->cnt->h2_header_errors++;
	if (!ds->hpack_why)
		ds->hpack_why = HPACK_STATE_UNKNOWN;
	ds->hpack_lost = 1;
}

/* The inflater of d failed on a block: because the budget refused it
 * memory (a cap, counted as the header list cap is), because the encoder
 * used a table over our ceiling, or because its state is not the
 * encoder's. */
static void inflate_failed(struct http2_conn *c, enum stream_dir d)
{
	struct dir_state *ds = &c->dir[d];

	if (!ds->hpack_why) {
		if (c->hpack_refused) {
			ds->hpack_why = HPACK_REFUSED;
			c->cnt->h2_headers_capped++;
		} else if (ds->table_asked > H2_TABLE_CEILING) {
			ds->hpack_why = HPACK_OVER_CEILING;
		}
	}
	c->hpack_refused = 0;
	hpack_fail(c, d);
}

static void block_mark_undecodable(struct http2_conn *c, enum stream_dir d)
{
	struct dir_state *ds = &c->dir[d];
	struct h2_stream *s;

	if (ds->block_keep && (s = stream_find(c, ds->block_target)) != NULL)
		s->side[ds->block_side].undecodable = 1;
}

/* Feeds a header block fragment; final: the block's last byte is in it. */
static void block_feed(struct http2_conn *c, enum stream_dir d,
		       const uint8_t *in, size_t len, int final)
{
	struct dir_state *ds = &c->dir[d];
	const uint8_t none = 0;
	nghttp2_nv nv;
	ssize_t rv;
	int flags;

	if (!in)
		in = &none;     /* an empty fragment: never offset NULL */
	if (ds->hpack_lost) {
		block_mark_undecodable(c, d);
		return;
	}
	for (;;) {
		flags = 0;
		rv = inflate_step(ds->inf, &nv, &flags, in, len, final);
		if (rv < 0 || (size_t)rv > len) {
			inflate_failed(c, d);
			block_mark_undecodable(c, d);
			return;
		}
		in += rv;
		len -= (size_t)rv;
		if (flags & NGHTTP2_HD_INFLATE_EMIT)
			on_field(c, d, &nv);
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(ds->inf);
			return;
		}
		/* nothing emitted and nothing left: wait for the next fragment */
		if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && (len == 0 || rv == 0))
			return;
	}
}

/* The block in progress in d ended (END_HEADERS, or cut short). */
static void block_end(struct http2_conn *c, enum stream_dir d, int complete)
{
	struct dir_state *ds = &c->dir[d];
	struct h2_stream *s;
	struct side_state *side;

	if (!ds->in_block)
		return;
	ds->in_block = 0;
	if (!complete) {
		/* a block cut by another frame leaves the inflater mid-block */
		hpack_fail(c, d);
		block_mark_undecodable(c, d);
	}
	if (!ds->block_keep || !(s = stream_find(c, ds->block_target)))
		return;
	side = &s->side[ds->block_side];
	if (ds->block_side == SIDE_RES && !side->final_seen && s->status >= 200)
		side->final_seen = 1;
	/* a promised request has no body (RFC 9113 section 8.4) */
	if (ds->block_end_stream || (s->pushed && ds->block_side == SIDE_REQ))
		side->ended = 1;
	decide(c, s);
	maybe_emit(c, s);
}

/* Starts a header block for target's side in d. */
static void block_begin(struct http2_conn *c, enum stream_dir d, uint32_t sid,
			struct h2_stream *target, enum side_id side, int end_stream)
{
	struct dir_state *ds = &c->dir[d];

	ds->in_block = 1;
	ds->block_sid = sid;
	ds->block_target = target ? target->id : 0;
	ds->block_keep = target != NULL;
	ds->block_side = side;
	ds->block_end_stream = end_stream;
	if (target) {
		target->side[side].blocks++;
		/* a response block after a 1xx replaces its fields */
		if (side == SIDE_RES && !target->side[side].final_seen)
			target->side[side].list_size = 0;
	}
}

/* --- frames --------------------------------------------------------------- */

static enum side_id side_of(enum stream_dir d)
{
	return d == DIR_TO_SERVER ? SIDE_REQ : SIDE_RES;
}

/* The stream a HEADERS frame in d opens or continues; NULL when it is for a
 * stream already emitted, or capped. */
static struct h2_stream *headers_stream(struct http2_conn *c, enum stream_dir d,
					uint32_t sid)
{
	struct h2_stream *s = stream_find(c, sid);
	int create;

	if (s)
		return s;
	if (sid & 1) {
		if (d == DIR_TO_SERVER)
			create = sid > c->max_client_sid;
		else    /* a response whose request the capture missed */
			create = sid > c->max_client_sid || c->first_client_sid == 0 ||
				 sid < c->first_client_sid;
		if (create) {
			if (!c->first_client_sid || sid < c->first_client_sid)
				c->first_client_sid = sid;
			if (sid > c->max_client_sid)
				c->max_client_sid = sid;
		}
	} else {
		/* a pushed stream whose PUSH_PROMISE the capture missed */
		create = d == DIR_TO_CLIENT && sid > c->max_push_sid;
		if (create)
			c->max_push_sid = sid;
	}
	return create ? stream_new(c, sid) : NULL;
}

static void frame_error(struct http2_conn *c, enum stream_dir d, const char *why)
{
	struct dir_state *ds = &c->dir[d];
	struct h2_stream *s = ds->fsid ? stream_find(c, ds->fsid) : NULL;

	c->cnt->h2_frame_errors++;
	ds->frame_bad = 1;
	if (s)
		set_failure(s, &s->side[side_of(d)], why);
}

static void on_settings_entry(struct http2_conn *c, enum stream_dir d,
			      const uint8_t *p)
{
	struct dir_state *other = &c->dir[!d];
	struct rd r;
	uint16_t id;
	uint32_t v;

	rd_init(&r, p, 6);
	if (!rd_be16(&r, &id) || !rd_be32(&r, &v))
		return;
	if (id == SET_HEADER_TABLE_SIZE && other->pend_n) {
		other->pend_table[other->pend_n - 1] = v;
		other->pend_has[other->pend_n - 1] = 1;
	} else if (id == SET_MAX_FRAME_SIZE && v >= H2_DEFAULT_MAX_FRAME &&
		   v <= H2_HARD_MAX_FRAME) {
		/* taken at once, not at the ACK: we only use it to judge
		 * whether a frame length is plausible */
		other->max_frame = v;
		other->max_frame_known = 1;
	}
}

/* A SETTINGS ACK in d: d's encoder now uses the table size the other side
 * announced in its oldest unacknowledged SETTINGS (RFC 9113 section 6.5.3).
 * Applied here, between header blocks, as nghttp2 requires. */
static void on_settings_ack(struct http2_conn *c, enum stream_dir d)
{
	struct dir_state *ds = &c->dir[d];
	uint32_t v;
	int has;

	if (!ds->pend_n)
		return;
	v = ds->pend_table[0];
	has = ds->pend_has[0];
	memmove(ds->pend_table, ds->pend_table + 1, (ds->pend_n - 1) * sizeof(ds->pend_table[0]));
	memmove(ds->pend_has, ds->pend_has + 1, (ds->pend_n - 1) * sizeof(ds->pend_has[0]));
	ds->pend_n--;
	if (!has || ds->hpack_lost)
		return;
	if (v > H2_TABLE_CEILING) {
		/* counted once per direction: the peer keeps announcing it */
		if (!ds->table_asked)
			c->cnt->h2_tables_capped++;
		if (v > ds->table_asked)
			ds->table_asked = v;
		v = H2_TABLE_CEILING;
	}
	if (nghttp2_hd_inflate_change_table_size(ds->inf, v) != 0)
		inflate_failed(c, d);
}

static void on_rst_stream(struct http2_conn *c, enum stream_dir d, uint32_t code)
{
	struct h2_stream *s = stream_find(c, c->dir[d].fsid);
	char buf[32], text[64];

	if (!s)
		return;
	snprintf(text, sizeof(text), "RST_STREAM %s by %s",
		 error_name(code, buf, sizeof(buf)),
		 d == DIR_TO_SERVER ? "client" : "server");
	set_reset(s, text);
	side_touch(c, &s->side[side_of(d)], d);
	emit(c, s);
}

/* GOAWAY: streams the sender's peer opened above last_id were never
 * processed (RFC 9113 section 6.8) and are emitted now; with an error code
 * the connection is going down and open streams say so when emitted. */
static void on_goaway(struct http2_conn *c, enum stream_dir d, uint32_t last_id,
		      uint32_t code)
{
	struct h2_stream *s, *next;
	char buf[32], text[64];
	/* client-opened streams are odd: a server's GOAWAY refuses those */
	uint32_t parity = d == DIR_TO_CLIENT ? 1 : 0;

	snprintf(text, sizeof(text), "GOAWAY %s by %s",
		 error_name(code, buf, sizeof(buf)),
		 d == DIR_TO_SERVER ? "client" : "server");
	if (code != 0 && !c->goaway)
		c->goaway = strdup(text);
	for (s = c->head; s; s = next) {
		next = s->next;
		if ((s->id & 1) == parity && s->id > last_id) {
			set_reset(s, text);
			emit(c, s);
		}
	}
}

/* --- contradicting retransmissions ------------------------------------------ */

/* The stream whose frame (or header block) d is in the middle of. */
static struct h2_stream *stream_in_flight(struct http2_conn *c, enum stream_dir d)
{
	struct dir_state *ds = &c->dir[d];

	if (ds->in_block)
		return ds->block_keep ? stream_find(c, ds->block_target) : NULL;
	if ((ds->st == FS_PRE || ds->st == FS_CONTENT || ds->st == FS_PAD) && ds->fsid)
		return stream_find(c, ds->fsid);
	return NULL;
}

static void stream_conflict(struct h2_stream *s, enum stream_dir d, uint64_t n)
{
	s->damaged = 1;
	s->side[side_of(d)].conflict_bytes += n;
}

/* n bytes in d had a copy on the wire with other content (a conflicting
 * TCP retransmission): which one the endpoint took is unknown, so the
 * stream they belong to is damaged. That is the one whose frame is in
 * flight in d; bytes already delivered (delivered: a STREAM_CONFLICT) with
 * none in flight belonged to the newest stream not yet emitted; otherwise
 * they start the next frame of a stream (conflict_take). The overlap
 * itself is counted by reassembly. */
static void mark_conflict(struct http2_conn *c, enum stream_dir d, uint64_t n, int delivered)
{
	struct h2_stream *s = stream_in_flight(c, d);

	if (!s && delivered)
		s = c->tail;
	if (s)
		stream_conflict(s, d, n);
	else
		c->dir[d].conflict_next += n;
}

/* A frame of a stream has begun in d: it takes contradicted bytes that
 * were waiting for it. */
static void conflict_take(struct http2_conn *c, enum stream_dir d)
{
	struct dir_state *ds = &c->dir[d];
	struct h2_stream *s;

	if (ds->conflict_next && (s = stream_in_flight(c, d)) != NULL) {
		stream_conflict(s, d, ds->conflict_next);
		ds->conflict_next = 0;
	}
}

/* The fixed part of the current frame in d is in ds->pre. Sets up its
 * content (and padding) or handles the whole frame. */
static void frame_pre_done(struct http2_conn *c, enum stream_dir d)
{
	struct dir_state *ds = &c->dir[d];
	struct rd r;
	uint32_t rest = ds->flen - (uint32_t)ds->pre_len, pad = 0, v32, v2;
	uint8_t padlen = 0;
	struct h2_stream *s;

	rd_init(&r, ds->pre, ds->pre_len);
	if ((ds->ftype == F_DATA || ds->ftype == F_HEADERS ||
	     ds->ftype == F_PUSH_PROMISE) && (ds->fflags & FL_PADDED)) {
		rd_u8(&r, &padlen);
		pad = padlen;
		if (pad > rest) {
			frame_error(c, d, "HTTP/2 pad length beyond its frame");
			if (ds->ftype != F_DATA) {
				/* the fragment is lost: the block cannot go on */
				if (ds->in_block)
					block_end(c, d, 0);
				else
					hpack_fail(c, d);
			}
			ds->content_left = rest;
			ds->pad_left = 0;
			return;
		}
	}
	ds->content_left = rest - pad;
	ds->pad_left = pad;
	switch (ds->ftype) {
	case F_DATA:
		break;
	case F_HEADERS:
		s = headers_stream(c, d, ds->fsid);
		block_begin(c, d, ds->fsid, s, side_of(d),
			    (ds->fflags & FL_END_STREAM) != 0);
		if (s)
			side_touch(c, &s->side[side_of(d)], d);
		break;
	case F_PUSH_PROMISE:
		if (!rd_be32(&r, &v32))
			break;
		v32 &= 0x7fffffffu;
		s = NULL;
		if (d == DIR_TO_CLIENT && v32 && !(v32 & 1) && !stream_find(c, v32) &&
		    v32 > c->max_push_sid) {
			c->max_push_sid = v32;
			s = stream_new(c, v32);
			if (s) {
				s->pushed = 1;
				/* the promise stands for the request: its
				 * frames are the server's */
				side_touch(c, &s->side[SIDE_REQ], d);
			}
		}
		block_begin(c, d, ds->fsid, s, SIDE_REQ, 0);
		break;
	case F_RST_STREAM:
		if (rd_be32(&r, &v32))
			on_rst_stream(c, d, v32);
		break;
	case F_GOAWAY:
		if (rd_be32(&r, &v32) && rd_be32(&r, &v2))
			on_goaway(c, d, v32 & 0x7fffffffu, v2);
		break;
	default:
		/* PRIORITY, PING, WINDOW_UPDATE: nothing an exchange shows */
		break;
	}
	conflict_take(c, d);
}

/* Content bytes of the current frame in d; last: the content ends here. */
static void frame_content(struct http2_conn *c, enum stream_dir d,
			  const uint8_t *p, size_t n, int last)
{
	struct dir_state *ds = &c->dir[d];
	struct h2_stream *s;
	struct side_state *side;
	size_t i;

	if (ds->frame_bad)
		return;
	switch (ds->ftype) {
	case F_DATA:
		s = stream_find(c, ds->fsid);
		if (!s)
			return;
		side = &s->side[side_of(d)];
		side_touch(c, side, d);
		if (s->verdict != V_SKIP && n)
			http_body_append(&side->body, p, n, c->max_body, c->cnt, c->mem);
		else
			side->body.wire += n;
		return;
	case F_HEADERS:
	case F_PUSH_PROMISE:
	case F_CONTINUATION:
		if (!ds->in_block)
			return;
		if ((s = stream_find(c, ds->block_target)) != NULL && ds->block_keep)
			side_touch(c, &s->side[ds->block_side], d);
		block_feed(c, d, p, n, last && (ds->fflags & FL_END_HEADERS));
		return;
	case F_SETTINGS:
		for (i = 0; i < n; i++) {
			ds->set[ds->set_len++] = p[i];
			if (ds->set_len == sizeof(ds->set)) {
				on_settings_entry(c, d, ds->set);
				ds->set_len = 0;
			}
		}
		return;
	default:
		return;
	}
}

/* The current frame in d is complete. */
static void frame_end(struct http2_conn *c, enum stream_dir d)
{
	struct dir_state *ds = &c->dir[d];
	struct h2_stream *s;

	ds->st = FS_HEADER;
	ds->fh_len = 0;
	if (ds->ftype == F_HEADERS || ds->ftype == F_PUSH_PROMISE ||
	    ds->ftype == F_CONTINUATION) {
		if (ds->in_block && (ds->fflags & FL_END_HEADERS))
			block_end(c, d, !ds->frame_bad);
		return;
	}
	if (ds->frame_bad)
		return;
	if (ds->ftype == F_DATA && (ds->fflags & FL_END_STREAM) &&
	    (s = stream_find(c, ds->fsid)) != NULL) {
		s->side[side_of(d)].ended = 1;
		maybe_emit(c, s);
	}
}

/* Size of the fixed part of a frame before its content, or -1 when the
 * frame's length cannot be right for its type. */
static long frame_pre_size(uint8_t type, uint8_t flags, uint32_t len)
{
	long pad = (flags & FL_PADDED) ? 1 : 0;

	switch (type) {
	case F_DATA:
		return pad;
	case F_HEADERS:
		return pad + ((flags & FL_PRIORITY) ? 5 : 0);
	case F_PUSH_PROMISE:
		return pad + 4;
	case F_PRIORITY:
		return len == 5 ? 5 : -1;
	case F_RST_STREAM:
	case F_WINDOW_UPDATE:
		return len == 4 ? 4 : -1;
	case F_PING:
		return len == 8 ? 8 : -1;
	case F_SETTINGS:
		return (len % 6 == 0 && (!(flags & FL_ACK) || len == 0)) ? 0 : -1;
	case F_GOAWAY:
		return len >= 8 ? 8 : -1;
	default:
		return 0;
	}
}

/* The frame's fixed prefix (pad length, priority, ...) is in: go on to its
 * content, which may be empty (an empty block fragment may still be the
 * block's end). */
static void begin_content(struct http2_conn *c, enum stream_dir d)
{
	struct dir_state *ds = &c->dir[d];

	frame_pre_done(c, d);
	ds->st = FS_CONTENT;
	if (ds->content_left == 0) {
		frame_content(c, d, NULL, 0, 1);
		ds->st = FS_PAD;
		if (ds->pad_left == 0)
			frame_end(c, d);
	}
}

/* The 9-byte header of a frame in d is in ds->fh. */
static void frame_begin(struct http2_conn *c, enum stream_dir d)
{
	struct dir_state *ds = &c->dir[d];
	int reserved;
	long pre;

	parse_frame_header(ds->fh, sizeof(ds->fh), &ds->flen, &ds->ftype,
			   &ds->fflags, &ds->fsid, &reserved);
	c->cnt->h2_frames++;
	ds->frame_bad = 0;
	ds->pre_len = 0;
	ds->set_len = 0;
	ds->content_left = ds->pad_left = 0;
	/* CONTINUATION must follow its block at once (RFC 9113 section 6.10) */
	if (ds->in_block && (ds->ftype != F_CONTINUATION || ds->fsid != ds->block_sid)) {
		c->cnt->h2_frame_errors++;
		block_end(c, d, 0);
	}
	if (ds->ftype == F_SETTINGS && !(ds->fflags & FL_ACK)) {
		/* remember it on the other side, whose ACK applies it */
		struct dir_state *o = &c->dir[!d];

		if (o->pend_n == H2_SETTINGS_QUEUE) {
			memmove(o->pend_table, o->pend_table + 1, (o->pend_n - 1) * sizeof(o->pend_table[0]));
			memmove(o->pend_has, o->pend_has + 1, (o->pend_n - 1) * sizeof(o->pend_has[0]));
			o->pend_n--;
		}
		o->pend_table[o->pend_n] = 0;
		o->pend_has[o->pend_n] = 0;
		o->pend_n++;
	} else if (ds->ftype == F_SETTINGS) {
		on_settings_ack(c, d);
	}
	if (ds->ftype == F_CONTINUATION && !ds->in_block)
		c->cnt->h2_frame_errors++;
	pre = frame_pre_size(ds->ftype, ds->fflags, ds->flen);
	if (pre < 0 || (uint32_t)pre > ds->flen) {
		frame_error(c, d, "HTTP/2 frame length wrong for its type");
		if (ds->ftype == F_HEADERS || ds->ftype == F_PUSH_PROMISE)
			hpack_fail(c, d);
		ds->content_left = ds->flen;
		ds->st = ds->flen ? FS_CONTENT : FS_HEADER;
		if (!ds->flen)
			frame_end(c, d);
		return;
	}
	if (ds->ftype == F_GOAWAY)
		pre = ds->flen < H2_PRE_MAX ? (long)ds->flen : (long)H2_PRE_MAX;
	ds->pre_need = (size_t)pre;
	if (ds->pre_need) {
		ds->st = FS_PRE;
		return;
	}
	begin_content(c, d);
}

/* Could these 9 bytes start a frame here, after framing was lost in d? Only
 * headers that fit what is known of the connection are taken: a stream we
 * track for DATA, exact lengths for fixed-size frames, no undefined flags. */
static int plausible(struct http2_conn *c, enum stream_dir d, const uint8_t *fh)
{
	uint32_t len, sid, limit;
	uint8_t type, flags;
	int reserved;

	if (!parse_frame_header(fh, H2_FRAME_HDR, &len, &type, &flags, &sid, &reserved))
		return 0;
	limit = c->dir[d].max_frame_known ? c->dir[d].max_frame : H2_DEFAULT_MAX_FRAME;
	if (reserved || len > limit)
		return 0;
	switch (type) {
	case F_DATA:
		return sid && !(flags & ~(FL_END_STREAM | FL_PADDED)) && stream_find(c, sid);
	case F_HEADERS:
		return sid && !(flags & ~(FL_END_STREAM | FL_END_HEADERS | FL_PADDED | FL_PRIORITY)) &&
		       ((sid & 1) || stream_find(c, sid));
	case F_PRIORITY:
		return sid && len == 5 && !flags;
	case F_RST_STREAM:
		return sid && len == 4 && !flags && stream_find(c, sid);
	case F_SETTINGS:
		return !sid && !(flags & ~FL_ACK) && len % 6 == 0 &&
		       (!(flags & FL_ACK) || len == 0);
	case F_PUSH_PROMISE:
		return d == DIR_TO_CLIENT && sid && (sid & 1) &&
		       !(flags & ~(FL_END_HEADERS | FL_PADDED));
	case F_PING:
		return !sid && len == 8 && !(flags & ~FL_ACK);
	case F_GOAWAY:
		return !sid && len >= 8 && !flags;
	case F_WINDOW_UPDATE:
		return len == 4 && !flags && (!sid || stream_find(c, sid));
	default:
		/* CONTINUATION: mid-block, useless; unknown types: too weak */
		return 0;
	}
}

/* Framing lost in d (a gap crossed a frame boundary, or a frame header made
 * no sense): every stream whose side in d had not ended is damaged, header
 * blocks may have been in the hole so d's HPACK state is unknown, and d
 * looks for a plausible frame header. Giving up on the connection would lose
 * the DATA of every stream in flight, which is what SCEP needs. */
static void lose_framing(struct http2_conn *c, enum stream_dir d, uint64_t gap)
{
	struct dir_state *ds = &c->dir[d];
	struct h2_stream *s;
	int first = 1;

	if (ds->in_block) {
		block_mark_undecodable(c, d);
		ds->in_block = 0;
	}
	hpack_fail(c, d);
	for (s = c->head; s; s = s->next) {
		struct side_state *side = &s->side[side_of(d)];

		if (side->ended)
			continue;
		s->damaged = side->damaged = 1;
		/* the hole is charged to the oldest stream in flight, as
		 * HTTP/1 charges it to the exchange in progress */
		if (first && gap) {
			s->gap_bytes += gap;
			side->gap_bytes += gap;
			first = 0;
		}
	}
	ds->st = FS_RESYNC;
	ds->fh_len = 0;
}

/* Starts a frame's span at the byte at offset off of the current event. */
static void frame_span_start(struct dir_state *ds, size_t off)
{
	if (off == 0) {
		ds->f_min_frame = ds->ev_first_frame;
		ds->f_min_ts = ds->ev_first_ts;
	} else {
		ds->f_min_frame = ds->ev_frame;
		ds->f_min_ts = ds->ev_ts;
	}
	ds->f_max_frame = ds->ev_frame;
	ds->f_max_ts = ds->ev_ts;
	if (ds->f_min_frame > ds->f_max_frame)
		ds->f_max_frame = ds->f_min_frame;
	if (ds->f_min_ts > ds->f_max_ts)
		ds->f_max_ts = ds->f_min_ts;
}

static void frame_span_widen(struct dir_state *ds, uint64_t frame, uint64_t ts)
{
	if (!frame)
		return;
	if (frame < ds->f_min_frame)
		ds->f_min_frame = frame;
	if (frame > ds->f_max_frame)
		ds->f_max_frame = frame;
	if (ts < ds->f_min_ts)
		ds->f_min_ts = ts;
	if (ts > ds->f_max_ts)
		ds->f_max_ts = ts;
}

static void feed(struct http2_conn *c, enum stream_dir d, const uint8_t *data,
		 size_t len)
{
	struct dir_state *ds = &c->dir[d];
	struct rd r, sub;
	uint8_t b;
	size_t k;

	rd_init(&r, data, len);
	if (ds->st != FS_HEADER || ds->fh_len) {
		/* a frame in progress: this event fed it from its first byte */
		frame_span_widen(ds, ds->ev_first_frame, ds->ev_first_ts);
		frame_span_widen(ds, ds->ev_frame, ds->ev_ts);
	}
	while (rd_left(&r)) {
		switch (ds->st) {
		case FS_PREFACE:
			rd_u8(&r, &b);
			if (b != (uint8_t)H2_PREFACE[ds->preface_got]) {
				c->cnt->h2_frame_errors++;
				c->cnt->h2_resync_bytes += ds->preface_got + 1;
				ds->st = FS_RESYNC;
				break;
			}
			if (++ds->preface_got == H2_PREFACE_LEN)
				ds->st = FS_HEADER;
			break;
		case FS_HEADER:
			if (ds->fh_len == 0)
				frame_span_start(ds, len - rd_left(&r));
			k = H2_FRAME_HDR - ds->fh_len;
			if (k > rd_left(&r))
				k = rd_left(&r);
			rd_copy(&r, ds->fh + ds->fh_len, k);
			ds->fh_len += k;
			if (ds->fh_len < H2_FRAME_HDR)
				break;
			{
				uint32_t flen, sid, limit;
				uint8_t type, flags;
				int reserved;

				parse_frame_header(ds->fh, H2_FRAME_HDR, &flen, &type,
						   &flags, &sid, &reserved);
				/* without the peer's SETTINGS any length up
				 * to 16 MB may be legal */
				limit = ds->max_frame_known ? ds->max_frame : H2_HARD_MAX_FRAME;
				if (flen > limit) {
					c->cnt->h2_frame_errors++;
					lose_framing(c, d, 0);
					/* rescan from the header's second byte */
					ds->fh_len = H2_FRAME_HDR;
					break;
				}
			}
			frame_begin(c, d);
			break;
		case FS_PRE:
			k = ds->pre_need - ds->pre_len;
			if (k > rd_left(&r))
				k = rd_left(&r);
			rd_copy(&r, ds->pre + ds->pre_len, k);
			ds->pre_len += k;
			if (ds->pre_len < ds->pre_need)
				break;
			begin_content(c, d);
			break;
		case FS_CONTENT:
			k = ds->content_left;
			if (k > rd_left(&r))
				k = rd_left(&r);
			if (!rd_sub(&r, k, &sub))
				break;   /* cannot happen: k <= what is left */
			ds->content_left -= (uint32_t)k;
			frame_content(c, d, rd_ptr(&sub), k, ds->content_left == 0);
			if (ds->content_left)
				break;
			ds->st = FS_PAD;
			if (ds->pad_left == 0)
				frame_end(c, d);
			break;
		case FS_PAD:
			k = ds->pad_left;
			if (k > rd_left(&r))
				k = rd_left(&r);
			rd_skip(&r, k);
			ds->pad_left -= (uint32_t)k;
			if (ds->pad_left == 0)
				frame_end(c, d);
			break;
		case FS_RESYNC:
			if (ds->fh_len == H2_FRAME_HDR) {
				memmove(ds->fh, ds->fh + 1, H2_FRAME_HDR - 1);
				ds->fh_len--;
				c->cnt->h2_resync_bytes++;
			}
			rd_u8(&r, &b);
			if (ds->fh_len == 0)
				frame_span_start(ds, len - rd_left(&r) - 1);
			ds->fh[ds->fh_len++] = b;
			if (ds->fh_len == H2_FRAME_HDR && plausible(c, d, ds->fh)) {
				ds->st = FS_HEADER;
				frame_begin(c, d);
			}
			break;
		}
	}
}

/* A gap of len bytes in d. Inside the content of the current frame the
 * framing survives: lost DATA is zeros in the body and damages its side,
 * lost header block bytes make d's HPACK state unknown. A gap that crosses a
 * frame boundary loses the framing (lose_framing). */
static void on_gap(struct http2_conn *c, enum stream_dir d, uint64_t len)
{
	struct dir_state *ds = &c->dir[d];
	struct h2_stream *s;

	if (ds->st == FS_RESYNC) {
		ds->fh_len = 0;
		return;
	}
	if (ds->st == FS_PAD && len <= ds->pad_left) {
		ds->pad_left -= (uint32_t)len;
		if (ds->pad_left == 0)
			frame_end(c, d);
		return;
	}
	if (ds->st != FS_CONTENT || len > ds->content_left) {
		lose_framing(c, d, len);
		return;
	}
	ds->content_left -= (uint32_t)len;
	switch (ds->ftype) {
	case F_DATA:
		if (ds->frame_bad || !(s = stream_find(c, ds->fsid)))
			break;
		s->damaged = s->side[side_of(d)].damaged = 1;
		s->gap_bytes += len;
		s->side[side_of(d)].gap_bytes += len;
		if (s->verdict != V_SKIP)
			http_body_append(&s->side[side_of(d)].body, NULL, (size_t)len, c->max_body, c->cnt, c->mem);
		else
			s->side[side_of(d)].body.wire += len;
		break;
	case F_HEADERS:
	case F_PUSH_PROMISE:
	case F_CONTINUATION:
		if (ds->in_block && (s = stream_find(c, ds->block_target)) != NULL &&
		    ds->block_keep) {
			s->damaged = s->side[ds->block_side].damaged = 1;
			s->gap_bytes += len;
			s->side[ds->block_side].gap_bytes += len;
		}
		block_mark_undecodable(c, d);
		hpack_fail(c, d);
		break;
	case F_SETTINGS:
		/* entries lost: the table size in them is unknown */
		ds->frame_bad = 1;
		break;
	default:
		break;
	}
	if (ds->content_left == 0) {
		if (ds->ftype == F_HEADERS || ds->ftype == F_PUSH_PROMISE ||
		    ds->ftype == F_CONTINUATION)
			frame_content(c, d, NULL, 0, 1);
		ds->st = FS_PAD;
		if (ds->pad_left == 0)
			frame_end(c, d);
	}
}

/* --- HPACK memory ---------------------------------------------------------- */

/* nghttp2's inflaters allocate through these (nghttp2_hd_inflate_new2), so
 * their dynamic tables and field buffers are charged to the budget
 * (MEM_hpack) as they really are. Each block carries its size in front of
 * it, as far ahead as malloc's alignment, and whether it was charged: the
 * inflaters' first two kilobytes are made when the connection opens, and
 * are part of what a connection costs however full the budget is (the
 * flow table's charge for it); refusing them would leave the connection
 * unread without a word. Any later refused charge fails the allocation:
 * nghttp2 then fails the block, and inflate_failed says why. */
#define HPACK_HDR sizeof(max_align_t)
#define HPACK_UNCHARGED ((size_t)1 << (sizeof(size_t) * 8 - 1))

static void *hpack_malloc(size_t size, void *arg)
{
	struct http2_conn *c = arg;
	size_t tag = size;
	uint8_t *p;

	if (size >= HPACK_UNCHARGED - HPACK_HDR)
		return NULL;
	if (mem_charge(c->mem, MEM_hpack, size) < 0) {
		if (!c->hpack_opening) {
			c->hpack_refused = 1;
			return NULL;
		}
		tag |= HPACK_UNCHARGED;
	}
	p = malloc(HPACK_HDR + size);
	if (!p) {
		if (!(tag & HPACK_UNCHARGED))
			mem_release(c->mem, MEM_hpack, size);
		return NULL;
	}
	memcpy(p, &tag, sizeof(tag));
	return p + HPACK_HDR;
}

static void hpack_free(void *ptr, void *arg)
{
	struct http2_conn *c = arg;
	uint8_t *p;
	size_t tag;

	if (!ptr)
		return;
	p = (uint8_t *)ptr - HPACK_HDR;
	memcpy(&tag, p, sizeof(tag));
	if (!(tag & HPACK_UNCHARGED))
		mem_release(c->mem, MEM_hpack, tag);
	free(p);
}

static void *hpack_calloc(size_t n, size_t size, void *arg)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	p = hpack_malloc(n * size, arg);
	if (p)
		memset(p, 0, n * size);
	return p;
}

static void *hpack_realloc(void *ptr, size_t size, void *arg)
{
	struct http2_conn *c = arg;
	uint8_t *p, *np;
	size_t old;

	if (!ptr)
		return hpack_malloc(size, arg);
	if (size >= HPACK_UNCHARGED - HPACK_HDR)
		return NULL;
	p = (uint8_t *)ptr - HPACK_HDR;
	memcpy(&old, p, sizeof(old));
	if (old & HPACK_UNCHARGED) {
		/* moved to a charged block: nghttp2 reallocates nothing
		 * it made at open, but a block must not stay uncharged */
		void *n = hpack_malloc(size, arg);

		if (!n)
			return NULL;
		memcpy(n, ptr, (old & ~HPACK_UNCHARGED) < size ? (old & ~HPACK_UNCHARGED) : size);
		hpack_free(ptr, arg);
		return n;
	}
	if (mem_resize(c->mem, MEM_hpack, old, size) < 0) {
		c->hpack_refused = 1;
		return NULL;
	}
	np = realloc(p, HPACK_HDR + size);
	if (!np) {
		mem_resize(c->mem, MEM_hpack, size, old);
		return NULL;
	}
	memcpy(np, &size, sizeof(size));
	return np + HPACK_HDR;
}

/* --- public --------------------------------------------------------------- */

struct http2_conn *http2_open(const struct http1_config *cfg,
			      struct counters *cnt, const struct flow *f,
			      http_exchange_cb cb, void *cb_arg,
			      int after_upgrade)
{
	struct http2_conn *c;
	int d;

	if (!cfg || !cnt || !f || !cb)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->max_body = cfg->max_body;
	c->max_streams = cfg->max_h2_streams ? cfg->max_h2_streams : H2_MAX_STREAMS;
	c->max_header_list = cfg->max_h2_header_list ? cfg->max_h2_header_list : H2_MAX_HEADER_LIST;
	c->cnt = cnt;
	c->mem = cfg->mem;
	c->flow_id = f->id;
	c->client = f->client;
	c->server = f->server;
	c->cb = cb;
	c->cb_arg = cb_arg;
	c->ngmem.mem_user_data = c;
	c->ngmem.malloc = hpack_malloc;
	c->ngmem.free = hpack_free;
	c->ngmem.calloc = hpack_calloc;
	c->ngmem.realloc = hpack_realloc;
	for (d = 0; d < 2; d++) {
		struct dir_state *ds = &c->dir[d];
		int rv;

		c->hpack_opening = 1;
		rv = nghttp2_hd_inflate_new2(&ds->inf, &c->ngmem);
		c->hpack_opening = 0;
		if (rv != 0) {
			ds->inf = NULL;
			http2_close(c);
			return NULL;
		}
		ds->max_frame = H2_DEFAULT_MAX_FRAME;
		if (after_upgrade || f->saw_syn) {
			ds->st = d == DIR_TO_SERVER ? FS_PREFACE : FS_HEADER;
		} else {
			/* joined mid-connection: the first bytes may be
			 * mid-frame, and the encoder may use a table larger
			 * than the default we cannot see being set */
			ds->st = FS_RESYNC;
			nghttp2_hd_inflate_change_table_size(ds->inf, H2_TABLE_CEILING);
		}
	}
	if (after_upgrade) {
		/* stream 1 is the upgrade request's: its request went as
		 * HTTP/1 and is over (RFC 7540 section 3.2) */
		struct h2_stream *s = stream_new(c, 1);

		if (s)
			s->side[SIDE_REQ].ended = 1;
		c->first_client_sid = c->max_client_sid = 1;
	}
	return c;
}

void http2_set_upgrade_request(struct http2_conn *c, const char *method,
			       const char *uri, const char *host)
{
	struct h2_stream *s = c ? stream_find(c, 1) : NULL;

	if (!s)
		return;
	/* a refused copy leaves the field out, as a capped list does */
	if (method)
		keep_value(c, s, &s->method, (const uint8_t *)method, strlen(method));
	if (uri)
		keep_value(c, s, &s->path, (const uint8_t *)uri, strlen(uri));
	if (host)
		keep_value(c, s, &s->host, (const uint8_t *)host, strlen(host));
	decide(c, s);
}

void http2_event(struct http2_conn *c, const struct stream_event *ev)
{
	struct dir_state *ds;

	if (!c || !ev || c->closed || ev->dir > DIR_TO_CLIENT)
		return;
	ds = &c->dir[ev->dir];
	if (ev->kind == STREAM_DATA || ev->kind == STREAM_GAP) {
		ds->ev_frame = ev->frame;
		ds->ev_ts = ev->ts_ns;
		ds->ev_first_frame = ev->first_frame ? ev->first_frame : ev->frame;
		ds->ev_first_ts = ev->first_frame ? ev->first_ts_ns : ev->ts_ns;
	}
	switch (ev->kind) {
	case STREAM_DATA:
		if (ev->conflict_bytes)
			mark_conflict(c, ev->dir, ev->conflict_bytes, 0);
		if (ev->data && ev->len)
			feed(c, ev->dir, ev->data, ev->len);
		break;
	case STREAM_CONFLICT:
		/* not data: the bytes were delivered before */
		if (ev->len)
			mark_conflict(c, ev->dir, ev->len, 1);
		break;
	case STREAM_GAP:
		if (ev->len)
			on_gap(c, ev->dir, ev->len);
		break;
	case STREAM_FIN:
	case STREAM_RST:
		/* a client FIN only ends its sending: responses may still
		 * come; a server FIN or a reset means nothing more can be
		 * answered */
		if (ev->kind == STREAM_FIN && ev->dir == DIR_TO_SERVER)
			break;
		emit_all(c);
		c->closed = 1;
		break;
	}
}

void http2_close(struct http2_conn *c)
{
	int d;

	if (!c)
		return;
	emit_all(c);
	for (d = 0; d < 2; d++)
		if (c->dir[d].inf)
			nghttp2_hd_inflate_del(c->dir[d].inf);
	mem_release(c->mem, MEM_http_lines, c->n_buckets * sizeof(*c->buckets));
	free(c->buckets);
	free(c->goaway);
	free(c);
}

int http2_scep_seen(const struct http2_conn *c)
{
	return c && c->scep_seen;
}

uint64_t http2_lookup_steps(const struct http2_conn *c)
{
	return c ? c->lookup_steps : 0;
}

/* --- registration with the application-layer dispatcher (app.h) -------- */

static void *http2_app_open(const struct app_open *o)
{
	return http2_open(o->env->http, o->env->cnt, o->view, o->on_exchange, o->arg, o->after_upgrade);
}

static int http2_app_event(void *c, const struct stream_event *ev)
{
	http2_event(c, ev);
	return FLOW_BYTES_READ;
}

static void http2_app_close(void *c)
{
	http2_close(c);
}

static int http2_app_scep_seen(const void *c)
{
	return http2_scep_seen(c);
}

const struct app_layer_ops http2_app_ops = {
	.probe = http2_probe,
	.open = http2_app_open,
	.event = http2_app_event,
	.close = http2_app_close,
	.scep_seen = http2_app_scep_seen,
};
