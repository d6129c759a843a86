/* checks.c - the findings a troubleshooter would look for by hand: nonces
 * echoed, transactionIDs kept, requests encrypted to and replies signed by
 * a certificate GetCACert returned, signatures, polling, reused IDs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "format.h"
#include "scep.h"
#include "strutil.h"
#include "txn_internal.h"

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

void txn_run_checks(struct txn *t)
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
