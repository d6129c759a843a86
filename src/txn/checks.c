/* checks.c - the findings a troubleshooter would look for by hand: nonces
 * echoed, transactionIDs kept, requests encrypted to and replies signed by
 * a certificate GetCACert returned, signatures, polling of each kind,
 * reused IDs, and the cause an HTTP error names. */
#include <stdint.h>
#include <stdio.h>
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

static int same_nonce(const struct scep_msg *a, const uint8_t *nonce, size_t len)
{
	return len && a->sender_nonce_len == len && !memcmp(a->sender_nonce, nonce, len);
}

/* Whether rq carries the senderNonce of a request before event i on the
 * same leg (or of the PENDING transaction this one resumes): the other
 * leg of a proxy carries the same request once more, which is no replay. */
static int nonce_seen_before(const struct txn *t, size_t i, const struct scep_msg *rq)
{
	if (t->resumes_pending && same_nonce(rq, t->prev_nonce, t->prev_nonce_len))
		return 1;
	return txn_has_request_nonce(t, i, &t->events[i]->server, rq->sender_nonce, rq->sender_nonce_len);
}

/* Counts the polls of each kind (enum txn_poll_kind) and names them.
 * A request with an earlier request's senderNonce is a replay whatever
 * its type (micromdm scepclient re-sends the same bytes); a CertPoll is
 * RFC 8894 polling; a PKCSReq/RenewalReq after the first one (certmonger
 * re-submits after PENDING, with a new senderNonce) is polling by
 * re-submission. */
static void check_polling(struct txn *t)
{
	uint64_t first_req = 0, last[TXN_POLL_KINDS] = { 0 };
	int starts = t->resumes_pending;
	size_t i, k;
	char d[32];

	memset(t->polls, 0, sizeof(t->polls));
	for (i = 0; i < t->n_events; i++) {
		const struct scep_event *e = t->events[i];
		const struct scep_msg *rq = e->request;
		int mt = event_msg_type(e);

		if (e->op != SCEP_OP_PKIOPERATION || mt < 0 ||
		    (t->two_legs && !endpoint_eq(&e->server, &t->server)))
			continue;
		if (!first_req)
			first_req = event_start(e);
		if (rq->sender_nonce_len && nonce_seen_before(t, i, rq))
			k = TXN_POLL_REPLAY;
		else if (mt == SCEP_MT_CERTPOLL)
			k = TXN_POLL_CERTPOLL;
		else if (mt == SCEP_MT_PKCSREQ || mt == SCEP_MT_RENEWALREQ || mt == SCEP_MT_UPDATEREQ)
			k = starts++ ? TXN_POLL_RESUBMIT : TXN_POLL_KINDS;
		else
			k = TXN_POLL_KINDS;
		if (k == TXN_POLL_KINDS)
			continue;
		t->polls[k]++;
		last[k] = event_start(e);
	}
	if (t->polls[TXN_POLL_CERTPOLL])
		txn_add_finding(t, str_printf("client polled %zu time%s with CertPoll in %s", t->polls[TXN_POLL_CERTPOLL],
					      t->polls[TXN_POLL_CERTPOLL] == 1 ? "" : "s",
					      fmt_duration_ns(last[TXN_POLL_CERTPOLL] - first_req, d, sizeof(d))));
	if (t->polls[TXN_POLL_RESUBMIT])
		txn_add_finding(t, str_printf("client re-sent its request %zu time%s in %s (new nonce each: certmonger-style polling)",
					      t->polls[TXN_POLL_RESUBMIT], t->polls[TXN_POLL_RESUBMIT] == 1 ? "" : "s",
					      fmt_duration_ns(last[TXN_POLL_RESUBMIT] - first_req, d, sizeof(d))));
	if (t->polls[TXN_POLL_REPLAY])
		txn_add_finding(t, str_printf("client re-sent the identical request %zu time%s in %s: same senderNonce, "
					      "a replay as far as the server can tell", t->polls[TXN_POLL_REPLAY],
					      t->polls[TXN_POLL_REPLAY] == 1 ? "" : "s",
					      fmt_duration_ns(last[TXN_POLL_REPLAY] - first_req, d, sizeof(d))));
	if (t->resumes_pending)
		txn_add_finding(t, strdup("transactionID of an earlier transaction given up while PENDING: the client "
					  "asked again for the same enrollment (polling, not a reused ID)"));
}

/* What an HTTP error on a SCEP URL says about its cause, in one table.
 * Whole-path errors stop a client before any PKIOperation (it needs
 * GetCACaps and GetCACert first), so an endpoint group is often the only
 * evidence: the rules look at every exchange, not only PKIOperations.
 * Where each comes from:
 * - sign-in redirect: Microsoft Intune's "Troubleshoot device to NDES
 *   server communication" (testing the SCEP server URL) and its SCEP
 *   infrastructure page: NDES published through Azure AD Application
 *   Proxy must use Passthrough pre-authentication, or devices get a 302
 *   to login.microsoftonline.com (or AD FS, /adfs/ls) instead of SCEP;
 *   the devices in Microsoft's certificate-delivery troubleshooting page
 *   reach NDES at *.msappproxy.net.
 * - URL too long: IIS request filtering answers 404.14 (URL too long) or
 *   404.15 (query string too long), HTTP.SYS 414 or 400 "Request Too Long"
 *   past MaxFieldLength/MaxRequestBytes (Microsoft's IIS status code and
 *   Http.sys registry settings pages, KB 248061 for 414); a GET
 *   PKIOperation carries the whole pkiMessage in the query.
 * - 403/503 on mscep.dll: the Intune page above lists both on the SCEP
 *   URL test: access to mscep.dll refused, or the SCEP application pool
 *   stopped / the service down. */
enum cause_where { CAUSE_ANY, CAUSE_LOCATION, CAUSE_TEXT, CAUSE_PATH };

static const struct http_cause {
	int status[6];              /* 0-terminated */
	enum cause_where where;     /* where the needles are looked for */
	const char *needles[7];     /* any one, case-insensitive; NULL-terminated */
	const char *cause;
} http_causes[] = {
	{ { 301, 302, 303, 307, 308 }, CAUSE_LOCATION,
	  { "login.microsoftonline.com", "/adfs/ls", "login", "signin", "oauth2/authorize", "msappproxy.net" },
	  "application proxy with pre-authentication: publish the NDES URL as passthrough" },
	{ { 414 }, CAUSE_ANY, { NULL },
	  "GET URL over the IIS limits: let the client POST (POSTPKIOperation in GetCACaps) or raise MaxFieldLength/MaxRequestBytes" },
	{ { 404, 400 }, CAUSE_TEXT, { "404.14", "404.15", "too long" },
	  "GET URL over the IIS limits: let the client POST (POSTPKIOperation in GetCACaps) or raise MaxFieldLength/MaxRequestBytes" },
	{ { 403, 503 }, CAUSE_PATH, { "mscep.dll" },
	  "NDES application pool or service (403: access to mscep.dll refused; 503: application pool stopped or service unavailable)" },
};
#define N_HTTP_CAUSES (sizeof(http_causes) / sizeof(http_causes[0]))

static int cause_has_status(const struct http_cause *c, int status)
{
	size_t i;

	for (i = 0; i < sizeof(c->status) / sizeof(c->status[0]) && c->status[i]; i++)
		if (c->status[i] == status)
			return 1;
	return 0;
}

static int text_has_any(const char *text, const char *const *needles)
{
	size_t i;

	for (i = 0; text && i < 7 && needles[i]; i++)
		if (strcasestr(text, needles[i]))
			return 1;
	return 0;
}

/* The rule that names ev's error (its index), or -1. */
static int http_cause_of(const struct scep_event *ev)
{
	size_t r;

	if (!event_is_http_error(ev))
		return -1;
	for (r = 0; r < N_HTTP_CAUSES; r++) {
		const struct http_cause *c = &http_causes[r];

		if (!cause_has_status(c, ev->status))
			continue;
		if (c->where == CAUSE_ANY ||
		    (c->where == CAUSE_LOCATION && text_has_any(ev->location, c->needles)) ||
		    (c->where == CAUSE_TEXT && (text_has_any(ev->error_text, c->needles) ||
						text_has_any(ev->status_text, c->needles))) ||
		    (c->where == CAUSE_PATH && text_has_any(ev->path, c->needles)))
			return (int)r;
	}
	return -1;
}

/* One finding per cause, with the first exchange's evidence. */
static void check_http_causes(struct txn *t)
{
	const struct scep_event *first[N_HTTP_CAUSES] = { NULL };
	size_t n[N_HTTP_CAUSES] = { 0 }, i;
	int r;

	for (i = 0; i < t->n_events; i++)
		if ((r = http_cause_of(t->events[i])) >= 0 && !n[r]++)
			first[r] = t->events[i];
	for (i = 0; i < N_HTTP_CAUSES; i++) {
		const struct scep_event *e = first[i];
		char more[48] = "";

		if (!e)
			continue;
		if (n[i] > 1)
			snprintf(more, sizeof(more), " (and %zu more)", n[i] - 1);
		if (http_causes[i].where == CAUSE_LOCATION)
			txn_add_finding(t, str_printf("HTTP %d to %.*s%s%s: %s", e->status, (int)strcspn(e->location, "?#"),
						      e->location, e->location[strcspn(e->location, "?#")] ? "?..." : "",
						      more, http_causes[i].cause));
		else if (http_causes[i].where == CAUSE_PATH)
			txn_add_finding(t, str_printf("HTTP %d on %s%s: %s", e->status, e->path, more, http_causes[i].cause));
		else if (e->error_text)
			txn_add_finding(t, str_printf("HTTP %d \"%s\"%s: %s", e->status, e->error_text, more, http_causes[i].cause));
		else
			txn_add_finding(t, str_printf("HTTP %d for a %zu-byte request URI%s: %s", e->status, e->uri_len, more,
						      http_causes[i].cause));
	}
}

const char *txn_http_cause(const struct txn *t)
{
	size_t i;
	int r;

	for (i = 0; i < t->n_events; i++)
		if ((r = http_cause_of(t->events[i])) >= 0)
			return http_causes[r].cause;
	return NULL;
}

static int caps_list(const struct scep_event *e, const char *cap)
{
	size_t i;

	for (i = 0; i < e->n_caps; i++)
		if (e->caps[i] && !strcasecmp(e->caps[i], cap))
			return 1;
	return 0;
}

/* A refused RenewalReq: did the server offer renewal at all (RFC 8894
 * section 3.5.2, the "Renewal" capability), and how far from its expiry
 * was the certificate being renewed? CAs commonly allow renewal only in
 * the last part of a certificate's life (micromdm scepserver's
 * -allowrenew, 14 days by default). */
static void check_renewal(struct txn *t, const struct scep_event *ev)
{
	const struct scep_cert *old = ev->request ? ev->request->signer : NULL;
	const struct scep_event *caps = NULL;
	uint64_t at = event_start(ev) / 1000000000ull;
	char d[32];
	size_t i;

	if (event_msg_type(ev) != SCEP_MT_RENEWALREQ || t->verdict != VERDICT_REJECTED)
		return;
	for (i = 0; i < t->n_events; i++)
		if (t->events[i]->op == SCEP_OP_GETCACAPS && t->events[i]->n_caps)
			caps = t->events[i];
	if (caps && !caps_list(caps, "Renewal")) {
		t->proof |= TXN_PROOF_RENEWAL_NOT_OFFERED;
		txn_add_finding(t, strdup("RenewalReq sent, but the server's GetCACaps does not list Renewal "
					  "(RFC 8894 section 3.5.2)"));
	}
	if (old && old->not_after > old->not_before && (uint64_t)old->not_after > at &&
	    (uint64_t)old->not_after - at > ((uint64_t)old->not_after - (uint64_t)old->not_before) / 2) {
		t->proof |= TXN_PROOF_RENEWAL_EARLY;
		txn_add_finding(t, str_printf("RenewalReq for a certificate with %llu of its %llu days left (valid to %s): "
					      "renewing long before expiry",
					      (unsigned long long)(((uint64_t)old->not_after - at) / 86400),
					      (unsigned long long)(((uint64_t)old->not_after - (uint64_t)old->not_before) / 86400),
					      fmt_date(old->not_after, d, sizeof(d))));
	}
}

const char *txn_poll_kind_name(enum txn_poll_kind k)
{
	switch (k) {
	case TXN_POLL_CERTPOLL: return "CertPoll";
	case TXN_POLL_RESUBMIT: return "re-submission";
	case TXN_POLL_REPLAY: return "replay";
	case TXN_POLL_KINDS: break;
	}
	return "?";
}

/* One enrollment on two legs (see txn.two_legs): say where each went, so
 * the reader knows why every request shows twice. */
static void check_legs(struct txn *t)
{
	char c1[64], s1[64], c2[64], s2[64];

	if (!t->two_legs)
		return;
	txn_add_finding(t, str_printf("the same requests on two legs, a proxy between them: %s -> %s and %s -> %s "
				      "(one enrollment, each exchange shown on both)",
				      endpoint_str(&t->client, c1, sizeof(c1)), endpoint_str(&t->server, s1, sizeof(s1)),
				      endpoint_str(&t->leg_client, c2, sizeof(c2)),
				      endpoint_str(&t->leg_server, s2, sizeof(s2))));
}

void txn_run_checks(struct txn *t)
{
	size_t i;

	for (i = 0; i < t->n_events; i++)
		if (t->events[i]->op == SCEP_OP_PKIOPERATION) {
			check_exchange(t, t->events[i]);
			check_renewal(t, t->events[i]);
		}
	check_polling(t);
	check_http_causes(t);
	check_legs(t);
	if (t->reused_id && t->reused_same_key)
		txn_add_finding(t, strdup("transactionID reused from an earlier, finished transaction: same key as the "
					  "earlier enrollment (a re-enrollment; RFC 8894 derives the transactionID from the key)"));
	else if (t->reused_id)
		txn_add_finding(t, strdup("transactionID reused from an earlier, finished transaction (client retry or replay)"));
}
