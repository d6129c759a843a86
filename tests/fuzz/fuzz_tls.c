/* fuzz_tls.c - a TLS connection (dissectors/app/tls.c: records, handshake
 * metadata, certificates, alerts and, with the key log, TLS 1.2/1.3
 * decryption) from a TCP conversation made of the input, with the
 * decrypted bytes handed to HTTP/1 or HTTP/2 as app.c does. The key
 * log holds every tests/unit/data/tls-*.keylog and the key logs of the
 * captures/tls13-h2 and tls12-http11 enrollments, so seeds cut from the
 * matching sessions decrypt. Input layout (make-corpus.py
 * writes seeds in it):
 *
 *   byte 0  bits 0-1 body cap of the HTTP layer: 4 MiB, 1 KiB, 64, 1 byte
 *           bit 2    no key log (metadata only)
 *           bit 3    the capture began mid-connection (no SYN seen)
 *   then the events of fuzz_stream.h.
 *
 * The connection is opened on the first DATA that tls_probe accepts (the
 * roles swapped, as app.c swaps them, when a mid-connection capture
 * shows a ServerHello going to the server); events before it are dropped,
 * a DATA it refuses ends the input. */
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "fuzz_stream.h"
#include "http1.h"
#include "http2.h"
#include "keylog.h"
#include "tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keylogs[] = {
	"tests/unit/data/tls-12-cbc-etm.keylog",
	"tests/unit/data/tls-12-chacha.keylog",
	"tests/unit/data/tls-12-gcm.keylog",
	"tests/unit/data/tls-12-resume.keylog",
	"tests/unit/data/tls-12-rsa-cbc.keylog",
	"tests/unit/data/tls-13-aes128.keylog",
	"tests/unit/data/tls-13-aes256.keylog",
	"tests/unit/data/tls-13-chacha.keylog",
	"tests/unit/data/tls-13-fail.keylog",
	"tests/unit/data/tls-13-keyupdate.keylog",
	/* HTTP/2 over TLS 1.3 and HTTP/1.1 over TLS 1.2, nginx in front of
	 * scepserver (captures/tls/README.md) */
	"captures/keys/tls13-h2.keylog",
	"captures/keys/tls12-http11.keylog",
};

static struct keylog *kl_all;

struct conn {
	struct tls_conn *tls;
	struct http1_config cfg;
	struct counters *cnt;
	const struct flow *f;
	struct http1_conn *h1;
	struct http2_conn *h2;
	int other;      /* neither HTTP/1 nor HTTP/2: plaintext only touched */
};

static void on_exchange(void *arg, const struct http_exchange *x)
{
	(void)arg;
	fuzz_touch_exchange(x);
}

/* app.c's feeding of the inner HTTP layer, without the h2c upgrade. */
static void on_plain(void *arg, const struct stream_event *ev)
{
	struct conn *c = arg;
	const char *alpn = tls_get_info(c->tls)->alpn;

	if (ev->kind == STREAM_DATA) {
		if (ev->len && !ev->data)
			abort();
		fuzz_touch_bytes(ev->data, ev->len);
	}
	if (!c->h1 && !c->h2 && !c->other) {
		if (ev->kind != STREAM_DATA || !ev->len)
			return;
		if ((alpn && !strcmp(alpn, "h2")) || http2_probe(ev->data, ev->len, ev->dir))
			c->h2 = http2_open(&c->cfg, c->cnt, c->f, on_exchange, NULL, 0);
		else if (http1_probe(ev->data, ev->len, ev->dir))
			c->h1 = http1_open(&c->cfg, c->cnt, c->f, on_exchange, NULL);
		c->other = !c->h1 && !c->h2;
	}
	if (c->h2)
		http2_event(c->h2, ev);
	else if (c->h1)
		http1_event(c->h1, ev);
}

static void touch_info(const struct tls_info *in)
{
	size_t i;

	fuzz_sink += (size_t)in->saw_client_hello + in->client_hello_frame + in->version +
		     in->legacy_version + in->cipher_suite + (size_t)in->resumed +
		     (size_t)in->handshake_complete + (size_t)in->handshake_failed +
		     (size_t)in->decrypt + in->records[0] + in->records[1] +
		     in->plaintext_bytes[0] + in->plaintext_bytes[1] + in->alerts_total;
	if (in->n_offered_versions > TLS_MAX_VERSIONS || in->n_server_certs > TLS_MAX_CERTS ||
	    in->n_client_certs > TLS_MAX_CERTS || in->n_alerts > TLS_MAX_ALERTS)
		abort();
	for (i = 0; i < in->n_offered_versions; i++)
		fuzz_sink += in->offered_versions[i];
	fuzz_touch_str(in->sni);
	fuzz_touch_str(in->alpn_offered);
	fuzz_touch_str(in->alpn);
	fuzz_touch_str(in->cipher_name);
	fuzz_touch_str(in->resumed_by);
	fuzz_touch_str(in->failure);
	fuzz_touch_str(in->decrypt_note);
	for (i = 0; i < in->n_server_certs; i++)
		fuzz_touch_cert(in->server_certs[i]);
	for (i = 0; i < in->n_client_certs; i++)
		fuzz_touch_cert(in->client_certs[i]);
	for (i = 0; i < in->n_alerts; i++) {
		fuzz_touch_str(tls_alert_name(in->alerts[i].desc));
		fuzz_touch_str(tls_alert_level_name(in->alerts[i].level));
	}
	fuzz_touch_str(tls_version_name(in->version));
}

static struct keylog *load_keylogs(void)
{
	struct keylog *kl = keylog_new();
	char path[4096], err[256];
	size_t i;

	if (!kl)
		abort();
	for (i = 0; i < sizeof(keylogs) / sizeof(keylogs[0]); i++) {
		fuzz_src_path(path, sizeof(path), keylogs[i]);
		if (keylog_load_file(kl, path, err, sizeof(err)) < 0)
			fprintf(stderr, "fuzz: warning: key log %s not loaded: %s\n", path, err);
	}
	return kl;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[] = { 4u << 20, 1024, 64, 1 };
	struct counters cnt;
	struct flow f;
	struct conn c;
	struct stream_event ev;
	struct fuzz_stream s;
	int swapped = 0;

	if (!kl_all)
		kl_all = load_keylogs();
	if (size < 1)
		return 0;
	memset(&cnt, 0, sizeof(cnt));
	memset(&c, 0, sizeof(c));
	c.cfg.max_body = caps[data[0] & 3];
	c.cnt = &cnt;
	fuzz_stream_flow(&f, 443, !((data[0] >> 3) & 1));
	c.f = &f;
	fuzz_stream_init(&s, data, size, 1);
	while (fuzz_stream_next(&s, &ev, &f)) {
		if (!c.tls) {
			int probe;

			if (ev.kind != STREAM_DATA)
				continue;
			probe = tls_probe(ev.data, ev.len);
			if (probe == TLS_PROBE_NO)
				break;
			if (!f.saw_syn && (probe == TLS_PROBE_CLIENT) != (ev.dir == DIR_TO_SERVER)) {
				struct endpoint t = f.client;

				f.client = f.server;
				f.server = t;
				swapped = 1;
			}
			c.tls = tls_open((data[0] & 4) ? NULL : kl_all, &cnt, &f, on_plain, &c);
			if (!c.tls)
				break;
		}
		if (swapped)
			ev.dir = ev.dir == DIR_TO_SERVER ? DIR_TO_CLIENT : DIR_TO_SERVER;
		tls_event(c.tls, &ev);
		touch_info(tls_get_info(c.tls));
	}
	fuzz_stream_done(&s);
	if (c.tls) {
		tls_finish(c.tls);
		touch_info(tls_get_info(c.tls));
	}
	if (c.h1)
		http1_close(c.h1);
	if (c.h2)
		http2_close(c.h2);
	if (c.tls)
		tls_close(c.tls);
	return 0;
}
