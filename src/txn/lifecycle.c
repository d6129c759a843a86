/* lifecycle.c - the stage's entry points (txn_add_event, txn_expire,
 * txn_finish) and what becomes of a transaction nothing can change any
 * more: shown as it settles (live), let go once its taker has it, evicted
 * past the cap (its figures kept), and at the end of input settled, summed
 * up once for the report and put in listing order. */
#include <stdint.h>
#include <stdlib.h>

#include "counters.h"
#include "summary.h"
#include "txn_internal.h"

/* t is settled and the summary will count it as it stands. */
static void tell_settled(struct txn_table *tt, struct txn *t)
{
	if (!tt->on_settled || t->told_settled)
		return;
	t->told_settled = 1;
	tt->on_settled(tt->on_settled_arg, t);
}

static void stream_if_wanted(struct txn_table *tt, struct txn *t)
{
	if (!tt->on_close || t->streamed)
		return;
	txn_settle(tt, t, 1);
	t->streamed = 1;
	tell_settled(tt, t);
	tt->on_close(tt->on_close_arg, t);
}

static void release_if_wanted(struct txn_table *tt, struct txn *t)
{
	if (!tt->on_release)
		return;
	txn_settle(tt, t, 1);
	if (tt->on_release(tt->on_release_arg, t) < 0)
		return;
	/* taken: short of memory here, the summary may miss its latency, but
	 * the transaction must not stay to be listed twice */
	summary_add_txn(&tt->released, t);
	tell_settled(tt, t);
	tt->n_released++;
	txn_id_index_remove(tt, t);
	if (t->transaction_id)
		txn_remember_released_id(tt, t);
	txn_table_remove(tt, t);
	txn_free(t);
}

void txn_expire(struct txn_table *tt, uint64_t now_ns, uint64_t timeout_ns)
{
	size_t i;

	if (!tt->on_close)
		return;
	tt->horizon_ns = now_ns;
	for (i = 0; i < tt->n;) {
		struct txn *t = tt->txns[i];

		if (t->closed || t->last_ts_ns + timeout_ns > now_ns) {
			i++;
			continue;
		}
		t->closed = 1;
		stream_if_wanted(tt, t);
		release_if_wanted(tt, t);
		/* released, the next one moved into slot i */
		if (i < tt->n && tt->txns[i] == t)
			i++;
	}
	tt->horizon_ns = 0;
}

/* Past the cap, the oldest transactions leave the table until it is an
 * eighth below the cap (so eviction runs once per many insertions): first
 * finished ones, then, only if that is not enough, open ones, settled as
 * they stand. Their figures stay in the summary. */
static void evict_one(struct txn_table *tt, struct txn *t)
{
	txn_settle(tt, t, 1);
	summary_add_txn(&tt->gone, t);
	tell_settled(tt, t);
	if (!t->streamed && tt->cnt)
		tt->cnt->txns_evicted++;
	txn_id_index_remove(tt, t);
	txn_free(t);
}

static void evict_over_cap(struct txn_table *tt)
{
	size_t target, left, i, j;
	int pass;

	if (tt->n <= tt->lim.max_txns)
		return;
	target = tt->lim.max_txns - tt->lim.max_txns / 8;
	left = tt->n;
	for (pass = 0; pass < 2 && left > target; pass++) {
		for (i = j = 0; i < tt->n; i++) {
			struct txn *t = tt->txns[i];

			if (left > target && (pass == 1 || t->closed)) {
				evict_one(tt, t);
				left--;
				continue;
			}
			tt->txns[j++] = t;
		}
		tt->n = j;
	}
}

void txn_add_event(struct txn_table *tt, struct scep_event *ev)
{
	struct txn *closed = txn_correlate(tt, ev);

	if (closed) {
		stream_if_wanted(tt, closed);
		release_if_wanted(tt, closed);
	}
	evict_over_cap(tt);
}

int txn_listing_cmp(uint64_t first_ts_a, uint64_t created_a, uint64_t first_ts_b, uint64_t created_b)
{
	if (first_ts_a != first_ts_b)
		return first_ts_a < first_ts_b ? -1 : 1;
	return created_a < created_b ? -1 : created_a > created_b;
}

static int cmp_txn_time(const void *a, const void *b)
{
	const struct txn *x = *(struct txn *const *)a;
	const struct txn *y = *(struct txn *const *)b;

	return txn_listing_cmp(x->first_ts_ns, x->created, y->first_ts_ns, y->created);
}

/* The report's figures, once: what left the table (evicted, released)
 * and what is still in it. -1 when memory ran out on the way. */
static int sum_up(struct txn_table *tt)
{
	struct summary *s = &tt->all;
	size_t i;

	summary_free(s);
	s->max_groups = tt->lim.max_txns;
	if (summary_add_summary(s, &tt->gone) < 0 || summary_add_summary(s, &tt->released) < 0)
		return -1;
	for (i = 0; i < tt->n; i++)
		if (summary_add_txn(s, tt->txns[i]) < 0)
			return -1;
	return summary_finish(s);
}

void txn_finish(struct txn_table *tt)
{
	int have_wire = 0;
	size_t i;

	txn_group_loose_events(tt, tt->n_loose);
	for (i = 0; i < tt->n; i++)
		have_wire |= tt->txns[i]->n_events > 0;
	for (i = 0; i < tt->n; i++) {
		txn_settle(tt, tt->txns[i], have_wire);
		tell_settled(tt, tt->txns[i]);
	}
	if (tt->n)
		qsort(tt->txns, tt->n, sizeof(*tt->txns), cmp_txn_time);
	for (i = 0; i < tt->n; i++)
		tt->txns[i]->seq = i + 1;
	tt->all_whole = sum_up(tt) == 0;
}
