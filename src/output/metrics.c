/* metrics.c - the Prometheus sink: settled transactions counted into
 * struct metrics, printed in the text exposition format (version 0.0.4)
 * with the capture's counters. Label values come off the wire (servers)
 * or from our own names; all are escaped as the format says. */
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "metrics.h"
#include "scep.h"
#include "summary.h"

/* Upper bounds in seconds; the last bucket, +Inf, is implied. */
static const double latency_le[METRICS_LATENCY_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900
};

/* The server's slot, kept in name order so the file reads the same
 * whatever order transactions settled in. */
static struct metrics_server *server_slot(struct metrics *m, const struct txn *t)
{
	char name[ENDPOINT_STRLEN];
	size_t lo = 0, hi = m->n_servers;

	if (!t->server.family)      /* a transaction only the device log knows */
		return &m->none;
	endpoint_str(&t->server, name, sizeof(name));
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(m->servers[mid].name, name);

		if (!c)
			return &m->servers[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (m->n_servers >= METRICS_MAX_SERVERS)
		return &m->other;
	if (m->n_servers == m->servers_alloc) {
		size_t na = m->servers_alloc ? m->servers_alloc * 2 : 8;
		struct metrics_server *ns = realloc(m->servers, na * sizeof(*ns));

		if (!ns)
			return &m->other;   /* counted, if not told apart */
		m->servers = ns;
		m->servers_alloc = na;
	}
	memmove(&m->servers[lo + 1], &m->servers[lo], (m->n_servers - lo) * sizeof(*m->servers));
	memset(&m->servers[lo], 0, sizeof(*m->servers));
	snprintf(m->servers[lo].name, sizeof(m->servers[lo].name), "%s", name);
	m->n_servers++;
	return &m->servers[lo];
}

/* The failInfo of a rejected enrollment's last FAILURE CertRep. */
static void count_fail_info(struct metrics *m, const struct txn *t)
{
	size_t i = t->n_events;

	while (i-- > 0) {
		const struct scep_msg *rep = t->events[i]->reply;

		if (t->events[i]->op != SCEP_OP_PKIOPERATION || !rep || !rep->decoded ||
		    rep->pki_status != SCEP_STATUS_FAILURE)
			continue;
		if (rep->fail_info >= 0 && rep->fail_info < METRICS_FAILINFO_SLOTS - 1 &&
		    scep_fail_info_name(rep->fail_info))
			m->fail_info[rep->fail_info]++;
		else
			m->fail_info[METRICS_FAILINFO_SLOTS - 1]++;
		return;
	}
}

static void count_latency(struct metrics *m, const struct txn *t)
{
	uint64_t lat;
	size_t b = 0;

	if (!txn_latency(t, &lat))
		return;
	while (b < METRICS_LATENCY_BUCKETS && (double)lat / 1e9 > latency_le[b])
		b++;
	if (b < METRICS_LATENCY_BUCKETS)
		m->latency_buckets[b]++;
	m->latency_count++;
	m->latency_sum_ns += lat;
}

void metrics_add_txn(struct metrics *m, const struct txn *t)
{
	size_t i;

	for (i = 0; i < t->n_events; i++) {
		const struct scep_event *e = t->events[i];

		if (!e->has_response || e->status == 200 || e->op == SCEP_OP_TLS)
			continue;
		if (e->status > 0 && e->status < METRICS_HTTP_STATUS_MAX)
			m->http_status[e->status]++;
		else
			m->http_status_other++;
	}
	if (txn_is_endpoint_group(t)) {
		m->group_verdicts[t->verdict]++;
		return;
	}
	server_slot(m, t)->by_verdict[t->verdict]++;
	for (i = 0; i < TXN_POLL_KINDS; i++)
		m->polls[i] += t->polls[i];
	if (t->verdict == VERDICT_REJECTED)
		count_fail_info(m, t);
	count_latency(m, t);
}

/* A label value as the format wants it: backslash, double quote and line
 * feed escaped. */
static void put_label(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '"')
			fputs("\\\"", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static void put_head(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP scepdump_%s %s\n# TYPE scepdump_%s %s\n", name, help, name, type);
}

/* name{label="value"} n */
static void put_labelled(FILE *out, const char *name, const char *label, const char *value, uint64_t n)
{
	fprintf(out, "scepdump_%s{%s=\"", name, label);
	put_label(out, value);
	fprintf(out, "\"} %llu\n", (unsigned long long)n);
}

static void put_server(FILE *out, const struct metrics_server *s)
{
	size_t v;

	for (v = VERDICT_ISSUED; v < VERDICT_COUNT; v++) {
		fputs("scepdump_enrollments_total{server=\"", out);
		put_label(out, s->name);
		fprintf(out, "\",verdict=\"%s\"} %llu\n", txn_verdict_name((enum txn_verdict)v),
			(unsigned long long)s->by_verdict[v]);
	}
}

static int any_verdict(const struct metrics_server *s)
{
	size_t v;

	for (v = 0; v < VERDICT_COUNT; v++)
		if (s->by_verdict[v])
			return 1;
	return 0;
}

static void put_enrollments(FILE *out, const struct metrics *m)
{
	struct metrics_server other = m->other, none = m->none;
	size_t i;

	put_head(out, "enrollments_total", "counter",
		 "SCEP enrollments (transactions) settled, by verdict and server (addr:port).");
	for (i = 0; i < m->n_servers; i++)
		put_server(out, &m->servers[i]);
	snprintf(other.name, sizeof(other.name), "other");
	snprintf(none.name, sizeof(none.name), "none");
	if (any_verdict(&other))
		put_server(out, &other);
	if (any_verdict(&none))
		put_server(out, &none);
	put_head(out, "endpoint_groups_total", "counter",
		 "Exchanges of no enrollment (GetCACaps, GetCACert, TLS) grouped per connection, by verdict.");
	/* a group that went well has no verdict: "none" */
	for (i = 0; i < VERDICT_COUNT; i++)
		put_labelled(out, "endpoint_groups_total", "verdict",
			     i == VERDICT_NONE ? "none" : txn_verdict_name((enum txn_verdict)i), m->group_verdicts[i]);
}

static void put_fail_info(FILE *out, const struct metrics *m)
{
	size_t i;

	put_head(out, "failinfo_total", "counter",
		 "REJECTED enrollments by the failInfo of their last FAILURE CertRep.");
	for (i = 0; i < METRICS_FAILINFO_SLOTS; i++) {
		const char *name = i < METRICS_FAILINFO_SLOTS - 1 ? scep_fail_info_name((int)i) : NULL;

		put_labelled(out, "failinfo_total", "failinfo", name ? name : "other", m->fail_info[i]);
	}
}

static void put_latency(FILE *out, const struct metrics *m)
{
	uint64_t cum = 0;
	size_t b;

	put_head(out, "enrollment_latency_seconds", "histogram",
		 "Enrollment latency: first PKIOperation request to the last byte of the last CertRep.");
	for (b = 0; b < METRICS_LATENCY_BUCKETS; b++) {
		cum += m->latency_buckets[b];
		fprintf(out, "scepdump_enrollment_latency_seconds_bucket{le=\"%g\"} %llu\n", latency_le[b],
			(unsigned long long)cum);
	}
	fprintf(out, "scepdump_enrollment_latency_seconds_bucket{le=\"+Inf\"} %llu\n",
		(unsigned long long)m->latency_count);
	fprintf(out, "scepdump_enrollment_latency_seconds_sum %.9f\n", (double)m->latency_sum_ns / 1e9);
	fprintf(out, "scepdump_enrollment_latency_seconds_count %llu\n", (unsigned long long)m->latency_count);
}

static void put_polls_and_errors(FILE *out, const struct metrics *m)
{
	char status[8];
	size_t i;

	put_head(out, "polls_total", "counter",
		 "Requests again for an enrollment's certificate, by kind (CertPoll, re-submission, replay).");
	for (i = 0; i < TXN_POLL_KINDS; i++)
		put_labelled(out, "polls_total", "kind", txn_poll_kind_name((enum txn_poll_kind)i), m->polls[i]);
	put_head(out, "http_errors_total", "counter", "SCEP exchanges answered with an HTTP status other than 200, by status.");
	for (i = 0; i < METRICS_HTTP_STATUS_MAX; i++) {
		if (!m->http_status[i])
			continue;
		snprintf(status, sizeof(status), "%zu", i);
		put_labelled(out, "http_errors_total", "status", status, m->http_status[i]);
	}
	if (m->http_status_other)
		put_labelled(out, "http_errors_total", "status", "other", m->http_status_other);
}

static void put_plain(FILE *out, const char *name, const char *type, const char *help, uint64_t n)
{
	put_head(out, name, type, help);
	fprintf(out, "scepdump_%s %llu\n", name, (unsigned long long)n);
}

int metrics_write(FILE *out, const struct metrics *m, const struct metrics_run *run)
{
	const struct counters *c = run->cnt;

	put_enrollments(out, m);
	put_fail_info(out, m);
	put_latency(out, m);
	put_polls_and_errors(out, m);
	put_plain(out, "capture_packets_total", "counter", "Packets read.", c->packets);
	put_plain(out, "capture_dropped_total", "counter", "Packets the kernel dropped (live capture).",
		  c->capture_dropped);
	put_plain(out, "flows_total", "counter", "TCP connections tracked.", c->flows);
	put_plain(out, "capped_total", "counter",
		  "Times a cap or the memory budget cut something short (the summary's capped figure).",
		  summary_capped(c));
	put_head(out, "last_update_timestamp_seconds", "gauge", "When scepdump wrote this file, Unix time.");
	fprintf(out, "scepdump_last_update_timestamp_seconds %.3f\n", run->now_s);
	put_head(out, "build_info", "gauge", "scepdump's version; always 1.");
	fputs("scepdump_build_info{version=\"", out);
	put_label(out, run->version);
	fputs("\"} 1\n", out);
	return ferror(out) ? -1 : 0;
}

void metrics_free(struct metrics *m)
{
	free(m->servers);
	m->servers = NULL;
	m->n_servers = m->servers_alloc = 0;
}
