/* fuzz_stream.h - the TCP conversation layout shared by fuzz_http1.c,
 * fuzz_http2.c and fuzz_tls.c: after the harness's own option byte, events,
 * each a control byte:
 *           bit 0    direction: 0 to server, 1 to client
 *           bits 1-2 0, 1 DATA; 2 GAP; 3 end (FIN, or RST when bit 3 is set)
 *           bits 4-7 extra time before the event, in 100 ms steps
 *     DATA: 2 bytes big-endian length (cut to what is left), the bytes
 *     GAP:  2 bytes big-endian length of the hole
 * (make-corpus.py's http1_input writes it.) Each DATA chunk is an
 * exact-size heap copy, freed at the next call. */
#ifndef SCEPDUMP_FUZZ_STREAM_H
#define SCEPDUMP_FUZZ_STREAM_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "fuzz_common.h"
#include "http.h"
#include "stream.h"

struct fuzz_stream {
	const uint8_t *data;
	size_t size, pos;
	uint64_t frame, ts;
	uint8_t *chunk;
	int fin[2];
};

static inline void fuzz_stream_init(struct fuzz_stream *s, const uint8_t *data,
				    size_t size, size_t pos)
{
	memset(s, 0, sizeof(*s));
	s->data = data;
	s->size = size;
	s->pos = pos;
	s->ts = 1700000000ull * 1000000000ull;
}

/* A client 192.0.2.10:49152 -> 192.0.2.1:port flow, as flow.c makes it. */
static inline void fuzz_stream_flow(struct flow *f, uint16_t port, int saw_syn)
{
	memset(f, 0, sizeof(*f));
	f->id = 1;
	f->client.family = 4;
	memcpy(f->client.addr, "\xc0\x00\x02\x0a", 4);
	f->client.port = 49152;
	f->server.family = 4;
	memcpy(f->server.addr, "\xc0\x00\x02\x01", 4);
	f->server.port = port;
	f->first_ts_ns = f->last_ts_ns = 1700000000ull * 1000000000ull;
	f->first_frame = f->last_frame = 1;
	f->saw_syn = saw_syn;
}

/* The next event the pipeline could hand over: nothing after a FIN in its
 * direction (such events are skipped), nothing after an RST, no empty
 * DATA. Returns 0 at the end of the input. */
static inline int fuzz_stream_next(struct fuzz_stream *s, struct stream_event *ev,
				   struct flow *f)
{
	free(s->chunk);
	s->chunk = NULL;
	while (s->pos < s->size) {
		uint8_t ctl = s->data[s->pos++];
		int kind = (ctl >> 1) & 3;
		size_t len = 0;

		memset(ev, 0, sizeof(*ev));
		ev->dir = (ctl & 1) ? DIR_TO_CLIENT : DIR_TO_SERVER;
		if (kind != 3) {
			if (s->size - s->pos < 2) {
				s->pos = s->size;
				return 0;
			}
			len = ((size_t)s->data[s->pos] << 8) | s->data[s->pos + 1];
			s->pos += 2;
		}
		if (kind < 2) {
			if (len > s->size - s->pos)
				len = s->size - s->pos;
			s->chunk = fuzz_dup(s->data + s->pos, len);
			s->pos += len;
			ev->kind = STREAM_DATA;
			ev->data = s->chunk;
			ev->len = len;
		} else if (kind == 2) {
			ev->kind = STREAM_GAP;
			ev->len = len;
		} else {
			ev->kind = (ctl & 8) ? STREAM_RST : STREAM_FIN;
		}
		s->frame++;
		s->ts += 1000000ull + (uint64_t)(ctl >> 4) * 100000000ull;
		ev->frame = ev->first_frame = s->frame;
		ev->ts_ns = ev->first_ts_ns = s->ts;
		f->last_frame = s->frame;
		f->last_ts_ns = s->ts;
		if (s->fin[ev->dir] || (ev->kind == STREAM_DATA && !ev->len)) {
			free(s->chunk);
			s->chunk = NULL;
			continue;
		}
		if (ev->kind == STREAM_FIN)
			s->fin[ev->dir] = 1;
		if (ev->kind == STREAM_RST)
			s->pos = s->size;   /* nothing follows */
		return 1;
	}
	return 0;
}

static inline void fuzz_stream_done(struct fuzz_stream *s)
{
	free(s->chunk);
	s->chunk = NULL;
}

/* Reads what an HTTP exchange holds (the fields http.h defines). */
static inline void fuzz_touch_side(const struct http_side *s)
{
	fuzz_sink += (size_t)s->present + s->first_ts_ns + s->last_ts_ns +
		     s->first_frame + s->last_frame + s->body_wire_len + (size_t)s->body_capped;
	if (s->body_len && !s->body)
		abort();
	fuzz_touch_bytes(s->body, s->body_len);
	fuzz_touch_str(s->content_type);
	fuzz_touch_str(s->content_length);
}

static inline void fuzz_touch_exchange(const struct http_exchange *x)
{
	char buf[ENDPOINT_STRLEN];

	fuzz_sink += x->flow_id + x->seq + (size_t)x->version + (size_t)x->status +
		     (size_t)x->damaged + x->gap_bytes + (size_t)x->parse_error;
	fuzz_touch_str(endpoint_str(&x->client, buf, sizeof(buf)));
	fuzz_touch_str(endpoint_str(&x->server, buf, sizeof(buf)));
	fuzz_touch_str(x->host);
	fuzz_touch_str(x->method);
	fuzz_touch_str(x->uri);
	fuzz_touch_str(x->path);
	fuzz_touch_str(x->query);
	fuzz_touch_str(x->status_text);
	fuzz_touch_str(x->server_header);
	fuzz_touch_str(x->location);
	fuzz_touch_str(x->connection);
	fuzz_touch_str(x->error_text);
	fuzz_touch_str(x->reset);
	fuzz_touch_side(&x->req);
	fuzz_touch_side(&x->res);
}

#endif
