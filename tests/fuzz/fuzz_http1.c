/* fuzz_http1.c - HTTP/1 exchanges (dissectors/http1.c over libhtp) from a
 * TCP conversation made of the input, fed the way flow.c/reasm.c hand it
 * over. Input layout (make-corpus.py writes seeds in it):
 *
 *   byte 0  bits 0-1 body cap: 4 MiB, 1 KiB, 64, 1 byte
 *   then events, each a control byte:
 *           bit 0    direction: 0 to server, 1 to client
 *           bits 1-2 0, 1 DATA; 2 GAP; 3 end (FIN, or RST when bit 3 is set)
 *           bits 4-7 extra time before the event, in 100 ms steps
 *     DATA: 2 bytes big-endian length (cut to what is left), the bytes
 *     GAP:  2 bytes big-endian length of the hole
 *
 * Kept to what the pipeline can produce: the connection is opened on the
 * first DATA that http1_probe accepts (events before it are dropped, as
 * pipeline.c drops them), nothing follows a FIN in its direction, nothing
 * follows an RST. Each DATA chunk is an exact-size heap copy. */
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "fuzz_common.h"
#include "http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void touch_side(const struct http_side *s)
{
	fuzz_sink += (size_t)s->present + s->first_ts_ns + s->last_ts_ns +
		     s->first_frame + s->last_frame + s->body_wire_len + (size_t)s->body_capped;
	if (s->body_len && !s->body)
		abort();
	fuzz_touch_bytes(s->body, s->body_len);
	fuzz_touch_str(s->content_type);
	fuzz_touch_str(s->content_length);
}

static void on_exchange(void *arg, const struct http_exchange *x)
{
	char buf[ENDPOINT_STRLEN];

	(void)arg;
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
	touch_side(&x->req);
	touch_side(&x->res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[] = { 4u << 20, 1024, 64, 1 };
	struct http1_config cfg;
	struct counters cnt;
	struct flow f;
	struct http1_conn *c = NULL;
	struct stream_event ev;
	uint64_t frame = 0, ts = 1700000000ull * 1000000000ull;
	int fin[2] = { 0, 0 };
	size_t pos;

	if (size < 1)
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	memset(&cnt, 0, sizeof(cnt));
	memset(&f, 0, sizeof(f));
	cfg.max_body = caps[data[0] & 3];
	f.id = 1;
	f.client.family = 4;
	memcpy(f.client.addr, "\xc0\x00\x02\x0a", 4);
	f.client.port = 49152;
	f.server.family = 4;
	memcpy(f.server.addr, "\xc0\x00\x02\x01", 4);
	f.server.port = 80;
	f.first_ts_ns = f.last_ts_ns = ts;
	f.first_frame = f.last_frame = 1;
	f.saw_syn = 1;

	pos = 1;
	while (pos < size) {
		uint8_t ctl = data[pos++];
		int kind = (ctl >> 1) & 3;
		size_t len = 0;
		uint8_t *chunk = NULL;

		memset(&ev, 0, sizeof(ev));
		ev.dir = (ctl & 1) ? DIR_TO_CLIENT : DIR_TO_SERVER;
		if (kind != 3) {
			if (size - pos < 2)
				break;
			len = ((size_t)data[pos] << 8) | data[pos + 1];
			pos += 2;
		}
		if (kind < 2) {
			if (len > size - pos)
				len = size - pos;
			chunk = fuzz_dup(data + pos, len);
			pos += len;
			ev.kind = STREAM_DATA;
			ev.data = chunk;
			ev.len = len;
		} else if (kind == 2) {
			ev.kind = STREAM_GAP;
			ev.len = len;
		} else {
			ev.kind = (ctl & 8) ? STREAM_RST : STREAM_FIN;
		}
		frame++;
		ts += 1000000ull + (uint64_t)(ctl >> 4) * 100000000ull;
		ev.frame = ev.first_frame = frame;
		ev.ts_ns = ev.first_ts_ns = ts;
		f.last_frame = frame;
		f.last_ts_ns = ts;

		if (!c) {
			/* pipeline.c: the first DATA decides, gaps before it are lost */
			if (ev.kind == STREAM_DATA && ev.len &&
			    http1_probe(ev.data, ev.len, ev.dir))
				c = http1_open(&cfg, &cnt, &f, on_exchange, NULL);
			if (!c && (ev.kind == STREAM_RST || ev.kind == STREAM_DATA)) {
				free(chunk);
				break;
			}
		}
		if (c && !fin[ev.dir] && (ev.kind != STREAM_DATA || ev.len))
			http1_event(c, &ev);
		free(chunk);
		if (ev.kind == STREAM_FIN)
			fin[ev.dir] = 1;
		if (ev.kind == STREAM_RST)
			break;
	}
	http1_close(c);
	return 0;
}
