/* test_tls.c - the TLS dissector on real sessions (openssl s_server and
 * curl / s_client on a private loopback, see data/tls-mk.sh) read through
 * the project's capture, TCP and flow code: metadata as tshark reads it,
 * decryption of every supported suite, key update, resumption, alerts of a
 * failed handshake, wrong and missing keys, byte-by-byte delivery, gaps
 * and garbage; and RSA key exchange opened with the server's key
 * (--tls-key) on the nginx capture, against what its key log gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "capture.h"
#include "counters.h"
#include "flow.h"
#include "keylog.h"
#include "packet.h"
#include "tls.h"
#include "x509.h"
#include "testutil.h"

#define MAX_CONNS 4
#define PLAIN_MAX 65536

/* What one connection left behind, copied before tls_close frees it. */
struct result {
	uint16_t version, legacy_version, cipher_suite;
	size_t n_offered_versions;
	const char *cipher_name;
	char *sni, *alpn, *alpn_offered, *failure, *note, *cert_subject;
	int decrypt, complete, inferred, failed, resumed, etm;
	int key_source, server_key_tried, rsa_kx;
	const char *resumed_by;
	size_t n_server_certs, n_alerts;
	struct tls_alert alert0;
	uint64_t decrypted;
	int desynced;
	int unreadable;             /* tls_unreadable() at the end */
	/* upward events */
	char plain[2][PLAIN_MAX];
	size_t plain_len[2];
	int gaps[2], fins;
};

struct rig;

struct conn {
	struct rig *g;
	struct tls_conn *tls;
	struct result *res;
};

struct rig {
	struct counters cnt;
	struct keylog *kl;
	struct conn conns[MAX_CONNS];
	struct result res[MAX_CONNS];
	size_t n;
	size_t split;               /* >0: hand data over in pieces of this size */
	uint64_t drop_frame;        /* a DATA event completed by this frame is lost */
	uint32_t mutate;            /* >0: flip one byte of DATA event number mutate % 8 */
	uint64_t data_events;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void on_plain(void *arg, const struct stream_event *ev)
{
	struct result *r = arg;
	size_t room;

	switch (ev->kind) {
	case STREAM_DATA:
		assert_non_null(ev->data);
		assert_true(ev->first_frame <= ev->frame);
		room = PLAIN_MAX - 1 - r->plain_len[ev->dir];
		if (ev->len < room)
			room = ev->len;
		memcpy(r->plain[ev->dir] + r->plain_len[ev->dir], ev->data, room);
		r->plain_len[ev->dir] += room;
		break;
	case STREAM_GAP:
		r->gaps[ev->dir]++;
		break;
	default:
		r->fins++;
		break;
	}
}

static void *on_open(void *arg, const struct flow *f)
{
	struct rig *g = arg;
	struct conn *c;

	assert_true(g->n < MAX_CONNS);
	c = &g->conns[g->n];
	c->g = g;
	c->res = &g->res[g->n++];
	c->tls = tls_open(g->kl, &g->cnt, f, on_plain, c->res);
	assert_non_null(c->tls);
	return c;
}

static int on_event(void *app, const struct flow *f, const struct stream_event *ev)
{
	struct conn *c = app;
	struct stream_event piece;
	size_t at;

	(void)f;
	if (ev->kind == STREAM_DATA && c->g->drop_frame && ev->frame == c->g->drop_frame) {
		piece = *ev;
		piece.kind = STREAM_GAP;
		piece.data = NULL;
		tls_event(c->tls, &piece);
		return FLOW_BYTES_READ;
	}
	if (ev->kind == STREAM_DATA && c->g->mutate && ev->len &&
	    c->g->data_events++ == c->g->mutate % 8) {
		uint8_t *copy = malloc(ev->len);

		assert_non_null(copy);
		memcpy(copy, ev->data, ev->len);
		copy[(c->g->mutate / 8) % ev->len] ^= (uint8_t)(1 + c->g->mutate % 255);
		piece = *ev;
		piece.data = copy;
		tls_event(c->tls, &piece);
		free(copy);
		return FLOW_BYTES_READ;
	}
	if (ev->kind != STREAM_DATA || !c->g->split) {
		tls_event(c->tls, ev);
		return FLOW_BYTES_READ;
	}
	for (at = 0; at < ev->len; at += c->g->split) {
		piece = *ev;
		piece.data = ev->data + at;
		piece.len = ev->len - at < c->g->split ? ev->len - at : c->g->split;
		tls_event(c->tls, &piece);
	}
	return FLOW_BYTES_READ;
}

static void on_close(void *app, const struct flow *f)
{
	struct conn *c = app;
	struct result *r = c->res;
	const struct tls_info *in;

	(void)f;
	tls_finish(c->tls);
	in = tls_get_info(c->tls);
	r->version = in->version;
	r->legacy_version = in->legacy_version;
	r->n_offered_versions = in->n_offered_versions;
	r->cipher_suite = in->cipher_suite;
	r->cipher_name = in->cipher_name;
	r->sni = dup_or_null(in->sni);
	r->alpn = dup_or_null(in->alpn);
	r->alpn_offered = dup_or_null(in->alpn_offered);
	r->failure = dup_or_null(in->failure);
	r->note = dup_or_null(in->decrypt_note);
	r->decrypt = in->decrypt;
	r->complete = in->handshake_complete;
	r->inferred = in->handshake_inferred;
	r->failed = in->handshake_failed;
	r->resumed = in->resumed;
	r->resumed_by = in->resumed_by;
	r->etm = in->encrypt_then_mac;
	r->key_source = in->key_source;
	r->server_key_tried = in->server_key_tried;
	r->rsa_kx = in->rsa_key_exchange;
	r->n_server_certs = in->n_server_certs;
	if (in->n_server_certs)
		r->cert_subject = dup_or_null(in->server_certs[0]->subject);
	r->n_alerts = in->n_alerts;
	if (in->n_alerts)
		r->alert0 = in->alerts[0];
	r->decrypted = in->records_decrypted[0] + in->records_decrypted[1];
	r->desynced = in->desynced[0] || in->desynced[1];
	r->unreadable = tls_unreadable(c->tls);
	tls_close(c->tls);
	c->tls = NULL;
}

static const struct flow_app_ops OPS = { on_open, on_event, on_close, NULL };

static void rig_free(struct rig *g)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		struct result *r = &g->res[i];

		free(r->sni);
		free(r->alpn);
		free(r->alpn_offered);
		free(r->failure);
		free(r->note);
		free(r->cert_subject);
	}
	keylog_free(g->kl);
	free(g);
}

/* A key log fixture, loaded as scepdump --keylog would. */
static struct keylog *keylog_fixture(const char *name)
{
	struct keylog *kl = keylog_new();
	char err[256], *path = test_data_path(name);

	assert_non_null(kl);
	assert_true(keylog_load_file(kl, path, err, sizeof(err)) > 0);
	assert_string_equal(err, "");
	free(path);
	return kl;
}

/* Runs capture name through capture -> TCP -> flows -> TLS with key log kl
 * (taken over; NULL for none); with dsb, the key log comes from the
 * capture's own Decryption Secrets Blocks. */
static struct rig *run_mut(const char *name, struct keylog *kl, size_t split, uint64_t drop,
			   int dsb, uint32_t mutate)
{
	struct rig *g = calloc(1, sizeof(*g));
	struct flow_limits lim = { 16, 1 << 20, 1 << 22, 60000000000ull, NULL };
	char err[256], *path = test_data_path(name);
	const char *paths[1] = { path };
	struct flow_table *ft;
	struct ip_reasm *ipr;
	struct capture *cap;
	struct tcp_seg seg;
	struct pkt p;
	const uint8_t *text;
	size_t tlen;
	int rc;

	assert_non_null(g);
	g->split = split;
	g->drop_frame = drop;
	g->mutate = mutate;
	g->kl = kl ? kl : keylog_new();
	assert_non_null(g->kl);
	cap = capture_open_files(paths, 1, NULL, err, sizeof(err));
	if (!cap)
		fail_msg("%s", err);
	ipr = ip_reasm_new(1 << 20);
	ft = flow_table_new(&lim, &g->cnt, &OPS, g);
	assert_non_null(ipr);
	assert_non_null(ft);
	while ((rc = capture_next(cap, &p, err, sizeof(err))) != 0) {
		assert_int_equal(rc, 1);
		if (dsb && (text = capture_tls_keylog(cap, &tlen)) != NULL)
			assert_true(keylog_add_text(g->kl, text, tlen) >= 0);
		if (pkt_decode_tcp(&p, ipr, &g->cnt, &seg) == PKT_TCP)
			flow_table_input(ft, &seg);
	}
	flow_table_flush(ft);
	flow_table_free(ft);
	ip_reasm_free(ipr);
	capture_close(cap);
	free(path);
	return g;
}

static struct rig *run_opts(const char *name, struct keylog *kl, size_t split, uint64_t drop,
			    int dsb)
{
	return run_mut(name, kl, split, drop, dsb, 0);
}

static struct rig *run(const char *name, const char *keylog)
{
	return run_opts(name, keylog ? keylog_fixture(keylog) : NULL, 0, 0, 0);
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!hay || !strstr(hay, needle))
		fail_msg("\"%.200s\" does not contain \"%s\"", hay ? hay : "(null)", needle);
}

/* The exchange curl had with s_server -www, in the clear. */
static void assert_http(const struct result *r, const char *request)
{
	assert_contains(r->plain[DIR_TO_SERVER], request);
	assert_contains(r->plain[DIR_TO_CLIENT], "HTTP/1.0 200 ok");
	assert_contains(r->plain[DIR_TO_CLIENT], "s_server -quiet -accept 127.0.0.1:4433");
	/* the whole page, up to its last record */
	assert_contains(r->plain[DIR_TO_CLIENT], "</pre></BODY></HTML>\r\n\r\n");
	assert_int_equal(r->gaps[0] + r->gaps[1], 0);
}

/* Everything test_tls checks on a complete, decrypted curl session; the
 * values are the ones tshark -T fields shows for the same capture. */
static void check_curl(const char *name, uint16_t version, const char *suite, uint16_t suite_id)
{
	char keylog[64];
	struct rig *g;
	struct result *r;

	snprintf(keylog, sizeof(keylog), "%.40s", name);
	strcpy(strstr(keylog, ".pcap"), ".keylog");
	g = run(name, keylog);
	assert_int_equal(g->n, 1);
	r = &g->res[0];
	assert_int_equal(r->version, version);
	assert_int_equal(r->legacy_version, 0x0303);
	assert_int_equal(r->n_offered_versions, version == 0x0304 ? 1 : 0);
	assert_int_equal(r->cipher_suite, suite_id);
	assert_string_equal(r->cipher_name, suite);
	assert_string_equal(r->sni, "scep.test");
	assert_string_equal(r->alpn_offered, "h2,http/1.1");
	assert_string_equal(r->alpn, "http/1.1");
	assert_int_equal(r->complete, 1);
	assert_int_equal(r->inferred, 0);
	assert_int_equal(r->failed, 0);
	assert_int_equal(r->decrypt, TLS_DECRYPT_OK);
	assert_string_equal(r->note, "decrypting");
	assert_int_equal(r->n_server_certs, 1);
	assert_contains(r->cert_subject, "CN=scep.test");
	assert_http(r, "GET / HTTP/1.1\r\nHost: scep.test:4433\r\n");
	/* the close_notify of each side, decrypted */
	assert_int_equal(r->n_alerts, 2);
	assert_int_equal(r->alert0.level, 1);
	assert_int_equal(r->alert0.desc, 0);
	assert_int_equal(r->fins, 2);
	assert_true(g->cnt.tls_records_decrypted >= 6);
	assert_int_equal(r->unreadable, 0);
	assert_int_equal(g->cnt.tls_decrypt_failures, 0);
	assert_int_equal(g->cnt.tls_malformed, 0);
	assert_int_equal(g->cnt.tls_connections, 1);
	rig_free(g);
}

static void test_12_gcm(void **s)
{
	(void)s;
	check_curl("tls-12-gcm.pcap", 0x0303, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xc02f);
}

static void test_12_chacha(void **s)
{
	(void)s;
	check_curl("tls-12-chacha.pcap", 0x0303, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0xcca8);
}

/* AES-256-CBC, HMAC-SHA384, encrypt_then_mac (OpenSSL's default) */
static void test_12_cbc_etm(void **s)
{
	struct rig *g;

	(void)s;
	check_curl("tls-12-cbc-etm.pcap", 0x0303, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", 0xc028);
	g = run("tls-12-cbc-etm.pcap", NULL);
	assert_int_equal(g->res[0].etm, 1);
	rig_free(g);
}

/* RSA key exchange, AES-128-CBC, HMAC-SHA1, MAC-then-encrypt */
static void test_12_rsa_cbc(void **s)
{
	struct rig *g;

	(void)s;
	check_curl("tls-12-rsa-cbc.pcap", 0x0303, "TLS_RSA_WITH_AES_128_CBC_SHA", 0x002f);
	g = run("tls-12-rsa-cbc.pcap", NULL);
	assert_int_equal(g->res[0].etm, 0);
	rig_free(g);
}

static void test_13_aes128(void **s)
{
	(void)s;
	check_curl("tls-13-aes128.pcap", 0x0304, "TLS_AES_128_GCM_SHA256", 0x1301);
}

static void test_13_aes256(void **s)
{
	(void)s;
	check_curl("tls-13-aes256.pcap", 0x0304, "TLS_AES_256_GCM_SHA384", 0x1302);
}

static void test_13_chacha(void **s)
{
	(void)s;
	check_curl("tls-13-chacha.pcap", 0x0304, "TLS_CHACHA20_POLY1305_SHA256", 0x1303);
}

/* s_client's 'K': a KeyUpdate asking for the server's too, then the
 * request; both directions must move to the next generation. */
static void test_13_keyupdate(void **s)
{
	struct rig *g;
	struct result *r;

	(void)s;
	g = run("tls-13-keyupdate.pcap", "tls-13-keyupdate.keylog");
	assert_int_equal(g->n, 1);
	r = &g->res[0];
	assert_int_equal(r->version, 0x0304);
	assert_string_equal(r->cipher_name, "TLS_AES_256_GCM_SHA384");
	assert_string_equal(r->note, "decrypting");
	assert_http(r, "GET / HTTP/1.0\r\n");
	assert_int_equal(g->cnt.tls_decrypt_failures, 0);
	rig_free(g);
}

/* Two s_client connections; the second resumes the first's session id
 * (abbreviated handshake: no certificate) and still decrypts. */
static void test_12_resume(void **s)
{
	struct rig *g;

	(void)s;
	g = run("tls-12-resume.pcap", "tls-12-resume.keylog");
	assert_int_equal(g->n, 2);
	assert_int_equal(g->res[0].resumed, 0);
	assert_int_equal(g->res[0].n_server_certs, 1);
	assert_int_equal(g->res[1].resumed, 1);
	assert_string_equal(g->res[1].resumed_by, "session id");
	assert_int_equal(g->res[1].n_server_certs, 0);
	assert_null(g->res[1].sni);
	assert_string_equal(g->res[1].cipher_name, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
	assert_int_equal(g->res[1].complete, 1);
	assert_http(&g->res[0], "GET / HTTP/1.0\r\n");
	assert_http(&g->res[1], "GET / HTTP/1.0\r\n");
	rig_free(g);
}

/* Without a key log: metadata only, no plaintext, one note. */
static void test_no_key(void **s)
{
	struct rig *g;
	struct result *r;

	(void)s;
	g = run("tls-13-aes128.pcap", NULL);
	r = &g->res[0];
	assert_string_equal(r->sni, "scep.test");
	assert_string_equal(r->cipher_name, "TLS_AES_128_GCM_SHA256");
	assert_null(r->alpn);          /* in EncryptedExtensions */
	assert_int_equal(r->n_server_certs, 0);
	assert_int_equal(r->decrypt, TLS_DECRYPT_NO_KEY);
	assert_string_equal(r->note, "no key log entry for this connection");
	assert_int_equal(r->complete, 1);
	assert_int_equal(r->inferred, 1);
	assert_int_equal(r->plain_len[0] + r->plain_len[1], 0);
	assert_int_equal(r->decrypted, 0);
	assert_int_equal(g->cnt.tls_no_key, 1);
	/* nothing more can be read from it: the flow may drop its history */
	assert_int_equal(r->unreadable, 1);
	rig_free(g);

	g = run("tls-12-gcm.pcap", NULL);
	r = &g->res[0];
	assert_string_equal(r->alpn, "http/1.1");  /* TLS 1.2 says it in the clear */
	assert_int_equal(r->n_server_certs, 1);
	assert_string_equal(r->note, "no key log entry for this connection");
	assert_int_equal(r->complete, 1);
	assert_int_equal(r->inferred, 1);
	assert_int_equal(r->plain_len[0] + r->plain_len[1], 0);
	/* the close_notify alerts are there, but unreadable */
	assert_int_equal(r->n_alerts, 2);
	assert_int_equal(r->alert0.desc, -1);
	assert_int_equal(r->unreadable, 1);
	rig_free(g);
}

/* A key log whose secrets are one bit off: the tag or MAC check fails,
 * the connection says so once, and nothing decrypted goes upward. */
static void wrong_key(const char *pcap, const char *keylog, const char *note)
{
	struct keylog *kl = keylog_new();
	struct result *r;
	struct rig *g;
	uint8_t *text;
	size_t len, i;

	text = test_load(keylog, &len);
	for (i = 1; i < len; i++) {
		if (text[i] == '\n' && text[i - 1] != '\n')
			text[i - 1] = text[i - 1] == '0' ? '1' : '0';
	}
	assert_true(keylog_add_text(kl, text, len) > 0);
	free(text);
	g = run_opts(pcap, kl, 0, 0, 0);
	r = &g->res[0];
	assert_int_equal(r->decrypt, TLS_DECRYPT_FAILED);
	assert_string_equal(r->note, note);
	assert_int_equal(g->cnt.tls_decrypt_failures, 1);
	assert_int_equal(r->plain_len[0] + r->plain_len[1], 0);
	assert_string_equal(r->sni, "scep.test");
	rig_free(g);
}

static void test_wrong_key(void **s)
{
	(void)s;
	wrong_key("tls-12-gcm.pcap", "tls-12-gcm.keylog",
		  "decrypt failed at record 8 (client to server): authentication tag mismatch (wrong key?)");
	wrong_key("tls-12-rsa-cbc.pcap", "tls-12-rsa-cbc.keylog",
		  "decrypt failed at record 7 (client to server): bad padding (wrong key?)");
	wrong_key("tls-12-cbc-etm.pcap", "tls-12-cbc-etm.keylog",
		  "decrypt failed at record 8 (client to server): bad record MAC (wrong key?)");
	wrong_key("tls-13-chacha.pcap", "tls-13-chacha.keylog",
		  "decrypt failed at record 4 (server to client): authentication tag mismatch (wrong key?)");
}

/* curl without -k refuses the self-signed certificate: its alert is in the
 * clear in TLS 1.2. */
static void test_12_fail(void **s)
{
	struct rig *g;
	struct result *r;

	(void)s;
	g = run("tls-12-fail.pcap", NULL);
	r = &g->res[0];
	assert_int_equal(r->failed, 1);
	assert_int_equal(r->complete, 0);
	assert_string_equal(r->failure, "client sent fatal alert unknown_ca");
	assert_int_equal(r->n_alerts, 1);
	assert_int_equal(r->alert0.dir, DIR_TO_SERVER);
	assert_int_equal(r->alert0.level, 2);
	assert_string_equal(tls_alert_name(r->alert0.desc), "unknown_ca");
	assert_int_equal(r->alert0.frame, 8);
	assert_int_equal(r->n_server_certs, 1);
	assert_null(r->note);         /* nothing was ever encrypted */
	rig_free(g);
}

/* TLS 1.3: OpenSSL's client rejects the certificate before it switches
 * its own keys, so its alert is in the clear. curl logged only the
 * server's handshake secret, which is enough to read the certificate. */
static void test_13_fail(void **s)
{
	struct rig *g;
	struct result *r;

	(void)s;
	g = run("tls-13-fail.pcap", NULL);
	r = &g->res[0];
	assert_int_equal(r->failed, 1);
	assert_int_equal(r->inferred, 0);
	assert_string_equal(r->failure, "client sent fatal alert unknown_ca");
	assert_int_equal(r->n_alerts, 1);
	assert_int_equal(r->alert0.level, 2);
	assert_int_equal(r->alert0.desc, 48);
	assert_null(r->alpn);
	assert_string_equal(r->note, "no key log entry for this connection");
	rig_free(g);

	g = run("tls-13-fail.pcap", "tls-13-fail.keylog");
	r = &g->res[0];
	assert_int_equal(r->failed, 1);
	assert_int_equal(r->n_server_certs, 1);
	assert_contains(r->cert_subject, "CN=scep.test");
	assert_string_equal(r->alpn, "http/1.1");
	assert_string_equal(r->note, "decrypting");
	rig_free(g);
}

/* The key log carried in the capture itself (pcapng DSB). */
static void test_dsb(void **s)
{
	struct rig *g;

	(void)s;
	g = run_opts("tls-12-gcm-dsb.pcapng", NULL, 0, 0, 1);
	assert_string_equal(g->res[0].note, "decrypting");
	assert_http(&g->res[0], "GET / HTTP/1.1\r\n");
	rig_free(g);
}

/* Records cut at every byte boundary decrypt the same. */
static void test_split(void **s)
{
	static const size_t sizes[] = { 1, 3, 7, 1000 };
	struct rig *g;
	size_t i;

	(void)s;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		g = run_opts("tls-13-aes128.pcap", keylog_fixture("tls-13-aes128.keylog"),
			     sizes[i], 0, 0);
		assert_http(&g->res[0], "GET / HTTP/1.1\r\n");
		assert_string_equal(g->res[0].alpn, "http/1.1");
		rig_free(g);
		g = run_opts("tls-12-rsa-cbc.pcap", keylog_fixture("tls-12-rsa-cbc.keylog"),
			     sizes[i], 0, 0);
		assert_http(&g->res[0], "GET / HTTP/1.1\r\n");
		rig_free(g);
	}
}

/* Lost ciphertext in the middle of the response: a gap goes upward, the
 * direction stops, the request side is unharmed. */
static void test_gap(void **s)
{
	struct rig *g;
	struct result *r;

	(void)s;
	/* frame 14 carries the second segment of s_server's response */
	g = run_opts("tls-13-aes128.pcap", keylog_fixture("tls-13-aes128.keylog"), 0, 14, 0);
	r = &g->res[0];
	assert_contains(r->plain[DIR_TO_SERVER], "GET / HTTP/1.1\r\n");
	assert_true(r->gaps[DIR_TO_CLIENT] >= 1);
	assert_int_equal(r->desynced, 1);
	assert_string_equal(r->note, "decrypting");
	assert_true(g->cnt.tls_desync_bytes > 0);
	rig_free(g);
}

static void test_probe(void **s)
{
	static const uint8_t ch[] = { 22, 3, 1, 0, 200, 1, 0, 0, 196 };
	static const uint8_t sh[] = { 22, 3, 3, 0, 90, 2, 0, 0, 86 };
	static const uint8_t http[] = "GET / HTTP/1.1\r\n";
	static const uint8_t ssl3[] = { 22, 3, 0, 0, 200, 1 };
	static const uint8_t appdata[] = { 23, 3, 3, 0, 200, 1 };

	(void)s;
	assert_int_equal(tls_probe(ch, sizeof(ch)), TLS_PROBE_CLIENT);
	assert_int_equal(tls_probe(sh, sizeof(sh)), TLS_PROBE_SERVER);
	assert_int_equal(tls_probe(ch, 5), TLS_PROBE_NO);
	assert_int_equal(tls_probe(http, sizeof(http) - 1), TLS_PROBE_NO);
	assert_int_equal(tls_probe(ssl3, sizeof(ssl3)), TLS_PROBE_NO);
	assert_int_equal(tls_probe(appdata, sizeof(appdata)), TLS_PROBE_NO);
	assert_int_equal(tls_probe(NULL, 0), TLS_PROBE_NO);
	assert_string_equal(tls_version_name(0x0304), "TLS 1.3");
	assert_string_equal(tls_version_name(0x1a1a), "GREASE");
	assert_null(tls_version_name(0x0305));
	assert_null(tls_cipher_suite_name(0xfefe));
	assert_string_equal(tls_alert_name(42), "bad_certificate");
	assert_string_equal(tls_alert_level_name(2), "fatal");
}

/* Hostile bytes: junk after a valid-looking header, truncated hellos,
 * huge lengths; nothing may crash, junk stops the direction. */
static void test_garbage(void **s)
{
	struct counters cnt;
	struct tls_conn *c;
	struct stream_event ev = { .kind = STREAM_DATA, .dir = DIR_TO_SERVER, .frame = 1, .first_frame = 1 };
	uint8_t buf[4096];
	uint32_t x = 12345;
	size_t i, n;

	(void)s;
	for (n = 0; n < 300; n++) {
		memset(&cnt, 0, sizeof(cnt));
		c = tls_open(NULL, &cnt, NULL, NULL, NULL);
		assert_non_null(c);
		for (i = 0; i < sizeof(buf); i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (uint8_t)(x >> 16);
		}
		/* a plausible record header over random bodies */
		buf[0] = (uint8_t)(20 + n % 5);
		buf[1] = 3;
		buf[2] = (uint8_t)(n % 5);
		buf[3] = (uint8_t)(n % 17);
		buf[5] = (uint8_t)(n % 3 ? 1 : 2);
		ev.dir = n % 2 ? DIR_TO_CLIENT : DIR_TO_SERVER;
		ev.data = buf;
		ev.len = (n * 37) % sizeof(buf);
		tls_event(c, &ev);
		ev.dir = DIR_TO_CLIENT;
		tls_event(c, &ev);
		tls_finish(c);
		assert_non_null(tls_get_info(c));
		tls_close(c);
	}
	/* not TLS at all */
	memset(&cnt, 0, sizeof(cnt));
	c = tls_open(NULL, &cnt, NULL, NULL, NULL);
	ev.data = (const uint8_t *)"GET / HTTP/1.1\r\n\r\n";
	ev.len = 18;
	tls_event(c, &ev);
	assert_int_equal(tls_get_info(c)->not_tls[ev.dir], 1);
	assert_int_equal(cnt.tls_malformed, 1);
	tls_close(c);
}

/* One flipped byte anywhere in the first eight stream chunks of real
 * sessions: parsing may stop or decryption fail, but never wrongly
 * succeed (the tag/MAC guards every plaintext byte) nor crash. */
static void test_mutated(void **s)
{
	static const char *const caps[][2] = {
		{ "tls-13-aes128.pcap", "tls-13-aes128.keylog" },
		{ "tls-12-rsa-cbc.pcap", "tls-12-rsa-cbc.keylog" },
		{ "tls-12-chacha.pcap", "tls-12-chacha.keylog" },
	};
	uint32_t x = 2463534242u, m;
	struct rig *g;
	size_t i, k;

	(void)s;
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		for (k = 0; k < 150; k++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			m = x | 1;
			g = run_mut(caps[i][0], keylog_fixture(caps[i][1]), 0, 0, 0, m);
			assert_int_equal(g->n, 1);
			/* a response that decrypted at all decrypted whole */
			if (g->res[0].plain_len[DIR_TO_CLIENT] && !g->res[0].gaps[DIR_TO_CLIENT])
				assert_contains(g->res[0].plain[DIR_TO_CLIENT], "</HTML>");
			rig_free(g);
		}
	}
}

/* ---- the server's RSA key (--tls-key) ---- */

#define RSA_KX_PCAP "../../../captures/tls12-rsa-kx.pcap"

static struct keylog *server_key(const char *path)
{
	struct keylog *kl = keylog_new();
	char err[256];

	assert_non_null(kl);
	if (keylog_load_server_key(kl, path, NULL, err, sizeof(err)) < 0)
		fail_msg("%s: %s", path, err);
	return kl;
}

static struct keylog *tree_server_key(void)
{
	char *path = test_data_path("../../../captures/keys/tls-server.key");
	struct keylog *kl = server_key(path);

	free(path);
	return kl;
}

/* TLS_RSA_WITH_AES_128_CBC_SHA with extended master secret and
 * encrypt_then_mac (tshark: ServerHello extensions 23 and 22): the server's
 * key gives the same plaintext as the client's key log, byte for byte, and
 * the requests tshark decrypts with that key. */
static void test_server_key_rsa_kx(void **s)
{
	struct rig *a, *b;
	struct result *r;
	int d;

	(void)s;
	a = run_opts(RSA_KX_PCAP, tree_server_key(), 0, 0, 0);
	b = run_opts(RSA_KX_PCAP, keylog_fixture("../../../captures/keys/tls12-rsa-kx.keylog"), 0, 0, 0);
	assert_int_equal(a->n, 1);
	r = &a->res[0];
	assert_int_equal(r->rsa_kx, 1);
	assert_int_equal(r->etm, 1);
	assert_int_equal(r->decrypt, TLS_DECRYPT_OK);
	assert_int_equal(r->key_source, TLS_KEY_SERVER);
	assert_int_equal(r->server_key_tried, 1);
	assert_contains(r->note, "decrypting with the server key (--tls-key ");
	assert_contains(r->note, "captures/keys/tls-server.key)");
	assert_int_equal(b->res[0].key_source, TLS_KEY_KEYLOG);
	assert_string_equal(b->res[0].note, "decrypting");
	assert_contains(r->plain[DIR_TO_SERVER], "GET /scep?operation=GetCACaps HTTP/1.1\r\n");
	assert_contains(r->plain[DIR_TO_SERVER], "GET /scep?operation=GetCACert HTTP/1.1\r\n");
	assert_contains(r->plain[DIR_TO_SERVER], "POST /scep?operation=PKIOperation HTTP/1.1\r\n");
	/* the responses carry DER (NUL bytes): searched as bytes */
	assert_non_null(memmem(r->plain[DIR_TO_CLIENT], r->plain_len[DIR_TO_CLIENT],
			       "Content-Type: application/x-pki-message", 39));
	for (d = 0; d < 2; d++) {
		assert_true(r->plain_len[d] > 0);
		assert_int_equal(r->plain_len[d], b->res[0].plain_len[d]);
		assert_memory_equal(r->plain[d], b->res[0].plain[d], r->plain_len[d]);
		assert_int_equal(r->gaps[d], 0);
	}
	assert_int_equal(r->complete, 1);
	assert_int_equal(r->inferred, 0);
	assert_int_equal(a->cnt.tls_decrypt_failures, 0);
	assert_int_equal(a->cnt.tls_no_key, 0);
	rig_free(a);
	/* byte by byte: the transcript and the ClientKeyExchange span events */
	a = run_opts(RSA_KX_PCAP, tree_server_key(), 1, 0, 0);
	assert_int_equal(a->res[0].decrypt, TLS_DECRYPT_OK);
	assert_int_equal(a->res[0].plain_len[DIR_TO_CLIENT], b->res[0].plain_len[DIR_TO_CLIENT]);
	rig_free(a);
	rig_free(b);
}

/* One flipped byte in the handshake or records (the mutations of
 * test_mutated): the server key path reads it all through the same
 * checks, and a connection either decrypts whole or says why not. */
static void test_server_key_mutated(void **s)
{
	uint32_t x = 88172645u;
	struct rig *g;
	size_t k;

	(void)s;
	for (k = 0; k < 150; k++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		g = run_mut(RSA_KX_PCAP, tree_server_key(), 0, 0, 0, x | 1);
		assert_int_equal(g->n, 1);
		if (g->res[0].decrypt != TLS_DECRYPT_OK && g->res[0].decrypt != TLS_DECRYPT_NONE)
			assert_non_null(g->res[0].note);
		rig_free(g);
	}
}

/* The key log comes first: with both, the connection says key log. */
static void test_server_key_after_keylog(void **s)
{
	struct keylog *kl = tree_server_key();
	uint8_t *text;
	size_t len;
	struct rig *g;

	(void)s;
	text = test_load("../../../captures/keys/tls12-rsa-kx.keylog", &len);
	assert_true(keylog_add_text(kl, text, len) > 0);
	free(text);
	g = run_opts(RSA_KX_PCAP, kl, 0, 0, 0);
	assert_int_equal(g->res[0].key_source, TLS_KEY_KEYLOG);
	assert_int_equal(g->res[0].server_key_tried, 0);
	assert_string_equal(g->res[0].note, "decrypting");
	rig_free(g);
}

/* Another RSA key (made here): it is not the certificate's, nothing is
 * decrypted, and the note names the file. */
static void test_server_key_wrong(void **s)
{
	char path[] = "/tmp/test_tls_key_XXXXXX";
	EVP_PKEY *pk = EVP_RSA_gen(2048);
	struct rig *g;
	struct result *r;
	FILE *f;
	int fd;

	(void)s;
	assert_non_null(pk);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_true(PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL));
	fclose(f);
	EVP_PKEY_free(pk);
	g = run_opts(RSA_KX_PCAP, server_key(path), 0, 0, 0);
	r = &g->res[0];
	assert_int_equal(r->decrypt, TLS_DECRYPT_NO_KEY);
	assert_int_equal(r->key_source, TLS_KEY_NONE);
	assert_int_equal(r->server_key_tried, 1);
	assert_contains(r->note, "the server certificate (CN=scep.scepdump.test,O=scepdump,C=US) "
			"does not match --tls-key /tmp/test_tls_key_");
	assert_int_equal(r->plain_len[0] + r->plain_len[1], 0);
	assert_int_equal(r->unreadable, 1);
	/* the client's close_notify stays ciphertext */
	assert_int_equal(r->alert0.level, -1);
	rig_free(g);
	unlink(path);
}

/* ECDHE and TLS 1.3: the server's key only signs, it cannot help. */
static void test_server_key_cannot(void **s)
{
	struct rig *g;

	(void)s;
	g = run_opts("tls-12-gcm.pcap", tree_server_key(), 0, 0, 0);
	assert_int_equal(g->res[0].rsa_kx, 0);
	assert_int_equal(g->res[0].decrypt, TLS_DECRYPT_NO_KEY);
	assert_int_equal(g->res[0].server_key_tried, 1);
	assert_string_equal(g->res[0].note, "ECDHE key exchange: the server key cannot decrypt it, give --keylog");
	rig_free(g);
	g = run_opts("tls-13-aes128.pcap", tree_server_key(), 0, 0, 0);
	assert_int_equal(g->res[0].decrypt, TLS_DECRYPT_NO_KEY);
	assert_int_equal(g->res[0].server_key_tried, 1);
	assert_string_equal(g->res[0].note, "TLS 1.3: the server key cannot decrypt it, give --keylog");
	rig_free(g);
	/* RSA key exchange whose key is not loaded: the plain no-key note */
	g = run("tls-12-rsa-cbc.pcap", NULL);
	assert_int_equal(g->res[0].rsa_kx, 1);
	assert_int_equal(g->res[0].server_key_tried, 0);
	assert_string_equal(g->res[0].note, "no key log entry for this connection");
	rig_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_12_gcm),
		cmocka_unit_test(test_12_chacha),
		cmocka_unit_test(test_12_cbc_etm),
		cmocka_unit_test(test_12_rsa_cbc),
		cmocka_unit_test(test_13_aes128),
		cmocka_unit_test(test_13_aes256),
		cmocka_unit_test(test_13_chacha),
		cmocka_unit_test(test_13_keyupdate),
		cmocka_unit_test(test_12_resume),
		cmocka_unit_test(test_no_key),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_12_fail),
		cmocka_unit_test(test_13_fail),
		cmocka_unit_test(test_dsb),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_mutated),
		cmocka_unit_test(test_server_key_rsa_kx),
		cmocka_unit_test(test_server_key_after_keylog),
		cmocka_unit_test(test_server_key_mutated),
		cmocka_unit_test(test_server_key_wrong),
		cmocka_unit_test(test_server_key_cannot),
	};

	return cmocka_run_group_tests_name("tls", tests, NULL, NULL);
}
