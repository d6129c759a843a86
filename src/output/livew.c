/* livew.c - -w on a live capture. A file's second read (extract.c) is not
 * possible live, so each connection's packets wait in memory, capped,
 * until the app layer tells SCEP (the first SCEP exchange, or the close of
 * a connection that carried it) or not (the close of one that did not).
 * Trusts the decoded segment's endpoints and flags only as keys. */
#include <stdlib.h>
#include <string.h>

#include "livew.h"

#define LIVEW_BUCKETS 4096
/* A closed connection's last ACKs come just after its FINs: as extract.c,
 * they follow it for this long unless a new SYN reuses the ports. */
#define LIVEW_TAIL_NS (60ull * 1000000000ull)

enum conn_state { HOLD, WRITE, CLOSED_SCEP, CLOSED_OTHER };

struct held {
	struct held *next;
	uint64_t ts_ns;
	uint32_t caplen, wirelen;
	uint8_t data[];
};

struct conn {
	struct conn *next;
	struct endpoint a, b;
	enum conn_state state;
	uint64_t last_ns;
	struct held *head, *tail;
	size_t held_bytes;
	uint64_t capped, capped_bytes;   /* past the caps, settled with the connection */
};

struct livew {
	struct outrot *out;
	uint64_t idle_ns;
	struct conn *buckets[LIVEW_BUCKETS];
	size_t held_bytes;
	struct livew_stats st;
};

/* pcap-savefile(5), nanosecond timestamps (the capture's precision) */
#define PCAP_MAGIC_NS 0xa1b23c4du
#define RECORD_BYTES(caplen) (16u + (size_t)(caplen))

struct livew *livew_new(struct outrot *out, uint64_t idle_timeout_ns)
{
	struct livew *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->out = out;
	w->idle_ns = idle_timeout_ns;
	return w;
}

void livew_set_linktype(struct livew *w, int linktype, int snaplen)
{
	uint32_t h[6] = { PCAP_MAGIC_NS, 2u | (4u << 16), 0, 0, (uint32_t)snaplen, (uint32_t)linktype };

	outrot_set_header(w->out, h, sizeof(h));
}

static uint32_t ep_hash(const struct endpoint *e)
{
	uint32_t h = 2166136261u;
	size_t i, n = e->family == 6 ? 16 : 4;

	for (i = 0; i < n; i++)
		h = (h ^ e->addr[i]) * 16777619u;
	return (h ^ e->port) * 16777619u;
}

/* the same bucket whichever side sent the packet */
static struct conn **bucket(struct livew *w, const struct endpoint *a, const struct endpoint *b)
{
	return &w->buckets[(ep_hash(a) ^ ep_hash(b)) % LIVEW_BUCKETS];
}

static struct conn *find(struct livew *w, const struct endpoint *a, const struct endpoint *b)
{
	struct conn *c;

	for (c = *bucket(w, a, b); c; c = c->next)
		if ((endpoint_eq(&c->a, a) && endpoint_eq(&c->b, b)) ||
		    (endpoint_eq(&c->a, b) && endpoint_eq(&c->b, a)))
			return c;
	return NULL;
}

static void write_one(struct livew *w, uint64_t ts_ns, uint32_t caplen, uint32_t wirelen, const uint8_t *data)
{
	uint32_t h[4] = { (uint32_t)(ts_ns / 1000000000ull), (uint32_t)(ts_ns % 1000000000ull), caplen, wirelen };

	outrot_write(w->out, h, sizeof(h), data, caplen, time(NULL));
}

static void drop_held(struct livew *w, struct conn *c, int write)
{
	struct held *h, *next;

	if (write) {
		w->st.held_capped += c->capped;
		w->st.held_capped_bytes += c->capped_bytes;
	} else {
		w->st.not_scep += c->capped;
		w->st.not_scep_bytes += c->capped_bytes;
	}
	c->capped = c->capped_bytes = 0;
	for (h = c->head; h; h = next) {
		next = h->next;
		if (write) {
			write_one(w, h->ts_ns, h->caplen, h->wirelen, h->data);
		} else {
			w->st.not_scep++;
			w->st.not_scep_bytes += RECORD_BYTES(h->caplen);
		}
		free(h);
	}
	w->held_bytes -= c->held_bytes;
	c->held_bytes = 0;
	c->head = c->tail = NULL;
}

static void hold(struct livew *w, struct conn *c, const struct pkt *p)
{
	size_t n = RECORD_BYTES(p->caplen);
	struct held *h = NULL;

	if (c->held_bytes + n <= LIVEW_HOLD_CONN_BYTES && w->held_bytes + n <= LIVEW_HOLD_TOTAL_BYTES)
		h = malloc(sizeof(*h) + p->caplen);
	if (!h) {
		c->capped++;
		c->capped_bytes += n;
		return;
	}
	h->next = NULL;
	h->ts_ns = p->ts_ns;
	h->caplen = p->caplen;
	h->wirelen = p->wirelen;
	memcpy(h->data, p->data, p->caplen);
	if (c->tail)
		c->tail->next = h;
	else
		c->head = h;
	c->tail = h;
	c->held_bytes += n;
	w->held_bytes += n;
}

void livew_packet(struct livew *w, const struct pkt *p, const struct tcp_seg *seg)
{
	struct conn *c = find(w, &seg->src, &seg->dst);
	int syn_only = (seg->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;

	if (!c) {
		struct conn **b = bucket(w, &seg->src, &seg->dst);

		c = calloc(1, sizeof(*c));
		if (!c) {
			w->st.held_capped++;
			w->st.held_capped_bytes += RECORD_BYTES(p->caplen);
			return;
		}
		c->a = seg->src;
		c->b = seg->dst;
		c->next = *b;
		*b = c;
	} else if (syn_only && (c->state == CLOSED_SCEP || c->state == CLOSED_OTHER)) {
		c->state = HOLD;   /* a new connection on the same ports */
	}
	c->last_ns = p->ts_ns;
	switch (c->state) {
	case HOLD:
		hold(w, c, p);
		break;
	case WRITE:
	case CLOSED_SCEP:
		write_one(w, p->ts_ns, p->caplen, p->wirelen, p->data);
		break;
	case CLOSED_OTHER:
		break;
	}
}

void livew_scep(struct livew *w, const struct endpoint *a, const struct endpoint *b)
{
	struct conn *c = find(w, a, b);

	if (!c || c->state != HOLD)
		return;
	drop_held(w, c, 1);
	c->state = WRITE;
}

void livew_closed(struct livew *w, const struct endpoint *a, const struct endpoint *b, int scep)
{
	struct conn *c = find(w, a, b);

	if (!c)
		return;
	if (scep) {
		livew_scep(w, a, b);
		c->state = CLOSED_SCEP;
	} else if (c->state == HOLD) {
		drop_held(w, c, 0);
		c->state = CLOSED_OTHER;
	}
}

void livew_expire(struct livew *w, uint64_t now_ns)
{
	struct conn **pp, *c;
	size_t i;

	for (i = 0; i < LIVEW_BUCKETS; i++) {
		for (pp = &w->buckets[i]; (c = *pp) != NULL;) {
			uint64_t quiet = now_ns > c->last_ns ? now_ns - c->last_ns : 0;
			uint64_t limit = c->state == CLOSED_SCEP || c->state == CLOSED_OTHER ? LIVEW_TAIL_NS :
					 w->idle_ns + LIVEW_TAIL_NS;

			if (quiet <= limit) {
				pp = &c->next;
				continue;
			}
			drop_held(w, c, 0);
			*pp = c->next;
			free(c);
		}
	}
	outrot_check(w->out);
}

struct outrot *livew_out(struct livew *w)
{
	return w->out;
}

const struct livew_stats *livew_stats(const struct livew *w)
{
	return &w->st;
}

void livew_free(struct livew *w)
{
	size_t i;
	struct conn *c, *next;

	if (!w)
		return;
	for (i = 0; i < LIVEW_BUCKETS; i++)
		for (c = w->buckets[i]; c; c = next) {
			next = c->next;
			drop_held(w, c, 0);
			free(c);
		}
	outrot_free(w->out);
	free(w);
}
