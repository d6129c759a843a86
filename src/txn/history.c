/* history.c - what earlier enrollments of the capture prove about a later
 * one: a certificate already issued for the same subject, or the same key
 * having signed a request of another transactionID. A ring of the last
 * HISTORY_MAX settled enrollments; each entry keeps hashes so a lookup is
 * a scan of integers, not of strings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "strutil.h"
#include "txn_internal.h"

struct history_entry {
	char *transaction_id;
	char *subject;
	char key_sha256[SCEP_SHA256_HEX];
	uint32_t subject_hash, key_hash;
	enum txn_verdict verdict;
	const char *verdict_name;   /* static */
	uint64_t first_ts_ns, last_ts_ns;
};

/* FNV-1a: only a prefilter before strcmp */
static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; s && *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static void entry_clear(struct history_entry *e)
{
	free(e->transaction_id);
	free(e->subject);
	memset(e, 0, sizeof(*e));
}

void txn_history_free(struct txn_table *tt)
{
	size_t i;

	for (i = 0; tt->history && i < TXN_HISTORY_MAX; i++)
		entry_clear(&tt->history[i]);
	free(tt->history);
	tt->history = NULL;
}

static int issued(enum txn_verdict v)
{
	return v == VERDICT_ISSUED || v == VERDICT_DELIVERED;
}

/* Remembers a settled enrollment (one with a transactionID); endpoint
 * groups prove nothing about subjects or keys. */
void txn_history_add(struct txn_table *tt, const struct txn *t, const char *verdict_name)
{
	struct history_entry *e;

	if (!t->transaction_id || (!t->subject && !*t->key_sha256))
		return;
	if (!tt->history && !(tt->history = calloc(TXN_HISTORY_MAX, sizeof(*tt->history))))
		return;
	e = &tt->history[tt->history_next];
	tt->history_next = (tt->history_next + 1) % TXN_HISTORY_MAX;
	entry_clear(e);
	e->transaction_id = strdup(t->transaction_id);
	e->subject = t->subject ? strdup(t->subject) : NULL;
	memcpy(e->key_sha256, t->key_sha256, sizeof(e->key_sha256));
	e->subject_hash = hash_str(t->subject);
	e->key_hash = hash_str(t->key_sha256);
	e->verdict = t->verdict;
	e->verdict_name = verdict_name;
	e->first_ts_ns = t->first_ts_ns;
	e->last_ts_ns = t->last_ts_ns;
}

/* The newest entry before t (ended before t began) that matches, or NULL.
 * by_key: same signing key under another transactionID; else an issued
 * certificate for the same subject. */
static const struct history_entry *find_earlier(const struct txn_table *tt, const struct txn *t, int by_key)
{
	uint32_t want = hash_str(by_key ? t->key_sha256 : t->subject);
	const struct history_entry *best = NULL;
	size_t i;

	for (i = 0; tt->history && i < TXN_HISTORY_MAX; i++) {
		const struct history_entry *e = &tt->history[i];

		if (!e->transaction_id || e->last_ts_ns > t->first_ts_ns)
			continue;
		if (by_key ? (e->key_hash != want || strcmp(e->key_sha256, t->key_sha256) ||
			      !strcmp(e->transaction_id, t->transaction_id))
			   : (e->subject_hash != want || !e->subject || strcmp(e->subject, t->subject) ||
			      !issued(e->verdict)))
			continue;
		if (!best || e->last_ts_ns > best->last_ts_ns)
			best = e;
	}
	return best;
}

/* What earlier enrollments prove of t (one that did not end ISSUED: an
 * issued one needs no explaining): up to TXN_HISTORY_FINDINGS malloc'ed
 * findings in out, their proofs set in t->proof. Returns how many. */
size_t txn_history_findings(const struct txn_table *tt, struct txn *t, char **out)
{
	const struct history_entry *e;
	char ts[48];
	size_t n = 0;

	if (!t->transaction_id || issued(t->verdict) || t->verdict == VERDICT_NONE)
		return 0;
	if (t->subject && (e = find_earlier(tt, t, 0))) {
		t->proof |= TXN_PROOF_SUBJECT_ISSUED;
		out[n++] = str_printf("a certificate for %s was issued earlier in this capture (txn %s, %s UTC): "
				      "a CA that refuses duplicate subjects rejects the second request",
				      t->subject, e->transaction_id, fmt_time_ns(e->last_ts_ns, 0, ts, sizeof(ts)));
	}
	if (*t->key_sha256 && (e = find_earlier(tt, t, 1))) {
		t->proof |= TXN_PROOF_KEY_USED;
		out[n++] = str_printf("the same key signed an earlier request under another transactionID "
				      "(txn %s, %s at %s UTC): a client re-using its key", e->transaction_id,
				      e->verdict_name, fmt_time_ns(e->first_ts_ns, 0, ts, sizeof(ts)));
	}
	return n;
}
