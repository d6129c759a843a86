/* test_reasm.c - one direction of TCP reassembly on crafted segments; every
 * case asserts the exact event sequence, written as a trace string. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "counters.h"
#include "../../src/stream/reasm.h"

/* Rigs are static in each test (the reassembler's history buffer, taken at
 * the first delivery, stays reachable for the leak checkers) and released
 * when set up again. */
struct rig {
	int used;
	struct reasm r;
	struct reasm_ctx c;
	struct counters cnt;
	size_t total;
	char trace[4096];
	struct stream_event last[64];
	size_t nev;
};

/* Events as text: "D:bytes" ("D!:bytes" when marked conflicting) "G:n"
 * "C:n" (delivered bytes contradicted) "F" "R", separated by '|'. */
static void on_event(void *arg, const struct stream_event *ev)
{
	struct rig *g = arg;
	size_t at = strlen(g->trace);
	char *p = g->trace + at;
	size_t left = sizeof(g->trace) - at;

	if (g->nev < 64)
		g->last[g->nev] = *ev;
	g->nev++;
	assert_int_equal(ev->dir, g->r.dir);
	if (at) {
		snprintf(p, left, "|");
		p++;
		left--;
	}
	switch (ev->kind) {
	case STREAM_DATA:
		assert_non_null(ev->data);
		snprintf(p, left, "D%s:%.*s", ev->conflict_bytes ? "!" : "", (int)ev->len,
			 (const char *)ev->data);
		break;
	case STREAM_CONFLICT:
		snprintf(p, left, "C:%zu", ev->len);
		break;
	case STREAM_GAP:
		assert_null(ev->data);
		snprintf(p, left, "G:%zu", ev->len);
		break;
	case STREAM_FIN:
		snprintf(p, left, "F");
		break;
	case STREAM_RST:
		snprintf(p, left, "R");
		break;
	}
	g->last[g->nev - 1].data = NULL;  /* borrowed: never kept */
}

static void rig_init(struct rig *g, size_t max_held, size_t max_total)
{
	if (g->used)
		reasm_release(&g->r, &g->c);
	memset(g, 0, sizeof(*g));
	g->used = 1;
	reasm_init(&g->r, DIR_TO_SERVER);
	g->c.cnt = &g->cnt;
	g->c.max_held = max_held;
	g->c.max_total = max_total;
	g->c.total_held = &g->total;
	g->c.emit = on_event;
	g->c.emit_arg = g;
}

static void seg_full(struct rig *g, uint8_t flags, uint32_t seq, const char *data,
		     uint32_t caplen, uint32_t len, uint64_t frame)
{
	struct tcp_seg s;

	memset(&s, 0, sizeof(s));
	s.flags = flags;
	s.seq = seq;
	s.payload = (const uint8_t *)data;
	s.caplen = caplen;
	s.len = len;
	s.frame = frame;
	s.ts_ns = frame * 1000;
	reasm_push_segment(&g->r, &g->c, &s);
}

static void seg(struct rig *g, uint8_t flags, uint32_t seq, const char *data,
		uint64_t frame)
{
	uint32_t n = data ? (uint32_t)strlen(data) : 0;

	seg_full(g, flags, seq, data, n, n, frame);
}

static void syn(struct rig *g, uint32_t isn)
{
	seg(g, TCP_SYN, isn, NULL, 1);
}

static void reset_trace(struct rig *g)
{
	g->trace[0] = 0;
	g->nev = 0;
}

static void test_in_order(void **state)
{
	static struct rig g;

	(void)state;
	rig_init(&g, 1 << 20, 1 << 20);
	syn(&g, 1000);
	seg(&g, TCP_ACK, 1001, "abc", 2);
	seg(&g, TCP_ACK | TCP_PSH, 1004, "def", 3);
	seg(&g, TCP_ACK | TCP_FIN, 1007, NULL, 4);
	assert_string_equal(g.trace, "D:abc|D:def|F");
	assert_int_equal(g.last[1].frame, 3);
	assert_int_equal(g.last[1].first_frame, 3);
	assert_int_equal(g.last[2].frame, 4);
	assert_int_equal(g.cnt.tcp_retransmissions, 0);
	assert_int_equal(g.cnt.tcp_gaps, 0);
	assert_int_equal(g.total, 0);
	/* Ended: nothing more, not even a retransmitted FIN. */
	seg(&g, TCP_ACK | TCP_FIN, 1007, NULL, 5);
	seg(&g, TCP_ACK, 1007, "zzz", 6);
	assert_string_equal(g.trace, "D:abc|D:def|F");
}

static void test_out_of_order_permutations(void **state)
{
	static const int perm[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
		{ 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};
	static const char *const part[3] = { "aaa", "bbbb", "cc" };
	static const uint32_t off[3] = { 0, 3, 7 };
	char got[64];
	int i, k;

	(void)state;
	for (i = 0; i < 6; i++) {
		static struct rig g;
		const char *p;

		rig_init(&g, 1 << 20, 1 << 20);
		syn(&g, 77);
		for (k = 0; k < 3; k++) {
			int j = perm[i][k];

			seg(&g, TCP_ACK, 78 + off[j], part[j], 10 + (uint64_t)k);
		}
		/* Concatenate DATA payloads; no gap may appear. */
		got[0] = 0;
		for (p = g.trace; *p; ) {
			assert_true(p[0] == 'D');
			p += 2;
			while (*p && *p != '|')
				strncat(got, p++, 1);
			if (*p == '|')
				p++;
		}
		assert_string_equal(got, "aaabbbbcc");
		assert_int_equal(g.cnt.tcp_gaps, 0);
		assert_int_equal(g.cnt.tcp_retransmissions, 0);
		assert_int_equal(g.total, 0);
		assert_null(g.r.head);
		/* The last event was completed by the last segment. */
		assert_int_equal(g.last[g.nev - 1].frame, 12);
	}
}

static void test_held_frames(void **state)
{
	static struct rig g;

	(void)state;
	rig_init(&g, 1 << 20, 1 << 20);
	syn(&g, 0);
	seg(&g, TCP_ACK, 4, "def", 7);
	assert_string_equal(g.trace, "");
	assert_int_equal(g.cnt.tcp_out_of_order, 1);
	seg(&g, TCP_ACK, 1, "abc", 9);
	assert_string_equal(g.trace, "D:abc|D:def");
	assert_int_equal(g.last[1].first_frame, 7);
	assert_int_equal(g.last[1].frame, 9);
	assert_int_equal(g.last[1].first_ts_ns, 7000);
	assert_int_equal(g.last[1].ts_ns, 9000);
}

static void test_duplicate(void **state)
{
	static struct rig g;

	(void)state;
	rig_init(&g, 1 << 20, 1 << 20);
	syn(&g, 10);
	seg(&g, TCP_ACK, 11, "abc", 2);
	seg(&g, TCP_ACK, 11, "abc", 3);
	seg(&g, TCP_ACK, 11, "abc", 4);
	assert_string_equal(g.trace, "D:abc");
	assert_int_equal(g.cnt.tcp_retransmissions, 2);
	assert_int_equal(g.cnt.tcp_overlaps_conflicting, 0);
	/* A duplicate of held data is dropped too. */
	seg(&g, TCP_ACK, 20, "xyz", 5);
	seg(&g, TCP_ACK, 20, "xyz", 6);
	assert_int_equal(g.cnt.tcp_retransmissions, 3);
	assert_int_equal(g.total, 3 + REASM_CHUNK_COST);
	reasm_release(&g.r, &g.c);
	assert_int_equal(g.total, 0);
	assert_null(g.r.head);
}

static void test_overlap_same(void **state)
{
	static struct rig g;

	(void)state;
	rig_init(&g, 1 << 20, 1 << 20);
	syn(&g, 10);
	seg(&g, TCP_ACK, 11, "abcdef", 2);
	seg(&g, TCP_ACK, 14, "defghi", 3);
	assert_string_equal(g.trace, "D:abcdef|D:ghi");
	assert_int_equal(g.cnt.tcp_retransmissions, 1);
	assert_int_equal(g.cnt.tcp_overlaps_conflicting, 0);
}

static void test_overlap_conflict_delivered(void **state)
{
	static struct rig g;

	(void)state;
	rig_init(&g, 1 << 20, 1 << 20);
	syn(&g, 10);
	seg(&g, TCP_ACK, 11, "abcdef", 2);
	seg(&g, TCP_ACK, 14, "XYZghi", 3);
	/* the layer above is told which delivered bytes were contradicted */
	assert_string_equal(g.trace, "D:abcdef|C:3|D:ghi");
	assert_int_equal(g.cnt.tcp_retransmissions, 1);
	assert_int_equal(g.cnt.tcp_overlaps_conflicting, 1);
}

static void test_overlap_conflict_held(void **state)
{
	static struct rig g;

	(void)state;
	rig_init(&g, 1 << 20, 1 << 20);
	syn(&g, 0);
	seg(&g, TCP_ACK, 3, "cdef", 2);      /* held [2,6) */
	seg(&g, TCP_ACK, 5, "XXgh", 3);      /* [4,6) conflicts, [6,8) new */
	seg(&g, TCP_ACK, 10, "j", 4);        /* held after a 1-byte hole */
	seg(&g, TCP_ACK, 9, "iJk", 5);       /* fills the hole, J loses */
	assert_string_equal(g.trace, "");
	seg(&g, TCP_ACK, 1, "ab", 6);
	/* the held chunks a retransmission contradicted go up marked */
	assert_string_equal(g.trace, "D:ab|D!:cdef|D:gh|D:i|D!:j|D:k");
	assert_int_equal(g.cnt.tcp_retransmissions, 2);
	assert_int_equal(g.cnt.tcp_overlaps_conflicting, 2);
	assert_int_equal(g.total, 0);
}

static void test_wraparound(void **state)
{
	static struct rig g;

	(void)state;
	rig_init(&g, 1 << 20, 1 << 20);
	syn(&g, 0xfffffff0u);
	/* Offsets 0..9, 10..19 (crosses 2^32 at offset 15), 20..22. */
	seg(&g, TCP_ACK, 0x00000005u, "KLM", 4);
	seg(&g, TCP_ACK, 0xfffffffbu, "0123456789", 3);
	assert_string_equal(g.trace, "");
	seg(&g, TCP_ACK, 0xfffffff1u, "abcdefghij", 2);
	assert_string_equal(g.trace, "D:abcdefghij|D:0123456789|D:KLM");
	assert_int_equal(g.r.next_abs, 23);
	assert_int_equal(g.r.next_seq, 0x00000008u);
	/* An old segment from before the wrap is a retransmission. */
	seg(&g, TCP_ACK, 0xfffffff1u, "abc", 5);
	assert_int_equal(g.cnt.tcp_retransmissions, 1);
	seg(&g, TCP_ACK | TCP_FIN, 0x00000008u, NULL, 6);
	assert_string_equal(g.trace, "D:abcdefghij|D:0123456789|D:KLM|F");
	assert_int_equal(g.cnt.tcp_gaps, 0);
}

static void test_seq_diff(void **state)
{
	(void)state;
	assert_int_equal(reasm_seq_diff(0xffffffffu, 0), 1);
	assert_int_equal(reasm_seq_diff(0, 0xffffffffu), -1);
	assert_int_equal(reasm_seq_diff(5, 5), 0);
	assert_int_equal(reasm_seq_diff(0, 0x7fffffffu), 0x7fffffff);
}

static void test_midstream(void **state)
{
	static struct rig g;

	(void)state;
	rig_init(&g, 1 << 20, 1 << 20);
	seg(&g, TCP_ACK, 5000, NULL, 1);    /* pure ACK sets nothing */
	seg(&g, TCP_ACK, 70000, "abc", 2);
	seg(&g, TCP_ACK, 70003, "def", 3);
	/* A start picked up from data is provisional: held, and moved back by
	 * a segment sent before it (a merged capture's order). */
	assert_string_equal(g.trace, "");
	seg(&g, TCP_ACK, 69990, "0123456789", 4);
	assert_string_equal(g.trace, "");
	/* the peer's acknowledgment of a held byte settles it */
	reasm_ack(&g.r, &g.c, 69991, 5, 5);
	assert_string_equal(g.trace, "D:0123456789|D:abc|D:def");
	/* then, before the start is old */
	seg(&g, TCP_ACK, 69980, "0123456789", 6);
	assert_int_equal(g.cnt.tcp_retransmissions, 1);
	assert_int_equal(g.cnt.tcp_gaps, 0);
	assert_int_equal(g.r.syn_seen, 0);
}

static void test_snaplen_cut(void **state)
{
	static struct rig g;

	(void)state;
	rig_init(&g, 1 << 20, 1 << 20);
	syn(&g, 0);
	seg_full(&g, TCP_ACK, 1, "abcd", 4, 10, 2);
	seg(&g, TCP_ACK, 11, "xyz", 3);
	assert_string_equal(g.trace, "D:abcd|G:6|D:xyz");
	assert_int_equal(g.cnt.tcp_gaps, 1);
	assert_int_equal(g.cnt.tcp_gap_bytes, 6);
	/* Cut and out of order: held as data + missing, released in order. */
	reset_trace(&g);
	seg_full(&g, TCP_ACK, 17, "pq", 2, 5, 5);
	seg(&g, TCP_ACK, 14, "ABC", 6);
	assert_string_equal(g.trace, "D:ABC|D:pq|G:3");
	seg(&g, TCP_ACK, 22, "!", 7);
	assert_string_equal(g.trace, "D:ABC|D:pq|G:3|D:!");
	/* No bytes captured at all: the whole segment is a gap. */
	reset_trace(&g);
	seg_full(&g, TCP_ACK, 23, NULL, 0, 4, 8);
	assert_string_equal(g.trace, "G:4");
	assert_int_equal(g.total, 0);
}

static void test_lost_then_fin_ack(void **state)
{
	static struct rig g;

	(void)state;
	rig_init(&g, 1 << 20, 1 << 20);
	syn(&g, 0);
	seg(&g, TCP_ACK, 1, "abc", 2);
	/* [3,6) never captured; data and FIN behind it wait. */
	seg(&g, TCP_ACK | TCP_FIN, 7, "ghi", 4);
	assert_string_equal(g.trace, "D:abc");
	/* The peer acknowledges the FIN: it got the bytes we lost. */
	reasm_ack(&g.r, &g.c, 11, 5, 5000);
	assert_string_equal(g.trace, "D:abc|G:3|D:ghi|F");
	assert_int_equal(g.last[1].frame, 5);
	assert_int_equal(g.last[1].first_frame, 4);
	assert_int_equal(g.cnt.tcp_gaps, 1);
	assert_int_equal(g.cnt.tcp_gap_bytes, 3);
	assert_int_equal(g.total, 0);
}

static void test_lost_then_fin_flush(void **state)
{
	static struct rig g;

	(void)state;
	rig_init(&g, 1 << 20, 1 << 20);
	syn(&g, 0);
	seg(&g, TCP_ACK, 1, "abc", 2);
	seg(&g, TCP_ACK, 7, "ghi", 3);
	seg(&g, TCP_ACK | TCP_FIN, 13, NULL, 4);   /* [9,12) lost too */
	assert_string_equal(g.trace, "D:abc");
	reasm_flush(&g.r, &g.c);
	assert_string_equal(g.trace, "D:abc|G:3|D:ghi|G:3|F");
	assert_int_equal(g.last[1].frame, 3);   /* no releasing frame at flush */
	assert_int_equal(g.cnt.tcp_gaps, 2);
	assert_int_equal(g.cnt.tcp_gap_bytes, 6);
	reasm_flush(&g.r, &g.c);
	assert_string_equal(g.trace, "D:abc|G:3|D:ghi|G:3|F");
}

static void test_fin_waits_for_data(void **state)
{
	static struct rig g;

	(void)state;
	rig_init(&g, 1 << 20, 1 << 20);
	syn(&g, 0);
	seg(&g, TCP_ACK | TCP_FIN, 4, "def", 3);
	assert_string_equal(g.trace, "");
	/* An ACK that does not cover the hole changes nothing. */
	reasm_ack(&g.r, &g.c, 1, 4, 4000);
	assert_string_equal(g.trace, "");
	seg(&g, TCP_ACK, 1, "abc", 5);
	assert_string_equal(g.trace, "D:abc|D:def|F");
	assert_int_equal(g.cnt.tcp_gaps, 0);
}

static void test_bytes_after_fin_ignored(void **state)
{
	static struct rig g;

	(void)state;
	rig_init(&g, 1 << 20, 1 << 20);
	syn(&g, 0);
	seg(&g, TCP_ACK, 8, "zzz", 2);           /* beyond the FIN to come */
	seg(&g, TCP_ACK | TCP_FIN, 4, "d", 3);   /* FIN at offset 4 */
	assert_int_equal(g.total, 1 + REASM_CHUNK_COST);
	seg(&g, TCP_ACK, 1, "abcXXXXX", 4);
	/* the X over the held d contradicts it; the first copy wins */
	assert_string_equal(g.trace, "D:abc|D!:d|F");
	assert_int_equal(g.total, 0);
}

static void test_ack_beyond_hole(void **state)
{
	static struct rig g;

	(void)state;
	rig_init(&g, 1 << 20, 1 << 20);
	syn(&g, 0);
	seg(&g, TCP_ACK, 1, "abc", 2);
	seg(&g, TCP_ACK, 11, "klm", 3);          /* hole [3,10) */
	/* Acked up to 6: [3,6) is lost, [6,10) may still come. */
	reasm_ack(&g.r, &g.c, 7, 4, 4000);
	assert_string_equal(g.trace, "D:abc|G:3");
	seg(&g, TCP_ACK, 7, "ghij", 5);
	assert_string_equal(g.trace, "D:abc|G:3|D:ghij|D:klm");
	/* Nothing held: an ACK alone never makes a gap. */
	reset_trace(&g);
	reasm_ack(&g.r, &g.c, 100, 6, 6000);
	assert_string_equal(g.trace, "");
	/* ACKs behind, or further ahead than any TCP window, are ignored. */
	seg(&g, TCP_ACK, 20, "uv", 7);
	reasm_ack(&g.r, &g.c, 0x80000010u, 8, 8000);
	reasm_ack(&g.r, &g.c, 0x7ffffff0u, 8, 8000);
	reasm_ack(&g.r, &g.c, 2, 8, 8000);
	assert_string_equal(g.trace, "");
	reasm_ack(&g.r, &g.c, 30, 9, 9000);
	assert_string_equal(g.trace, "G:6|D:uv");
}

static void test_rst(void **state)
{
	static struct rig g;

	(void)state;
	rig_init(&g, 1 << 20, 1 << 20);
	syn(&g, 0);
	seg(&g, TCP_ACK, 1, "ab", 2);
	seg(&g, TCP_ACK, 5, "ef", 3);
	reasm_reset(&g.r, &g.c, 4, 4000);
	assert_string_equal(g.trace, "D:ab|G:2|D:ef|R");
	assert_int_equal(g.last[3].frame, 4);
	reasm_reset(&g.r, &g.c, 5, 5000);
	seg(&g, TCP_ACK, 7, "gh", 6);
	assert_string_equal(g.trace, "D:ab|G:2|D:ef|R");
	assert_int_equal(g.total, 0);
}

static void test_cap_per_direction(void **state)
{
	static struct rig g;
	char big[300];

	(void)state;
	/* Room for two held 10-byte chunks, not three. */
	rig_init(&g, 2 * (10 + REASM_CHUNK_COST), 1 << 20);
	syn(&g, 0);
	seg(&g, TCP_ACK, 1, "0123456789", 2);
	seg(&g, TCP_ACK, 21, "KKKKKKKKKK", 3);   /* hole [10,20) */
	seg(&g, TCP_ACK, 31, "LLLLLLLLLL", 4);
	assert_string_equal(g.trace, "D:0123456789");
	seg(&g, TCP_ACK, 51, "NNNNNNNNNN", 5);   /* hole [40,50) */
	assert_string_equal(g.trace,
		"D:0123456789|G:10|D:KKKKKKKKKK|D:LLLLLLLLLL");
	assert_int_equal(g.last[2].frame, 5);
	assert_int_equal(g.last[2].first_frame, 3);
	assert_int_equal(g.cnt.reasm_bytes_capped, 10);
	assert_int_equal(g.total, 10 + REASM_CHUNK_COST);
	seg(&g, TCP_ACK, 41, "MMMMMMMMMM", 6);
	assert_string_equal(g.trace,
		"D:0123456789|G:10|D:KKKKKKKKKK|D:LLLLLLLLLL|D:MMMMMMMMMM|D:NNNNNNNNNN");
	/* The hole's bytes arriving after all are old now. */
	seg(&g, TCP_ACK, 11, "kkkkkkkkkk", 7);
	assert_int_equal(g.cnt.tcp_retransmissions, 1);
	/* A segment bigger than the whole cap cannot be held: the hole
	 * before it is given up and its bytes go straight up. */
	reset_trace(&g);
	memset(big, 'B', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	seg(&g, TCP_ACK, 71, big, 8);
	assert_int_equal(g.nev, 2);
	assert_int_equal(g.last[0].kind, STREAM_GAP);
	assert_int_equal(g.last[0].len, 10);
	assert_int_equal(g.last[1].kind, STREAM_DATA);
	assert_int_equal(g.last[1].len, 299);
	assert_int_equal(g.cnt.reasm_bytes_capped, 20);
	assert_int_equal(g.cnt.tcp_gaps, 2);
	assert_int_equal(g.total, 0);
}

static void test_cap_total(void **state)
{
	static struct rig g;

	(void)state;
	rig_init(&g, 1 << 20, 1000);
	g.total = 990;    /* other flows hold nearly everything */
	syn(&g, 0);
	seg(&g, TCP_ACK, 5, "late", 2);
	assert_string_equal(g.trace, "G:4|D:late");
	assert_int_equal(g.cnt.reasm_bytes_capped, 4);
	assert_int_equal(g.total, 990);
	seg(&g, TCP_ACK, 1, "abcd", 3);
	assert_int_equal(g.cnt.tcp_retransmissions, 1);
	/* Room again: out-of-order data is held. */
	g.total = 0;
	seg(&g, TCP_ACK, 12, "x", 4);
	assert_string_equal(g.trace, "G:4|D:late");
	reasm_flush(&g.r, &g.c);
	assert_string_equal(g.trace, "G:4|D:late|G:3|D:x");
	assert_int_equal(g.cnt.reasm_bytes_capped, 4);
	assert_int_equal(g.total, 0);
}

static void test_zero_cap(void **state)
{
	static struct rig g;

	(void)state;
	rig_init(&g, 0, 0);
	syn(&g, 0);
	seg(&g, TCP_ACK, 4, "def", 2);
	seg(&g, TCP_ACK, 1, "abc", 3);
	seg(&g, TCP_ACK, 7, "ghi", 4);
	assert_string_equal(g.trace, "G:3|D:def|D:ghi");
	assert_int_equal(g.cnt.reasm_bytes_capped, 3);
	assert_int_equal(g.cnt.tcp_retransmissions, 1);
}

static void test_hostile_lengths(void **state)
{
	static struct rig g;

	(void)state;
	rig_init(&g, 1 << 20, 1 << 20);
	syn(&g, 0);
	/* caplen above len is clamped; a NULL payload means nothing captured. */
	seg_full(&g, TCP_ACK, 1, "abcdef", 6, 3, 2);
	seg_full(&g, TCP_ACK, 4, NULL, 5, 5, 3);
	/* Sequence space beyond what TCP can carry is ignored. */
	seg_full(&g, TCP_ACK, 9, "x", 1, 0x80000000u, 4);
	assert_string_equal(g.trace, "D:abc|G:5");
	assert_int_equal(g.total, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_out_of_order_permutations),
		cmocka_unit_test(test_held_frames),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_overlap_same),
		cmocka_unit_test(test_overlap_conflict_delivered),
		cmocka_unit_test(test_overlap_conflict_held),
		cmocka_unit_test(test_wraparound),
		cmocka_unit_test(test_seq_diff),
		cmocka_unit_test(test_midstream),
		cmocka_unit_test(test_snaplen_cut),
		cmocka_unit_test(test_lost_then_fin_ack),
		cmocka_unit_test(test_lost_then_fin_flush),
		cmocka_unit_test(test_fin_waits_for_data),
		cmocka_unit_test(test_bytes_after_fin_ignored),
		cmocka_unit_test(test_ack_beyond_hole),
		cmocka_unit_test(test_rst),
		cmocka_unit_test(test_cap_per_direction),
		cmocka_unit_test(test_cap_total),
		cmocka_unit_test(test_zero_cap),
		cmocka_unit_test(test_hostile_lengths),
	};

	return cmocka_run_group_tests_name("reasm", tests, NULL, NULL);
}
