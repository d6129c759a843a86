/* http_body.h - the one capped, growable buffer both HTTP parsers keep
 * message bodies in: everything past the cap is counted, not kept. */
#ifndef SCEPDUMP_HTTP_BODY_H
#define SCEPDUMP_HTTP_BODY_H

#include <stddef.h>
#include <stdint.h>

struct counters;
struct http_side;

struct http_body {
	uint8_t *buf;
	size_t len, alloc;
	uint64_t wire;              /* every byte seen, kept or not */
	int capped;
};

/* Appends len bytes (data NULL: a capture gap, kept as zeros so later
 * offsets stay right), keeping at most max_body; the first cap hit is
 * counted in cnt->http_bodies_capped. */
void http_body_append(struct http_body *b, const uint8_t *data, size_t len,
		      size_t max_body, struct counters *cnt);
void http_body_free(struct http_body *b);
/* The body as an exchange side shows it (borrowed: b keeps owning it). */
void http_body_export(const struct http_body *b, struct http_side *o);

#endif
