/* advice.c - what to check next, one line per transaction that did not
 * end ISSUED: from its verdict, the CertRep's failInfo or NDES HRESULT,
 * the HTTP status and the findings the capture proves. The texts lean on
 * RFC 8894 section 3.2.1.4.4 (failInfo), Microsoft's NDES and Intune SCEP
 * troubleshooting pages (challenge passwords, application pools, proxy
 * pre-authentication) and the HRESULT table in scep_names.c. */
#include <stdlib.h>
#include <string.h>

#include "scep.h"
#include "strutil.h"
#include "txn_internal.h"

/* NDES HRESULTs with a known remedy (codes: [MS-ERREF] 2.1). */
static const char *hresult_advice(uint32_t hr)
{
	switch (hr) {
	case 0x80094014: /* CERTSRV_E_ADMIN_DENIED_REQUEST */
		return "a CA manager denied the request: ask why (certsrv.msc, Failed Requests), then enroll again";
	case 0x80090005: /* NTE_BAD_DATA */
	case 0x80092004: /* CRYPT_E_NOT_FOUND */
		return "NDES could not open the request: the device encrypted it to a certificate NDES no longer holds; "
		       "have the device fetch GetCACert again (re-sync the profile) and check the RA certificates";
	case 0x80070005: /* E_ACCESSDENIED */
		return "the NDES service account may not enroll on this template: check the template's security tab";
	case 0x800706BA: /* RPC_S_SERVER_UNAVAILABLE */
		return "NDES cannot reach the CA: check the CA service and the RPC path between NDES and the CA";
	case 0x80094001: /* CERTSRV_E_BAD_REQUESTSUBJECT */
		return "the CA refused the subject name: check the profile's subject name format against the template";
	default:
		return "look this transactionID up in the NDES log and the CA's Failed Requests (certsrv.msc)";
	}
}

static const char *fail_info_advice(int fi)
{
	switch (fi) {
	case SCEP_FAIL_BADREQUEST:
		return "check the challenge password the device sent (NDES one-time passwords are single-use and expire, "
		       "60 minutes by default) and the CA's policy for this subject";
	case SCEP_FAIL_BADMESSAGECHECK:
		return "have the client fetch GetCACert again and encrypt to the RA certificate it returns; "
		       "check its signing key matches the CSR";
	case SCEP_FAIL_BADALG:
		return "make the client use an algorithm the server lists in GetCACaps (AES, SHA-256)";
	case SCEP_FAIL_BADTIME:
		return "set the device's clock: its signingTime was too far from the server's";
	case SCEP_FAIL_BADCERTID:
		return "the certificate the request names is unknown to the CA: check the issuer and serial it asks for";
	default:
		return "read the server's log for this transactionID";
	}
}

static const char *rejected_advice(const struct txn *t, const struct scep_msg *rep)
{
	/* the most definite proof first: what the server said it offers */
	if (t->proof & TXN_PROOF_RENEWAL_NOT_OFFERED)
		return "the server does not offer renewal: enroll anew with PKCSReq";
	if (t->proof & TXN_PROOF_SUBJECT_ISSUED)
		return "the CA already issued a certificate for this subject: revoke it or let the CA accept duplicate "
		       "subjects, or find why the device enrolled twice";
	if (t->proof & TXN_PROOF_RENEWAL_EARLY)
		return "the CA may allow renewal only near the certificate's expiry: renew later, or enroll anew with PKCSReq";
	if (t->proof & TXN_PROOF_KEY_USED)
		return "the device enrolled again with a key already used: a CA that refuses key re-use rejects it; "
		       "have the device make a new key";
	if (rep && rep->has_ms_hresult)
		return hresult_advice(rep->ms_hresult);
	return fail_info_advice(rep ? rep->fail_info : -1);
}

static const char *http_advice(const struct txn *t)
{
	const char *cause = txn_http_cause(t);
	const struct scep_event *ev = txn_first_http_error(t);

	if (cause)
		return cause;
	if (!ev || ev->status >= 500)
		return "the server failed on this request: read its log at this time (NDES: the IIS log and the "
		       "Application event log)";
	if (ev->status >= 300 && ev->status < 400)
		return "a redirect, not SCEP: SCEP clients do not follow it; point the profile at the final URL";
	if (ev->status == 401 || ev->status == 403)
		return "the server or a proxy refused access: the SCEP URL must be reachable without authentication";
	if (ev->status == 404)
		return "nothing answers SCEP at this path: check the profile's SCEP server URL and what the proxy publishes";
	return "the server refused the request as sent: check the URL and method (POST needs POSTPKIOperation in GetCACaps)";
}

static const char *tls_advice(const struct txn *t)
{
	size_t i;

	for (i = 0; i < t->n_events; i++) {
		const struct scep_tls *tls = t->events[i]->tls;

		if (t->events[i]->op != SCEP_OP_TLS || !tls || !tls->handshake_failed)
			continue;
		if (!tls->alert)
			return "the connection ended during the TLS handshake: check the server's or proxy's TLS "
			       "configuration and certificate";
		if (strstr(tls->alert, "unknown_ca") || strstr(tls->alert, "bad_certificate") ||
		    strstr(tls->alert, "certificate_unknown") || strstr(tls->alert, "certificate_expired"))
			return strncmp(tls->alert, "client", 6) ?
			       "the server refused the client's certificate: check the client certificate and the CAs the "
			       "server trusts" :
			       "the client does not trust the server's certificate: install the issuing CA on the device, "
			       "or make the server send its whole chain";
		if (strstr(tls->alert, "protocol_version") || strstr(tls->alert, "handshake_failure") ||
		    strstr(tls->alert, "insufficient_security"))
			return "client and server share no TLS version or cipher suite: compare the ClientHello with "
			       "the server's TLS settings";
		return "read the alert: the side that sent it refused the handshake";
	}
	return NULL;
}

static const char *verdict_advice(const struct txn *t)
{
	const struct scep_event *ev = txn_last_pki_operation(t);
	const struct scep_msg *rep = ev ? ev->reply : NULL;
	const char *why = t->reason ? t->reason : "";

	switch (t->verdict) {
	case VERDICT_REJECTED:
		return rejected_advice(t, rep);
	case VERDICT_HTTP_ERROR:
		return http_advice(t);
	case VERDICT_PENDING:
		return "the CA holds the request for a manager's approval (certsrv.msc, Pending Requests); "
		       "the client polls until it is issued or denied";
	case VERDICT_NO_RESPONSE:
		if (!ev)
			return tls_advice(t);
		return "the server took the request but sent nothing back: check its log and timeouts, "
		       "or capture longer";
	case VERDICT_INCOMPLETE:
		if (strstr(why, "-s 0"))
			return "re-capture with -s 0, so that whole packets are kept";
		if (strstr(why, "kernel drops"))
			return "re-capture with a larger buffer (-B) or a tighter filter, so the kernel keeps up";
		return "re-capture from before the enrollment starts, where both directions pass";
	case VERDICT_UNDECODED:
		return "look at the response body (-v, or scepdump decode): often an error page from a proxy "
		       "or a URL that is not the SCEP server";
	default:
		return NULL;
	}
}

void txn_advise(struct txn *t)
{
	const char *a = verdict_advice(t);

	free(t->advice);
	t->advice = a ? strdup(a) : NULL;
}
