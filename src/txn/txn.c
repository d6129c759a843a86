/* txn.c - the transaction table: which SCEP event belongs to which
 * enrollment, what a troubleshooter would check by hand (nonces, IDs,
 * recipient and signer certificates, polling) and the verdict. Input is
 * decoded events; this module decides, the sinks print. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "counters.h"
#include "devlog.h"
#include "format.h"
#include "scep.h"
#include "strutil.h"
#include "summary.h"
#include "txn.h"


/* GetCACaps/GetCACert made this long before a PKIOperation by the same
 * client to the same server are taken as that enrollment's preparation. */
#define PREP_WINDOW_NS (120ull * 1000000000ull)

/* The ID and server of a transaction the table let go (txn_release_cb):
 * enough to tell that a later request reuses it. */
struct released_id {
	struct released_id *chain;  /* same bucket */
	struct released_id *older_next;   /* FIFO: oldest first */
	struct endpoint server;
	char key_sha256[SCEP_SHA256_HEX];
	char tid[];
};

/* A span of capture time in which the kernel dropped packets (live). */
struct loss_span {
	uint64_t from_ns, to_ns;
	uint64_t packets;
};

/* Loss spans kept; past it the two closest merge into one wider span,
 * which only makes the verdicts it touches more cautious. */
#define TXN_MAX_LOSS_SPANS 1024u

struct txn_table {
	struct txn **txns;          /* in order of creation until txn_finish sorts them */
	size_t n;
	uint64_t n_created;
	/* GetCACaps/GetCACert not (yet) attached to an enrollment */
	struct scep_event **loose;
	size_t n_loose;
	txn_closed_cb on_close;
	void *on_close_arg;
	txn_release_cb on_release;
	void *on_release_arg;
	size_t n_released;
	/* IDs of released transactions, at most lim.max_txns of them (as many
	 * as the table would have remembered had it kept them) */
	struct released_id **released_by_id;   /* id_buckets chains */
	struct released_id *released_oldest, *released_newest;
	size_t n_released_ids;
	struct txn_limits lim;
	struct counters *cnt;
	/* transactionID -> transactions, newest first in each chain */
	struct txn **by_id;
	size_t id_buckets;          /* a power of two */
	struct summary gone;        /* what evicted transactions add to the summary */
	struct summary released;    /* what released transactions add to it */
	/* live capture: where the kernel dropped packets (txn_note_capture_loss),
	 * in time order; a missing piece that falls there is the capture's loss */
	struct loss_span *losses;
	size_t n_losses, losses_alloc;
	/* while txn_expire gives transactions up: the capture time then, after
	 * which nothing they miss could have come; 0: no bound (the end) */
	uint64_t horizon_ns;
};

static int push_ptr(void ***arr, size_t *n, void *p)
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

static struct txn **id_bucket(const struct txn_table *tt, const char *tid)
{
	return &tt->by_id[id_hash(tt, tid)];
}

static void id_index_remove(struct txn_table *tt, struct txn *t)
{
	struct txn **pp;

	if (!t->transaction_id)
		return;
	for (pp = id_bucket(tt, t->transaction_id); *pp; pp = &(*pp)->id_next)
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

void txn_table_on_release(struct txn_table *tt, txn_release_cb cb, void *arg)
{
	tt->on_release = cb;
	tt->on_release_arg = arg;
}

/* The released transaction with this ID toward server, or NULL. */
static const struct released_id *released_id_seen(const struct txn_table *tt, const char *tid,
						  const struct endpoint *server)
{
	const struct released_id *r;

	if (!tt->released_by_id)
		return NULL;
	for (r = tt->released_by_id[id_hash(tt, tid)]; r; r = r->chain)
		if (!strcmp(r->tid, tid) && endpoint_eq(&r->server, server))
			return r;
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
static void remember_released_id(struct txn_table *tt, const struct txn *t)
{
	size_t len = strlen(t->transaction_id);
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

static uint64_t event_start(const struct scep_event *ev)
{
	return ev->req_first_ts_ns ? ev->req_first_ts_ns : ev->res_first_ts_ns;
}

static uint64_t event_end(const struct scep_event *ev)
{
	uint64_t e = ev->res_last_ts_ns > ev->req_last_ts_ns ? ev->res_last_ts_ns : ev->req_last_ts_ns;

	return e ? e : event_start(ev);
}

static void txn_add_finding(struct txn *t, char *finding)
{
	if (finding && push_ptr((void ***)&t->findings, &t->n_findings, finding) < 0)
		free(finding);
}

/* 0 when t took ev; otherwise ev is still the caller's. Past the cap the
 * exchange is counted and its times still stretch the transaction; a
 * PKIOperation then takes the last slot, so the latest CertRep, which
 * decides the verdict, is always kept. */
static int txn_append(struct txn_table *tt, struct txn *t, struct scep_event *ev)
{
	if (t->n_events >= tt->lim.max_events) {
		t->events_capped++;
		if (tt->cnt)
			tt->cnt->txn_events_capped++;
		if (ev->op == SCEP_OP_PKIOPERATION && t->n_events) {
			scep_event_free(t->events[t->n_events - 1]);
			t->events[t->n_events - 1] = ev;
		}
	} else if (push_ptr((void ***)&t->events, &t->n_events, ev) < 0) {
		return -1;
	}
	if (!t->first_ts_ns || event_start(ev) < t->first_ts_ns)
		t->first_ts_ns = event_start(ev);
	if (event_end(ev) > t->last_ts_ns)
		t->last_ts_ns = event_end(ev);
	return t->n_events && t->events[t->n_events - 1] == ev ? 0 : 1;
}

static struct txn *txn_new(struct txn_table *tt, const struct scep_event *ev, const char *tid)
{
	struct txn *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->transaction_id = str_dup_or_null(tid);
	t->client = ev->client;
	t->server = ev->server;
	t->first_msg_type = TXN_NO_TYPE;
	t->created = tt->n_created++;
	if (push_ptr((void ***)&tt->txns, &tt->n, t) < 0) {
		free(t->transaction_id);
		free(t);
		return NULL;
	}
	if (t->transaction_id) {
		struct txn **head = id_bucket(tt, t->transaction_id);

		t->id_next = *head;
		*head = t;
	}
	return t;
}

static const char *event_tid(const struct scep_event *ev)
{
	if (ev->request && ev->request->transaction_id)
		return ev->request->transaction_id;
	if (ev->reply && ev->reply->transaction_id)
		return ev->reply->transaction_id;
	return NULL;
}

static int event_msg_type(const struct scep_event *ev)
{
	return ev->request && ev->request->decoded ? ev->request->message_type : -1;
}

static int is_enrollment_start(int mt)
{
	return mt == SCEP_MT_PKCSREQ || mt == SCEP_MT_RENEWALREQ || mt == SCEP_MT_UPDATEREQ;
}

/* The same enrollment is the same transactionID toward the same server.
 * Only open transactions match: a request reusing the ID of a closed one
 * is a retry, a replay or a re-enrollment with the same key, and starts a
 * new transaction; *closed_key then points to the closed one's signer key
 * fingerprint ("" when unknown), else it is NULL. */
static struct txn *find_open(struct txn_table *tt, const char *tid,
			     const struct scep_event *ev, const char **closed_key)
{
	const struct released_id *r;
	struct txn *t;

	*closed_key = NULL;
	for (t = *id_bucket(tt, tid); t; t = t->id_next) {
		if (strcmp(t->transaction_id, tid) ||
		    !endpoint_eq(&t->server, &ev->server))
			continue;
		if (!t->closed)
			return t;
		if (!*closed_key)
			*closed_key = t->key_sha256;
	}
	if (!*closed_key && (r = released_id_seen(tt, tid, &ev->server)) != NULL)
		*closed_key = r->key_sha256;
	return NULL;
}

static int same_client_addr(const struct endpoint *a, const struct endpoint *b)
{
	return a->family == b->family &&
	       !memcmp(a->addr, b->addr, a->family == 6 ? 16 : 4);
}

enum prep_kind { PREP_NONE = -1, PREP_CAPS, PREP_CERT };

static enum prep_kind prep_kind_of(const struct scep_event *l)
{
	if (l->op == SCEP_OP_GETCACAPS)
		return PREP_CAPS;
	if (l->op == SCEP_OP_GETCACERT || l->op == SCEP_OP_GETNEXTCACERT)
		return PREP_CERT;
	return PREP_NONE;
}

/* Whether candidate a is a better preparation for ev than b: one made on
 * the enrollment's own connection first, then the latest. Decided on
 * capture times, never on the order exchanges completed, so reordered
 * packets give the same transactions. */
static int better_prep(const struct scep_event *a, const struct scep_event *b,
		       const struct scep_event *ev)
{
	int a_same = a->flow_id == ev->flow_id, b_same = b->flow_id == ev->flow_id;

	if (a_same != b_same)
		return a_same;
	if (event_start(a) != event_start(b))
		return event_start(a) > event_start(b);
	return a->flow_id > b->flow_id;
}

/* Claims, for each kind (GetCACaps, GetCACert), the client's exchange that
 * best matches this enrollment among those shortly before it. */
static void attach_preparation(struct txn_table *tt, struct txn *t, const struct scep_event *ev)
{
	uint64_t start = event_start(ev);
	size_t best[2] = { SIZE_MAX, SIZE_MAX };
	size_t i, j, k;

	for (i = 0; i < tt->n_loose; i++) {
		struct scep_event *l = tt->loose[i];
		enum prep_kind kind = prep_kind_of(l);

		if (kind == PREP_NONE || !same_client_addr(&l->client, &ev->client) ||
		    !endpoint_eq(&l->server, &ev->server) ||
		    event_start(l) > start || start - event_start(l) > PREP_WINDOW_NS)
			continue;
		if (best[kind] == SIZE_MAX || better_prep(l, tt->loose[best[kind]], ev))
			best[kind] = i;
	}
	for (k = 0; k < 2; k++) {
		/* a slot is left for the PKIOperation itself */
		if (best[k] == SIZE_MAX || t->n_events + 1 >= tt->lim.max_events ||
		    txn_append(tt, t, tt->loose[best[k]]))
			continue;
		tt->loose[best[k]] = NULL;
	}
	for (i = j = 0; i < tt->n_loose; i++)
		if (tt->loose[i])
			tt->loose[j++] = tt->loose[i];
	tt->n_loose = j;
}

static int reply_is_final(const struct scep_event *ev)
{
	if (!ev->has_response)
		return 0;
	if (ev->status != 200)
		return 1;
	if (ev->reply && ev->reply->decoded)
		return ev->reply->pki_status == SCEP_STATUS_SUCCESS ||
		       ev->reply->pki_status == SCEP_STATUS_FAILURE;
	return 0;
}

static void settle(struct txn_table *tt, struct txn *t, int have_wire);
static void txn_free(struct txn *t);

static void stream_if_wanted(struct txn_table *tt, struct txn *t)
{
	if (!tt->on_close || t->streamed)
		return;
	settle(tt, t, 1);
	t->streamed = 1;
	tt->on_close(tt->on_close_arg, t);
}

static void table_remove(struct txn_table *tt, const struct txn *t)
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

static void release_if_wanted(struct txn_table *tt, struct txn *t)
{
	if (!tt->on_release)
		return;
	settle(tt, t, 1);
	if (tt->on_release(tt->on_release_arg, t) < 0)
		return;
	/* taken: short of memory here, the summary may miss its latency, but
	 * the transaction must not stay to be listed twice */
	summary_add_txn(&tt->released, t);
	tt->n_released++;
	id_index_remove(tt, t);
	if (t->transaction_id)
		remember_released_id(tt, t);
	table_remove(tt, t);
	txn_free(t);
}

static void add_pki_operation(struct txn_table *tt, struct scep_event *ev)
{
	const char *tid = event_tid(ev);
	int mt = event_msg_type(ev);
	const char *closed_key = NULL;
	int kept;
	struct txn *t = NULL;

	if (tid)
		t = find_open(tt, tid, ev, &closed_key);
	if (t && is_enrollment_start(mt) && t->first_msg_type != TXN_NO_TYPE &&
	    !is_enrollment_start(t->first_msg_type))
		t = NULL;
	if (!t) {
		t = txn_new(tt, ev, tid);
		if (!t) {
			scep_event_free(ev);
			return;
		}
		if (ev->request && ev->request->signer)
			memcpy(t->key_sha256, ev->request->signer->key_sha256, sizeof(t->key_sha256));
		t->reused_id = closed_key != NULL;
		t->reused_same_key = closed_key && *closed_key && !strcmp(closed_key, t->key_sha256);
		t->first_msg_type = mt;
		if (tid)
			attach_preparation(tt, t, ev);
	}
	kept = txn_append(tt, t, ev) == 0;
	if (!t->subject && ev->request) {
		if (ev->request->csr && ev->request->csr->subject)
			t->subject = strdup(ev->request->csr->subject);
		else if (ev->request->signer && ev->request->signer->subject &&
			 mt != SCEP_MT_PKCSREQ)
			t->subject = strdup(ev->request->signer->subject);
	}
	if (!tid || reply_is_final(ev))
		t->closed = 1;
	if (!kept)
		scep_event_free(ev);
	if (t->closed) {
		stream_if_wanted(tt, t);
		release_if_wanted(tt, t);
	}
}

int txn_table_streams(const struct txn_table *tt)
{
	return tt->on_close != NULL;
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


/* Unclaimed preparation exchanges become endpoint-level groups, one per
 * client address and server, so a lone GetCACaps or a 302 to a sign-in page
 * still shows. The first count of them (the oldest) are grouped; the rest
 * stay loose. */
static void group_loose_events(struct txn_table *tt, size_t count)
{
	size_t i, k;

	for (i = 0; i < count && i < tt->n_loose; i++) {
		struct scep_event *l = tt->loose[i];
		struct txn *t = NULL;

		for (k = tt->n; k-- > 0;) {
			struct txn *c = tt->txns[k];

			if (!c->transaction_id && c->first_msg_type == TXN_ENDPOINT_GROUP &&
			    same_client_addr(&c->client, &l->client) &&
			    endpoint_eq(&c->server, &l->server)) {
				t = c;
				break;
			}
		}
		if (!t) {
			t = txn_new(tt, l, NULL);
			if (!t) {
				scep_event_free(l);
				continue;
			}
			t->first_msg_type = TXN_ENDPOINT_GROUP;
			t->closed = 1;
		}
		if (txn_append(tt, t, l))
			scep_event_free(l);
	}
	if (i && i < tt->n_loose)
		memmove(tt->loose, tt->loose + i, (tt->n_loose - i) * sizeof(*tt->loose));
	tt->n_loose -= i;
}

/* Past the cap, the oldest transactions leave the table until it is an
 * eighth below the cap (so eviction runs once per many insertions): first
 * finished ones, then, only if that is not enough, open ones, settled as
 * they stand. Their figures stay in the summary. */
static void evict_one(struct txn_table *tt, struct txn *t)
{
	settle(tt, t, 1);
	summary_add_txn(&tt->gone, t);
	if (!t->streamed && tt->cnt)
		tt->cnt->txns_evicted++;
	id_index_remove(tt, t);
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
	if (ev->op == SCEP_OP_PKIOPERATION) {
		add_pki_operation(tt, ev);
	} else if (push_ptr((void ***)&tt->loose, &tt->n_loose, ev) < 0) {
		scep_event_free(ev);
	} else if (tt->n_loose > tt->lim.max_loose) {
		group_loose_events(tt, tt->n_loose / 2);
	}
	evict_over_cap(tt);
}

static const struct scep_event *last_pki_operation(const struct txn *t)
{
	size_t i;

	for (i = t->n_events; i-- > 0;)
		if (t->events[i]->op == SCEP_OP_PKIOPERATION)
			return t->events[i];
	return NULL;
}

static char *http_error_reason(const struct scep_event *ev)
{
	if (ev->error_text)
		return str_printf("HTTP %d \"%s\"", ev->status, ev->error_text);
	return str_printf("HTTP %d", ev->status);
}

static void set_verdict(struct txn *t, enum txn_verdict v, char *reason)
{
	t->verdict = v;
	free(t->reason);
	t->reason = reason;
}

static void settle_reply_verdict(struct txn *t, const struct scep_msg *rep)
{
	const char *fi;

	switch (rep->pki_status) {
	case SCEP_STATUS_SUCCESS:
		set_verdict(t, VERDICT_ISSUED, NULL);
		break;
	case SCEP_STATUS_FAILURE:
		fi = scep_fail_info_name(rep->fail_info);
		/* NDES says exactly why: it replaces the failInfo guess */
		if (rep->has_ms_hresult) {
			char *hr = scep_hresult_describe(rep->ms_hresult);

			set_verdict(t, VERDICT_REJECTED, str_printf("%s: NDES HRESULT %s", fi ? fi : "failInfo absent",
								   hr ? hr : "?"));
			free(hr);
		} else if (rep->fail_info_text)
			set_verdict(t, VERDICT_REJECTED, str_printf("%s: %s", fi ? fi : "failInfo absent", rep->fail_info_text));
		else if (fi)
			set_verdict(t, VERDICT_REJECTED, strdup(fi));
		else if (rep->fail_info >= 0)
			set_verdict(t, VERDICT_REJECTED, str_printf("failInfo %d", rep->fail_info));
		else
			set_verdict(t, VERDICT_REJECTED, strdup("failInfo absent"));
		break;
	case SCEP_STATUS_PENDING:
		set_verdict(t, VERDICT_PENDING, strdup("still pending at the end of the capture"));
		break;
	default:
		set_verdict(t, VERDICT_UNDECODED, str_printf("CertRep with pkiStatus %d", rep->pki_status));
	}
}

/* Packets the capture lost (kernel drops) between from_ns and to_ns. */
static uint64_t lost_between(const struct txn_table *tt, uint64_t from_ns, uint64_t to_ns)
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
static uint64_t lost_after(const struct txn_table *tt, uint64_t from_ns)
{
	return lost_between(tt, from_ns, tt->horizon_ns ? tt->horizon_ns : UINT64_MAX);
}

/* "; the capture lost N packets ..." for a reason, or "" */
static char *loss_note(uint64_t lost, const char *when)
{
	if (!lost)
		return strdup("");
	return str_printf("; the capture lost %llu packet%s (kernel drops) %s", (unsigned long long)lost,
			  lost == 1 ? "" : "s", when);
}

static void set_verdict_noted(struct txn *t, enum txn_verdict v, char *reason, char *note)
{
	char *r = reason && note && *note ? str_printf("%s%s", reason, note) : NULL;

	if (r) {
		free(reason);
		reason = r;
	}
	free(note);
	set_verdict(t, v, reason);
}

/* A TLS failure the capture itself may have made ("no ServerHello",
 * "connection ended"), not an alert either side sent. */
static int tls_failure_unseen(const struct scep_tls *tls)
{
	return !tls->alert || (strncmp(tls->alert, "client alert", 12) && strncmp(tls->alert, "server alert", 12));
}

/* An endpoint-level group: a failed TLS handshake or an HTTP error
 * anywhere is the news. */
static void settle_group_verdict(struct txn_table *tt, struct txn *t)
{
	uint64_t lost;
	size_t i;

	for (i = 0; i < t->n_events; i++) {
		const struct scep_event *e = t->events[i];
		const struct scep_tls *tls = e->tls;

		if (e->op != SCEP_OP_TLS || !tls || !tls->handshake_failed)
			continue;
		lost = tls_failure_unseen(tls) ? lost_after(tt, event_start(e)) : 0;
		if (lost)
			set_verdict(t, VERDICT_INCOMPLETE, str_printf("TLS handshake not seen to the end%s%s%s: the capture "
								      "lost %llu packet%s (kernel drops) meanwhile",
								      tls->alert ? " (" : "", tls->alert ? tls->alert : "",
								      tls->alert ? ")" : "", (unsigned long long)lost,
								      lost == 1 ? "" : "s"));
		else
			set_verdict(t, VERDICT_NO_RESPONSE, str_printf("TLS handshake failed%s%s: no SCEP request was sent",
								      tls->alert ? ": " : "", tls->alert ? tls->alert : ""));
		return;
	}
	for (i = 0; i < t->n_events; i++)
		if (t->events[i]->has_response && t->events[i]->status != 200 &&
		    t->events[i]->op != SCEP_OP_TLS) {
			set_verdict(t, VERDICT_HTTP_ERROR, http_error_reason(t->events[i]));
			return;
		}
	set_verdict(t, VERDICT_NONE, NULL);
}

/* What damaged ev, after "request damaged" or "response damaged": its
 * capture gap, else the HTTP layer's reason for the side (main) or the
 * other one. Malloc'ed. */
static char *damage_text(const struct scep_event *ev, const char *main, const char *other)
{
	if (ev->gap_bytes || (!main && !other))
		return str_printf(" by a %llu-byte capture gap", (unsigned long long)ev->gap_bytes);
	return str_printf(": %s", main ? main : other);
}

/* The request went unanswered in the capture: when the capture lost
 * packets after it, the answer may be among them, and that is what the
 * verdict says (INCOMPLETE), not that the server never answered. */
static void settle_unanswered(struct txn_table *tt, struct txn *t, const struct scep_event *ev)
{
	uint64_t lost = lost_after(tt, event_start(ev));

	if (ev->damaged) {
		char *why = damage_text(ev, ev->req_damage, ev->res_damage);

		set_verdict_noted(t, VERDICT_INCOMPLETE,
				  str_printf("request damaged%s, no response", why ? why : ""),
				  loss_note(lost, "after it was sent"));
		free(why);
	} else if (lost) {
		set_verdict(t, VERDICT_INCOMPLETE, str_printf("no response captured, but the capture lost %llu packet%s "
							      "(kernel drops) after the request: the answer may be among them",
							      (unsigned long long)lost, lost == 1 ? "" : "s"));
	} else {
		set_verdict(t, VERDICT_NO_RESPONSE, strdup("PKIOperation never answered"));
	}
}

static void settle_verdict(struct txn_table *tt, struct txn *t)
{
	const struct scep_event *ev = last_pki_operation(t);

	if (!ev) {
		settle_group_verdict(tt, t);
		return;
	}
	if (!ev->has_response) {
		settle_unanswered(tt, t, ev);
		return;
	}
	if (ev->status != 200) {
		set_verdict(t, VERDICT_HTTP_ERROR, http_error_reason(ev));
		return;
	}
	if (ev->reply && ev->reply->decoded) {
		settle_reply_verdict(t, ev->reply);
		/* a later CertRep (after polling) may be what the capture lost */
		if (t->verdict == VERDICT_PENDING)
			set_verdict_noted(t, VERDICT_PENDING, t->reason ? strdup(t->reason) : NULL,
					  loss_note(lost_after(tt, event_end(ev)), "after it: a later CertRep may be among them"));
		return;
	}
	if (ev->damaged) {
		char *why = damage_text(ev, ev->res_damage, ev->req_damage);

		set_verdict_noted(t, VERDICT_INCOMPLETE, str_printf("response damaged%s", why ? why : ""),
				  loss_note(lost_between(tt, event_start(ev), event_end(ev) + 1), "meanwhile"));
		free(why);
		return;
	}
	if (ev->reply && ev->reply->error)
		set_verdict(t, VERDICT_UNDECODED, str_printf("CertRep: %s", ev->reply->error));
	else if (ev->problem)
		set_verdict(t, VERDICT_UNDECODED, strdup(ev->problem));
	else if (ev->error_text)
		set_verdict(t, VERDICT_UNDECODED, str_printf("HTTP 200 without a CertRep: \"%s\"", ev->error_text));
	else
		set_verdict(t, VERDICT_UNDECODED, strdup("HTTP 200 without a CertRep"));
}

int txn_nonce_echoed(const struct scep_event *ev)
{
	const struct scep_msg *rq = ev->request, *rp = ev->reply;

	if (!rq || !rp || !rq->decoded || !rp->decoded ||
	    !rq->sender_nonce_len || !rp->recipient_nonce_len)
		return -1;
	return rq->sender_nonce_len == rp->recipient_nonce_len &&
	       !memcmp(rq->sender_nonce, rp->recipient_nonce, rq->sender_nonce_len);
}

static int cert_matches(const struct scep_cert *c, const char *issuer, const char *serial)
{
	return c->issuer && c->serial && issuer && serial &&
	       !strcmp(c->issuer, issuer) && !strcasecmp(c->serial, serial);
}

/* Certificates the server's GetCACert returned within this transaction. */
static const struct scep_cert *find_ca_cert(const struct txn *t, const char *issuer,
					    const char *serial, int *saw_cacert)
{
	size_t i, k;

	*saw_cacert = 0;
	for (i = 0; i < t->n_events; i++) {
		const struct scep_event *e = t->events[i];

		if (e->op != SCEP_OP_GETCACERT && e->op != SCEP_OP_GETNEXTCACERT)
			continue;
		if (e->n_ca_certs)
			*saw_cacert = 1;
		for (k = 0; k < e->n_ca_certs; k++)
			if (cert_matches(e->ca_certs[k], issuer, serial))
				return e->ca_certs[k];
	}
	return NULL;
}

const struct scep_cert *txn_ca_cert(const struct txn *t, const char *issuer, const char *serial)
{
	int saw_cacert;

	return find_ca_cert(t, issuer, serial, &saw_cacert);
}

static void check_recipients(struct txn *t, const struct scep_event *ev)
{
	const struct scep_msg *rq = ev->request;
	const struct scep_cert *c;
	int saw_cacert;
	size_t r;

	for (r = 0; r < rq->n_recipients; r++) {
		const struct scep_recipient *rc = &rq->recipients[r];

		c = find_ca_cert(t, rc->issuer, rc->serial, &saw_cacert);
		if (!saw_cacert)
			return;
		if (!c) {
			txn_add_finding(t, str_printf("request encrypted to serial %s issued by %s, which is not a certificate GetCACert returned",
						      rc->serial ? rc->serial : "?", rc->issuer ? rc->issuer : "?"));
			continue;
		}
		if (c->not_after && (uint64_t)c->not_after * 1000000000ull < event_start(ev))
			txn_add_finding(t, str_printf("request encrypted to %s, expired at the time of the request", c->subject));
	}
}

static void check_reply_signer(struct txn *t, const struct scep_event *ev)
{
	const struct scep_cert *s = ev->reply->signer;
	int saw_cacert;

	if (!s)
		return;
	if (!find_ca_cert(t, s->issuer, s->serial, &saw_cacert) && saw_cacert)
		txn_add_finding(t, str_printf("CertRep signed by %s, which is not a certificate GetCACert returned",
					      s->subject ? s->subject : "an unknown certificate"));
	if (ev->reply->signature_ok == 0)
		txn_add_finding(t, strdup("CertRep signature does not verify against its signer certificate"));
}

/* What the decoder noted of a message that still decoded (a required
 * attribute missing, trailing bytes, a CMS rule broken). */
static void add_msg_notes(struct txn *t, const char *which, const struct scep_msg *m)
{
	size_t i;

	for (i = 0; m && i < m->n_notes; i++)
		txn_add_finding(t, str_printf("%s: %s", which, m->notes[i]));
}

static void check_exchange(struct txn *t, const struct scep_event *ev)
{
	const struct scep_msg *rq = ev->request, *rp = ev->reply;

	add_msg_notes(t, rq && scep_msg_type_name(rq->message_type) ? scep_msg_type_name(rq->message_type) :
		      "request", rq);
	add_msg_notes(t, "CertRep", rp);

	if (rq && rq->decoded) {
		check_recipients(t, ev);
		if (rq->signature_ok == 0)
			txn_add_finding(t, str_printf("%s signature does not verify against its signer certificate",
						      scep_msg_type_name(rq->message_type) ? scep_msg_type_name(rq->message_type) : "request"));
	}
	if (ev->plus_as_space_damage)
		txn_add_finding(t, strdup("message= carried spaces where base64 had '+': the client did not percent-encode '+' and something form-decoded the URL"));
	if (!rp || !rp->decoded)
		return;
	check_reply_signer(t, ev);
	if (txn_nonce_echoed(ev) == 0)
		txn_add_finding(t, strdup("CertRep recipientNonce is not the request's senderNonce"));
	if (rq && rq->decoded && rq->transaction_id && rp->transaction_id &&
	    strcmp(rq->transaction_id, rp->transaction_id))
		txn_add_finding(t, str_printf("CertRep transactionID %s differs from the request's", rp->transaction_id));
}

static void check_polling(struct txn *t)
{
	uint64_t first = 0, last = 0;
	size_t i, polls = 0;
	char d[32];

	for (i = 0; i < t->n_events; i++) {
		const struct scep_event *e = t->events[i];

		if (e->op != SCEP_OP_PKIOPERATION || event_msg_type(e) != SCEP_MT_CERTPOLL)
			continue;
		if (!polls++)
			first = event_start(e);
		last = event_start(e);
	}
	if (polls)
		txn_add_finding(t, str_printf("client polled %zu time%s over %s", polls, polls == 1 ? "" : "s",
					      fmt_duration_ns(last - first, d, sizeof(d))));
}

static void run_checks(struct txn *t)
{
	size_t i;

	for (i = 0; i < t->n_events; i++)
		if (t->events[i]->op == SCEP_OP_PKIOPERATION)
			check_exchange(t, t->events[i]);
	check_polling(t);
	if (t->reused_id && t->reused_same_key)
		txn_add_finding(t, strdup("transactionID reused from an earlier, finished transaction: same key as the "
					  "earlier enrollment (a re-enrollment; RFC 8894 derives the transactionID from the key)"));
	else if (t->reused_id)
		txn_add_finding(t, strdup("transactionID reused from an earlier, finished transaction (client retry or replay)"));
}


/* Device events are placed by capture time; a log line this far from any
 * transaction is not guessed onto one. */
#define DEVICE_WINDOW_NS (3600ull * 1000000000ull)
/* Device and capture clocks rarely agree to the millisecond. */
#define DEVICE_SLACK_NS (5ull * 1000000000ull)

static char *device_what(const struct devlog_event *e)
{
	switch (e->kind) {
	case DEVLOG_REQUEST_SENT:
		return str_printf("sent %s%s%s%s", e->op ? e->op : "request",
				  e->message_cut ? " (message cut in the log" : "",
				  e->message_cut && e->decode_note ? ": " : "",
				  e->message_cut ? (e->decode_note ? e->decode_note : ")") : "");
	case DEVLOG_RESPONSE:
		if (e->pki_status >= 0)
			return str_printf("got CertRep %s%s%s", scep_pki_status_name(e->pki_status) ? scep_pki_status_name(e->pki_status) : "?",
					  e->fail_info >= 0 ? " " : "", e->fail_info >= 0 && scep_fail_info_name(e->fail_info) ? scep_fail_info_name(e->fail_info) : "");
		return str_printf("got HTTP %d for %s", e->http_status, e->op ? e->op : "a request");
	case DEVLOG_CERT_STATE:
	case DEVLOG_INSTALLED:
	case DEVLOG_ACCESS_GRANTED:
		if (e->state_to)
			return str_printf("%scert state %s -> %s", e->root_cert ? "root " : "",
					  e->state_from ? e->state_from : "?", e->state_to);
		return str_printf("%s%s%s", e->kind == DEVLOG_INSTALLED ? "installed" : "access granted",
				  e->cert_name ? ": " : "", e->cert_name ? e->cert_name : "");
	case DEVLOG_ERROR:
		/* an NSError code is decimal and means something only with its
		 * domain; an HRESULT reads in hex */
		if (e->has_error_code && e->error_domain)
			return str_printf("error %s %lld: %s", e->error_domain, (long long)e->error_code, e->text ? e->text : "");
		if (e->has_error_code)
			return str_printf("error 0x%llX: %s", (unsigned long long)(uint32_t)e->error_code, e->text ? e->text : "");
		return str_printf("error: %s", e->text ? e->text : "");
	default:
		return str_printf("%s", e->text ? e->text : "");
	}
}

/* Lines without a date and transactions with one live on different
 * clocks: neither is placed by the other's time. */
static struct txn *txn_with_id(struct txn_table *tt, const char *tid, uint64_t ts, int no_date)
{
	struct txn *best = NULL, *t;

	for (t = *id_bucket(tt, tid); t; t = t->id_next) {
		if (strcmp(t->transaction_id, tid) || t->no_date != no_date)
			continue;
		/* the same ID reused: the transaction that had begun by then */
		if (!best || (t->first_ts_ns <= ts + DEVICE_SLACK_NS && t->first_ts_ns > best->first_ts_ns))
			best = t;
	}
	return best;
}

/* The transaction a device line without an ID most likely belongs to: the
 * latest one begun before it (an installation follows its enrollment),
 * else the first one after it (a GetCACert before the enrollment). */
static struct txn *txn_by_time(struct txn_table *tt, uint64_t ts, int no_date)
{
	struct txn *before = NULL, *after = NULL;
	size_t i;

	for (i = 0; i < tt->n; i++) {
		struct txn *t = tt->txns[i];

		if ((!t->transaction_id && t->first_msg_type != TXN_DEVICE_ONLY) || t->no_date != no_date)
			continue;
		if (t->first_ts_ns <= ts + DEVICE_SLACK_NS) {
			if (ts - (t->first_ts_ns > ts ? ts : t->first_ts_ns) <= DEVICE_WINDOW_NS &&
			    (!before || t->first_ts_ns > before->first_ts_ns))
				before = t;
		} else if (t->first_ts_ns - ts <= DEVICE_WINDOW_NS &&
			   (!after || t->first_ts_ns < after->first_ts_ns)) {
			after = t;
		}
	}
	return before ? before : after;
}

static struct txn *device_only_txn(struct txn_table *tt, const struct devlog_event *e,
				   const char *tid, int kind)
{
	struct scep_event none;
	struct txn *t;

	memset(&none, 0, sizeof(none));
	t = txn_new(tt, &none, tid);
	if (t) {
		t->first_msg_type = kind;
		t->first_ts_ns = t->last_ts_ns = e->ts_ns;
		t->no_date = e->ts_no_date;
		t->closed = 1;
	}
	return t;
}

static struct txn *device_group(struct txn_table *tt, const struct devlog_event *e)
{
	size_t i;

	for (i = 0; i < tt->n; i++)
		if (tt->txns[i]->first_msg_type == TXN_DEVICE_GROUP && tt->txns[i]->no_date == e->ts_no_date)
			return tt->txns[i];
	return device_only_txn(tt, e, NULL, TXN_DEVICE_GROUP);
}

static void txn_add_device(struct txn *t, const struct devlog_event *e, int inferred)
{
	struct txn_device_event *n = realloc(t->device, (t->n_device + 1) * sizeof(*n));

	if (!n)
		return;
	t->device = n;
	n += t->n_device++;
	memset(n, 0, sizeof(*n));
	n->ts_ns = e->ts_ns;
	n->kind = e->kind;
	n->source = e->source;
	n->what = device_what(e);
	n->transaction_id = str_dup_or_null(e->transaction_id);
	n->pki_status = e->pki_status;
	n->inferred = inferred;
	n->line_no = e->line_no;
	n->root_cert = e->root_cert;
	n->no_date = e->ts_no_date;
}

void txn_add_device_events(struct txn_table *tt, const struct devlog_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct devlog_event *e = &l->ev[i];
		struct txn *t = NULL;
		int inferred = 0;

		if (e->kind == DEVLOG_OTHER)
			continue;
		if (e->transaction_id)
			t = txn_with_id(tt, e->transaction_id, e->ts_ns, e->ts_no_date);
		if (!t && e->transaction_id)
			t = device_only_txn(tt, e, e->transaction_id, TXN_DEVICE_ONLY);
		if (!t) {
			t = txn_by_time(tt, e->ts_ns, e->ts_no_date);
			inferred = 1;
		}
		if (!t)     /* a device log alone: its lines still make a timeline */
			t = device_group(tt, e);
		if (!t)
			continue;
		txn_add_device(t, e, inferred);
		if (e->ts_ns < t->first_ts_ns)
			t->first_ts_ns = e->ts_ns;
		if (e->ts_ns > t->last_ts_ns)
			t->last_ts_ns = e->ts_ns;
	}
}

static int cmp_device_time(const void *a, const void *b)
{
	const struct txn_device_event *x = a, *y = b;

	if (x->ts_ns != y->ts_ns)
		return x->ts_ns < y->ts_ns ? -1 : 1;
	return x->line_no < y->line_no ? -1 : x->line_no > y->line_no;
}

static int device_has(const struct txn *t, int kind)
{
	size_t i;

	for (i = 0; i < t->n_device; i++)
		if (t->device[i].kind == kind)
			return 1;
	return 0;
}

/* The device shows the enrolled certificate installed: an installation
 * line (iOS profile installed, Windows event 39, Android leaving
 * CERT_INSTALLING), or Android's CERT_ACCESS_GRANTED, which only an
 * installed key reaches (the Intune page's delivered SCEP certificate goes
 * CERT_INSTALLING -> CERT_ACCESS_REQUESTED -> CERT_ACCESS_GRANTED and
 * never logs CERT_INSTALL_SUCCESS). A trusted root's states do not count. */
static int device_delivered(const struct txn *t)
{
	size_t i;

	for (i = 0; i < t->n_device; i++)
		if ((t->device[i].kind == DEVLOG_INSTALLED || t->device[i].kind == DEVLOG_ACCESS_GRANTED) &&
		    !t->device[i].root_cert)
			return 1;
	return 0;
}

/* What the device says about the outcome: DELIVERED, and the findings
 * only both sides together can give. */
/* A transaction known only from the device: its own CertRep lines decide. */
static void settle_from_device(struct txn *t)
{
	size_t i;
	int st = -1;

	for (i = 0; i < t->n_device; i++)
		if (t->device[i].kind == DEVLOG_RESPONSE && t->device[i].pki_status >= 0)
			st = t->device[i].pki_status;
	if (st == SCEP_STATUS_SUCCESS)
		set_verdict(t, device_delivered(t) ? VERDICT_DELIVERED : VERDICT_ISSUED,
			    strdup("from the device log"));
	else if (st == SCEP_STATUS_FAILURE)
		set_verdict(t, VERDICT_REJECTED, strdup("from the device log"));
	else if (st == SCEP_STATUS_PENDING)
		set_verdict(t, VERDICT_PENDING, strdup("from the device log"));
	else if (device_delivered(t))
		set_verdict(t, VERDICT_DELIVERED, strdup("from the device log"));
	else if (t->first_msg_type == TXN_DEVICE_GROUP)
		set_verdict(t, VERDICT_NONE, NULL);     /* lines of no enrollment */
	else if (device_has(t, DEVLOG_RESPONSE))
		set_verdict(t, VERDICT_UNDECODED, strdup("the device log shows the HTTP answer, not its CertRep"));
	else if (device_has(t, DEVLOG_REQUEST_SENT))
		set_verdict(t, VERDICT_NO_RESPONSE, strdup("no response in the device log"));
	else
		set_verdict(t, VERDICT_NONE, NULL);
}

static void settle_device(struct txn *t, int have_wire)
{
	int android = 0;
	size_t i;

	if (!t->n_device)
		return;
	qsort(t->device, t->n_device, sizeof(*t->device), cmp_device_time);
	for (i = 0; i < t->n_device; i++)
		android |= !strcmp(t->device[i].source, "android");
	if (t->first_msg_type == TXN_DEVICE_ONLY || t->first_msg_type == TXN_DEVICE_GROUP) {
		settle_from_device(t);
		if (t->first_msg_type == TXN_DEVICE_ONLY && device_has(t, DEVLOG_REQUEST_SENT) && have_wire)
			txn_add_finding(t, strdup("request seen on the device never reached the capture point (a proxy or firewall in between dropped it, or the capture missed it)"));
		return;
	}
	if (t->verdict == VERDICT_ISSUED && device_delivered(t)) {
		set_verdict(t, VERDICT_DELIVERED, NULL);
		if (android && !device_has(t, DEVLOG_ACCESS_GRANTED))
			txn_add_finding(t, strdup("installed on the device but access not granted (no CERT_ACCESS_GRANTED in the Android log)"));
	} else if (t->verdict == VERDICT_ISSUED) {
		txn_add_finding(t, strdup("issued by the server but the device log shows no installation"));
	}
	for (i = 0; i < t->n_device; i++) {
		const struct txn_device_event *d = &t->device[i];

		if ((d->kind == DEVLOG_ERROR || (d->kind == DEVLOG_RESPONSE && d->pki_status == SCEP_STATUS_FAILURE)) &&
		    (t->verdict == VERDICT_ISSUED || t->verdict == VERDICT_DELIVERED)) {
			txn_add_finding(t, str_printf("the device saw an error the server did not: %s", d->what ? d->what : "?"));
			break;
		}
	}
}

static int cmp_event_time(const void *a, const void *b)
{
	const struct scep_event *x = *(struct scep_event *const *)a;
	const struct scep_event *y = *(struct scep_event *const *)b;
	uint64_t tx = event_start(x), ty = event_start(y);

	if (tx != ty)
		return tx < ty ? -1 : 1;
	if (x->flow_id != y->flow_id)
		return x->flow_id < y->flow_id ? -1 : 1;
	return x->http_seq < y->http_seq ? -1 : x->http_seq > y->http_seq;
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

/* Orders the events, then decides the verdict and runs the checks, once. */
static void settle(struct txn_table *tt, struct txn *t, int have_wire)
{
	if (t->settled)
		return;
	if (t->n_events)
		qsort(t->events, t->n_events, sizeof(*t->events), cmp_event_time);
	settle_verdict(tt, t);
	run_checks(t);
	settle_device(t, have_wire);
	t->settled = 1;
}

void txn_finish(struct txn_table *tt)
{
	int have_wire = 0;
	size_t i;

	group_loose_events(tt, tt->n_loose);
	for (i = 0; i < tt->n; i++)
		have_wire |= tt->txns[i]->n_events > 0;
	for (i = 0; i < tt->n; i++)
		settle(tt, tt->txns[i], have_wire);
	if (tt->n)
		qsort(tt->txns, tt->n, sizeof(*tt->txns), cmp_txn_time);
	for (i = 0; i < tt->n; i++)
		tt->txns[i]->seq = i + 1;
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

const struct txn *txn_get(const struct txn_table *tt, size_t i)
{
	return i < tt->n ? tt->txns[i] : NULL;
}

static void txn_free(struct txn *t)
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
	free(tt->released_by_id);
	free(tt->txns);
	free(tt->loose);
	free(tt->by_id);
	free(tt->losses);
	summary_free(&tt->gone);
	summary_free(&tt->released);
	free(tt);
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
