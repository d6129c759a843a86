/* devmerge.c - device log lines on the transactions' timelines: by
 * transactionID, else by time; a request only the device saw gets a
 * transaction of its own, and the device's word joins the verdict. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devlog.h"
#include "scep.h"
#include "strutil.h"
#include "txn_internal.h"

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

	for (t = *txn_id_bucket(tt, tid); t; t = t->id_next) {
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

/* A transaction known only from the device: its own CertRep lines decide. */
static void settle_from_device(struct txn *t)
{
	size_t i;
	int st = -1;

	for (i = 0; i < t->n_device; i++)
		if (t->device[i].kind == DEVLOG_RESPONSE && t->device[i].pki_status >= 0)
			st = t->device[i].pki_status;
	if (st == SCEP_STATUS_SUCCESS)
		txn_set_verdict(t, device_delivered(t) ? VERDICT_DELIVERED : VERDICT_ISSUED,
			    strdup("from the device log"));
	else if (st == SCEP_STATUS_FAILURE)
		txn_set_verdict(t, VERDICT_REJECTED, strdup("from the device log"));
	else if (st == SCEP_STATUS_PENDING)
		txn_set_verdict(t, VERDICT_PENDING, strdup("from the device log"));
	else if (device_delivered(t))
		txn_set_verdict(t, VERDICT_DELIVERED, strdup("from the device log"));
	else if (t->first_msg_type == TXN_DEVICE_GROUP)
		txn_set_verdict(t, VERDICT_NONE, NULL);     /* lines of no enrollment */
	else if (device_has(t, DEVLOG_RESPONSE))
		txn_set_verdict(t, VERDICT_UNDECODED, strdup("the device log shows the HTTP answer, not its CertRep"));
	else if (device_has(t, DEVLOG_REQUEST_SENT))
		txn_set_verdict(t, VERDICT_NO_RESPONSE, strdup("no response in the device log"));
	else
		txn_set_verdict(t, VERDICT_NONE, NULL);
}

/* What the device says about the outcome: DELIVERED, and the findings
 * only both sides together can give. */
void txn_settle_device(struct txn *t, int have_wire)
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
		txn_set_verdict(t, VERDICT_DELIVERED, NULL);
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
