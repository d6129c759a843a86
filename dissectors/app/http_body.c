/* http_body.c - capped body buffers for HTTP/1 and HTTP/2; see
 * http_body.h. Trusts nothing about len: the cap decides what is kept. */
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "http.h"
#include "http_body.h"
#include "membudget.h"

static void mark_capped(struct http_body *b, struct counters *cnt)
{
	if (!b->capped) {
		b->capped = 1;
		cnt->http_bodies_capped++;
	}
}

/* Grows the buffer so take more bytes fit; 0, or -1 when the budget or
 * the allocator refused. */
static int grow(struct http_body *b, size_t take, size_t max_body, struct mem_budget *mem)
{
	size_t na = b->alloc ? b->alloc : 1024;
	uint8_t *nb;

	while (na - b->len < take)
		na = na > max_body / 2 ? max_body : na * 2;
	if (mem_resize(mem, MEM_http_bodies, b->alloc, na) < 0)
		return -1;
	nb = realloc(b->buf, na);
	if (!nb) {
		mem_resize(mem, MEM_http_bodies, na, b->alloc);
		return -1;
	}
	b->buf = nb;
	b->alloc = na;
	return 0;
}

void http_body_append(struct http_body *b, const uint8_t *data, size_t len,
		      size_t max_body, struct counters *cnt, struct mem_budget *mem)
{
	size_t room, take;

	b->wire += len;
	room = !b->capped && max_body > b->len ? max_body - b->len : 0;
	take = len < room ? len : room;
	if (take < len)
		mark_capped(b, cnt);
	if (take == 0)
		return;
	if (take > b->alloc - b->len && grow(b, take, max_body, mem) < 0) {
		mark_capped(b, cnt);
		return;
	}
	if (data)
		memcpy(b->buf + b->len, data, take);
	else
		memset(b->buf + b->len, 0, take);
	b->len += take;
}

void http_body_free(struct http_body *b, struct mem_budget *mem)
{
	mem_release(mem, MEM_http_bodies, b->alloc);
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

void http_body_export(const struct http_body *b, struct http_side *o)
{
	o->body = b->len ? b->buf : NULL;
	o->body_len = b->len;
	o->body_wire_len = b->wire;
	o->body_capped = b->capped;
}
