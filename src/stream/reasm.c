/* reasm.c - per-direction TCP reassembly: owns the out-of-order bytes held
 * for one direction and its history window. Trusts nothing in the segment:
 * sequence numbers, lengths and flags are all attacker-chosen.
 *
 * Semantics (what the layers above can rely on):
 *
 * - Offsets. Bytes are numbered from 0 by a 64-bit offset. Offset 0 is the
 *   sequence number after the SYN (ISN+1); without a SYN, the sequence
 *   number of the first segment that carries data or a FIN (a stream picked
 *   up mid-connection). That start is provisional: its bytes are held, not
 *   delivered, until the peer acknowledges one of them, REASM_PROVISIONAL_NS
 *   of capture time pass, the caps are reached or input ends; until then a
 *   SYN or an earlier segment moves the start back (merged and
 *   multi-interface captures put data before its SYN). Once settled,
 *   anything before the start is treated as old. Sequence
 *   numbers are compared in serial arithmetic (RFC 1982, modulo 2^32), as a
 *   distance of at most 2^31 from the next expected byte, so a stream may
 *   cross 2^32 any number of times.
 * - Order. Bytes go up as STREAM_DATA in order. A segment ahead of the next
 *   expected byte is copied and held until the hole before it fills.
 * - Overlaps: FIRST wins. Bytes already delivered or already held are kept;
 *   the newer copy of those bytes is dropped. A segment that brings any such
 *   byte counts once in tcp_retransmissions (exact duplicates included), and
 *   once in tcp_overlaps_conflicting if a byte differs from the kept one.
 *   Delivered bytes are compared only within the last REASM_HISTORY bytes;
 *   older ones cannot be compared and only count as retransmissions.
 *   First-wins is what most receiving stacks do for data already queued, so
 *   what we show is what the endpoint most likely used; the counter flags an
 *   attempt to make the two differ. The layers above are told which
 *   exchange it hit: a held chunk that was contradicted is delivered with
 *   conflict_bytes set; contradicted delivered bytes give STREAM_CONFLICT.
 * - Snaplen. A segment cut by the capture (caplen < len) gives its caplen
 *   bytes then a STREAM_GAP for the missing tail: the sequence space always
 *   advances by the wire length.
 * - Gaps. A hole is never glued over: when it is given up, a STREAM_GAP of
 *   its length comes first, then the held data. A hole is given up when
 *   the peer acknowledges a byte inside or beyond it (it got bytes we did
 *   not capture), on RST, at flush (end of input, idle timeout, eviction),
 *   and when a new segment cannot be held within the caps (per direction,
 *   all flows). Not on a FIN alone: the last segment and the FIN are often
 *   reordered, and the peer's ACK of the FIN gives the hole up soon enough
 *   when it is real. Every gap counts in tcp_gaps and tcp_gap_bytes.
 * - Caps. Captured bytes are never dropped for lack of room: the holes
 *   that hold them back are given up instead (held data out first, then,
 *   if the new segment still does not fit, the hole before it), and the
 *   bytes of those early gaps count in reasm_bytes_capped. If a hole's
 *   bytes arrive after that, they are old and only count as a
 *   retransmission. Each held chunk costs REASM_CHUNK_COST on top of its
 *   bytes, so a flood of tiny segments is bounded as well.
 * - FIN. STREAM_FIN once every byte before the FIN is delivered or given up
 *   as a gap: a FIN that arrives ahead of data waits for it. Bytes past the
 *   FIN are ignored. RST: held data out (with gaps), then STREAM_RST, once.
 *   After FIN or RST the direction takes nothing more.
 * - Frames. A DATA event's first_frame is the segment that carried its
 *   bytes; frame is the segment whose arrival released them (the same
 *   segment when they came in order). At flush there is no such segment and
 *   frame is the carrying one.
 */
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "membudget.h"
#include "reader.h"
#include "reasm.h"

struct reasm_chunk {
	struct reasm_chunk *prev, *next;
	uint64_t start;
	uint32_t len;
	int missing;            /* not captured: a gap when released */
	uint32_t snaplen;       /* missing because a snap length cut its packet */
	int conflict;           /* a retransmission of these bytes differed */
	int has_ack;            /* ack: what its sender had received of the peer */
	uint32_t ack;
	uint64_t frame, ts_ns;
	uint8_t data[];
};

/* The segment (or ACK) whose arrival causes events; frame 0 = none. */
struct when {
	uint64_t frame, ts_ns;
	int has_ack;            /* a segment's acknowledgment of the peer's bytes */
	uint32_t ack;
	uint32_t snaplen;       /* the bytes given are missing by a snap length cut */
};

/* The largest TCP window (RFC 7323): no segment carries more sequence
 * space, and no ACK runs further ahead of the bytes we have. */
#define REASM_MAX_SEG_LEN 0x40000000u
/* How long a start picked up from data waits for its SYN or an earlier
 * segment: the clock skew between interfaces of a merged capture, with room. */
#define REASM_PROVISIONAL_NS 1000000000ull

int64_t reasm_seq_diff(uint32_t a, uint32_t b)
{
	uint32_t d = b - a;

	return d <= 0x80000000u ? (int64_t)d : (int64_t)d - 0x100000000LL;
}

void reasm_init(struct reasm *r, enum stream_dir dir)
{
	memset(r, 0, sizeof(*r));
	r->dir = dir;
}

int reasm_untouched(const struct reasm *r)
{
	return r->next_abs == 0 && !r->ended && (!r->have_base || r->provisional);
}

static int reasm_pending(const struct reasm *r)
{
	return !r->ended && (r->head || r->fin_seen);
}

static uint64_t chunk_end(const struct reasm_chunk *ch)
{
	return ch->start + ch->len;
}

static size_t chunk_cost(const struct reasm_chunk *ch)
{
	return (ch->missing ? 0 : ch->len) + REASM_CHUNK_COST;
}

static void chunk_unlink(struct reasm *r, const struct reasm_ctx *c,
			 struct reasm_chunk *ch)
{
	size_t cost = chunk_cost(ch);

	if (ch->prev)
		ch->prev->next = ch->next;
	else
		r->head = ch->next;
	if (ch->next)
		ch->next->prev = ch->prev;
	else
		r->tail = ch->prev;
	r->held -= cost;
	*c->total_held -= cost;
	mem_release(c->mem, MEM_reasm, cost);
	free(ch);
}

void reasm_release(struct reasm *r, const struct reasm_ctx *c)
{
	while (r->head)
		chunk_unlink(r, c, r->head);
	if (r->hist)
		mem_release(c->mem, MEM_reasm, REASM_HISTORY);
	free(r->hist);
	r->hist = NULL;
	r->hist_from = r->next_abs;
}

void reasm_stop_history(struct reasm *r, const struct reasm_ctx *c)
{
	r->no_history = 1;
	if (r->hist)
		mem_release(c->mem, MEM_reasm, REASM_HISTORY);
	free(r->hist);
	r->hist = NULL;
}

static void hist_put(struct reasm *r, const struct reasm_ctx *c, const uint8_t *p, size_t n)
{
	uint64_t at = r->next_abs;
	size_t i;

	if (r->no_history)
		return;
	if (!r->hist) {
		if (mem_charge(c->mem, MEM_reasm, REASM_HISTORY) < 0) {
			/* past the budget: nothing delivered can be compared */
			c->cnt->memory_refused++;
			r->hist_from = r->next_abs + n;
			return;
		}
		if (!(r->hist = malloc(REASM_HISTORY))) {
			mem_release(c->mem, MEM_reasm, REASM_HISTORY);
			r->hist_from = r->next_abs + n;
			return;
		}
	}
	if (n > REASM_HISTORY) {
		at += n - REASM_HISTORY;
		p += n - REASM_HISTORY;
		n = REASM_HISTORY;
	}
	/* at most two copies: up to the ring's end, then from its start */
	i = (size_t)(at % REASM_HISTORY);
	if (n > REASM_HISTORY - i) {
		memcpy(r->hist + i, p, REASM_HISTORY - i);
		memcpy(r->hist, p + (REASM_HISTORY - i), n - (REASM_HISTORY - i));
	} else {
		memcpy(r->hist + i, p, n);
	}
}

/* 1 if p (bytes from offset 'at', all before next_abs) differs from a
 * delivered byte still in the history window. */
static int hist_differs(const struct reasm *r, uint64_t at,
			const uint8_t *p, size_t n)
{
	uint64_t from = r->hist_from;
	uint64_t o;

	if (!r->hist)
		return 0;
	if (r->next_abs > REASM_HISTORY && r->next_abs - REASM_HISTORY > from)
		from = r->next_abs - REASM_HISTORY;
	for (o = at > from ? at : from; o < at + n && o < r->next_abs; o++)
		if (r->hist[o % REASM_HISTORY] != p[o - at])
			return 1;
	return 0;
}

static void emit_marked(const struct reasm *r, const struct reasm_ctx *c,
			enum stream_ev_kind kind, const uint8_t *data, size_t len,
			struct when done, struct when first, size_t conflict)
{
	struct stream_event ev = {
		.kind = kind, .dir = r->dir, .data = data, .len = len,
		.conflict_bytes = conflict,
		.frame = done.frame ? done.frame : first.frame,
		.ts_ns = done.frame ? done.ts_ns : first.ts_ns,
		.first_frame = first.frame, .first_ts_ns = first.ts_ns,
		.snaplen = kind == STREAM_GAP ? first.snaplen : 0,
	};

	if (c->emit)
		c->emit(c->emit_arg, &ev);
}

static void emit(const struct reasm *r, const struct reasm_ctx *c,
		 enum stream_ev_kind kind, const uint8_t *data, size_t len,
		 struct when done, struct when first)
{
	emit_marked(r, c, kind, data, len, done, first, 0);
}

/* conflict: p's bytes had a held copy with other content. */
static void deliver_marked(struct reasm *r, const struct reasm_ctx *c,
			   const uint8_t *p, uint64_t n, struct when done,
			   struct when first, int conflict)
{
	if (!n)
		return;
	if (p) {
		emit_marked(r, c, STREAM_DATA, p, (size_t)n, done, first, conflict ? (size_t)n : 0);
		hist_put(r, c, p, (size_t)n);
	} else {
		emit(r, c, STREAM_GAP, NULL, (size_t)n, done, first);
		c->cnt->tcp_gaps++;
		c->cnt->tcp_gap_bytes += n;
	}
	r->next_abs += n;
	r->next_seq += (uint32_t)n;
	if (!p)
		r->hist_from = r->next_abs;
}

static void deliver(struct reasm *r, const struct reasm_ctx *c,
		    const uint8_t *p, uint64_t n, struct when done,
		    struct when first)
{
	deliver_marked(r, c, p, n, done, first, 0);
}

/* A segment acknowledging peer bytes that are not delivered yet was sent
 * after them: a merged capture can write it first (a response before its
 * request). It waits for them, at most REASM_PROVISIONAL_NS of capture
 * time (they may never have been captured); a hole the acknowledgment
 * reveals was already given up (flow.c acknowledges before it pushes). */
static int waits_for_peer(const struct reasm_ctx *c, int has_ack, uint32_t ack,
			  uint64_t sent_ts, uint64_t now_ts)
{
	const struct reasm *p = c->peer;
	int64_t ahead;

	if (!has_ack || !p || !p->have_base || p->provisional || p->ended)
		return 0;
	if (now_ts > sent_ts && now_ts - sent_ts >= REASM_PROVISIONAL_NS)
		return 0;
	ahead = reasm_seq_diff(p->next_seq, ack);
	return ahead > 0 && ahead < REASM_MAX_SEG_LEN;
}

/* force: the bytes are given up to, so nothing waits for the peer. */
static void release_held(struct reasm *r, const struct reasm_ctx *c,
			 struct when done, int force)
{
	struct reasm_chunk *ch;

	if (r->provisional)
		return;
	while ((ch = r->head) && ch->start <= r->next_abs &&
	       (force || !waits_for_peer(c, ch->has_ack, ch->ack, ch->ts_ns, done.ts_ns))) {
		if (chunk_end(ch) > r->next_abs) {
			uint64_t off = r->next_abs - ch->start;
			struct when first = { .frame = ch->frame, .ts_ns = ch->ts_ns,
					      .snaplen = ch->missing ? ch->snaplen : 0 };

			deliver_marked(r, c, ch->missing ? NULL : ch->data + off,
				       chunk_end(ch) - r->next_abs, done, first, ch->conflict);
		}
		chunk_unlink(r, c, ch);
	}
}

static void release_contiguous(struct reasm *r, const struct reasm_ctx *c,
			       struct when done)
{
	release_held(r, c, done, 0);
}

static void check_fin(struct reasm *r, const struct reasm_ctx *c,
		      struct when done)
{
	struct when first = { .frame = r->fin_frame, .ts_ns = r->fin_ts_ns };

	if (!r->fin_seen || r->ended || r->next_abs < r->fin_abs)
		return;
	reasm_release(r, c);
	emit(r, c, STREAM_FIN, NULL, 0, done, first);
	r->fin_seen = 0;
	r->ended = 1;
}

/* The provisional start is final: what is held from it goes up. */
static void settle(struct reasm *r, const struct reasm_ctx *c, struct when done)
{
	struct when own = { .frame = 0, .ts_ns = 0 };

	if (!r->provisional)
		return;
	r->provisional = 0;
	/* the bytes were whole when they came: each keeps its own frame */
	release_contiguous(r, c, own);
	check_fin(r, c, done);
}

/* Moves a provisional start back to new_seq (a SYN's ISN+1, or a segment
 * that came later but was sent earlier) by shifting what is held. */
static int move_start(struct reasm *r, uint32_t new_seq)
{
	int64_t d = reasm_seq_diff(new_seq, r->next_seq);
	struct reasm_chunk *ch;

	if (d < 0 || d >= REASM_MAX_SEG_LEN)
		return -1;
	for (ch = r->head; ch; ch = ch->next)
		ch->start += (uint64_t)d;
	if (r->fin_seen)
		r->fin_abs += (uint64_t)d;
	r->next_seq = new_seq;
	return 0;
}

static int provisional_expired(const struct reasm *r, uint64_t ts_ns)
{
	return ts_ns > r->provisional_ts_ns &&
	       ts_ns - r->provisional_ts_ns >= REASM_PROVISIONAL_NS;
}

/* Gives up every hole before 'target': gap, then the held data behind it.
 * A FIN at or before target is then delivered, after a gap if needed. */
static void give_up_until(struct reasm *r, const struct reasm_ctx *c,
			  uint64_t target, struct when done)
{
	struct reasm_chunk *ch;

	settle(r, c, done);

	while ((ch = r->head) && ch->start < target) {
		if (ch->start > r->next_abs) {
			struct when first = { .frame = ch->frame, .ts_ns = ch->ts_ns };

			deliver(r, c, NULL, ch->start - r->next_abs, done, first);
		}
		release_held(r, c, done, 1);
	}
	/* Data is still held beyond target: the acknowledged range before
	 * target is lost to us, the rest may yet arrive. */
	if (r->head && r->next_abs < target) {
		struct when first = { .frame = r->head->frame, .ts_ns = r->head->ts_ns };

		deliver(r, c, NULL, target - r->next_abs, done, first);
	}
	if (r->fin_seen && target >= r->fin_abs && r->next_abs < r->fin_abs) {
		struct when first = { .frame = r->fin_frame, .ts_ns = r->fin_ts_ns };

		deliver(r, c, NULL, r->fin_abs - r->next_abs, done, first);
	}
	check_fin(r, c, done);
}

/* Bytes beyond a FIN are not part of the stream. */
static void drop_beyond(struct reasm *r, const struct reasm_ctx *c, uint64_t end)
{
	while (r->tail && r->tail->start >= end)
		chunk_unlink(r, c, r->tail);
	if (r->tail && chunk_end(r->tail) > end) {
		size_t cut = (size_t)(chunk_end(r->tail) - end);

		/* The allocation stays; only its charge shrinks. */
		if (!r->tail->missing) {
			r->held -= cut;
			*c->total_held -= cut;
			mem_release(c->mem, MEM_reasm, cut);
		}
		r->tail->len -= (uint32_t)cut;
	}
}

struct walk {
	size_t cost;            /* what inserting the new pieces charges */
	uint64_t new_bytes;     /* bytes not already held */
	int overlap, conflict;
};

/* Walks [start, end) against the held chunks, FIRST wins: counts (or, if
 * commit, inserts) only the pieces no chunk covers yet. start >= next_abs. */
static void walk_insert(struct reasm *r, const struct reasm_ctx *c,
			uint64_t start, uint64_t end, const uint8_t *p,
			struct when seg, int commit, struct walk *w)
{
	struct reasm_chunk *ch = r->head;
	uint64_t cur = start;

	/* Out-of-order data mostly arrives in order after the hole. */
	if (r->tail && chunk_end(r->tail) <= start)
		ch = NULL;
	while (ch && chunk_end(ch) <= start)
		ch = ch->next;
	while (cur < end) {
		uint64_t stop;

		if (ch && ch->start <= cur) {
			stop = chunk_end(ch) < end ? chunk_end(ch) : end;
			w->overlap = 1;
			if (p && !ch->missing &&
			    memcmp(ch->data + (cur - ch->start), p + (cur - start),
				   (size_t)(stop - cur))) {
				w->conflict = 1;
				ch->conflict = 1;
			}
			cur = stop;
			ch = ch->next;
			continue;
		}
		stop = ch && ch->start < end ? ch->start : end;
		if (!commit) {
			w->cost += (p ? (size_t)(stop - cur) : 0) + REASM_CHUNK_COST;
			w->new_bytes += stop - cur;
		} else {
			size_t n = (size_t)(stop - cur);
			struct reasm_chunk *nc = malloc(sizeof(*nc) + (p ? n : 0));

			if (!nc) {
				c->cnt->reasm_bytes_capped += n;
				mem_release(c->mem, MEM_reasm, (p ? n : 0) + REASM_CHUNK_COST);
				cur = stop;
				continue;
			}
			nc->start = cur;
			nc->len = (uint32_t)n;
			nc->missing = !p;
			nc->snaplen = p ? 0 : seg.snaplen;
			nc->conflict = 0;
			nc->has_ack = seg.has_ack;
			nc->ack = seg.ack;
			nc->frame = seg.frame;
			nc->ts_ns = seg.ts_ns;
			if (p)
				memcpy(nc->data, p + (cur - start), n);
			nc->next = ch;
			nc->prev = ch ? ch->prev : r->tail;
			if (nc->prev)
				nc->prev->next = nc;
			else
				r->head = nc;
			if (ch)
				ch->prev = nc;
			else
				r->tail = nc;
			r->held += chunk_cost(nc);
			*c->total_held += chunk_cost(nc);
		}
		cur = stop;
	}
}

static int fits(const struct reasm *r, const struct reasm_ctx *c, size_t cost)
{
	return cost <= c->max_held - r->held && r->held <= c->max_held &&
	       cost <= c->max_total - *c->total_held && *c->total_held <= c->max_total;
}

/* The run's budget takes the held bytes, or refuses (counted): then the
 * holes are given up as for the caps. */
static int charged(const struct reasm_ctx *c, size_t cost)
{
	if (mem_charge(c->mem, MEM_reasm, cost) == 0)
		return 1;
	c->cnt->memory_refused++;
	return 0;
}

struct seg_stats {
	int overlap, conflict, held;
};

/* One range of a segment: [start, end) of the offset space, with its bytes
 * (p) or known missing (p == NULL). start may be negative: before offset 0. */
static void push_range(struct reasm *r, const struct reasm_ctx *c,
		       int64_t start, int64_t end, const uint8_t *p,
		       struct when seg, struct seg_stats *st)
{
	struct walk w = { 0 };
	uint64_t s, e, lim;

	if (r->fin_seen && end > (int64_t)r->fin_abs)
		end = (int64_t)r->fin_abs;
	if (end <= start)
		return;
	if (start < (int64_t)r->next_abs) {
		int64_t old_end = end < (int64_t)r->next_abs ? end : (int64_t)r->next_abs;

		st->overlap = 1;
		if (p) {
			int64_t skip = start < 0 ? -start : 0;

			if (old_end > 0 &&
			    hist_differs(r, (uint64_t)(start + skip), p + skip,
					 (size_t)(old_end - start - skip))) {
				st->conflict = 1;
				emit(r, c, STREAM_CONFLICT, NULL, (size_t)(old_end - start - skip),
				     seg, seg);
			}
			p += old_end - start;
		}
		start = old_end;
		if (start >= end)
			return;
	}
	s = (uint64_t)start;
	e = (uint64_t)end;
	if (s == r->next_abs && !r->provisional &&
	    !waits_for_peer(c, seg.has_ack, seg.ack, seg.ts_ns, seg.ts_ns)) {
		lim = r->head && r->head->start < e ? r->head->start : e;
		deliver(r, c, p, lim - s, seg, seg);
		if (p)
			p += lim - s;
		s = lim;
		if (s >= e)
			return;
	}
	walk_insert(r, c, s, e, p, seg, 0, &w);
	if (w.overlap)
		st->overlap = 1;
	if (w.conflict)
		st->conflict = 1;
	if (!w.new_bytes)
		return;
	if (!fits(r, c, w.cost) || !charged(c, w.cost)) {
		/* No room: rather than drop bytes we captured, stop waiting
		 * for the holes before them. The held data goes first; then
		 * the new bytes fit, or are in order after one more gap. */
		uint64_t gap_bytes = c->cnt->tcp_gap_bytes;
		struct when first = { .frame = seg.frame, .ts_ns = seg.ts_ns };

		settle(r, c, seg);
		if (r->ended)
			return;
		if (r->head)
			give_up_until(r, c, chunk_end(r->tail), seg);
		else
			deliver(r, c, NULL, s - r->next_abs, seg, first);
		c->cnt->reasm_bytes_capped += c->cnt->tcp_gap_bytes - gap_bytes;
		if (r->ended)
			return;
		push_range(r, c, (int64_t)s, (int64_t)e, p, seg, st);
		return;
	}
	/* Held behind a hole: out of order. Held while a start settles or the
	 * peer's bytes come (data at next_abs is held), then following the
	 * held data: in order. */
	st->held = s > r->next_abs &&
		   !(r->head && r->head->start == r->next_abs && chunk_end(r->tail) == s);
	walk_insert(r, c, s, e, p, seg, 1, &w);
}

void reasm_push_segment(struct reasm *r, const struct reasm_ctx *c,
			const struct tcp_seg *seg)
{
	struct when now = {
		.frame = seg->frame, .ts_ns = seg->ts_ns,
		.has_ack = (seg->flags & TCP_ACK) != 0, .ack = seg->ack,
	};
	struct seg_stats st = { 0 };
	uint32_t len = seg->len, caplen = seg->caplen;
	int fin = (seg->flags & TCP_FIN) != 0;
	uint32_t seq = seg->seq;
	struct rd pl, bytes;
	int64_t start;

	if (r->ended)
		return;
	if (len >= REASM_MAX_SEG_LEN)
		return;
	if (caplen > len)
		caplen = len;
	rd_init(&pl, seg->payload, caplen);
	if (!rd_sub(&pl, caplen, &bytes))
		caplen = 0;
	if (seg->flags & TCP_SYN) {
		if (r->provisional && move_start(r, seq + 1) == 0) {
			r->provisional = 0;
			r->syn_seen = 1;
			r->isn = seq;
			release_contiguous(r, c, now);
		}
		settle(r, c, now);
		if (!r->have_base) {
			r->have_base = 1;
			r->syn_seen = 1;
			r->isn = seq;
			r->next_seq = seq + 1;
		}
		/* Data on a SYN (TCP Fast Open) starts after the ISN. */
		seq++;
	}
	if (!r->have_base) {
		if (!len && !fin)
			return;
		r->have_base = 1;
		r->next_seq = seq;
		r->provisional = 1;
		r->provisional_ts_ns = seg->ts_ns;
	} else if (r->provisional) {
		if (provisional_expired(r, seg->ts_ns))
			settle(r, c, now);
		else if (len)
			move_start(r, seq);
		if (r->ended)
			return;
	}
	start = (int64_t)r->next_abs + reasm_seq_diff(r->next_seq, seq);
	if (fin && !r->fin_seen && start + len >= 0) {
		r->fin_seen = 1;
		r->fin_abs = (uint64_t)(start + len);
		r->fin_frame = seg->frame;
		r->fin_ts_ns = seg->ts_ns;
		drop_beyond(r, c, r->fin_abs);
	}
	if (len) {
		struct when cut = now;

		push_range(r, c, start, start + caplen, caplen ? rd_ptr(&bytes) : NULL,
			   now, &st);
		release_contiguous(r, c, now);
		/* the rest of a segment cut by the snap length: not a loss */
		cut.snaplen = seg->snaplen;
		push_range(r, c, start + caplen, start + len, NULL, cut, &st);
		release_contiguous(r, c, now);
	}
	if (st.overlap)
		c->cnt->tcp_retransmissions++;
	if (st.conflict)
		c->cnt->tcp_overlaps_conflicting++;
	if (st.held)
		c->cnt->tcp_out_of_order++;
	/* what waited for the peer's bytes may have waited long enough */
	if (!len && r->head)
		release_contiguous(r, c, now);
	check_fin(r, c, now);
}

void reasm_peer_moved(struct reasm *r, const struct reasm_ctx *c, uint64_t frame,
		      uint64_t ts_ns)
{
	struct when now = { .frame = frame, .ts_ns = ts_ns };

	if (!r->head || r->ended)
		return;
	release_contiguous(r, c, now);
	check_fin(r, c, now);
}

void reasm_start_at(struct reasm *r, const struct reasm_ctx *c, uint32_t seq,
		    uint64_t frame, uint64_t ts_ns)
{
	struct when now = { .frame = frame, .ts_ns = ts_ns };

	if (r->provisional && move_start(r, seq) == 0) {
		r->provisional = 0;
		release_contiguous(r, c, now);
		check_fin(r, c, now);
	} else if (!r->have_base) {
		r->have_base = 1;
		r->next_seq = seq;
	}
}

void reasm_ack(struct reasm *r, const struct reasm_ctx *c, uint32_t ack,
	       uint64_t frame, uint64_t ts_ns)
{
	struct when now = { .frame = frame, .ts_ns = ts_ns };
	int64_t acked;

	if (!r->have_base || !reasm_pending(r))
		return;
	acked = (int64_t)r->next_abs + reasm_seq_diff(r->next_seq, ack);
	/* An acknowledgment of bytes before a provisional start says only
	 * that earlier bytes exist: they may yet come. */
	if (r->provisional) {
		if (acked <= 0 && !provisional_expired(r, ts_ns))
			return;
		settle(r, c, now);
	}
	/* Behind: old news. More than the largest TCP window ahead
	 * (RFC 7323: 2^30): not an acknowledgment of this stream. */
	if (acked <= (int64_t)r->next_abs ||
	    acked - (int64_t)r->next_abs > REASM_MAX_SEG_LEN)
		return;
	give_up_until(r, c, (uint64_t)acked, now);
}

void reasm_reset(struct reasm *r, const struct reasm_ctx *c,
		 uint64_t frame, uint64_t ts_ns)
{
	struct when now = { .frame = frame, .ts_ns = ts_ns };

	if (r->ended)
		return;
	give_up_until(r, c, UINT64_MAX, now);
	if (r->ended)
		return;
	emit(r, c, STREAM_RST, NULL, 0, now, now);
	r->ended = 1;
}

void reasm_flush(struct reasm *r, const struct reasm_ctx *c)
{
	struct when none = { .frame = 0, .ts_ns = 0 };

	if (r->ended)
		return;
	give_up_until(r, c, UINT64_MAX, none);
}
