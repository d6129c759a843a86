/* loss.c - where a live capture lost packets (kernel drops), kept as time
 * spans, so a verdict can tell a missing answer from one the capture lost. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "txn_internal.h"

/* A span of capture time in which the kernel dropped packets (live). */
struct loss_span {
	uint64_t from_ns, to_ns;
	uint64_t packets;
};

/* Loss spans kept; past it the two closest merge into one wider span,
 * which only makes the verdicts it touches more cautious. */
#define TXN_MAX_LOSS_SPANS 1024u

/* Merges the two neighbouring spans with the least time between them. */
static void merge_closest_losses(struct txn_table *tt)
{
	size_t i, best = 0;
	uint64_t gap, best_gap = UINT64_MAX;

	for (i = 0; i + 1 < tt->n_losses; i++) {
		gap = tt->losses[i + 1].from_ns - tt->losses[i].to_ns;
		if (gap < best_gap) {
			best_gap = gap;
			best = i;
		}
	}
	tt->losses[best].to_ns = tt->losses[best + 1].to_ns;
	tt->losses[best].packets += tt->losses[best + 1].packets;
	memmove(tt->losses + best + 1, tt->losses + best + 2,
		(tt->n_losses - best - 2) * sizeof(*tt->losses));
	tt->n_losses--;
}

void txn_note_capture_loss(struct txn_table *tt, uint64_t from_ns, uint64_t to_ns, uint64_t packets)
{
	struct loss_span *last = tt->n_losses ? &tt->losses[tt->n_losses - 1] : NULL;

	if (!packets)
		return;
	if (to_ns < from_ns)    /* the wall clock was set back */
		from_ns = to_ns;
	/* the counters are read one span after the other: a loss that goes
	 * on makes one span; one out of order widens the last */
	if (last && from_ns <= last->to_ns) {
		if (from_ns < last->from_ns)
			last->from_ns = from_ns;
		if (to_ns > last->to_ns)
			last->to_ns = to_ns;
		last->packets += packets;
		return;
	}
	if (tt->n_losses == TXN_MAX_LOSS_SPANS)
		merge_closest_losses(tt);
	if (tt->n_losses == tt->losses_alloc) {
		size_t na = tt->losses_alloc ? tt->losses_alloc * 2 : 16;
		struct loss_span *nl = realloc(tt->losses, na * sizeof(*nl));

		if (!nl) {
			/* still said: the last span stretches to cover it */
			if (tt->n_losses) {
				tt->losses[tt->n_losses - 1].to_ns = to_ns;
				tt->losses[tt->n_losses - 1].packets += packets;
			}
			return;
		}
		tt->losses = nl;
		tt->losses_alloc = na;
	}
	tt->losses[tt->n_losses].from_ns = from_ns;
	tt->losses[tt->n_losses].to_ns = to_ns;
	tt->losses[tt->n_losses].packets = packets;
	tt->n_losses++;
}

/* Packets the capture lost (kernel drops) between from_ns and to_ns. */
uint64_t txn_lost_between(const struct txn_table *tt, uint64_t from_ns, uint64_t to_ns)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < tt->n_losses; i++)
		if (tt->losses[i].to_ns > from_ns && tt->losses[i].from_ns < to_ns)
			n += tt->losses[i].packets;
	return n;
}

/* What a transaction misses could have come any time after from_ns until
 * it was given up. */
uint64_t txn_lost_after(const struct txn_table *tt, uint64_t from_ns)
{
	return txn_lost_between(tt, from_ns, tt->horizon_ns ? tt->horizon_ns : UINT64_MAX);
}
