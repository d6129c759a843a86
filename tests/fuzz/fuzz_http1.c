/* fuzz_http1.c - HTTP/1 exchanges (dissectors/app/http1.c over libhtp) from a
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
 * the app dispatcher (app.c) drops them), nothing follows a FIN in its direction, nothing
 * follows an RST (fuzz_stream.h reads the events, shared with the HTTP/2
 * and TLS harnesses). */
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "fuzz_stream.h"
#include "http1.h"

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
	struct http1_conn *c = NULL;
	struct stream_event ev;
	struct fuzz_stream s;

	if (size < 1)
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	memset(&cnt, 0, sizeof(cnt));
	cfg.max_body = caps[data[0] & 3];
	fuzz_stream_flow(&f, 80, 1);
	fuzz_stream_init(&s, data, size, 1);
	while (fuzz_stream_next(&s, &ev, &f)) {
		if (!c) {
			/* app.c: the first DATA decides, gaps before it are lost */
			if (ev.kind == STREAM_GAP || ev.kind == STREAM_FIN)
				continue;
			if (ev.kind != STREAM_DATA || !http1_probe(ev.data, ev.len, ev.dir))
				break;
			c = http1_open(&cfg, &cnt, &f, on_exchange, NULL);
			if (!c)
				break;
		}
		http1_event(c, &ev);
	}
	fuzz_stream_done(&s);
	http1_close(c);
	return 0;
}
