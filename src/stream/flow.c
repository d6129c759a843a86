/* flow.c - the flow table: owns every flow, its two reassemblers and the
 * link to the application layer's per-flow state. Trusts nothing in the
 * segments: addresses, ports, flags and numbers are attacker-chosen.
 *
 * A flow is the 5-tuple in either direction (TCP only, so protocol is
 * implied). The client is the sender of a SYN without ACK; a flow first
 * seen by its SYN-ACK has the receiver as client; otherwise the sender of
 * the first packet seen. When both directions have ended (FIN or RST),
 * ops->close is called and the flow stays as a closed entry (no state, no
 * events) for FLOW_CLOSED_LINGER_NS of quiet (or the idle timeout when that
 * is shorter), so the late ACKs and retransmitted FINs that follow every
 * close do not open a new flow. A SYN without ACK on a
 * closed or half-closed flow, or one whose sequence number is far from what
 * the flow expects, is a new connection on the same ports: the old flow is
 * closed first. A SYN equal to the one seen is a retransmission.
 *
 * An RST is taken at face value, without checking it against the window:
 * we report what the endpoints saw, and a capture cannot tell a blind reset
 * from a real one anyway.
 *
 * Caps: max_flows counts live and closed entries; when full, the oldest
 * closed entry goes, else the least recently used live flow is closed
 * (gaps flushed) and flows_capped counts it. A limit of 0 flows means 1;
 * an idle timeout of 0 means never.
 *
 * Memory: each entry charges FLOW_ENTRY_COST (itself and the state the
 * layers above keep for it) and held bytes charge theirs, to the run's
 * budget. A charge that would pass the budget sheds live flows other than
 * the one being read: first those that never looked like SCEP, then the
 * least recently used, each counted by cause (flows_shed_not_scep,
 * flows_shed_idle), until FLOW_SHED_SLACK of the budget is free beyond
 * what was asked, so shedding comes in rare batches, not at every packet.
 *
 * Order: ids are given in order of creation; flush closes flows by id, and
 * expiry walks flows from least to most recently used, so no output depends
 * on hash order.
 */
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "flow.h"
#include "membudget.h"
#include "reasm.h"

/* A SYN this far from the expected sequence number is not a retransmission
 * or a duplicate of this connection's: TCP windows stay well below it. */
#define FLOW_REUSE_DISTANCE (1 << 24)
#define FLOW_MIN_BUCKETS 64
/* What trails a close comes within seconds (Linux's TIME_WAIT is 60 s).
 * Closed entries used to stay for the whole idle timeout, so on a busy
 * link their number grew with the length of the capture, not its rate. */
#define FLOW_CLOSED_LINGER_NS (60ull * 1000000000ull)
/* An entry with both reassemblers, plus what HTTP (libhtp's connection
 * parser) or TLS keep per connection before any byte grows them. */
#define FLOW_ENTRY_COST (sizeof(struct flow_entry) + 4096)
/* Shedding frees 1/FLOW_SHED_SLACK of the budget beyond the charge that
 * asked, so that it comes in batches. */
#define FLOW_SHED_SLACK 16

struct flow_entry {
	struct flow pub;
	struct flow_entry *hnext;               /* hash chain */
	struct flow_entry *age_prev, *age_next; /* live LRU or closed FIFO */
	struct flow_entry *id_prev, *id_next;   /* live flows by id */
	uint32_t hash;
	int closed;
	int closing;            /* its held bytes are going up: not to be shed */
	void *app;
	struct reasm dir[2];
};

struct flow_list {
	struct flow_entry *head, *tail;
};

struct flow_table {
	struct flow_limits lim;
	struct counters *cnt;
	struct counters own_cnt;        /* when the caller gives none */
	struct flow_app_ops ops;
	void *ops_arg;
	struct flow_entry **buckets;
	size_t nbuckets;
	size_t nentries;                /* live + closed */
	struct flow_list live;          /* least recently used first */
	struct flow_list dead;          /* closed, oldest first */
	struct flow_list byid;
	uint64_t next_id;
	size_t total_held;
	struct flow_entry *current;     /* being read: never shed */
};

struct emit_arg {
	struct flow_table *ft;
	struct flow_entry *e;
};

static size_t ep_addr_len(const struct endpoint *ep)
{
	return ep->family == 6 ? 16 : 4;
}

static int ep_cmp(const struct endpoint *a, const struct endpoint *b)
{
	int d;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	d = memcmp(a->addr, b->addr, ep_addr_len(a));
	if (d)
		return d;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return 0;
}

/* One multiply-xorshift round per 32-bit word: every packet hashes its
 * tuple, and a byte-at-a-time hash was a visible share of the per-packet
 * cost. Neither hash has a secret: a crafted capture can fill one chain
 * either way, up to the max_flows cap. */
static uint32_t mix32(uint32_t h, uint32_t v)
{
	h ^= v;
	h *= 0x9E3779B1u;
	return h ^ (h >> 15);
}

static uint32_t ep_hash(uint32_t h, const struct endpoint *ep)
{
	size_t i, words = ep_addr_len(ep) / 4;
	uint32_t w;

	h = mix32(h, (uint32_t)ep->family << 16 | ep->port);
	for (i = 0; i < words; i++) {
		memcpy(&w, ep->addr + 4 * i, 4);
		h = mix32(h, w);
	}
	return h;
}

/* The same for both directions: the lower endpoint goes first. */
static uint32_t tuple_hash(const struct endpoint *a, const struct endpoint *b)
{
	uint32_t h = 2166136261u;

	if (ep_cmp(a, b) > 0) {
		const struct endpoint *t = a;

		a = b;
		b = t;
	}
	return ep_hash(ep_hash(h, a), b);
}

static void list_append(struct flow_list *l, struct flow_entry *e, int byid)
{
	struct flow_entry **prev = byid ? &e->id_prev : &e->age_prev;
	struct flow_entry **next = byid ? &e->id_next : &e->age_next;

	*prev = l->tail;
	*next = NULL;
	if (l->tail) {
		if (byid)
			l->tail->id_next = e;
		else
			l->tail->age_next = e;
	} else {
		l->head = e;
	}
	l->tail = e;
}

static void list_unlink(struct flow_list *l, struct flow_entry *e, int byid)
{
	struct flow_entry *prev = byid ? e->id_prev : e->age_prev;
	struct flow_entry *next = byid ? e->id_next : e->age_next;

	if (prev) {
		if (byid)
			prev->id_next = next;
		else
			prev->age_next = next;
	} else {
		l->head = next;
	}
	if (next) {
		if (byid)
			next->id_prev = prev;
		else
			next->age_prev = prev;
	} else {
		l->tail = prev;
	}
}

static size_t shed_flows(void *arg, size_t need);

struct flow_table *flow_table_new(const struct flow_limits *lim,
				  struct counters *cnt,
				  const struct flow_app_ops *ops, void *ops_arg)
{
	struct flow_table *ft = calloc(1, sizeof(*ft));

	if (!ft)
		return NULL;
	ft->lim = *lim;
	if (!ft->lim.max_flows)
		ft->lim.max_flows = 1;
	ft->cnt = cnt ? cnt : &ft->own_cnt;
	if (ops)
		ft->ops = *ops;
	ft->ops_arg = ops_arg;
	ft->nbuckets = FLOW_MIN_BUCKETS;
	ft->buckets = calloc(ft->nbuckets, sizeof(*ft->buckets));
	if (!ft->buckets) {
		free(ft);
		return NULL;
	}
	ft->next_id = 1;
	if (ft->lim.mem) {
		ft->lim.mem->shed = shed_flows;
		ft->lim.mem->shed_arg = ft;
	}
	return ft;
}

static struct reasm_ctx reasm_ctx_of(struct flow_table *ft, struct emit_arg *a);

static void on_reasm_event(void *arg, const struct stream_event *ev)
{
	struct emit_arg *a = arg;
	struct reasm_ctx c;

	if (a->ft->ops.event &&
	    a->ft->ops.event(a->e->app, &a->e->pub, ev) == FLOW_BYTES_UNREAD) {
		c = reasm_ctx_of(a->ft, a);
		reasm_stop_history(&a->e->dir[DIR_TO_SERVER], &c);
		reasm_stop_history(&a->e->dir[DIR_TO_CLIENT], &c);
	}
}

static struct reasm_ctx reasm_ctx_of(struct flow_table *ft, struct emit_arg *a)
{
	struct reasm_ctx c = {
		.cnt = ft->cnt,
		.max_held = ft->lim.max_flow_buffer,
		.max_total = ft->lim.max_total_buffer,
		.total_held = &ft->total_held,
		.mem = ft->lim.mem,
		.emit = on_reasm_event,
		.emit_arg = a,
	};

	return c;
}

/* Doubling keeps chains short; if memory is short the table stays as it is
 * (slower, still correct). */
static void grow_buckets(struct flow_table *ft)
{
	size_t n = ft->nbuckets * 2, i;
	struct flow_entry **nb;

	if (ft->nentries <= ft->nbuckets || n < ft->nbuckets)
		return;
	nb = calloc(n, sizeof(*nb));
	if (!nb)
		return;
	for (i = 0; i < ft->nbuckets; i++) {
		struct flow_entry *e = ft->buckets[i], *next;

		for (; e; e = next) {
			next = e->hnext;
			e->hnext = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	}
	free(ft->buckets);
	ft->buckets = nb;
	ft->nbuckets = n;
}

static void hash_unlink(struct flow_table *ft, struct flow_entry *e)
{
	struct flow_entry **pp = &ft->buckets[e->hash & (ft->nbuckets - 1)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
}

static struct flow_entry *lookup(struct flow_table *ft, const struct tcp_seg *seg,
				 uint32_t h)
{
	struct flow_entry *e = ft->buckets[h & (ft->nbuckets - 1)];

	for (; e; e = e->hnext) {
		if (e->hash != h)
			continue;
		if ((endpoint_eq(&e->pub.client, &seg->src) &&
		     endpoint_eq(&e->pub.server, &seg->dst)) ||
		    (endpoint_eq(&e->pub.client, &seg->dst) &&
		     endpoint_eq(&e->pub.server, &seg->src)))
			return e;
	}
	return NULL;
}

/* Gives every held byte up (as gaps + data), then tells the application. */
static void close_live(struct flow_table *ft, struct flow_entry *e)
{
	struct emit_arg a = { ft, e };
	struct reasm_ctx c = reasm_ctx_of(ft, &a);

	e->closing = 1;
	reasm_flush(&e->dir[DIR_TO_SERVER], &c);
	reasm_flush(&e->dir[DIR_TO_CLIENT], &c);
	reasm_release(&e->dir[DIR_TO_SERVER], &c);
	reasm_release(&e->dir[DIR_TO_CLIENT], &c);
	if (ft->ops.close)
		ft->ops.close(e->app, &e->pub);
	e->app = NULL;
	e->closed = 1;
	list_unlink(&ft->live, e, 0);
	list_unlink(&ft->byid, e, 1);
}

static void destroy(struct flow_table *ft, struct flow_entry *e)
{
	if (!e->closed)
		close_live(ft, e);
	else
		list_unlink(&ft->dead, e, 0);
	hash_unlink(ft, e);
	ft->nentries--;
	mem_release(ft->lim.mem, MEM_flows, FLOW_ENTRY_COST);
	free(e);
}

/* Both directions ended: the application is done, the entry lingers. */
static void close_ended(struct flow_table *ft, struct flow_entry *e)
{
	close_live(ft, e);
	list_append(&ft->dead, e, 0);
}

static int make_room(struct flow_table *ft)
{
	if (ft->nentries < ft->lim.max_flows)
		return 0;
	if (ft->dead.head) {
		destroy(ft, ft->dead.head);
		return 0;
	}
	if (ft->live.head) {
		ft->cnt->flows_capped++;
		destroy(ft, ft->live.head);
		return 0;
	}
	return -1;
}

static struct flow_entry *create(struct flow_table *ft, const struct tcp_seg *seg,
				 uint32_t h)
{
	struct flow_entry *e;
	int synack = (seg->flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK);

	while (ft->nentries >= ft->lim.max_flows)
		if (make_room(ft) < 0)
			return NULL;
	if (mem_charge(ft->lim.mem, MEM_flows, FLOW_ENTRY_COST) < 0) {
		ft->cnt->memory_refused++;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		mem_release(ft->lim.mem, MEM_flows, FLOW_ENTRY_COST);
		return NULL;
	}
	e->pub.id = ft->next_id++;
	e->pub.client = synack ? seg->dst : seg->src;
	e->pub.server = synack ? seg->src : seg->dst;
	e->pub.first_ts_ns = seg->ts_ns;
	e->pub.first_frame = seg->frame;
	e->hash = h;
	reasm_init(&e->dir[DIR_TO_SERVER], DIR_TO_SERVER);
	reasm_init(&e->dir[DIR_TO_CLIENT], DIR_TO_CLIENT);
	e->hnext = ft->buckets[h & (ft->nbuckets - 1)];
	ft->buckets[h & (ft->nbuckets - 1)] = e;
	ft->nentries++;
	list_append(&ft->live, e, 0);
	list_append(&ft->byid, e, 1);
	ft->cnt->flows++;
	if (ft->ops.open)
		e->app = ft->ops.open(ft->ops_arg, &e->pub);
	grow_buckets(ft);
	return e;
}

static int ended_or_fin(const struct reasm *r)
{
	return r->ended || r->fin_seen;
}

/* A SYN without ACK on an existing entry: same connection or a new one? */
static int is_new_connection(const struct flow_entry *e, const struct reasm *r,
			     const struct tcp_seg *seg)
{
	int64_t d;

	if (e->closed)
		return 1;
	if (r->syn_seen && r->isn == seg->seq)
		return 0;
	if (ended_or_fin(&e->dir[0]) || ended_or_fin(&e->dir[1]))
		return 1;
	if (!r->have_base)
		return 0;
	d = reasm_seq_diff(r->next_seq, seg->seq + 1);
	return d > FLOW_REUSE_DISTANCE || d < -FLOW_REUSE_DISTANCE;
}

/* A flow first seen by a data segment guessed its client; a SYN (or
 * SYN-ACK) that says otherwise before any byte went up wins. */
static void fix_roles(struct flow_entry *e, const struct tcp_seg *seg)
{
	int syn = (seg->flags & TCP_SYN) != 0, ack = (seg->flags & TCP_ACK) != 0;
	const struct endpoint *client = ack ? &seg->dst : &seg->src;
	struct reasm r;

	if (!syn || e->pub.saw_syn || endpoint_eq(client, &e->pub.client) ||
	    !reasm_untouched(&e->dir[0]) || !reasm_untouched(&e->dir[1]))
		return;
	e->pub.server = e->pub.client;
	e->pub.client = *client;
	r = e->dir[DIR_TO_SERVER];
	e->dir[DIR_TO_SERVER] = e->dir[DIR_TO_CLIENT];
	e->dir[DIR_TO_CLIENT] = r;
	e->dir[DIR_TO_SERVER].dir = DIR_TO_SERVER;
	e->dir[DIR_TO_CLIENT].dir = DIR_TO_CLIENT;
}

int flow_table_input(struct flow_table *ft, const struct tcp_seg *seg)
{
	uint32_t h = tuple_hash(&seg->src, &seg->dst);
	struct flow_entry *e = lookup(ft, seg, h);
	int syn_only = (seg->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
	struct emit_arg a;
	struct reasm_ctx c, cd, co;
	enum stream_dir d;

	if (e && !e->closed)
		fix_roles(e, seg);
	if (e && syn_only) {
		d = endpoint_eq(&seg->src, &e->pub.client) ? DIR_TO_SERVER : DIR_TO_CLIENT;
		if (is_new_connection(e, &e->dir[d], seg)) {
			destroy(ft, e);
			e = NULL;
		}
	}
	if (e && e->closed)
		return 0;
	if (!e) {
		e = create(ft, seg, h);
		if (!e)
			return -1;
	}
	ft->current = e;
	e->pub.last_ts_ns = seg->ts_ns;
	e->pub.last_frame = seg->frame;
	if (seg->flags & TCP_SYN)
		e->pub.saw_syn = 1;
	list_unlink(&ft->live, e, 0);
	list_append(&ft->live, e, 0);

	a.ft = ft;
	a.e = e;
	c = reasm_ctx_of(ft, &a);
	d = endpoint_eq(&seg->src, &e->pub.client) ? DIR_TO_SERVER : DIR_TO_CLIENT;
	/* each direction's data may wait for what it acknowledges of the other */
	cd = c;
	cd.peer = &e->dir[!d];
	co = c;
	co.peer = &e->dir[d];
	/* The ACK speaks of the other direction's past bytes: a hole it
	 * reveals there comes before this segment's news. */
	if ((seg->flags & (TCP_SYN | TCP_ACK | TCP_RST)) == (TCP_SYN | TCP_ACK))
		reasm_start_at(&e->dir[!d], &co, seg->ack, seg->frame, seg->ts_ns);
	if ((seg->flags & (TCP_ACK | TCP_RST)) == TCP_ACK)
		reasm_ack(&e->dir[!d], &co, seg->ack, seg->frame, seg->ts_ns);
	reasm_push_segment(&e->dir[d], &cd, seg);
	reasm_peer_moved(&e->dir[!d], &co, seg->frame, seg->ts_ns);
	if (seg->flags & TCP_RST) {
		reasm_reset(&e->dir[d], &c, seg->frame, seg->ts_ns);
		reasm_reset(&e->dir[!d], &c, seg->frame, seg->ts_ns);
	}
	if (e->dir[0].ended && e->dir[1].ended)
		close_ended(ft, e);
	ft->current = NULL;
	return 0;
}

/* The oldest live flow other than the one being read, among those that
 * never looked like SCEP when not_scep is set. */
static struct flow_entry *shed_candidate(const struct flow_table *ft, int not_scep)
{
	struct flow_entry *e;

	for (e = ft->live.head; e; e = e->age_next) {
		if (e == ft->current || e->closing)
			continue;
		if (!not_scep || !ft->ops.looked_like_scep || !ft->ops.looked_like_scep(e->app))
			return e;
	}
	return NULL;
}

static size_t freed_since(const struct mem_budget *b, size_t before)
{
	return before > b->used ? before - b->used : 0;
}

static size_t shed_flows(void *arg, size_t need)
{
	struct flow_table *ft = arg;
	struct mem_budget *b = ft->lim.mem;
	size_t before = b->used, target = need + b->limit / FLOW_SHED_SLACK;
	struct flow_entry *e;
	int not_scep;

	while (ft->dead.head && freed_since(b, before) < target)
		destroy(ft, ft->dead.head);
	for (not_scep = 1; not_scep >= 0; not_scep--) {
		while (freed_since(b, before) < target && (e = shed_candidate(ft, not_scep))) {
			if (not_scep)
				ft->cnt->flows_shed_not_scep++;
			else
				ft->cnt->flows_shed_idle++;
			destroy(ft, e);
		}
	}
	return freed_since(b, before);
}

void flow_table_expire(struct flow_table *ft, uint64_t now_ns)
{
	uint64_t idle = ft->lim.idle_timeout_ns;
	uint64_t linger = idle && idle < FLOW_CLOSED_LINGER_NS ? idle : FLOW_CLOSED_LINGER_NS;
	struct flow_entry *e;

	if (idle && now_ns >= idle) {
		while ((e = ft->live.head) && e->pub.last_ts_ns < now_ns - idle) {
			ft->cnt->flows_timed_out++;
			destroy(ft, e);
		}
	}
	if (now_ns < linger)
		return;
	while ((e = ft->dead.head) && e->pub.last_ts_ns < now_ns - linger)
		destroy(ft, e);
}

void flow_table_flush(struct flow_table *ft)
{
	while (ft->byid.head)
		destroy(ft, ft->byid.head);
	while (ft->dead.head)
		destroy(ft, ft->dead.head);
}

void flow_table_free(struct flow_table *ft)
{
	if (!ft)
		return;
	flow_table_flush(ft);
	if (ft->lim.mem && ft->lim.mem->shed_arg == ft)
		ft->lim.mem->shed = NULL;
	free(ft->buckets);
	free(ft);
}
