/* fuzz_http2.c - HTTP/2 exchanges (dissectors/app/http2.c: our frame parser,
 * nghttp2's HPACK) from a TCP conversation made of the input, fed the way
 * the app dispatcher (app.c) hands it over. Input layout (make-corpus.py writes seeds in it):
 *
 *   byte 0  bits 0-1 body cap: 4 MiB, 1 KiB, 64, 1 byte
 *           bit 2    after an HTTP/1.1 Upgrade: h2c (http2_open after_upgrade,
 *                    with the upgrade request's line set)
 *           bit 3    the capture began mid-connection (no SYN seen)
 *   then the events of fuzz_stream.h.
 *
 * Without bit 2 the connection is opened on the first DATA that
 * http2_probe accepts, as app.c does (events before it are dropped,
 * a DATA it refuses ends the input); with bit 2 it is open from the start. */
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "fuzz_stream.h"
#include "http2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_exchange(void *arg, const struct http_exchange *x)
{
	(void)arg;
	fuzz_touch_exchange(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[] = { 4u << 20, 1024, 64, 1 };
	struct http1_config cfg;
	struct counters cnt;
	struct flow f;
	struct http2_conn *c = NULL;
	struct stream_event ev;
	struct fuzz_stream s;
	int upgrade;

	if (size < 1)
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	memset(&cnt, 0, sizeof(cnt));
	cfg.max_body = caps[data[0] & 3];
	upgrade = (data[0] >> 2) & 1;
	fuzz_stream_flow(&f, 80, !((data[0] >> 3) & 1));
	fuzz_stream_init(&s, data, size, 1);
	if (upgrade) {
		c = http2_open(&cfg, &cnt, &f, on_exchange, NULL, 1);
		if (!c)
			return 0;
		http2_set_upgrade_request(c, "POST", "/scep?operation=PKIOperation", "scep.example");
	}
	while (fuzz_stream_next(&s, &ev, &f)) {
		if (!c) {
			if (ev.kind != STREAM_DATA)
				continue;
			if (!http2_probe(ev.data, ev.len, ev.dir))
				break;
			c = http2_open(&cfg, &cnt, &f, on_exchange, NULL, 0);
			if (!c)
				break;
		}
		http2_event(c, &ev);
	}
	fuzz_stream_done(&s);
	if (c)
		http2_close(c);
	return 0;
}
