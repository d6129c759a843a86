/* http_body.h - the one capped, growable buffer both HTTP parsers keep
 * message bodies in: everything past the cap is counted, not kept. */
#ifndef SCEPDUMP_HTTP_BODY_H
#define SCEPDUMP_HTTP_BODY_H

#include <stddef.h>
#include <stdint.h>

struct counters;
struct http_side;
struct mem_budget;

struct http_body {
	uint8_t *buf;
	size_t len, alloc;          /* alloc is what is charged to the budget */
	uint64_t wire;              /* every byte seen, kept or not */
	int capped;
};

/* Appends len bytes (data NULL: a capture gap, kept as zeros so later
 * offsets stay right), keeping at most max_body. Growing the buffer is
 * charged to mem (MEM_http_bodies; NULL: no budget); a refused charge caps
 * the body as max_body does. Once capped, nothing more is kept (a body
 * with a hole in its middle would decode as something else). The first
 * cap of a body is counted in cnt->http_bodies_capped. */
void http_body_append(struct http_body *b, const uint8_t *data, size_t len,
		      size_t max_body, struct counters *cnt, struct mem_budget *mem);
/* Frees the buffer and gives its charge back to mem. */
void http_body_free(struct http_body *b, struct mem_budget *mem);
/* The body as an exchange side shows it (borrowed: b keeps owning it). */
void http_body_export(const struct http_body *b, struct http_side *o);

#endif
