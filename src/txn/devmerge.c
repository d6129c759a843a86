/* devmerge.c - device log lines on the transactions' timelines: by
 * transactionID, else by URL, else by time among the transactions the same
 * log identified, else by time within DEVICE_TIGHT_NS, else in a block of
 * their own; a request only the device saw gets a transaction of its own,
 * and the device's word joins the verdict. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "devlog.h"
#include "scep.h"
#include "strutil.h"
#include "txn_internal.h"

/* Device events are placed by capture time; a log line this far from any
 * transaction is not guessed onto one. */
#define DEVICE_WINDOW_NS (3600ull * 1000000000ull)
/* Device and capture clocks rarely agree to the millisecond. */
#define DEVICE_SLACK_NS (5ull * 1000000000ull)
/* A line that only its time places (no transactionID, no URL, and no
 * transaction of its own device log near it) joins a transaction of the
 * capture only this close to its exchanges: syslog stamps whole seconds
 * (up to 1 s early) and a device clock kept by NTP is off by well under a
 * second more. Past that, with several devices enrolling, the nearest
 * transaction is as likely another device's (a Windows CA-thumbprint
 * error 5.4 s before another device's rejection). */
#define DEVICE_TIGHT_NS (2ull * 1000000000ull)
/* syslog's whole-second stamps: a line may read up to this much earlier
 * than one written before it */
#define DEVICE_SECOND_NS 1000000000ull

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
			return str_printf("error %s Code=%lld: %s", e->error_domain, (long long)e->error_code, e->text ? e->text : "");
		/* Apple prints NSError codes in decimal, domain or not */
		if (e->has_error_code && e->source && !strcmp(e->source, "ios"))
			return str_printf("error Code=%lld: %s", (long long)e->error_code, e->text ? e->text : "");
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

static uint64_t abs_diff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/* How far ts is from the span [first, last]: 0 inside it. */
static uint64_t span_distance(uint64_t first, uint64_t last, uint64_t ts)
{
	if (ts < first)
		return first - ts;
	return ts > last ? ts - last : 0;
}

/* One device log is one device: the transactions its transactionIDs and
 * URLs identified are that device's, and its other lines are placed among
 * those first. anchor: the earliest identifying line's time, on the
 * device's own clock (which may be off from the capture's). */
struct device_txn {
	struct txn *t;
	uint64_t anchor_ns;
};

struct device_txns {
	struct device_txn *d;
	size_t n;
};

static void device_txns_add(struct device_txns *d, struct txn *t, uint64_t ts, size_t cap)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < d->n; i++)
		if (d->d[i].t == t) {
			if (ts < d->d[i].anchor_ns)
				d->d[i].anchor_ns = ts;
			return;
		}
	if (d->n < cap) {
		d->d[d->n].t = t;
		d->d[d->n++].anchor_ns = ts;
	}
}

/* Two stamps of whole seconds may be up to a second out of order. */
static uint64_t second_slack(uint64_t a, uint64_t b)
{
	return a % DEVICE_SECOND_NS == 0 && b % DEVICE_SECOND_NS == 0 ? DEVICE_SECOND_NS : 0;
}

/* The device's enrollment a line without an ID belongs to: the latest one
 * it had begun by then (an installation follows its enrollment). Lines
 * before every one of them are not guessed onto the next. */
static struct txn *device_txn_by_time(const struct device_txns *d, uint64_t ts, int no_date)
{
	const struct device_txn *best = NULL;
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct device_txn *x = &d->d[i];

		if (x->t->no_date != no_date || x->anchor_ns > ts + second_slack(ts, x->anchor_ns) ||
		    ts - (x->anchor_ns > ts ? ts : x->anchor_ns) > DEVICE_WINDOW_NS)
			continue;
		if (!best || x->anchor_ns > best->anchor_ns)
			best = x;
	}
	return best ? best->t : NULL;
}

/* "127.0.0.1:8002" and "/scep" of "http://127.0.0.1:8002/scep?...". */
static int url_split(const char *url, char *host, size_t hlen, char *path, size_t plen)
{
	const char *a = strstr(url, "://"), *slash, *q;
	size_t n;

	a = a ? a + 3 : url;
	slash = a + strcspn(a, "/?#");
	n = (size_t)(slash - a);
	if (!n || n >= hlen)
		return -1;
	memcpy(host, a, n);
	host[n] = '\0';
	q = slash + strcspn(slash, "?#");
	n = (size_t)(q - slash);
	if (n >= plen)
		return -1;
	memcpy(path, slash, n);
	path[n] = '\0';
	return 0;
}

/* The URL's host (as in a Host header, with or without its port) names
 * the server of this exchange, and its path is the exchange's. */
static int event_at_url(const struct scep_event *ev, const char *host, const char *path)
{
	char srv[ENDPOINT_STRLEN], addr[ENDPOINT_STRLEN];

	if (path[0] && ev->path && strcmp(ev->path, path))
		return 0;
	if (ev->host && !strcasecmp(ev->host, host))
		return 1;
	return !strcmp(endpoint_str(&ev->server, srv, sizeof(srv)), host) ||
	       !strcmp(endpoint_addr_str(&ev->server, addr, sizeof(addr)), host);
}

static int txn_at_url(const struct txn *t, const char *host, const char *path)
{
	size_t i;

	for (i = 0; i < t->n_events; i++)
		if (event_at_url(t->events[i], host, path))
			return 1;
	return 0;
}

/* A transaction of the capture, not one made from device lines. */
static int is_wire_txn(const struct txn *t)
{
	return t->first_msg_type != TXN_DEVICE_ONLY && t->first_msg_type != TXN_DEVICE_GROUP &&
	       t->first_msg_type != TXN_DEVICE_UNMATCHED;
}

/* Time alone says little when several devices enroll at once: only a
 * transaction whose exchanges span the line's time, give or take
 * DEVICE_TIGHT_NS, takes it (the nearest); with a URL, only one to that
 * server and path. */
static struct txn *txn_near(struct txn_table *tt, const struct devlog_event *e)
{
	char host[256], path[1024];
	struct txn *best = NULL;
	uint64_t best_d = 0;
	int have_url = e->url && url_split(e->url, host, sizeof(host), path, sizeof(path)) == 0;
	size_t i;

	if (e->url && !have_url)
		return NULL;
	for (i = 0; i < tt->n; i++) {
		struct txn *t = tt->txns[i];
		uint64_t d;

		if (!is_wire_txn(t) || t->no_date != e->ts_no_date)
			continue;
		d = span_distance(t->first_ts_ns, t->last_ts_ns, e->ts_ns);
		if (d > DEVICE_TIGHT_NS || (best && d >= best_d))
			continue;
		if (have_url && !txn_at_url(t, host, path))
			continue;
		best = t;
		best_d = d;
	}
	return best;
}

/* A line naming a URL: the device's own transaction with that server
 * (identified by another of its lines, on the same clock) within
 * DEVICE_WINDOW_NS, the nearest. */
static struct txn *device_txn_at_url(const struct device_txns *d, const struct devlog_event *e)
{
	char host[256], path[1024];
	const struct device_txn *best = NULL;
	size_t i;

	if (!e->url || url_split(e->url, host, sizeof(host), path, sizeof(path)) < 0)
		return NULL;
	for (i = 0; i < d->n; i++) {
		const struct device_txn *x = &d->d[i];

		if (x->t->no_date != e->ts_no_date || !txn_at_url(x->t, host, path) ||
		    abs_diff(x->anchor_ns, e->ts_ns) > DEVICE_WINDOW_NS)
			continue;
		if (!best || abs_diff(x->anchor_ns, e->ts_ns) < abs_diff(best->anchor_ns, e->ts_ns))
			best = x;
	}
	return best ? best->t : NULL;
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

/* kind: TXN_DEVICE_GROUP (a device log alone: its lines without an ID) or
 * TXN_DEVICE_UNMATCHED (lines no transaction of the capture claimed). */
static struct txn *device_group(struct txn_table *tt, const struct devlog_event *e, int kind)
{
	size_t i;

	for (i = 0; i < tt->n; i++)
		if (tt->txns[i]->first_msg_type == kind && tt->txns[i]->no_date == e->ts_no_date)
			return tt->txns[i];
	return device_only_txn(tt, e, NULL, kind);
}

static void txn_add_device(struct txn *t, const struct devlog_event *e, const char *matched_by)
{
	struct txn_device_event *n = realloc(t->device, (t->n_device + 1) * sizeof(*n));

	if (!n)
		return;
	t->device = n;
	n += t->n_device++;
	memset(n, 0, sizeof(*n));
	n->ts_ns = n->order_ts_ns = e->ts_ns;
	n->kind = e->kind;
	n->source = e->source;
	n->what = device_what(e);
	n->transaction_id = str_dup_or_null(e->transaction_id);
	n->pki_status = e->pki_status;
	n->inferred = !e->transaction_id;
	n->matched_by = matched_by;
	n->line_no = e->line_no;
	n->root_cert = e->root_cert;
	n->no_date = e->ts_no_date;
}

static int table_has_wire_txn(const struct txn_table *tt)
{
	size_t i;

	for (i = 0; i < tt->n; i++)
		if (is_wire_txn(tt->txns[i]))
			return 1;
	return 0;
}

/* Where each line goes, decided before any is added: a transaction's span
 * grown by one device line must not pull the next one in. */
struct placement {
	struct txn *t;
	const char *matched_by;     /* NULL: by transactionID */
};

/* Pass 1: transactionIDs (a request only the device saw gets a
 * transaction of its own). */
static void place_by_id(struct txn_table *tt, const struct devlog_list *l, struct placement *p,
			struct device_txns *mine)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct devlog_event *e = &l->ev[i];

		if (e->kind == DEVLOG_OTHER || !e->transaction_id)
			continue;
		p[i].t = txn_with_id(tt, e->transaction_id, e->ts_ns, e->ts_no_date);
		if (!p[i].t)
			p[i].t = device_only_txn(tt, e, e->transaction_id, TXN_DEVICE_ONLY);
		device_txns_add(mine, p[i].t, e->ts_ns, l->n);
	}
}

/* Pass 2: URLs, to the device's own transaction with that server, else
 * one of the capture's to that server close in time (which becomes the
 * device's). */
static void place_by_url(struct txn_table *tt, const struct devlog_list *l, struct placement *p,
			 struct device_txns *mine)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct devlog_event *e = &l->ev[i];

		if (e->kind == DEVLOG_OTHER || e->transaction_id || !e->url)
			continue;
		p[i].t = device_txn_at_url(mine, e);
		if (!p[i].t)
			p[i].t = txn_near(tt, e);
		if (p[i].t) {
			p[i].matched_by = "URL and time";
			device_txns_add(mine, p[i].t, e->ts_ns, l->n);
		}
	}
}

/* Pass 3: the rest by time, among the device's transactions first; a
 * line near none of the capture's is not guessed onto another device's. */
static void place_by_time(struct txn_table *tt, const struct devlog_list *l, struct placement *p,
			  const struct device_txns *mine)
{
	int wire = table_has_wire_txn(tt);
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct devlog_event *e = &l->ev[i];

		if (e->kind == DEVLOG_OTHER || p[i].t || e->transaction_id)
			continue;
		p[i].t = device_txn_by_time(mine, e->ts_ns, e->ts_no_date);
		p[i].matched_by = "time, to its log's transaction";
		if (!p[i].t && !e->url) {
			p[i].t = txn_near(tt, e);
			p[i].matched_by = "time, within 2 s";
		}
		if (!p[i].t) {
			/* a device log alone: its lines still make a timeline */
			p[i].t = device_group(tt, e, wire ? TXN_DEVICE_UNMATCHED : TXN_DEVICE_GROUP);
			p[i].matched_by = NULL;
		}
	}
}

void txn_add_device_events(struct txn_table *tt, const struct devlog_list *l)
{
	struct placement *p;
	struct device_txns mine;
	size_t i;

	if (!l->n)
		return;
	p = calloc(l->n, sizeof(*p));
	mine.d = calloc(l->n, sizeof(*mine.d));
	mine.n = 0;
	if (!p || !mine.d) {
		free(p);
		free(mine.d);
		return;
	}
	place_by_id(tt, l, p, &mine);
	place_by_url(tt, l, p, &mine);
	place_by_time(tt, l, p, &mine);
	for (i = 0; i < l->n; i++) {
		const struct devlog_event *e = &l->ev[i];
		struct txn *t = p[i].t;

		if (!t)
			continue;
		txn_add_device(t, e, p[i].matched_by);
		if (e->ts_ns < t->first_ts_ns)
			t->first_ts_ns = e->ts_ns;
		if (e->ts_ns > t->last_ts_ns)
			t->last_ts_ns = e->ts_ns;
	}
	free(p);
	free(mine.d);
}

static int cmp_device_time(const void *a, const void *b)
{
	const struct txn_device_event *x = a, *y = b;

	if (x->order_ts_ns != y->order_ts_ns)
		return x->order_ts_ns < y->order_ts_ns ? -1 : 1;
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
	if (t->first_msg_type == TXN_DEVICE_UNMATCHED)
		txn_set_verdict(t, VERDICT_NONE, NULL);     /* no enrollment's, or not known whose */
	else if (st == SCEP_STATUS_SUCCESS)
		txn_set_verdict(t, device_delivered(t) ? VERDICT_DELIVERED : VERDICT_ISSUED,
			    strdup("from the device log"));
	else if (st == SCEP_STATUS_FAILURE)
		txn_set_verdict(t, VERDICT_REJECTED, strdup("from the device log"));
	else if (st == SCEP_STATUS_PENDING)
		txn_set_verdict(t, VERDICT_PENDING, strdup("from the device log"));
	else if (device_delivered(t))
		txn_set_verdict(t, VERDICT_DELIVERED, strdup("from the device log"));
	else if (t->first_msg_type == TXN_DEVICE_GROUP || t->first_msg_type == TXN_DEVICE_UNMATCHED)
		txn_set_verdict(t, VERDICT_NONE, NULL);     /* lines of no enrollment */
	else if (device_has(t, DEVLOG_RESPONSE))
		txn_set_verdict(t, VERDICT_UNDECODED, strdup("the device log shows the HTTP answer, not its CertRep"));
	else if (device_has(t, DEVLOG_REQUEST_SENT))
		txn_set_verdict(t, VERDICT_NO_RESPONSE, strdup("no response in the device log"));
	else
		txn_set_verdict(t, VERDICT_NONE, NULL);
}

/* syslog stamps whole seconds, cut, not rounded: an error logged at
 * 17:30:21 came within the second after, possibly after the request the
 * capture saw at 17:30:21.659 that it answers. Such an outcome is placed
 * after the exchanges that began in its second; what it sent stays first
 * (the device logs a request before the wire carries it). */
static void place_whole_seconds(struct txn *t)
{
	size_t i, k;

	for (i = 0; i < t->n_device; i++) {
		struct txn_device_event *d = &t->device[i];

		if (d->ts_ns % DEVICE_SECOND_NS || d->kind == DEVLOG_REQUEST_SENT)
			continue;
		for (k = 0; k < t->n_events; k++) {
			const struct scep_event *ev = t->events[k];
			uint64_t at = ev->req_first_ts_ns ? ev->req_first_ts_ns : ev->res_first_ts_ns;

			if (at >= d->ts_ns && at < d->ts_ns + DEVICE_SECOND_NS && at > d->order_ts_ns)
				d->order_ts_ns = at;
		}
		if (d->order_ts_ns != d->ts_ns && d->what) {
			char *w = str_printf("%s (logged to the whole second)", d->what);

			if (w) {
				free(d->what);
				d->what = w;
			}
		}
	}
}

/* What the device says about the outcome: DELIVERED, and the findings
 * only both sides together can give. */
void txn_settle_device(struct txn *t, int have_wire)
{
	int android = 0;
	size_t i;

	if (!t->n_device)
		return;
	place_whole_seconds(t);
	qsort(t->device, t->n_device, sizeof(*t->device), cmp_device_time);
	for (i = 0; i < t->n_device; i++)
		android |= !strcmp(t->device[i].source, "android");
	if (t->first_msg_type == TXN_DEVICE_UNMATCHED)
		txn_add_finding(t, strdup("no transaction of the capture claimed these lines: no transactionID or URL of one, and more than 2 s from its exchanges (device clock or time zone off? see --device-tz, --device-skew)"));
	if (!is_wire_txn(t)) {
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
