/* devlog_event.c - one read's state and what it emits: the options'
 * defaults, the read context, the events and the list that holds them
 * (every kept event is charged to the run's memory budget; past
 * max_events an event is counted, not kept). */
#include <stdlib.h>
#include <string.h>

#include "devlog_reader.h"
#include "membudget.h"

void devlog_opts_init(struct devlog_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->force = DEVLOG_AUTO;
}

void devlog_ctx_init(struct devlog_ctx *c, const struct devlog_opts *o, struct devlog_list *out)
{
	memset(c, 0, sizeof(*c));
	c->o = o;
	c->out = out;
	if (o->year) {
		c->year = o->year;
		c->month = o->month ? o->month : 1;
		c->day = o->day ? o->day : 1;
		c->date_set = 1;
	}
	c->last_tod_ns = -1;
}

void devlog_event_init(struct devlog_event *e, enum devlog_kind k, const char *source)
{
	memset(e, 0, sizeof(*e));
	e->kind = k;
	e->source = source;
	e->message_type = -1;
	e->pki_status = -1;
	e->fail_info = -1;
	e->event_id = -1;
}

void devlog_event_clear(struct devlog_event *e)
{
	free(e->component);
	free(e->level);
	free(e->op);
	free(e->url);
	free(e->transaction_id);
	free(e->sender_nonce);
	free(e->recipient_nonce);
	free(e->state_from);
	free(e->state_to);
	free(e->cert_name);
	free(e->text);
	free(e->decode_note);
	free(e->error_domain);
	memset(e, 0, sizeof(*e));
}

static size_t str_bytes(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* What one kept event holds: its slot and its strings. */
static size_t event_bytes(const struct devlog_event *e)
{
	return sizeof(*e) + str_bytes(e->component) + str_bytes(e->level) + str_bytes(e->op) +
	       str_bytes(e->url) + str_bytes(e->transaction_id) + str_bytes(e->sender_nonce) +
	       str_bytes(e->recipient_nonce) + str_bytes(e->state_from) + str_bytes(e->state_to) +
	       str_bytes(e->cert_name) + str_bytes(e->text) + str_bytes(e->decode_note) +
	       str_bytes(e->error_domain);
}

void devlog_emit(struct devlog_ctx *c, struct devlog_event *e)
{
	struct devlog_list *l = c->out;
	size_t max = c->o->max_events ? c->o->max_events : DEVLOG_EVENTS_MAX, cost;

	e->line_no = c->line_no;
	if (l->n >= max) {
		l->capped++;
		devlog_event_clear(e);
		return;
	}
	cost = event_bytes(e);
	l->mem = c->o->mem;
	if (mem_charge(l->mem, MEM_devlog, cost) < 0) {
		l->capped++;
		l->budget_capped = 1;
		devlog_event_clear(e);
		return;
	}
	l->charged += cost;
	if (l->n == l->cap_alloc) {
		size_t nc = l->cap_alloc ? l->cap_alloc * 2 : 32;
		struct devlog_event *ne;

		if (nc > max)
			nc = max;
		ne = realloc(l->ev, nc * sizeof(*ne));
		if (!ne) {
			c->nomem = 1;
			l->capped++;
			devlog_event_clear(e);
			return;
		}
		l->ev = ne;
		l->cap_alloc = nc;
	}
	l->ev[l->n++] = *e;
	memset(e, 0, sizeof(*e));
}

void devlog_list_free(struct devlog_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++)
		devlog_event_clear(&l->ev[i]);
	free(l->ev);
	mem_release(l->mem, MEM_devlog, l->charged);
	memset(l, 0, sizeof(*l));
}

