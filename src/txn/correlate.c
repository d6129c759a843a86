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
 * is a retry, a replay or a re-enrollment with the same key, and starts a
 * new transaction; *closed_key then points to the closed one's signer key
 * fingerprint ("" when unknown), else it is NULL. */
static struct txn *find_open(struct txn_table *tt, const char *tid,
			     const struct scep_event *ev, const char **closed_key)
{
	struct txn *t;

	*closed_key = NULL;
	for (t = *txn_id_bucket(tt, tid); t; t = t->id_next) {
		if (strcmp(t->transaction_id, tid) ||
		    !endpoint_eq(&t->server, &ev->server))
			continue;
		if (!t->closed)
			return t;
		if (!*closed_key)
			*closed_key = t->key_sha256;
	}
	if (!*closed_key)
		*closed_key = txn_released_key(tt, tid, &ev->server);
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

/* The transaction ev closed (its final CertRep, or a request without a
 * transactionID), else NULL. */
static struct txn *add_pki_operation(struct txn_table *tt, struct scep_event *ev)
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
			return NULL;
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
	return t->closed ? t : NULL;
}

/* Unclaimed preparation exchanges become endpoint-level groups, one per
 * client address and server, so a lone GetCACaps or a 302 to a sign-in page
 * still shows. The first count of them (the oldest) are grouped; the rest
 * stay loose. */
void txn_group_loose_events(struct txn_table *tt, size_t count)
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
