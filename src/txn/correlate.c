/* correlate.c - which enrollment each SCEP exchange belongs to: a
 * PKIOperation by its transactionID toward its server, a GetCACaps or
 * GetCACert by the enrollment it prepared, else an endpoint-level group. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scep.h"
#include "txn_internal.h"

/* GetCACaps/GetCACert made this long before a PKIOperation by the same
 * client to the same server are taken as that enrollment's preparation. */
#define PREP_WINDOW_NS (120ull * 1000000000ull)

static const char *event_tid(const struct scep_event *ev)
{
	if (ev->request && ev->request->transaction_id)
		return ev->request->transaction_id;
	if (ev->reply && ev->reply->transaction_id)
		return ev->reply->transaction_id;
	return NULL;
}

static int is_enrollment_start(int mt)
{
	return mt == SCEP_MT_PKCSREQ || mt == SCEP_MT_RENEWALREQ || mt == SCEP_MT_UPDATEREQ;
}

/* The same enrollment is the same transactionID toward the same server.
 * Only open transactions match: a request reusing the ID of a closed one
 * is a retry, a replay, a re-enrollment with the same key or (when the
 * closed one was given up while PENDING) a client polling by re-sending
 * its request, and starts a new transaction; *has_prev then says whether
 * there was one, and *prev what the new one needs of the newest. */
static struct txn *find_open(struct txn_table *tt, const char *tid,
			     const struct scep_event *ev, int *has_prev, struct txn_prev *prev)
{
	const struct scep_msg *rq;
	struct txn *t;

	*has_prev = 0;
	for (t = *txn_id_bucket(tt, tid); t; t = t->id_next) {
		if (strcmp(t->transaction_id, tid) ||
		    !endpoint_eq(&t->server, &ev->server))
			continue;
		if (!t->closed)
			return t;
		if (*has_prev)
			continue;
		*has_prev = 1;
		prev->key_sha256 = t->key_sha256;
		prev->pending = t->settled && t->verdict == VERDICT_PENDING;
		rq = txn_last_request(t);
		prev->nonce = rq ? rq->sender_nonce : NULL;
		prev->nonce_len = rq ? rq->sender_nonce_len : 0;
	}
	if (!*has_prev)
		*has_prev = txn_released_prev(tt, tid, &ev->server, prev);
	return NULL;
}

/* When t's latest PKIOperation toward server started (0: none): a later
 * request's preparation comes after it. */
static uint64_t last_request_toward(const struct txn *t, const struct endpoint *server)
{
	size_t i;

	for (i = t->n_events; i-- > 0;)
		if (t->events[i]->op == SCEP_OP_PKIOPERATION && endpoint_eq(&t->events[i]->server, server))
			return event_start(t->events[i]);
	return 0;
}

/* The open transaction ev is the other leg of: the same transactionID and
 * the same request (its senderNonce) toward another server. A proxy in
 * front of NDES forwards the client's bytes, so both legs carry one
 * enrollment; a second enrollment with that ID would have a new nonce. */
static struct txn *find_other_leg(struct txn_table *tt, const char *tid, const struct scep_event *ev)
{
	const struct scep_msg *rq = ev->request;
	struct txn *t;

	if (!rq || !rq->decoded || !rq->sender_nonce_len)
		return NULL;
	for (t = *txn_id_bucket(tt, tid); t; t = t->id_next) {
		if (t->closed || strcmp(t->transaction_id, tid) || endpoint_eq(&t->server, &ev->server))
			continue;
		if (t->two_legs && !endpoint_eq(&t->leg_server, &ev->server))
			continue;
		if (txn_has_request_nonce(t, t->n_events, NULL, rq->sender_nonce, rq->sender_nonce_len))
			return t;
	}
	return NULL;
}

static void join_leg(struct txn *t, const struct scep_event *ev)
{
	if (t->two_legs)
		return;
	t->two_legs = 1;
	t->leg_client = ev->client;
	t->leg_server = ev->server;
}

/* Whether ev's final reply closes t: with two legs, once both had theirs. */
static int closes(struct txn *t)
{
	return !t->two_legs || ++t->finals >= 2;
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
 * best matches this request among those shortly before it and after
 * since. Every request of an enrollment gets its own: certmonger asks
 * GetCACaps again before each re-submission. */
static void attach_preparation(struct txn_table *tt, struct txn *t, const struct scep_event *ev,
			       uint64_t since)
{
	uint64_t start = event_start(ev);
	size_t best[2] = { SIZE_MAX, SIZE_MAX };
	size_t i, j, k;

	for (i = 0; i < tt->n_loose; i++) {
		struct scep_event *l = tt->loose[i];
		enum prep_kind kind = prep_kind_of(l);

		if (kind == PREP_NONE || !same_client_addr(&l->client, &ev->client) ||
		    !endpoint_eq(&l->server, &ev->server) ||
		    event_start(l) > start || start - event_start(l) > PREP_WINDOW_NS ||
		    event_start(l) <= since)
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

/* The transaction ev closed (its final CertRep, or a request without a
 * transactionID), else NULL. */
static struct txn *add_pki_operation(struct txn_table *tt, struct scep_event *ev)
{
	const char *tid = event_tid(ev);
	int mt = event_msg_type(ev);
	struct txn_prev prev = { "", 0, NULL, 0 };
	int kept, has_prev = 0;
	struct txn *t = NULL;

	if (tid && !(t = find_open(tt, tid, ev, &has_prev, &prev)) && (t = find_other_leg(tt, tid, ev)) != NULL)
		join_leg(t, ev);
	if (t && is_enrollment_start(mt) && t->first_msg_type != TXN_NO_TYPE &&
	    !is_enrollment_start(t->first_msg_type))
		t = NULL;
	if (!t) {
		t = txn_new(tt, ev, tid);
		if (!t) {
			scep_event_free(ev);
			return NULL;
		}
		if (ev->request && ev->request->signer)
			memcpy(t->key_sha256, ev->request->signer->key_sha256, sizeof(t->key_sha256));
		if (has_prev && prev.pending) {
			/* certmonger after PENDING: the same request again, not a reuse */
			t->resumes_pending = 1;
			t->prev_nonce_len = prev.nonce_len;
			if (prev.nonce_len)
				memcpy(t->prev_nonce, prev.nonce, prev.nonce_len);
		} else {
			t->reused_id = has_prev;
			t->reused_same_key = has_prev && *prev.key_sha256 && !strcmp(prev.key_sha256, t->key_sha256);
		}
		t->first_msg_type = mt;
	}
	/* a new enrollment, or a request sent again (a poll): a reply whose
	 * request the capture lacks asked nothing, so it claims nothing */
	if (tid && (!t->n_events || event_msg_type(ev) >= 0))
		attach_preparation(tt, t, ev, last_request_toward(t, &ev->server));
	kept = txn_append(tt, t, ev) == 0;
	if (!t->subject && ev->request) {
		if (ev->request->csr && ev->request->csr->subject)
			t->subject = strdup(ev->request->csr->subject);
		else if (ev->request->signer && ev->request->signer->subject &&
			 mt != SCEP_MT_PKCSREQ)
			t->subject = strdup(ev->request->signer->subject);
	}
	if (!tid || (reply_is_final(ev) && closes(t)))
		t->closed = 1;
	if (!kept)
		scep_event_free(ev);
	return t->closed ? t : NULL;
}

/* Whether endpoint group c takes l: the same connection, not idle for
 * longer than TXN_GROUP_GAP_NS on either side of what c holds. Behind a
 * proxy (Azure AD Application Proxy, a load balancer) every device has
 * the proxy's address, so the client address alone would mix devices.
 * The flow is also what keeps several -r files apart: the same addresses
 * and ports in two files are one flow only where one connection runs on
 * across them (a capture rotated mid-connection); a new SYN starts a new
 * flow (flow.c). */
static int group_takes(const struct txn *c, const struct scep_event *l)
{
	uint64_t at = event_start(l);

	return c->first_msg_type == TXN_ENDPOINT_GROUP && !c->transaction_id &&
	       c->flow_id == l->flow_id && endpoint_eq(&c->server, &l->server) &&
	       at <= c->last_ts_ns + TXN_GROUP_GAP_NS && at + TXN_GROUP_GAP_NS >= c->first_ts_ns;
}

/* Unclaimed preparation exchanges become endpoint-level groups, one per
 * connection and stretch of activity, so a lone GetCACaps or a 302 to a
 * sign-in page still shows. The first count of them (the oldest) are
 * grouped; the rest stay loose. */
void txn_group_loose_events(struct txn_table *tt, size_t count)
{
	size_t i, k;

	for (i = 0; i < count && i < tt->n_loose; i++) {
		struct scep_event *l = tt->loose[i];
		struct txn *t = NULL;

		for (k = tt->n; k-- > 0;)
			if (group_takes(tt->txns[k], l)) {
				t = tt->txns[k];
				break;
			}
		if (!t) {
			t = txn_new(tt, l, NULL);
			if (!t) {
				scep_event_free(l);
				continue;
			}
			t->first_msg_type = TXN_ENDPOINT_GROUP;
			t->flow_id = l->flow_id;
			t->closed = 1;
		}
		if (txn_append(tt, t, l))
			scep_event_free(l);
	}
	if (i && i < tt->n_loose)
		memmove(tt->loose, tt->loose + i, (tt->n_loose - i) * sizeof(*tt->loose));
	tt->n_loose -= i;
}

struct txn *txn_correlate(struct txn_table *tt, struct scep_event *ev)
{
	if (ev->op == SCEP_OP_PKIOPERATION)
		return add_pki_operation(tt, ev);
	if (txn_push_ptr((void ***)&tt->loose, &tt->n_loose, ev) < 0)
		scep_event_free(ev);
	else if (tt->n_loose > tt->lim.max_loose)
		txn_group_loose_events(tt, tt->n_loose / 2);
	return NULL;
}
