/* summary.c - end-of-run figures, counted one transaction (or one
 * summary) at a time by the transaction table, then ordered
 * deterministically (count, then address) for stable output. Knows
 * transactions, not the table that holds them. */
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "scep.h"
#include "summary.h"

static size_t endpoint_hash(const struct endpoint *ep)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < 16; i++)
		h = (h ^ ep->addr[i]) * 16777619u;
	h = (h ^ ep->port) * 16777619u;
	return (h ^ ep->family) * 16777619u;
}

static size_t *index_find(const struct group_index *ix, const struct summary_group *arr,
			  const struct endpoint *ep)
{
	size_t i = endpoint_hash(ep) & (ix->cap - 1);

	while (ix->slot[i] && !endpoint_eq(&arr[ix->slot[i] - 1].ep, ep))
		i = (i + 1) & (ix->cap - 1);
	return &ix->slot[i];
}

static int index_grow(struct group_index *ix, const struct summary_group *arr, size_t n)
{
	size_t cap = ix->cap ? ix->cap * 2 : 64, k;
	struct group_index nix = { calloc(cap, sizeof(*nix.slot)), cap };

	if (!nix.slot)
		return -1;
	for (k = 0; k < n; k++)
		*index_find(&nix, arr, &arr[k].ep) = k + 1;
	free(ix->slot);
	*ix = nix;
	return 0;
}

static struct summary_group *group_for(struct summary_group **arr, size_t *n, size_t *alloc,
				       struct group_index *ix, const struct endpoint *ep,
				       struct summary_group *other, size_t max_groups)
{
	struct summary_group *g;
	size_t *slot;

	if ((*n + 1) * 2 > ix->cap && index_grow(ix, *arr, *n) < 0)
		return NULL;
	slot = index_find(ix, *arr, ep);
	if (*slot)
		return &(*arr)[*slot - 1];
	if (max_groups && *n >= max_groups)
		return other;
	if (*n == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 8;

		g = realloc(*arr, na * sizeof(**arr));
		if (!g)
			return NULL;
		*arr = g;
		*alloc = na;
	}
	g = &(*arr)[(*n)++];
	memset(g, 0, sizeof(*g));
	g->ep = *ep;
	*slot = *n;
	return g;
}

static struct summary_group *server_group(struct summary *s, const struct endpoint *ep)
{
	return group_for(&s->servers, &s->n_servers, &s->servers_alloc, &s->server_idx, ep,
			 &s->other_servers, s->max_groups);
}

static struct summary_group *client_group(struct summary *s, const struct endpoint *ep)
{
	return group_for(&s->clients, &s->n_clients, &s->clients_alloc, &s->client_idx, ep,
			 &s->other_clients, s->max_groups);
}

static void count_in(struct summary_group *g, enum txn_verdict v)
{
	if (g) {
		g->total++;
		g->by_verdict[v]++;
	}
}

static int cmp_group(const void *a, const void *b)
{
	const struct summary_group *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	if (x->ep.family != y->ep.family)
		return x->ep.family < y->ep.family ? -1 : 1;
	if (memcmp(x->ep.addr, y->ep.addr, 16))
		return memcmp(x->ep.addr, y->ep.addr, 16);
	return x->ep.port < y->ep.port ? -1 : x->ep.port > y->ep.port;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int txn_latency(const struct txn *t, uint64_t *lat)
{
	uint64_t start = 0, end = 0;
	size_t i;

	for (i = 0; i < t->n_events; i++) {
		const struct scep_event *e = t->events[i];

		if (e->op != SCEP_OP_PKIOPERATION || !e->has_response || e->request_missing)
			continue;
		if (!start || e->req_first_ts_ns < start)
			start = e->req_first_ts_ns;
		if (e->status == 200 && e->res_last_ts_ns > end)
			end = e->res_last_ts_ns;
	}
	if (!start || end < start)
		return 0;
	*lat = end - start;
	return 1;
}

/* Nearest-rank percentile of sorted values. */
static uint64_t percentile(const uint64_t *v, size_t n, unsigned pct)
{
	size_t rank = (n * pct + 99) / 100;

	return v[rank ? rank - 1 : 0];
}

static int add_latency(struct summary *s, uint64_t v)
{
	if (s->n_latency == s->lat_alloc) {
		size_t na = s->lat_alloc ? s->lat_alloc * 2 : 64;
		uint64_t *nl = realloc(s->latencies, na * sizeof(*nl));

		if (!nl)
			return -1;
		s->latencies = nl;
		s->lat_alloc = na;
	}
	s->latencies[s->n_latency++] = v;
	return 0;
}

int txn_is_endpoint_group(const struct txn *t)
{
	return !t->transaction_id && (t->first_msg_type == TXN_ENDPOINT_GROUP || t->verdict == VERDICT_NONE);
}

int summary_add_txn(struct summary *s, const struct txn *t)
{
	struct endpoint client = t->client;
	uint64_t lat;
	size_t k;

	for (k = 0; k < t->n_events; k++)
		s->damaged_exchanges += t->events[k]->damaged != 0;
	if (txn_is_endpoint_group(t)) {
		s->endpoint_groups++;
		s->group_verdicts[t->verdict]++;
		return 0;
	}
	s->transactions++;
	s->by_verdict[t->verdict]++;
	client.port = 0;
	if (t->server.family) {     /* device-log-only transactions have no endpoints */
		count_in(server_group(s, &t->server), t->verdict);
		count_in(client_group(s, &client), t->verdict);
	}
	return txn_latency(t, &lat) ? add_latency(s, lat) : 0;
}

static void add_group_counts(struct summary_group *g, const struct summary_group *from)
{
	size_t v;

	g->total += from->total;
	for (v = 0; v < VERDICT_COUNT; v++)
		g->by_verdict[v] += from->by_verdict[v];
}

static void add_groups(struct summary *s, struct summary_group *(*group)(struct summary *, const struct endpoint *),
		       const struct summary_group *from, size_t n_from)
{
	size_t i;

	for (i = 0; i < n_from; i++) {
		struct summary_group *g = group(s, &from[i].ep);

		if (g)
			add_group_counts(g, &from[i]);
	}
}

int summary_add_summary(struct summary *s, const struct summary *from)
{
	size_t i;

	s->transactions += from->transactions;
	s->endpoint_groups += from->endpoint_groups;
	s->damaged_exchanges += from->damaged_exchanges;
	for (i = 0; i < VERDICT_COUNT; i++) {
		s->by_verdict[i] += from->by_verdict[i];
		s->group_verdicts[i] += from->group_verdicts[i];
	}
	add_groups(s, server_group, from->servers, from->n_servers);
	add_groups(s, client_group, from->clients, from->n_clients);
	add_group_counts(&s->other_servers, &from->other_servers);
	add_group_counts(&s->other_clients, &from->other_clients);
	for (i = 0; i < from->n_latency; i++)
		if (add_latency(s, from->latencies[i]) < 0)
			return -1;
	return 0;
}

int summary_finish(struct summary *s)
{
	if (s->n_latency) {
		qsort(s->latencies, s->n_latency, sizeof(*s->latencies), cmp_u64);
		s->latency_p50 = percentile(s->latencies, s->n_latency, 50);
		s->latency_p90 = percentile(s->latencies, s->n_latency, 90);
		s->latency_p99 = percentile(s->latencies, s->n_latency, 99);
		s->latency_max = s->latencies[s->n_latency - 1];
	}
	if (s->n_servers)
		qsort(s->servers, s->n_servers, sizeof(*s->servers), cmp_group);
	if (s->n_clients)
		qsort(s->clients, s->n_clients, sizeof(*s->clients), cmp_group);
	/* the positions moved; nothing is counted in after this */
	free(s->server_idx.slot);
	free(s->client_idx.slot);
	memset(&s->server_idx, 0, sizeof(s->server_idx));
	memset(&s->client_idx, 0, sizeof(s->client_idx));
	return 0;
}

void summary_free(struct summary *s)
{
	free(s->latencies);
	free(s->servers);
	free(s->clients);
	free(s->server_idx.slot);
	free(s->client_idx.slot);
	memset(s, 0, sizeof(*s));
}

uint64_t summary_capped(const struct counters *c)
{
	return c->flows_capped + c->flows_shed_not_scep + c->flows_shed_idle + c->memory_refused +
	       c->http_bodies_capped + c->h2_headers_capped + c->h2_streams_capped + c->h2_tables_capped +
	       c->tls_opaque_capped + c->txns_evicted + c->txn_events_capped +
	       c->device_events_capped + c->device_lines_capped + c->keylog_capped +
	       (c->reasm_bytes_capped != 0) + (c->tls_bytes_capped != 0) + (c->device_bytes_capped != 0) +
	       (c->dsb_keylog_bytes_capped != 0);
}
