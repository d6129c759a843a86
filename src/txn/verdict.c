/* verdict.c - one verdict per transaction and its reason, from its last
 * PKIOperation (or, for an endpoint-level group, its TLS and HTTP errors),
 * weighed against what the capture lost; settling runs the checks and the
 * device log's word once. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scep.h"
#include "strutil.h"
#include "txn_internal.h"

static char *http_error_reason(const struct scep_event *ev)
{
	if (ev->error_text)
		return str_printf("HTTP %d \"%s\"", ev->status, ev->error_text);
	return str_printf("HTTP %d", ev->status);
}

static void settle_reply_verdict(struct txn *t, const struct scep_msg *rep)
{
	const char *fi;

	switch (rep->pki_status) {
	case SCEP_STATUS_SUCCESS:
		txn_set_verdict(t, VERDICT_ISSUED, NULL);
		break;
	case SCEP_STATUS_FAILURE:
		fi = scep_fail_info_name(rep->fail_info);
		/* NDES says exactly why: it replaces the failInfo guess */
		if (rep->has_ms_hresult) {
			char *hr = scep_hresult_describe(rep->ms_hresult);

			txn_set_verdict(t, VERDICT_REJECTED, str_printf("%s: NDES HRESULT %s", fi ? fi : "failInfo absent",
								   hr ? hr : "?"));
			free(hr);
		} else if (rep->fail_info_text)
			txn_set_verdict(t, VERDICT_REJECTED, str_printf("%s: %s", fi ? fi : "failInfo absent", rep->fail_info_text));
		else if (fi)
			txn_set_verdict(t, VERDICT_REJECTED, str_printf("%s: %s", fi, scep_fail_info_meaning(rep->fail_info)));
		else if (rep->fail_info >= 0)
			txn_set_verdict(t, VERDICT_REJECTED, str_printf("failInfo %d", rep->fail_info));
		else
			txn_set_verdict(t, VERDICT_REJECTED, strdup("failInfo absent"));
		break;
	case SCEP_STATUS_PENDING:
		txn_set_verdict(t, VERDICT_PENDING, strdup("still pending at the end of the capture"));
		break;
	default:
		txn_set_verdict(t, VERDICT_UNDECODED, str_printf("CertRep with pkiStatus %d", rep->pki_status));
	}
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
	txn_set_verdict(t, v, reason);
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
	const struct scep_event *err;
	uint64_t lost;
	size_t i;

	for (i = 0; i < t->n_events; i++) {
		const struct scep_event *e = t->events[i];
		const struct scep_tls *tls = e->tls;

		if (e->op != SCEP_OP_TLS || !tls || !tls->handshake_failed)
			continue;
		lost = tls_failure_unseen(tls) ? txn_lost_after(tt, event_start(e)) : 0;
		if (lost)
			txn_set_verdict(t, VERDICT_INCOMPLETE, str_printf("TLS handshake not seen to the end%s%s%s: the capture "
								      "lost %llu packet%s (kernel drops) meanwhile",
								      tls->alert ? " (" : "", tls->alert ? tls->alert : "",
								      tls->alert ? ")" : "", (unsigned long long)lost,
								      lost == 1 ? "" : "s"));
		else
			txn_set_verdict(t, VERDICT_NO_RESPONSE, str_printf("TLS handshake failed%s%s: no SCEP request was sent",
								      tls->alert ? ": " : "", tls->alert ? tls->alert : ""));
		return;
	}
	if ((err = txn_first_http_error(t)))
		txn_set_verdict(t, VERDICT_HTTP_ERROR, http_error_reason(err));
	else
		txn_set_verdict(t, VERDICT_NONE, NULL);
}

/* What damaged ev, after "request damaged" or "response damaged": its
 * capture gap, else the HTTP layer's reason for the side (main) or the
 * other one. Malloc'ed. */
static char *damage_text(const struct scep_event *ev, const char *main, const char *other)
{
	uint32_t snap = ev->req_snaplen > ev->res_snaplen ? ev->req_snaplen : ev->res_snaplen;

	/* the bytes are not lost but were never kept: only a new capture helps */
	if (snap)
		return str_printf(": capture cut at %u bytes per packet; re-capture with -s 0", snap);
	if (ev->gap_bytes || (!main && !other))
		return str_printf(" by a %llu-byte capture gap", (unsigned long long)ev->gap_bytes);
	return str_printf(": %s", main ? main : other);
}

/* The request went unanswered in the capture: when the capture lost
 * packets after it, the answer may be among them, and that is what the
 * verdict says (INCOMPLETE), not that the server never answered. */
static void settle_unanswered(struct txn_table *tt, struct txn *t, const struct scep_event *ev)
{
	uint64_t lost = txn_lost_after(tt, event_start(ev));

	if (ev->damaged) {
		char *why = damage_text(ev, ev->req_damage, ev->res_damage);

		set_verdict_noted(t, VERDICT_INCOMPLETE,
				  str_printf("request damaged%s, no response", why ? why : ""),
				  loss_note(lost, "after it was sent"));
		free(why);
	} else if (lost) {
		txn_set_verdict(t, VERDICT_INCOMPLETE, str_printf("no response captured, but the capture lost %llu packet%s "
							      "(kernel drops) after the request: the answer may be among them",
							      (unsigned long long)lost, lost == 1 ? "" : "s"));
	} else {
		txn_set_verdict(t, VERDICT_NO_RESPONSE, strdup("PKIOperation never answered"));
	}
}

static void settle_verdict(struct txn_table *tt, struct txn *t)
{
	const struct scep_event *ev = txn_last_pki_operation(t);

	if (!ev) {
		settle_group_verdict(tt, t);
		return;
	}
	if (!ev->has_response) {
		settle_unanswered(tt, t, ev);
		return;
	}
	if (ev->status != 200) {
		txn_set_verdict(t, VERDICT_HTTP_ERROR, http_error_reason(ev));
		return;
	}
	if (ev->reply && ev->reply->decoded) {
		settle_reply_verdict(t, ev->reply);
		/* a later CertRep (after polling) may be what the capture lost */
		if (t->verdict == VERDICT_PENDING)
			set_verdict_noted(t, VERDICT_PENDING, t->reason ? strdup(t->reason) : NULL,
					  loss_note(txn_lost_after(tt, event_end(ev)), "after it: a later CertRep may be among them"));
		return;
	}
	if (ev->damaged) {
		char *why = damage_text(ev, ev->res_damage, ev->req_damage);

		set_verdict_noted(t, VERDICT_INCOMPLETE, str_printf("response damaged%s", why ? why : ""),
				  loss_note(txn_lost_between(tt, event_start(ev), event_end(ev) + 1), "meanwhile"));
		free(why);
		return;
	}
	if (ev->reply && ev->reply->error)
		txn_set_verdict(t, VERDICT_UNDECODED, str_printf("CertRep: %s", ev->reply->error));
	else if (ev->problem)
		txn_set_verdict(t, VERDICT_UNDECODED, strdup(ev->problem));
	else if (ev->error_text)
		txn_set_verdict(t, VERDICT_UNDECODED, str_printf("HTTP 200 without a CertRep: \"%s\"", ev->error_text));
	else
		txn_set_verdict(t, VERDICT_UNDECODED, strdup("HTTP 200 without a CertRep"));
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

/* Orders the events, then decides the verdict and runs the checks, once. */
void txn_settle(struct txn_table *tt, struct txn *t, int have_wire)
{
	char *proven[TXN_HISTORY_FINDINGS];
	size_t i, n;

	if (t->settled)
		return;
	if (t->n_events)
		qsort(t->events, t->n_events, sizeof(*t->events), cmp_event_time);
	settle_verdict(tt, t);
	txn_run_checks(t);
	n = txn_history_findings(tt, t, proven);
	for (i = 0; i < n; i++)
		txn_add_finding(t, proven[i]);
	txn_settle_device(t, have_wire);
	txn_advise(t);
	txn_history_add(tt, t, txn_verdict_name(t->verdict));
	t->settled = 1;
}
