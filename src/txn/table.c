/* table.c - the transaction table's storage: the transactions in order of
 * creation, the transactionID index, the IDs of transactions it let go,
 * and adding an exchange to a transaction under its cap. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "strutil.h"
#include "summary.h"
#include "txn_internal.h"

/* The ID and server of a transaction the table let go (txn_release_cb):
 * enough to tell that a later request reuses it. */
struct released_id {
	struct released_id *chain;  /* same bucket */
	struct released_id *older_next;   /* FIFO: oldest first */
	struct endpoint server;
	char key_sha256[SCEP_SHA256_HEX];
	int pending;                /* given up while PENDING (live expiry) */
	uint8_t nonce[SCEP_NONCE_MAX];    /* its last request's senderNonce */
	size_t nonce_len;
	char tid[];
};

int txn_push_ptr(void ***arr, size_t *n, void *p)
{
	void **na = realloc(*arr, (*n + 1) * sizeof(**arr));

	if (!na)
		return -1;
	na[(*n)++] = p;
	*arr = na;
	return 0;
}

/* Enough buckets for chains of about two at the cap. */
static size_t id_bucket_count(size_t max_txns)
{
	size_t n = 256;

	while (n < max_txns / 2 && n < (1u << 20))
		n *= 2;
	return n;
}

struct txn_table *txn_table_new(const struct txn_limits *lim, struct counters *cnt)
{
	struct txn_table *tt = calloc(1, sizeof(*tt));

	if (!tt)
		return NULL;
	tt->lim.max_txns = lim && lim->max_txns ? lim->max_txns : TXN_MAX_TXNS;
	tt->lim.max_events = lim && lim->max_events ? lim->max_events : TXN_MAX_EVENTS;
	tt->lim.max_loose = lim && lim->max_loose ? lim->max_loose : TXN_MAX_LOOSE;
	tt->cnt = cnt;
	tt->gone.max_groups = tt->released.max_groups = tt->lim.max_txns;
	tt->id_buckets = id_bucket_count(tt->lim.max_txns);
	tt->by_id = calloc(tt->id_buckets, sizeof(*tt->by_id));
	if (!tt->by_id) {
		free(tt);
		return NULL;
	}
	return tt;
}

/* FNV-1a: transactionIDs are chosen by clients, but a chain only costs
 * time, and the table is capped. */
static size_t id_hash(const struct txn_table *tt, const char *tid)
{
	uint32_t h = 2166136261u;

	for (; *tid; tid++)
		h = (h ^ (uint8_t)*tid) * 16777619u;
	return h & (tt->id_buckets - 1);
}

struct txn **txn_id_bucket(const struct txn_table *tt, const char *tid)
{
	return &tt->by_id[id_hash(tt, tid)];
}

void txn_id_index_remove(struct txn_table *tt, struct txn *t)
{
	struct txn **pp;

	if (!t->transaction_id)
		return;
	for (pp = txn_id_bucket(tt, t->transaction_id); *pp; pp = &(*pp)->id_next)
		if (*pp == t) {
			*pp = t->id_next;
			return;
		}
}

void txn_table_on_close(struct txn_table *tt, txn_closed_cb cb, void *arg)
{
	tt->on_close = cb;
	tt->on_close_arg = arg;
}

void txn_table_on_settled(struct txn_table *tt, txn_settled_cb cb, void *arg)
{
	tt->on_settled = cb;
	tt->on_settled_arg = arg;
}

void txn_table_on_release(struct txn_table *tt, txn_release_cb cb, void *arg)
{
	tt->on_release = cb;
	tt->on_release_arg = arg;
}

int txn_released_prev(const struct txn_table *tt, const char *tid, const struct endpoint *server,
		      struct txn_prev *prev)
{
	const struct released_id *r;

	if (!tt->released_by_id)
		return 0;
	for (r = tt->released_by_id[id_hash(tt, tid)]; r; r = r->chain)
		if (!strcmp(r->tid, tid) && endpoint_eq(&r->server, server)) {
			prev->key_sha256 = r->key_sha256;
			prev->pending = r->pending;
			prev->nonce = r->nonce;
			prev->nonce_len = r->nonce_len;
			return 1;
		}
	return 0;
}

int txn_has_request_nonce(const struct txn *t, size_t n, const struct endpoint *server,
			  const uint8_t *nonce, size_t len)
{
	size_t k;

	for (k = 0; k < n && k < t->n_events && len; k++) {
		const struct scep_event *e = t->events[k];
		const struct scep_msg *o = e->request;

		if (e->op == SCEP_OP_PKIOPERATION && o && o->decoded && o->sender_nonce_len == len &&
		    !memcmp(o->sender_nonce, nonce, len) && (!server || endpoint_eq(&e->server, server)))
			return 1;
	}
	return 0;
}

const struct scep_msg *txn_last_request(const struct txn *t)
{
	size_t i;

	for (i = t->n_events; i-- > 0;) {
		const struct scep_msg *rq = t->events[i]->request;

		if (t->events[i]->op == SCEP_OP_PKIOPERATION && rq && rq->decoded && rq->sender_nonce_len)
			return rq;
	}
	return NULL;
}

static void forget_oldest_released_id(struct txn_table *tt)
{
	struct released_id *r = tt->released_oldest, **pp;

	for (pp = &tt->released_by_id[id_hash(tt, r->tid)]; *pp; pp = &(*pp)->chain)
		if (*pp == r) {
			*pp = r->chain;
			break;
		}
	tt->released_oldest = r->older_next;
	if (!tt->released_oldest)
		tt->released_newest = NULL;
	tt->n_released_ids--;
	free(r);
}

/* Best effort: without it, a later reuse of the ID is not flagged. */
void txn_remember_released_id(struct txn_table *tt, const struct txn *t)
{
	size_t len = strlen(t->transaction_id);
	const struct scep_msg *rq;
	struct released_id *r;
	size_t h;

	if (!tt->released_by_id &&
	    !(tt->released_by_id = calloc(tt->id_buckets, sizeof(*tt->released_by_id))))
		return;
	r = malloc(sizeof(*r) + len + 1);
	if (!r)
		return;
	memcpy(r->tid, t->transaction_id, len + 1);
	r->server = t->server;
	memcpy(r->key_sha256, t->key_sha256, sizeof(r->key_sha256));
	r->pending = t->verdict == VERDICT_PENDING;
	r->nonce_len = 0;
	if ((rq = txn_last_request(t)) != NULL) {
		r->nonce_len = rq->sender_nonce_len;
		memcpy(r->nonce, rq->sender_nonce, rq->sender_nonce_len);
	}
	h = id_hash(tt, r->tid);
	r->chain = tt->released_by_id[h];
	tt->released_by_id[h] = r;
	r->older_next = NULL;
	if (tt->released_newest)
		tt->released_newest->older_next = r;
	else
		tt->released_oldest = r;
	tt->released_newest = r;
	if (++tt->n_released_ids > tt->lim.max_txns)
		forget_oldest_released_id(tt);
}

void txn_set_verdict(struct txn *t, enum txn_verdict v, char *reason)
{
	t->verdict = v;
	free(t->reason);
	t->reason = reason;
}

void txn_add_finding(struct txn *t, char *finding)
{
	if (finding && txn_push_ptr((void ***)&t->findings, &t->n_findings, finding) < 0)
		free(finding);
}

/* 0 when t took ev; otherwise ev is still the caller's. Past the cap the
 * exchange is counted and its times still stretch the transaction; a
 * PKIOperation then takes the last slot, so the latest CertRep, which
 * decides the verdict, is always kept. */
int txn_append(struct txn_table *tt, struct txn *t, struct scep_event *ev)
{
	if (t->n_events >= tt->lim.max_events) {
		t->events_capped++;
		if (tt->cnt)
			tt->cnt->txn_events_capped++;
		if (ev->op == SCEP_OP_PKIOPERATION && t->n_events) {
			scep_event_free(t->events[t->n_events - 1]);
			t->events[t->n_events - 1] = ev;
		}
	} else if (txn_push_ptr((void ***)&t->events, &t->n_events, ev) < 0) {
		return -1;
	}
	if (!t->first_ts_ns || event_start(ev) < t->first_ts_ns)
		t->first_ts_ns = event_start(ev);
	if (event_end(ev) > t->last_ts_ns)
		t->last_ts_ns = event_end(ev);
	return t->n_events && t->events[t->n_events - 1] == ev ? 0 : 1;
}

struct txn *txn_new(struct txn_table *tt, const struct scep_event *ev, const char *tid)
{
	struct txn *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->transaction_id = str_dup_or_null(tid);
	t->client = ev->client;
	t->server = ev->server;
	t->first_msg_type = TXN_NO_TYPE;
	t->created = tt->n_created++;
	if (txn_push_ptr((void ***)&tt->txns, &tt->n, t) < 0) {
		free(t->transaction_id);
		free(t);
		return NULL;
	}
	if (t->transaction_id) {
		struct txn **head = txn_id_bucket(tt, t->transaction_id);

		t->id_next = *head;
		*head = t;
	}
	return t;
}

void txn_table_remove(struct txn_table *tt, const struct txn *t)
{
	size_t i;

	/* a transaction that just finished is most often among the newest */
	for (i = tt->n; i-- > 0;)
		if (tt->txns[i] == t) {
			memmove(tt->txns + i, tt->txns + i + 1, (tt->n - i - 1) * sizeof(*tt->txns));
			tt->n--;
			return;
		}
}

int txn_table_streams(const struct txn_table *tt)
{
	return tt->on_close != NULL;
}

size_t txn_count(const struct txn_table *tt)
{
	return tt ? tt->n : 0;
}

size_t txn_released_count(const struct txn_table *tt)
{
	return tt ? tt->n_released : 0;
}

const struct summary *txn_evicted_summary(const struct txn_table *tt)
{
	return tt ? &tt->gone : NULL;
}

const struct summary *txn_released_summary(const struct txn_table *tt)
{
	return tt ? &tt->released : NULL;
}

const struct summary *txn_summary(const struct txn_table *tt)
{
	return tt && tt->all_whole ? &tt->all : NULL;
}

const struct txn *txn_get(const struct txn_table *tt, size_t i)
{
	return i < tt->n ? tt->txns[i] : NULL;
}

struct txn_table *txn_table_view(const struct txn_table *tt, txn_keep_fn keep, const void *arg)
{
	struct txn_table *v = calloc(1, sizeof(*v));
	size_t i;

	if (!v)
		return NULL;
	v->txns = calloc(tt->n ? tt->n : 1, sizeof(*v->txns));
	if (!v->txns) {
		free(v);
		return NULL;
	}
	for (i = 0; i < tt->n; i++)
		if (keep(tt->txns[i], arg))
			v->txns[v->n++] = tt->txns[i];
	return v;
}

void txn_table_view_free(struct txn_table *v)
{
	if (v) {
		free(v->txns);
		free(v);
	}
}

void txn_free(struct txn *t)
{
	size_t i;

	for (i = 0; i < t->n_events; i++)
		scep_event_free(t->events[i]);
	for (i = 0; i < t->n_findings; i++)
		free(t->findings[i]);
	for (i = 0; i < t->n_device; i++) {
		free(t->device[i].what);
		free(t->device[i].transaction_id);
	}
	free(t->device);
	free(t->events);
	free(t->findings);
	free(t->transaction_id);
	free(t->subject);
	free(t->reason);
	free(t->advice);
	free(t);
}

void txn_table_free(struct txn_table *tt)
{
	size_t i;

	if (!tt)
		return;
	for (i = 0; i < tt->n; i++)
		txn_free(tt->txns[i]);
	for (i = 0; i < tt->n_loose; i++)
		scep_event_free(tt->loose[i]);
	while (tt->released_oldest)
		forget_oldest_released_id(tt);
	txn_history_free(tt);
	free(tt->released_by_id);
	free(tt->txns);
	free(tt->loose);
	free(tt->by_id);
	free(tt->losses);
	summary_free(&tt->gone);
	summary_free(&tt->released);
	summary_free(&tt->all);
	free(tt);
}

const struct scep_event *txn_first_event(const struct txn *t)
{
	size_t i;

	for (i = 0; i < t->n_events; i++)
		if (!t->two_legs || endpoint_eq(&t->events[i]->server, &t->server))
			return t->events[i];
	return t->n_events ? t->events[0] : NULL;
}

const char *txn_verdict_name(enum txn_verdict v)
{
	switch (v) {
	case VERDICT_NONE: return "-";
	case VERDICT_ISSUED: return "ISSUED";
	case VERDICT_REJECTED: return "REJECTED";
	case VERDICT_PENDING: return "PENDING";
	case VERDICT_HTTP_ERROR: return "HTTP_ERROR";
	case VERDICT_NO_RESPONSE: return "NO_RESPONSE";
	case VERDICT_INCOMPLETE: return "INCOMPLETE";
	case VERDICT_UNDECODED: return "UNDECODED";
	case VERDICT_DELIVERED: return "DELIVERED";
	}
	return "?";
}
