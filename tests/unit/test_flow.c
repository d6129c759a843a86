/* test_flow.c - the flow table on crafted segments: client/server roles,
 * both directions, close, port reuse, caps, timeout, flush order; and the
 * endpoint helpers. Events are asserted as one trace string. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "counters.h"
#include "flow.h"

#define MS 1000000ull

struct rig;

struct app {
	struct rig *g;
	uint64_t id;
	int closed;
	uint64_t first_frame, last_frame, first_ts_ns, last_ts_ns;
	int saw_syn;
};

struct rig {
	struct flow_table *ft;
	struct counters cnt;
	struct app apps[16];
	size_t napps;
	char trace[4096];
	uint64_t frame;
	int unread;                 /* the app says FLOW_BYTES_UNREAD */
};

static void add(struct rig *g, const char *s)
{
	size_t at = strlen(g->trace);

	snprintf(g->trace + at, sizeof(g->trace) - at, "%s%s", at ? " " : "", s);
}

static void *on_open(void *arg, const struct flow *f)
{
	struct rig *g = arg;
	struct app *a;
	char buf[160], c[ENDPOINT_STRLEN], s[ENDPOINT_STRLEN];

	assert_true(g->napps < 16);
	a = &g->apps[g->napps++];
	a->g = g;
	a->id = f->id;
	snprintf(buf, sizeof(buf), "O%llu(%s>%s)", (unsigned long long)f->id,
		 endpoint_str(&f->client, c, sizeof(c)),
		 endpoint_str(&f->server, s, sizeof(s)));
	add(g, buf);
	return a;
}

/* "<id><dir><kind>" with dir '>' to the server, '<' to the client. */
static int on_event(void *app, const struct flow *f, const struct stream_event *ev)
{
	struct app *a = app;
	unsigned long long id = (unsigned long long)f->id;
	char d = ev->dir == DIR_TO_SERVER ? '>' : '<';
	char buf[256];

	assert_int_equal(a->id, f->id);
	assert_false(a->closed);
	switch (ev->kind) {
	case STREAM_DATA:
		snprintf(buf, sizeof(buf), "%llu%cD:%.*s", id, d, (int)ev->len,
			 (const char *)ev->data);
		break;
	case STREAM_GAP:
		snprintf(buf, sizeof(buf), "%llu%cG:%zu", id, d, ev->len);
		break;
	case STREAM_FIN:
		snprintf(buf, sizeof(buf), "%llu%cF", id, d);
		break;
	case STREAM_CONFLICT:
		snprintf(buf, sizeof(buf), "%llu%cC:%zu", id, d, ev->len);
		break;
	default:
		snprintf(buf, sizeof(buf), "%llu%cR", id, d);
		break;
	}
	add(a->g, buf);
	return a->g->unread ? FLOW_BYTES_UNREAD : FLOW_BYTES_READ;
}

static void on_close(void *app, const struct flow *f)
{
	struct app *a = app;
	char buf[32];

	assert_int_equal(a->id, f->id);
	assert_false(a->closed);
	a->closed = 1;
	a->first_frame = f->first_frame;
	a->last_frame = f->last_frame;
	a->first_ts_ns = f->first_ts_ns;
	a->last_ts_ns = f->last_ts_ns;
	a->saw_syn = f->saw_syn;
	snprintf(buf, sizeof(buf), "C%llu", (unsigned long long)f->id);
	add(a->g, buf);
}

static const struct flow_app_ops ops_template = { on_open, on_event, on_close, NULL };

static void rig_init(struct rig *g, size_t max_flows, size_t max_buf,
		     uint64_t idle)
{
	struct flow_limits lim = {
		.max_flows = max_flows,
		.max_flow_buffer = max_buf,
		.max_total_buffer = max_buf * 4,
		.idle_timeout_ns = idle,
	};

	memset(g, 0, sizeof(*g));
	g->ft = flow_table_new(&lim, &g->cnt, &ops_template, g);
	assert_non_null(g->ft);
}

static struct endpoint ep4(uint8_t last, uint16_t port)
{
	struct endpoint e;

	memset(&e, 0, sizeof(e));
	e.family = 4;
	e.addr[0] = 10;
	e.addr[3] = last;
	e.port = port;
	return e;
}

static void tx(struct rig *g, struct endpoint src, struct endpoint dst,
	       uint8_t flags, uint32_t seq, uint32_t ack, const char *data,
	       uint64_t ts_ms)
{
	struct tcp_seg s;

	memset(&s, 0, sizeof(s));
	s.src = src;
	s.dst = dst;
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.payload = (const uint8_t *)data;
	s.caplen = s.len = data ? (uint32_t)strlen(data) : 0;
	s.frame = ++g->frame;
	s.ts_ns = ts_ms * MS;
	assert_int_equal(flow_table_input(g->ft, &s), 0);
}

#define S TCP_SYN
#define A TCP_ACK
#define F TCP_FIN
#define R TCP_RST
#define P TCP_PSH

static void rig_done(struct rig *g)
{
	size_t i;

	flow_table_free(g->ft);
	for (i = 0; i < g->napps; i++)
		assert_true(g->apps[i].closed);
}

/* Three-way handshake between c (ISN 100) and s (ISN 500). */
static void handshake(struct rig *g, struct endpoint c, struct endpoint s,
		      uint64_t ts_ms)
{
	tx(g, c, s, S, 100, 0, NULL, ts_ms);
	tx(g, s, c, S | A, 500, 101, NULL, ts_ms);
	tx(g, c, s, A, 101, 501, NULL, ts_ms);
}

static void test_connection(void **state)
{
	struct rig g;
	struct endpoint c = ep4(1, 40000), s = ep4(2, 80);

	(void)state;
	rig_init(&g, 16, 1 << 20, 0);
	handshake(&g, c, s, 0);
	tx(&g, c, s, A | P, 101, 501, "GET", 1);
	tx(&g, s, c, A | P, 501, 104, "200", 2);
	tx(&g, c, s, F | A, 104, 504, NULL, 3);
	tx(&g, s, c, F | A, 504, 105, NULL, 4);
	assert_string_equal(g.trace,
		"O1(10.0.0.1:40000>10.0.0.2:80) 1>D:GET 1<D:200 1>F 1<F C1");
	/* The last ACK and a retransmitted FIN open nothing. */
	tx(&g, c, s, A, 105, 505, NULL, 5);
	tx(&g, s, c, F | A, 504, 105, NULL, 6);
	flow_table_flush(g.ft);
	assert_string_equal(g.trace,
		"O1(10.0.0.1:40000>10.0.0.2:80) 1>D:GET 1<D:200 1>F 1<F C1");
	assert_int_equal(g.cnt.flows, 1);
	/* tcp_segments is counted by the TCP decoder, not here */
	assert_int_equal(g.cnt.tcp_segments, 0);
	assert_int_equal(g.apps[0].first_frame, 1);
	assert_int_equal(g.apps[0].last_frame, 7);
	assert_int_equal(g.apps[0].first_ts_ns, 0);
	assert_int_equal(g.apps[0].last_ts_ns, 4 * MS);
	assert_true(g.apps[0].saw_syn);
	assert_int_equal(g.cnt.tcp_gaps, 0);
	rig_done(&g);
}

/* A retransmission that differs from what was delivered is counted while
 * the application reads the bytes, not once it said it never will again
 * (nothing delivered is then kept to compare with). */
static void test_unread_bytes_keep_no_history(void **state)
{
	struct endpoint c = ep4(1, 40000), s = ep4(2, 80);
	struct rig g;
	int unread;

	(void)state;
	for (unread = 0; unread < 2; unread++) {
		rig_init(&g, 16, 1 << 20, 0);
		g.unread = unread;
		handshake(&g, c, s, 0);
		tx(&g, c, s, A | P, 101, 501, "GET /abc", 1);
		tx(&g, c, s, A | P, 101, 501, "PUT /abc", 2);
		tx(&g, c, s, A | P, 109, 501, "!", 3);
		/* the layer above is told which bytes were contradicted */
		assert_string_equal(g.trace, unread ? "O1(10.0.0.1:40000>10.0.0.2:80) 1>D:GET /abc 1>D:!"
						    : "O1(10.0.0.1:40000>10.0.0.2:80) 1>D:GET /abc 1>C:8 1>D:!");
		assert_int_equal(g.cnt.tcp_overlaps_conflicting, unread ? 0 : 1);
		flow_table_flush(g.ft);
		rig_done(&g);
	}
}

static void test_client_server(void **state)
{
	struct rig g;
	struct endpoint c = ep4(1, 40000), s = ep4(2, 80);
	struct endpoint c2 = ep4(1, 40001), c3 = ep4(1, 40002);

	(void)state;
	rig_init(&g, 16, 1 << 20, 0);
	/* SYN-ACK first: its sender is the server. */
	tx(&g, s, c, S | A, 500, 101, NULL, 0);
	tx(&g, c, s, A, 101, 501, "hi", 0);
	/* Mid-stream: the first sender is taken as the client. */
	tx(&g, s, c2, A, 9000, 77, "xy", 1);
	/* SYN without ACK: its sender. */
	tx(&g, c3, s, S, 1, 0, NULL, 2);
	/* (a mid-stream start waits to be settled: xy comes at flush) */
	assert_string_equal(g.trace,
		"O1(10.0.0.1:40000>10.0.0.2:80) 1>D:hi "
		"O2(10.0.0.2:80>10.0.0.1:40001) "
		"O3(10.0.0.1:40002>10.0.0.2:80)");
	/* The server's answer on flow 1 goes to the client. */
	tx(&g, s, c, A, 501, 103, "yo", 3);
	flow_table_flush(g.ft);
	assert_string_equal(g.trace,
		"O1(10.0.0.1:40000>10.0.0.2:80) 1>D:hi "
		"O2(10.0.0.2:80>10.0.0.1:40001) "
		"O3(10.0.0.1:40002>10.0.0.2:80) 1<D:yo C1 2>D:xy C2 C3");
	assert_true(g.apps[0].saw_syn);
	assert_false(g.apps[1].saw_syn);
	assert_int_equal(g.apps[0].last_frame, 5);
	rig_done(&g);
}

/* A merged capture can put a data segment before its connection's SYN:
 * the segment waits for the SYN, which also sets the roles, and goes up in
 * its place in the stream (it used to be taken as a mid-stream start, and
 * everything sent before it as old). */
static void test_data_before_syn(void **state)
{
	struct rig g;
	struct endpoint c = ep4(1, 40000), s = ep4(2, 80);

	(void)state;
	rig_init(&g, 16, 1 << 20, 0);
	/* the server's second segment, then the whole connection */
	tx(&g, s, c, A | P, 503, 104, "BB", 0);
	handshake(&g, c, s, 0);
	tx(&g, c, s, A | P, 101, 501, "GET", 1);
	tx(&g, s, c, A | P, 501, 104, "AA", 2);
	tx(&g, c, s, A, 104, 505, NULL, 3);
	/* open() saw the guess from the data; the SYN set the roles before
	 * any byte went up */
	assert_string_equal(g.trace,
		"O1(10.0.0.2:80>10.0.0.1:40000) 1>D:GET 1<D:AA 1<D:BB");
	/* the client's second segment before the SYN */
	tx(&g, c, s, F | A, 104, 505, NULL, 4);
	tx(&g, s, c, F | A, 505, 105, NULL, 4);
	tx(&g, ep4(1, 40001), s, A | P, 104, 501, "DEF", 5);
	handshake(&g, ep4(1, 40001), s, 5);
	tx(&g, ep4(1, 40001), s, A | P, 101, 501, "ABC", 5);
	tx(&g, s, ep4(1, 40001), A, 501, 107, NULL, 6);
	assert_int_equal(g.cnt.tcp_gaps, 0);
	assert_int_equal(g.cnt.tcp_retransmissions, 0);
	flow_table_flush(g.ft);
	assert_string_equal(g.trace,
		"O1(10.0.0.2:80>10.0.0.1:40000) 1>D:GET 1<D:AA 1<D:BB 1>F 1<F C1 "
		"O2(10.0.0.1:40001>10.0.0.2:80) 2>D:ABC 2>D:DEF C2");
	rig_done(&g);
}

/* A merged capture can write an answer before the request it answers:
 * data that acknowledges bytes of the other direction not yet delivered
 * waits for them (at most a second of capture time). */
static void test_answer_waits_for_question(void **state)
{
	struct rig g;
	struct endpoint c = ep4(1, 40000), s = ep4(2, 80);

	(void)state;
	rig_init(&g, 16, 1 << 20, 0);
	handshake(&g, c, s, 0);
	tx(&g, s, c, A | P, 501, 104, "200", 1);     /* answers GET, not seen yet */
	assert_string_equal(g.trace, "O1(10.0.0.1:40000>10.0.0.2:80)");
	tx(&g, c, s, A | P, 101, 501, "GET", 1);
	assert_string_equal(g.trace, "O1(10.0.0.1:40000>10.0.0.2:80) 1>D:GET 1<D:200");
	/* bytes that never come: the answer goes up a second later */
	tx(&g, s, c, A | P, 504, 110, "404", 2);
	tx(&g, s, c, A, 507, 104, NULL, 500);
	assert_string_equal(g.trace, "O1(10.0.0.1:40000>10.0.0.2:80) 1>D:GET 1<D:200");
	tx(&g, s, c, A, 507, 104, NULL, 1003);
	assert_string_equal(g.trace, "O1(10.0.0.1:40000>10.0.0.2:80) 1>D:GET 1<D:200 1<D:404");
	assert_int_equal(g.cnt.tcp_gaps, 0);
	flow_table_flush(g.ft);
	rig_done(&g);
}

/* Without a SYN the first data is a mid-stream start, settled by the
 * peer's acknowledgment of it or a second later; an earlier segment that
 * comes before then moves the start back. */
static void test_midstream_settles(void **state)
{
	struct rig g;
	struct endpoint c = ep4(1, 40000), s = ep4(2, 80);

	(void)state;
	rig_init(&g, 16, 1 << 20, 0);
	tx(&g, c, s, A | P, 1003, 9000, "cd", 0);
	tx(&g, c, s, A | P, 1001, 9000, "ab", 0);
	assert_string_equal(g.trace, "O1(10.0.0.1:40000>10.0.0.2:80)");
	tx(&g, s, c, A, 9000, 1005, NULL, 1);
	assert_string_equal(g.trace, "O1(10.0.0.1:40000>10.0.0.2:80) 1>D:ab 1>D:cd");
	/* an acknowledgment of bytes before the start settles nothing; time does */
	tx(&g, s, c, A | P, 9005, 1005, "yz", 2);
	tx(&g, c, s, A, 1005, 9000, NULL, 3);
	assert_string_equal(g.trace, "O1(10.0.0.1:40000>10.0.0.2:80) 1>D:ab 1>D:cd");
	tx(&g, c, s, A | P, 1005, 9000, "e", 1003);
	assert_string_equal(g.trace, "O1(10.0.0.1:40000>10.0.0.2:80) 1>D:ab 1>D:cd 1<D:yz 1>D:e");
	flow_table_flush(g.ft);
	rig_done(&g);
}

static void test_port_reuse(void **state)
{
	struct rig g;
	struct endpoint c = ep4(1, 40000), s = ep4(2, 80);

	(void)state;
	rig_init(&g, 16, 1 << 20, 0);
	handshake(&g, c, s, 0);
	tx(&g, c, s, R, 101, 0, NULL, 1);
	assert_string_equal(g.trace, "O1(10.0.0.1:40000>10.0.0.2:80) 1>R 1<R C1");
	g.trace[0] = 0;
	/* Same ports, after close: a new flow. */
	tx(&g, c, s, S, 7000, 0, NULL, 2);
	tx(&g, c, s, S, 7000, 0, NULL, 3);      /* retransmitted SYN */
	tx(&g, s, c, S | A, 8000, 7001, NULL, 3);
	tx(&g, c, s, A, 7001, 8001, "a", 4);
	/* A SYN near the expected sequence number is not a new connection. */
	tx(&g, c, s, S, 7010, 0, NULL, 4);
	assert_string_equal(g.trace, "O2(10.0.0.1:40000>10.0.0.2:80) 2>D:a");
	/* Half-closed, then a SYN: the old flow ends, a new one starts. */
	tx(&g, c, s, F | A, 7002, 8001, NULL, 5);
	tx(&g, c, s, S, 123456, 0, NULL, 6);
	assert_string_equal(g.trace,
		"O2(10.0.0.1:40000>10.0.0.2:80) 2>D:a 2>F C2 "
		"O3(10.0.0.1:40000>10.0.0.2:80)");
	/* Live, but a SYN far from the sequence numbers in use. */
	tx(&g, s, c, S | A, 1, 123457, NULL, 7);
	tx(&g, c, s, A, 123457, 2, "b", 7);
	tx(&g, c, s, S, 0x90000000u, 0, NULL, 8);
	assert_string_equal(g.trace,
		"O2(10.0.0.1:40000>10.0.0.2:80) 2>D:a 2>F C2 "
		"O3(10.0.0.1:40000>10.0.0.2:80) 3>D:b C3 "
		"O4(10.0.0.1:40000>10.0.0.2:80)");
	assert_int_equal(g.cnt.flows, 4);
	rig_done(&g);
}

static void test_idle_timeout(void **state)
{
	struct rig g;
	struct endpoint c = ep4(1, 40000), c2 = ep4(1, 40001), s = ep4(2, 80);

	(void)state;
	rig_init(&g, 16, 1 << 20, 1000 * MS);
	handshake(&g, c, s, 0);
	tx(&g, c, s, A, 101, 501, "ab", 0);
	tx(&g, c, s, A, 105, 501, "ef", 0);          /* [2,4) lost */
	handshake(&g, c2, s, 500);
	flow_table_expire(g.ft, 1000 * MS);
	assert_string_equal(g.trace,
		"O1(10.0.0.1:40000>10.0.0.2:80) 1>D:ab "
		"O2(10.0.0.1:40001>10.0.0.2:80)");
	flow_table_expire(g.ft, 1200 * MS);
	assert_string_equal(g.trace,
		"O1(10.0.0.1:40000>10.0.0.2:80) 1>D:ab "
		"O2(10.0.0.1:40001>10.0.0.2:80) 1>G:2 1>D:ef C1");
	assert_int_equal(g.cnt.flows_timed_out, 1);
	/* Flow 1's tuple again without a SYN: a new flow, picked up. */
	tx(&g, c, s, A, 107, 501, "gh", 1300);
	flow_table_expire(g.ft, 1600 * MS);
	assert_string_equal(g.trace,
		"O1(10.0.0.1:40000>10.0.0.2:80) 1>D:ab "
		"O2(10.0.0.1:40001>10.0.0.2:80) 1>G:2 1>D:ef C1 "
		"O3(10.0.0.1:40000>10.0.0.2:80) C2");
	assert_int_equal(g.cnt.flows_timed_out, 2);
	/* its start settles a second after it came */
	tx(&g, c, s, A, 109, 501, "ij", 2300);
	assert_string_equal(g.trace + strlen(g.trace) - 13, "3>D:gh 3>D:ij");
	rig_done(&g);
	assert_int_equal(g.cnt.flows_timed_out, 2);
}

static void test_closed_entries_expire(void **state)
{
	struct rig g;
	struct endpoint c = ep4(1, 40000), s = ep4(2, 80);

	(void)state;
	rig_init(&g, 16, 1 << 20, 1000 * MS);
	handshake(&g, c, s, 0);
	tx(&g, s, c, R | A, 501, 101, NULL, 0);
	flow_table_expire(g.ft, 2000 * MS);
	/* The closed entry is gone: a late packet starts a flow again. */
	tx(&g, c, s, A, 101, 501, "late", 2001);
	flow_table_flush(g.ft);
	assert_string_equal(g.trace,
		"O1(10.0.0.1:40000>10.0.0.2:80) 1<R 1>R C1 "
		"O2(10.0.0.1:40000>10.0.0.2:80) 2>D:late C2");
	assert_int_equal(g.cnt.flows_timed_out, 0);
	rig_done(&g);
}

static void test_max_flows_lru(void **state)
{
	struct rig g;
	struct endpoint s = ep4(2, 80);

	(void)state;
	rig_init(&g, 2, 1 << 20, 0);
	tx(&g, ep4(1, 1), s, S, 9, 0, NULL, 0);
	tx(&g, ep4(1, 1), s, A, 10, 0, "a", 0);
	tx(&g, ep4(1, 2), s, S, 9, 0, NULL, 1);
	tx(&g, ep4(1, 2), s, A, 10, 0, "b", 1);
	tx(&g, ep4(1, 1), s, A, 11, 0, "c", 2);
	tx(&g, ep4(1, 2), s, A, 13, 0, "held", 2);   /* [1,3) missing */
	tx(&g, ep4(1, 1), s, A, 12, 0, "d", 3);
	tx(&g, ep4(1, 3), s, S, 9, 0, NULL, 4);      /* full: 2 goes */
	tx(&g, ep4(1, 3), s, A, 10, 0, "e", 4);
	assert_string_equal(g.trace,
		"O1(10.0.0.1:1>10.0.0.2:80) 1>D:a O2(10.0.0.1:2>10.0.0.2:80) 2>D:b "
		"1>D:c 1>D:d 2>G:2 2>D:held C2 O3(10.0.0.1:3>10.0.0.2:80) 3>D:e");
	assert_int_equal(g.cnt.flows_capped, 1);
	/* A closed entry is dropped before any live flow. */
	tx(&g, ep4(1, 3), s, R, 11, 0, NULL, 5);
	tx(&g, ep4(1, 4), s, S, 9, 0, NULL, 6);
	tx(&g, ep4(1, 4), s, A, 10, 0, "f", 6);
	flow_table_flush(g.ft);
	assert_string_equal(g.trace,
		"O1(10.0.0.1:1>10.0.0.2:80) 1>D:a O2(10.0.0.1:2>10.0.0.2:80) 2>D:b "
		"1>D:c 1>D:d 2>G:2 2>D:held C2 O3(10.0.0.1:3>10.0.0.2:80) 3>D:e "
		"3>R 3<R C3 O4(10.0.0.1:4>10.0.0.2:80) 4>D:f C1 C4");
	assert_int_equal(g.cnt.flows_capped, 1);
	assert_int_equal(g.cnt.flows, 4);
	rig_done(&g);
}

static void test_flush_by_id(void **state)
{
	struct rig g;
	struct endpoint s = ep4(2, 80);
	uint16_t port;

	(void)state;
	rig_init(&g, 16, 1 << 20, 0);
	/* Ports chosen so hash order and id order differ; each flow holds
	 * data behind a hole, touched in reverse order. */
	for (port = 9; port >= 5; port--) {
		tx(&g, ep4(1, (uint16_t)(port * 7919)), s, S, 999, 0, NULL, port);
		tx(&g, ep4(1, (uint16_t)(port * 7919)), s, A, 1000, 0, "x", port);
	}
	for (port = 5; port <= 9; port++)
		tx(&g, ep4(1, (uint16_t)(port * 7919)), s, A, 1002, 0, "z", 10);
	g.trace[0] = 0;
	flow_table_flush(g.ft);
	assert_string_equal(g.trace,
		"1>G:1 1>D:z C1 2>G:1 2>D:z C2 3>G:1 3>D:z C3 "
		"4>G:1 4>D:z C4 5>G:1 5>D:z C5");
	assert_int_equal(g.cnt.tcp_gaps, 5);
	rig_done(&g);
}

static void test_ack_reveals_hole(void **state)
{
	struct rig g;
	struct endpoint c = ep4(1, 40000), s = ep4(2, 80);

	(void)state;
	rig_init(&g, 16, 1 << 20, 0);
	handshake(&g, c, s, 0);
	tx(&g, c, s, A, 101, 501, "abc", 1);
	tx(&g, c, s, A, 107, 501, "ghi", 1);         /* [3,6) lost */
	tx(&g, s, c, A, 501, 110, "ok", 2);
	assert_string_equal(g.trace,
		"O1(10.0.0.1:40000>10.0.0.2:80) 1>D:abc 1>G:3 1>D:ghi 1<D:ok");
	assert_int_equal(g.cnt.tcp_gaps, 1);
	assert_int_equal(g.cnt.tcp_out_of_order, 1);
	rig_done(&g);
}

static void test_rst_flushes(void **state)
{
	struct rig g;
	struct endpoint c = ep4(1, 40000), s = ep4(2, 80);

	(void)state;
	rig_init(&g, 16, 1 << 20, 0);
	handshake(&g, c, s, 0);
	tx(&g, s, c, A, 503, 101, "cd", 1);          /* [0,2) lost */
	tx(&g, c, s, R, 101, 0, NULL, 2);
	tx(&g, s, c, A, 505, 101, "more", 3);        /* absorbed */
	assert_string_equal(g.trace,
		"O1(10.0.0.1:40000>10.0.0.2:80) 1>R 1<G:2 1<D:cd 1<R C1");
	rig_done(&g);
}

static void test_buffer_caps(void **state)
{
	struct rig g;
	struct endpoint s = ep4(2, 80);
	uint16_t port;

	(void)state;
	/* Per flow: one 10-byte chunk fits; total (4 times that): four. */
	rig_init(&g, 16, 10 + 64, 0);
	for (port = 1; port <= 5; port++) {
		tx(&g, ep4(1, port), s, S, 999, 0, NULL, 0);
		tx(&g, ep4(1, port), s, A, 1000, 0, "a", 0);
		tx(&g, ep4(1, port), s, A, 1002, 0, "0123456789", 1);
	}
	assert_int_equal(g.cnt.reasm_bytes_capped, 1);
	assert_int_equal(g.cnt.tcp_gaps, 1);
	/* Flow 1's second chunk does not fit its own cap. */
	tx(&g, ep4(1, 1), s, A, 1013, 0, "Z", 2);
	assert_int_equal(g.cnt.reasm_bytes_capped, 2);
	g.trace[0] = 0;
	flow_table_flush(g.ft);
	assert_string_equal(g.trace,
		"1>G:1 1>D:Z C1 2>G:1 2>D:0123456789 C2 3>G:1 3>D:0123456789 C3 "
		"4>G:1 4>D:0123456789 C4 C5");
	rig_done(&g);
}

static void test_v6_and_v4_padding(void **state)
{
	struct rig g;
	struct endpoint c6, s6, c = ep4(1, 40000), s = ep4(2, 80);
	struct endpoint s_pad = s;

	(void)state;
	memset(&c6, 0, sizeof(c6));
	c6.family = 6;
	c6.addr[0] = 0x20;
	c6.addr[1] = 0x01;
	c6.addr[2] = 0x0d;
	c6.addr[3] = 0xb8;
	c6.addr[15] = 1;
	c6.port = 50000;
	s6 = c6;
	s6.addr[15] = 2;
	s6.port = 443;
	/* Bytes past an IPv4 address do not make another flow. */
	s_pad.addr[9] = 0xee;
	rig_init(&g, 16, 1 << 20, 0);
	tx(&g, c6, s6, S, 1, 0, NULL, 0);
	tx(&g, c, s, A, 1, 0, "q", 0);
	tx(&g, s_pad, c, A, 1, 2, "r", 0);
	flow_table_flush(g.ft);
	assert_string_equal(g.trace,
		"O1([2001:db8::1]:50000>[2001:db8::2]:443) "
		"O2(10.0.0.1:40000>10.0.0.2:80) 2>D:q C1 2<D:r C2");
	rig_done(&g);
}

static void test_endpoint_str(void **state)
{
	struct endpoint e = ep4(9, 8080), f;
	char buf[ENDPOINT_STRLEN], tiny[4];

	(void)state;
	assert_string_equal(endpoint_str(&e, buf, sizeof(buf)), "10.0.0.9:8080");
	assert_string_equal(endpoint_addr_str(&e, buf, sizeof(buf)), "10.0.0.9");
	assert_string_equal(endpoint_str(&e, tiny, sizeof(tiny)), "10.");
	memset(&f, 0xff, sizeof(f));
	f.family = 6;
	f.port = 65535;
	assert_string_equal(endpoint_str(&f, buf, sizeof(buf)),
			    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
	assert_true(strlen(buf) < ENDPOINT_STRLEN);
	f.family = 0;
	assert_string_equal(endpoint_str(&f, buf, sizeof(buf)), "?:65535");
	f = e;
	assert_true(endpoint_eq(&e, &f));
	f.addr[15] = 1;
	assert_true(endpoint_eq(&e, &f));
	f.port = 1;
	assert_false(endpoint_eq(&e, &f));
	f = e;
	f.family = 6;
	assert_false(endpoint_eq(&e, &f));
}

static void test_null_ops_and_counters(void **state)
{
	struct flow_limits lim = { 0, 0, 0, 0, NULL };
	struct flow_table *ft = flow_table_new(&lim, NULL, NULL, NULL);
	struct tcp_seg s;

	(void)state;
	assert_non_null(ft);
	memset(&s, 0, sizeof(s));
	s.src = ep4(1, 1);
	s.dst = ep4(2, 2);
	s.flags = A;
	s.payload = (const uint8_t *)"abc";
	s.caplen = s.len = 3;
	s.frame = 1;
	assert_int_equal(flow_table_input(ft, &s), 0);
	s.src = ep4(1, 3);
	s.seq = 10;
	assert_int_equal(flow_table_input(ft, &s), 0);
	flow_table_expire(ft, 1);
	flow_table_free(ft);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connection),
		cmocka_unit_test(test_client_server),
		cmocka_unit_test(test_unread_bytes_keep_no_history),
		cmocka_unit_test(test_data_before_syn),
		cmocka_unit_test(test_midstream_settles),
		cmocka_unit_test(test_answer_waits_for_question),
		cmocka_unit_test(test_port_reuse),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test(test_closed_entries_expire),
		cmocka_unit_test(test_max_flows_lru),
		cmocka_unit_test(test_flush_by_id),
		cmocka_unit_test(test_ack_reveals_hole),
		cmocka_unit_test(test_rst_flushes),
		cmocka_unit_test(test_buffer_caps),
		cmocka_unit_test(test_v6_and_v4_padding),
		cmocka_unit_test(test_endpoint_str),
		cmocka_unit_test(test_null_ops_and_counters),
	};

	return cmocka_run_group_tests_name("flow", tests, NULL, NULL);
}
