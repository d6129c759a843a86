/* tls.c - TLS records of one TCP connection: handshake metadata, alerts,
 * and with a key log the application data decrypted and handed upward as
 * stream events. Trusts nothing from the wire or the key log: records and
 * handshake messages are read through struct rd, every buffer is capped,
 * and every primitive and KDF is OpenSSL's (EVP_CIPHER, EVP_MAC HMAC,
 * EVP_KDF TLS1-PRF and TLS13-KDF); a failed tag or MAC means a wrong key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "app.h"
#include "counters.h"
#include "keylog.h"
#include "membudget.h"
#include "reader.h"
#include "scep.h"
#include "strutil.h"
#include "tls.h"

/* RFC 5246 6.2.3: a TLSCiphertext fragment is at most 2^14 + 2048 bytes
 * (TLS 1.3 allows less); anything longer is not TLS (record_overflow). */
#define REC_HDR 5
#define REC_MAX (16384 + 2048)
#define HS_MAX (256u * 1024)   /* one handshake message (certificate chains) */
/* a partial message under the cap plus one record's worth after it */
#define HS_BUF (HS_MAX + 4 + REC_MAX)
#define NAME_MAX_LEN 255       /* SNI, one ALPN protocol */
#define ALPN_LIST_MAX 256      /* printable ALPN offer list */
#define TAG_LEN 16

enum rec_type { RT_CCS = 20, RT_ALERT = 21, RT_HANDSHAKE = 22, RT_APPDATA = 23, RT_HEARTBEAT = 24 };
enum hs_type {
	HS_CLIENT_HELLO = 1, HS_SERVER_HELLO = 2, HS_NEW_SESSION_TICKET = 4,
	HS_ENCRYPTED_EXTENSIONS = 8, HS_CERTIFICATE = 11, HS_SERVER_KEY_EXCHANGE = 12,
	HS_SERVER_HELLO_DONE = 14, HS_FINISHED = 20, HS_KEY_UPDATE = 24
};
enum ext_type {
	EXT_SERVER_NAME = 0, EXT_ALPN = 16, EXT_ENCRYPT_THEN_MAC = 22, EXT_EMS = 23,
	EXT_SESSION_TICKET = 35, EXT_PRE_SHARED_KEY = 41, EXT_EARLY_DATA = 42,
	EXT_SUPPORTED_VERSIONS = 43
};

#define V_TLS10 0x0301
#define V_TLS11 0x0302
#define V_TLS12 0x0303
#define V_TLS13 0x0304

enum cipher_kind { CK_NONE = 0, CK_GCM, CK_CHACHA, CK_CBC };

struct suite {
	uint16_t id;
	const char *name;
	uint8_t kind;               /* enum cipher_kind; CK_NONE: named, not decrypted */
	uint8_t tls13;
	uint8_t key_len;
	const char *cipher;         /* EVP name */
	const char *mac_md;         /* CBC: HMAC digest */
	uint8_t mac_len;
	const char *prf_md;         /* TLS 1.2 PRF / TLS 1.3 HKDF hash */
};

static const struct suite SUITES[] = {
	{ 0x1301, "TLS_AES_128_GCM_SHA256", CK_GCM, 1, 16, "AES-128-GCM", NULL, 0, "SHA256" },
	{ 0x1302, "TLS_AES_256_GCM_SHA384", CK_GCM, 1, 32, "AES-256-GCM", NULL, 0, "SHA384" },
	{ 0x1303, "TLS_CHACHA20_POLY1305_SHA256", CK_CHACHA, 1, 32, "ChaCha20-Poly1305", NULL, 0, "SHA256" },
	{ 0x1304, "TLS_AES_128_CCM_SHA256", CK_NONE, 1, 0, NULL, NULL, 0, NULL },
	{ 0x1305, "TLS_AES_128_CCM_8_SHA256", CK_NONE, 1, 0, NULL, NULL, 0, NULL },
	{ 0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", CK_GCM, 0, 16, "AES-128-GCM", NULL, 0, "SHA256" },
	{ 0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", CK_GCM, 0, 32, "AES-256-GCM", NULL, 0, "SHA384" },
	{ 0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", CK_GCM, 0, 16, "AES-128-GCM", NULL, 0, "SHA256" },
	{ 0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", CK_GCM, 0, 32, "AES-256-GCM", NULL, 0, "SHA384" },
	{ 0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", CK_GCM, 0, 16, "AES-128-GCM", NULL, 0, "SHA256" },
	{ 0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", CK_GCM, 0, 32, "AES-256-GCM", NULL, 0, "SHA384" },
	{ 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", CK_GCM, 0, 16, "AES-128-GCM", NULL, 0, "SHA256" },
	{ 0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", CK_GCM, 0, 32, "AES-256-GCM", NULL, 0, "SHA384" },
	{ 0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", CK_CHACHA, 0, 32, "ChaCha20-Poly1305", NULL, 0, "SHA256" },
	{ 0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", CK_CHACHA, 0, 32, "ChaCha20-Poly1305", NULL, 0, "SHA256" },
	{ 0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", CK_CHACHA, 0, 32, "ChaCha20-Poly1305", NULL, 0, "SHA256" },
	{ 0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", CK_CBC, 0, 16, "AES-128-CBC", "SHA1", 20, "SHA256" },
	{ 0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", CK_CBC, 0, 32, "AES-256-CBC", "SHA1", 20, "SHA256" },
	{ 0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", CK_CBC, 0, 16, "AES-128-CBC", "SHA256", 32, "SHA256" },
	{ 0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", CK_CBC, 0, 32, "AES-256-CBC", "SHA256", 32, "SHA256" },
	{ 0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", CK_CBC, 0, 16, "AES-128-CBC", "SHA1", 20, "SHA256" },
	{ 0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", CK_CBC, 0, 32, "AES-256-CBC", "SHA1", 20, "SHA256" },
	{ 0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", CK_CBC, 0, 16, "AES-128-CBC", "SHA256", 32, "SHA256" },
	{ 0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", CK_CBC, 0, 32, "AES-256-CBC", "SHA256", 32, "SHA256" },
	{ 0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", CK_CBC, 0, 16, "AES-128-CBC", "SHA1", 20, "SHA256" },
	{ 0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", CK_CBC, 0, 32, "AES-256-CBC", "SHA1", 20, "SHA256" },
	{ 0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", CK_CBC, 0, 16, "AES-128-CBC", "SHA1", 20, "SHA256" },
	{ 0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", CK_CBC, 0, 32, "AES-256-CBC", "SHA1", 20, "SHA256" },
	{ 0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", CK_CBC, 0, 16, "AES-128-CBC", "SHA256", 32, "SHA256" },
	{ 0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", CK_CBC, 0, 32, "AES-256-CBC", "SHA384", 48, "SHA384" },
	{ 0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", CK_CBC, 0, 16, "AES-128-CBC", "SHA256", 32, "SHA256" },
	{ 0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", CK_CBC, 0, 32, "AES-256-CBC", "SHA384", 48, "SHA384" },
	/* old NDES / appliance servers still pick 3DES */
	{ 0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", CK_CBC, 0, 24, "DES-EDE3-CBC", "SHA1", 20, "SHA256" },
	{ 0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", CK_CBC, 0, 24, "DES-EDE3-CBC", "SHA1", 20, "SHA256" },
	{ 0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", CK_CBC, 0, 24, "DES-EDE3-CBC", "SHA1", 20, "SHA256" },
	{ 0x0004, "TLS_RSA_WITH_RC4_128_MD5", CK_NONE, 0, 0, NULL, NULL, 0, NULL },
	{ 0x0005, "TLS_RSA_WITH_RC4_128_SHA", CK_NONE, 0, 0, NULL, NULL, 0, NULL },
	{ 0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", CK_NONE, 0, 0, NULL, NULL, 0, NULL },
	{ 0xC0AD, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM", CK_NONE, 0, 0, NULL, NULL, 0, NULL },
	{ 0x00FF, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", CK_NONE, 0, 0, NULL, NULL, 0, NULL },
	{ 0x5600, "TLS_FALLBACK_SCSV", CK_NONE, 0, 0, NULL, NULL, 0, NULL },
};

/* RFC 8446 4.1.3: a ServerHello with this random is a HelloRetryRequest. */
static const uint8_t HRR_RANDOM[32] = {
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C
};

/* TLS 1.3 read-key epochs of one direction. */
enum epoch { EP_PLAIN = 0, EP_HANDSHAKE, EP_APPLICATION };

/* Why a direction stopped being parsed. */
enum stop_why { ST_RUNNING = 0, ST_NOT_TLS, ST_DESYNC };

/* Read state of one direction. */
/* TLS 1.0-1.2 key block: two MAC keys, two write keys, two IVs at most */
#define KEY_BLOCK_LEN (2 * 48 + 2 * 32 + 2 * 16)

/* A direction's keys and cipher, allocated only once a key log gives them:
 * most TLS seen on a gateway has no keys, and keeps no room for them. */
struct dir_keys {
	EVP_CIPHER_CTX *cctx;
	EVP_MAC_CTX *mctx;
	uint8_t key[32], iv[16], mac_key[48];
	size_t iv_len;
	uint8_t secret[KEYLOG_SECRET_MAX]; /* TLS 1.3 current traffic secret */
	size_t secret_len;
};

struct dir_state {
	/* a record split over TCP segments, held until complete */
	uint8_t *rec;
	size_t rec_len;
	size_t skip;                /* bytes left of an opaque record already counted */
	uint64_t rec_first_frame, rec_first_ts;
	/* handshake messages split over records */
	uint8_t *hs;
	size_t hs_len, hs_cap;
	size_t hs_skip;             /* bytes of an over-cap message still to drop */
	int stopped;                /* enum stop_why */
	/* protection */
	int encrypted;              /* records are ciphertext from now on */
	int have_keys;              /* ...and we can decrypt them */
	int key_tried;              /* key lookup done for the current epoch */
	int epoch;                  /* TLS 1.3: enum epoch */
	int delivering;             /* plaintext went upward: losses become gaps */
	uint64_t seq;
	struct dir_keys *k;         /* only while decrypting (have_keys) */
	/* handshake progress */
	int finished;               /* Finished seen (or inferred: 1.2 without keys) */
	int sent_server_flight;     /* Certificate / ServerKeyExchange / ServerHelloDone */
	uint64_t enc_records;       /* records we could not decrypt */
};

struct tls_conn {
	const struct keylog *kl;
	struct counters *cnt;
	struct mem_budget *mem;     /* the run's budget (tls_set_budget); NULL: none */
	struct flow flow;
	tls_plain_cb cb;
	void *cb_arg;
	struct tls_info info;
	struct dir_state d[2];
	uint8_t client_random[32], server_random[32];
	int have_randoms;
	uint8_t ch_session_id[32];
	size_t ch_session_id_len;
	const struct suite *suite;
	int tls13;
	int early_data_offered;
	int key_block_state;        /* TLS 1.2: 0 not tried, 1 ready, -1 none */
	uint8_t *key_block;         /* KEY_BLOCK_LEN bytes once derived */
	uint8_t *plain;             /* decrypt scratch, REC_MAX bytes */
	uint64_t record_no;         /* records of the connection, both ways */
	int server_enc_after_client; /* TLS 1.3 without keys: shape of the ending */
	int ended;                  /* FIN or RST seen */
};

/* ---- names ---- */

const char *tls_version_name(uint16_t v)
{
	switch (v) {
	case 0x0300: return "SSL 3.0";
	case V_TLS10: return "TLS 1.0";
	case V_TLS11: return "TLS 1.1";
	case V_TLS12: return "TLS 1.2";
	case V_TLS13: return "TLS 1.3";
	}
	/* RFC 8701 GREASE values look like 0x?A?A */
	if ((v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff))
		return "GREASE";
	return NULL;
}

static const struct suite *suite_by_id(uint16_t id)
{
	size_t i;

	for (i = 0; i < sizeof(SUITES) / sizeof(SUITES[0]); i++) {
		if (SUITES[i].id == id)
			return &SUITES[i];
	}
	return NULL;
}

const char *tls_cipher_suite_name(uint16_t id)
{
	const struct suite *s = suite_by_id(id);

	return s ? s->name : NULL;
}

const char *tls_alert_name(int desc)
{
	switch (desc) {
	case 0: return "close_notify";
	case 10: return "unexpected_message";
	case 20: return "bad_record_mac";
	case 21: return "decryption_failed";
	case 22: return "record_overflow";
	case 30: return "decompression_failure";
	case 40: return "handshake_failure";
	case 41: return "no_certificate";
	case 42: return "bad_certificate";
	case 43: return "unsupported_certificate";
	case 44: return "certificate_revoked";
	case 45: return "certificate_expired";
	case 46: return "certificate_unknown";
	case 47: return "illegal_parameter";
	case 48: return "unknown_ca";
	case 49: return "access_denied";
	case 50: return "decode_error";
	case 51: return "decrypt_error";
	case 60: return "export_restriction";
	case 70: return "protocol_version";
	case 71: return "insufficient_security";
	case 80: return "internal_error";
	case 86: return "inappropriate_fallback";
	case 90: return "user_canceled";
	case 100: return "no_renegotiation";
	case 109: return "missing_extension";
	case 110: return "unsupported_extension";
	case 111: return "certificate_unobtainable";
	case 112: return "unrecognized_name";
	case 113: return "bad_certificate_status_response";
	case 114: return "bad_certificate_hash_value";
	case 115: return "unknown_psk_identity";
	case 116: return "certificate_required";
	case 120: return "no_application_protocol";
	}
	return NULL;
}

const char *tls_alert_level_name(int level)
{
	return level == 1 ? "warning" : level == 2 ? "fatal" : NULL;
}

static const char *side(enum stream_dir dir)
{
	return dir == DIR_TO_SERVER ? "client" : "server";
}

/* ---- probe ---- */

int tls_probe(const uint8_t *data, size_t len)
{
	struct rd r;
	uint8_t type, hs;
	uint16_t ver, n;

	rd_init(&r, data, len);
	if (!rd_u8(&r, &type) || !rd_be16(&r, &ver) || !rd_be16(&r, &n) || !rd_u8(&r, &hs))
		return TLS_PROBE_NO;
	if (type != RT_HANDSHAKE || ver < V_TLS10 || ver > V_TLS13 || n < 4 || n > REC_MAX)
		return TLS_PROBE_NO;
	if (hs == HS_CLIENT_HELLO)
		return TLS_PROBE_CLIENT;
	if (hs == HS_SERVER_HELLO)
		return TLS_PROBE_SERVER;
	return TLS_PROBE_NO;
}

/* ---- notes and verdicts ---- */

/* The decryption line is set once; only "decrypting" may later become a
 * failure, so the lead reports one state per connection. */
static void set_decrypt(struct tls_conn *c, enum tls_decrypt_state st, char *note)
{
	struct tls_info *in = &c->info;

	if (in->decrypt == TLS_DECRYPT_NONE ||
	    (in->decrypt == TLS_DECRYPT_OK && st == TLS_DECRYPT_FAILED)) {
		in->decrypt = st;
		free(in->decrypt_note);
		in->decrypt_note = note;
		if (st == TLS_DECRYPT_FAILED)
			c->cnt->tls_decrypt_failures++;
		else if (st == TLS_DECRYPT_NO_KEY)
			c->cnt->tls_no_key++;
		return;
	}
	free(note);
}

static void set_failed(struct tls_conn *c, char *why)
{
	if (c->info.handshake_complete || c->info.handshake_failed) {
		free(why);
		return;
	}
	c->info.handshake_failed = 1;
	c->info.failure = why;
}

static void check_complete(struct tls_conn *c)
{
	if (c->info.handshake_complete || c->info.handshake_failed)
		return;
	if (c->d[DIR_TO_SERVER].finished && c->d[DIR_TO_CLIENT].finished)
		c->info.handshake_complete = 1;
}

/* A record that cannot be decrypted tells a little by its shape: without
 * keys the end of the handshake is judged from who sent what. */
static void infer_without_keys(struct tls_conn *c, enum stream_dir dir, uint8_t type)
{
	struct dir_state *ds = &c->d[dir];

	ds->enc_records++;
	if (!c->tls13) {
		/* TLS 1.2: the first protected record after ChangeCipherSpec
		 * is that side's Finished */
		if (type == RT_HANDSHAKE && ds->enc_records == 1) {
			ds->finished = 1;
			c->info.handshake_inferred = 1;
			check_complete(c);
		}
		return;
	}
	/* TLS 1.3: the client's first protected record is its Finished (or
	 * an alert); a second one, or a server record after it (tickets),
	 * means the server took it. */
	if (dir == DIR_TO_CLIENT && c->d[DIR_TO_SERVER].enc_records)
		c->server_enc_after_client = 1;
	if (c->d[DIR_TO_SERVER].enc_records >= 2 || c->server_enc_after_client) {
		if (!c->info.handshake_complete && !c->info.handshake_failed) {
			c->info.handshake_complete = 1;
			c->info.handshake_inferred = 1;
		}
	}
}

/* ---- key derivation (OpenSSL KDFs only) ---- */

/* HKDF-Expand-Label(secret, label, "", outlen), RFC 8446 7.1. */
static int expand_label(const char *md, const uint8_t *secret, size_t slen,
			const char *label, uint8_t *out, size_t outlen)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS13-KDF", NULL);
	EVP_KDF_CTX *k = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM p[7], *q = p;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	int ok = 0;

	EVP_KDF_free(kdf);
	if (!k)
		return -1;
	*q++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, slen);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, (void *)"tls13 ", 6);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)label, strlen(label));
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_DATA, (void *)"", 0);
	*q = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(k, out, outlen, p) > 0;
	EVP_KDF_CTX_free(k);
	ERR_clear_error();
	return ok ? 0 : -1;
}

/* TLS 1.0-1.2 key_block = PRF(master, "key expansion", server_random +
 * client_random), RFC 5246 6.3; TLS 1.0/1.1 use the MD5+SHA-1 PRF. */
static int key_block(const char *md, const uint8_t *master, size_t mlen,
		     const uint8_t *crand, const uint8_t *srand, uint8_t *out, size_t outlen)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	EVP_KDF_CTX *k = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	static const char label[] = "key expansion";
	uint8_t seed[sizeof(label) - 1 + 64];
	OSSL_PARAM p[4], *q = p;
	int ok;

	EVP_KDF_free(kdf);
	if (!k)
		return -1;
	memcpy(seed, label, sizeof(label) - 1);
	memcpy(seed + sizeof(label) - 1, srand, 32);
	memcpy(seed + sizeof(label) - 1 + 32, crand, 32);
	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)master, mlen);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, sizeof(seed));
	*q = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(k, out, outlen, p) > 0;
	EVP_KDF_CTX_free(k);
	ERR_clear_error();
	return ok ? 0 : -1;
}

static void dir_keys_free(struct dir_state *ds)
{
	ds->have_keys = 0;
	if (!ds->k)
		return;
	EVP_CIPHER_CTX_free(ds->k->cctx);
	EVP_MAC_CTX_free(ds->k->mctx);
	OPENSSL_cleanse(ds->k, sizeof(*ds->k));
	free(ds->k);
	ds->k = NULL;
}

/* Room for the direction's keys (zeroed); NULL when out of memory. */
static struct dir_keys *dir_keys_new(struct dir_state *ds)
{
	dir_keys_free(ds);
	ds->k = calloc(1, sizeof(*ds->k));
	return ds->k;
}

/* Sets up the direction's cipher (and HMAC) from key/iv/mac_key. */
static int dir_cipher_init(struct tls_conn *c, struct dir_state *ds)
{
	const struct suite *s = c->suite;
	EVP_CIPHER *ciph = EVP_CIPHER_fetch(NULL, s->cipher, NULL);
	EVP_MAC *mac;
	int ok;

	if (!ds->k) {
		EVP_CIPHER_free(ciph);
		return -1;
	}
	EVP_CIPHER_CTX_free(ds->k->cctx);
	EVP_MAC_CTX_free(ds->k->mctx);
	ds->k->mctx = NULL;
	ds->k->cctx = ciph ? EVP_CIPHER_CTX_new() : NULL;
	/* CBC in TLS 1.0 chains records: the IV is set once and the context
	 * carries the last ciphertext block on; later versions send it */
	ok = ds->k->cctx && EVP_DecryptInit_ex2(ds->k->cctx, ciph, ds->k->key,
					     s->kind == CK_CBC ? ds->k->iv : NULL, NULL);
	if (ok && s->kind == CK_CBC)
		ok = EVP_CIPHER_CTX_set_padding(ds->k->cctx, 0);
	EVP_CIPHER_free(ciph);
	if (ok && s->kind == CK_CBC) {
		mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		ds->k->mctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
		EVP_MAC_free(mac);
		ok = ds->k->mctx != NULL;
	}
	ERR_clear_error();
	if (!ok) {
		dir_keys_free(ds);
		return -1;
	}
	ds->have_keys = 1;
	return 0;
}

static char *hex_id(uint16_t id)
{
	return str_printf("0x%04X", id);
}

/* Unless the suite and version are ones we decrypt, says so once. */
static int decryptable(struct tls_conn *c)
{
	char *name;

	if (c->suite && c->suite->kind != CK_NONE &&
	    (c->tls13 || c->info.version == V_TLS12 ||
	     (c->suite->kind == CK_CBC && c->info.version >= V_TLS10)))
		return 1;
	if (!c->info.has_cipher_suite) {
		set_decrypt(c, TLS_DECRYPT_UNSUPPORTED,
			    str_printf("ServerHello not captured: cannot decrypt"));
		return 0;
	}
	if (c->suite && c->suite->kind != CK_NONE) {
		set_decrypt(c, TLS_DECRYPT_UNSUPPORTED,
			    str_printf("%s with %s not supported for decryption",
				       c->suite->name, tls_version_name(c->info.version) ?
				       tls_version_name(c->info.version) : "this version"));
		return 0;
	}
	name = c->suite ? NULL : hex_id(c->info.cipher_suite);
	set_decrypt(c, TLS_DECRYPT_UNSUPPORTED,
		    str_printf("cipher suite %s not supported for decryption",
			       c->suite ? c->suite->name : name ? name : "?"));
	free(name);
	return 0;
}

/* TLS <= 1.2, at a ChangeCipherSpec: the key block from the master
 * secret in the key log, then this direction's slice of it. */
static void keys_12(struct tls_conn *c, enum stream_dir dir)
{
	struct dir_state *ds = &c->d[dir];
	const struct suite *s = c->suite;
	uint8_t master[KEYLOG_SECRET_MAX];
	size_t mac_len, key_len, iv_len, need, mlen;
	const uint8_t *kb;
	int cli = dir == DIR_TO_SERVER;

	if (c->key_block_state == 0) {
		c->key_block_state = -1;
		if (!c->have_randoms) {
			set_decrypt(c, TLS_DECRYPT_UNSUPPORTED,
				    str_printf("handshake not captured: cannot decrypt"));
			return;
		}
		if (!decryptable(c))
			return;
		mlen = keylog_find(c->kl, c->client_random, KEYLOG_CLIENT_RANDOM, master);
		if (!mlen) {
			set_decrypt(c, TLS_DECRYPT_NO_KEY,
				    str_printf("no key log entry for this connection"));
			return;
		}
		need = KEY_BLOCK_LEN;
		c->key_block = malloc(KEY_BLOCK_LEN);
		if (!c->key_block ||
		    key_block(c->info.version == V_TLS12 ? s->prf_md : "MD5-SHA1", master, mlen,
			      c->client_random, c->server_random, c->key_block, need) < 0) {
			OPENSSL_cleanse(master, sizeof(master));
			set_decrypt(c, TLS_DECRYPT_FAILED,
				    str_printf("decrypt failed: TLS1-PRF key derivation failed"));
			return;
		}
		OPENSSL_cleanse(master, sizeof(master));
		c->key_block_state = 1;
		set_decrypt(c, TLS_DECRYPT_OK, str_printf("decrypting"));
	}
	if (c->key_block_state != 1)
		return;
	if (!dir_keys_new(ds)) {
		set_decrypt(c, TLS_DECRYPT_FAILED, str_printf("decrypt failed: out of memory"));
		return;
	}
	kb = c->key_block;
	/* RFC 5246 6.3 order: MAC keys, write keys, IVs (client then server);
	 * AEAD suites have no MAC key and a 4-byte (GCM) or 12-byte
	 * (ChaCha20, RFC 7905) fixed IV; CBC IVs matter only for TLS 1.0 */
	mac_len = s->kind == CK_CBC ? s->mac_len : 0;
	key_len = s->key_len;
	iv_len = s->kind == CK_GCM ? 4 : s->kind == CK_CHACHA ? 12 :
		 strcmp(s->cipher, "DES-EDE3-CBC") ? 16 : 8;
	memcpy(ds->k->mac_key, kb + (cli ? 0 : mac_len), mac_len);
	kb += 2 * mac_len;
	memcpy(ds->k->key, kb + (cli ? 0 : key_len), key_len);
	kb += 2 * key_len;
	memcpy(ds->k->iv, kb + (cli ? 0 : iv_len), iv_len);
	ds->k->iv_len = iv_len;
	ds->seq = 0;
	if (dir_cipher_init(c, ds) < 0)
		set_decrypt(c, TLS_DECRYPT_FAILED,
			    str_printf("decrypt failed: cipher %s not available", s->cipher));
}

/* TLS 1.3: key and iv from the direction's current traffic secret. */
static int keys_13_from_secret(struct tls_conn *c, struct dir_state *ds)
{
	const struct suite *s = c->suite;

	ds->k->iv_len = 12;
	if (expand_label(s->prf_md, ds->k->secret, ds->k->secret_len, "key", ds->k->key, s->key_len) < 0 ||
	    expand_label(s->prf_md, ds->k->secret, ds->k->secret_len, "iv", ds->k->iv, 12) < 0)
		return -1;
	ds->seq = 0;
	return dir_cipher_init(c, ds);
}

static int hash_len(const struct suite *s)
{
	return strcmp(s->prf_md, "SHA384") ? 32 : 48;
}

/* TLS 1.3, at the first protected record of an epoch: the traffic secret
 * from the key log. */
static void keys_13(struct tls_conn *c, enum stream_dir dir)
{
	struct dir_state *ds = &c->d[dir];
	uint8_t secret[KEYLOG_SECRET_MAX];
	size_t secret_len;
	enum keylog_label label;
	static const char *const label_names[] = {
		"CLIENT_RANDOM", "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
		"CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"
	};

	ds->key_tried = 1;
	dir_keys_free(ds);
	if (!c->have_randoms || !decryptable(c))
		return;
	if (ds->epoch == EP_HANDSHAKE)
		label = dir == DIR_TO_SERVER ? KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET
					     : KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET;
	else
		label = dir == DIR_TO_SERVER ? KEYLOG_CLIENT_TRAFFIC_SECRET_0
					     : KEYLOG_SERVER_TRAFFIC_SECRET_0;
	secret_len = keylog_find(c->kl, c->client_random, label, secret);
	if (!secret_len) {
		int any = keylog_find(c->kl, c->client_random, KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET, secret) ||
			  keylog_find(c->kl, c->client_random, KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET, secret) ||
			  keylog_find(c->kl, c->client_random, KEYLOG_CLIENT_TRAFFIC_SECRET_0, secret) ||
			  keylog_find(c->kl, c->client_random, KEYLOG_SERVER_TRAFFIC_SECRET_0, secret);

		OPENSSL_cleanse(secret, sizeof(secret));
		set_decrypt(c, TLS_DECRYPT_NO_KEY,
			    any ? str_printf("no key log entry for this connection (%s missing)",
					     label_names[label])
				: str_printf("no key log entry for this connection"));
		return;
	}
	if ((int)secret_len != hash_len(c->suite)) {
		OPENSSL_cleanse(secret, sizeof(secret));
		set_decrypt(c, TLS_DECRYPT_FAILED,
			    str_printf("decrypt failed: %s in the key log is %zu bytes, %s needs %d",
				       label_names[label], secret_len, c->suite->name,
				       hash_len(c->suite)));
		return;
	}
	if (!dir_keys_new(ds)) {
		OPENSSL_cleanse(secret, sizeof(secret));
		set_decrypt(c, TLS_DECRYPT_FAILED, str_printf("decrypt failed: out of memory"));
		return;
	}
	memcpy(ds->k->secret, secret, secret_len);
	ds->k->secret_len = secret_len;
	OPENSSL_cleanse(secret, sizeof(secret));
	if (keys_13_from_secret(c, ds) < 0) {
		set_decrypt(c, TLS_DECRYPT_FAILED,
			    str_printf("decrypt failed: TLS13-KDF key derivation failed"));
		return;
	}
	set_decrypt(c, TLS_DECRYPT_OK, str_printf("decrypting"));
}

/* RFC 8446 7.2: the next generation after a KeyUpdate. */
static void key_update(struct tls_conn *c, enum stream_dir dir)
{
	struct dir_state *ds = &c->d[dir];
	uint8_t next[KEYLOG_SECRET_MAX];

	if (!ds->have_keys)
		return;
	if (expand_label(c->suite->prf_md, ds->k->secret, ds->k->secret_len, "traffic upd",
			 next, ds->k->secret_len) < 0 ||
	    (memcpy(ds->k->secret, next, ds->k->secret_len), keys_13_from_secret(c, ds) < 0)) {
		dir_keys_free(ds);
		set_decrypt(c, TLS_DECRYPT_FAILED,
			    str_printf("decrypt failed: key update derivation failed"));
	}
	OPENSSL_cleanse(next, sizeof(next));
}

/* ---- record decryption ---- */

static void put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* nonce = iv XOR seq, RFC 8446 5.3 and RFC 7905 2 */
static void xor_nonce(const struct dir_state *ds, uint8_t nonce[12])
{
	uint8_t s[8];
	int i;

	memcpy(nonce, ds->k->iv, 12);
	put_be64(s, ds->seq);
	for (i = 0; i < 8; i++)
		nonce[4 + i] ^= s[i];
}

/* AEAD open; 0 when the tag verifies, -1 when it does not. */
static int aead_open(struct dir_state *ds, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
		     const uint8_t *in, size_t in_len, uint8_t *out)
{
	const uint8_t *tag = in + in_len - TAG_LEN;
	size_t ct_len = in_len - TAG_LEN;
	int outl = 0, finl = 0, ok;

	ok = EVP_DecryptInit_ex2(ds->k->cctx, NULL, NULL, nonce, NULL) &&
	     EVP_DecryptUpdate(ds->k->cctx, NULL, &outl, aad, (int)aad_len) &&
	     EVP_DecryptUpdate(ds->k->cctx, out, &outl, in, (int)ct_len) &&
	     EVP_CIPHER_CTX_ctrl(ds->k->cctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, (void *)tag) &&
	     EVP_DecryptFinal_ex(ds->k->cctx, out + outl, &finl) > 0;
	ERR_clear_error();
	return ok ? 0 : -1;
}

static int hmac(struct tls_conn *c, struct dir_state *ds, const uint8_t *hdr, size_t hdr_len,
		const uint8_t *p, size_t n, uint8_t *out)
{
	OSSL_PARAM params[2];
	size_t outl = 0;
	int ok;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)c->suite->mac_md, 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = EVP_MAC_init(ds->k->mctx, ds->k->mac_key, c->suite->mac_len, params) &&
	     EVP_MAC_update(ds->k->mctx, hdr, hdr_len) && EVP_MAC_update(ds->k->mctx, p, n) &&
	     EVP_MAC_final(ds->k->mctx, out, &outl, EVP_MAX_MD_SIZE);
	ERR_clear_error();
	return ok && outl == c->suite->mac_len ? 0 : -1;
}

/* seq || type || version || length: the MAC/AAD header of TLS <= 1.2 */
static void pseudo_header(uint8_t h[13], uint64_t seq, uint8_t type, uint16_t ver, size_t len)
{
	put_be64(h, seq);
	h[8] = type;
	h[9] = (uint8_t)(ver >> 8);
	h[10] = (uint8_t)ver;
	h[11] = (uint8_t)(len >> 8);
	h[12] = (uint8_t)len;
}

/* CBC record (RFC 5246 6.2.3.2, RFC 7366 for encrypt_then_mac). */
static const char *open_cbc(struct tls_conn *c, struct dir_state *ds, uint8_t type, uint16_t ver,
			    const uint8_t *in, size_t n, uint8_t *out, size_t *out_len)
{
	size_t bs = (size_t)EVP_CIPHER_CTX_get_block_size(ds->k->cctx);
	size_t mac_len = c->suite->mac_len, iv_len = ver >= V_TLS11 ? bs : 0;
	uint8_t h[13], mac[EVP_MAX_MD_SIZE];
	size_t ct_len, pad, i, plain_len;
	int outl = 0;

	if (c->info.encrypt_then_mac) {
		if (mac_len + iv_len + bs > n)
			return "record too short for its MAC";
		ct_len = n - mac_len - iv_len;
		pseudo_header(h, ds->seq, type, ver, n - mac_len);
		if (hmac(c, ds, h, sizeof(h), in, n - mac_len, mac) < 0)
			return "HMAC failed";
		if (CRYPTO_memcmp(mac, in + n - mac_len, mac_len))
			return "bad record MAC (wrong key?)";
	} else {
		if (iv_len + bs > n)
			return "record shorter than a cipher block";
		ct_len = n - iv_len;
	}
	if (!ct_len || ct_len % bs)
		return "ciphertext not a whole number of blocks";
	if ((iv_len && !EVP_DecryptInit_ex2(ds->k->cctx, NULL, NULL, in, NULL)) ||
	    !EVP_CIPHER_CTX_set_padding(ds->k->cctx, 0) ||
	    !EVP_DecryptUpdate(ds->k->cctx, out, &outl, in + iv_len, (int)ct_len) ||
	    (size_t)outl != ct_len) {
		ERR_clear_error();
		return "CBC decryption failed";
	}
	pad = out[ct_len - 1];
	if (pad + 1 + (c->info.encrypt_then_mac ? 0 : mac_len) > ct_len)
		return "bad padding (wrong key?)";
	for (i = 0; i < pad; i++) {
		if (out[ct_len - 2 - i] != pad)
			return "bad padding (wrong key?)";
	}
	plain_len = ct_len - pad - 1;
	if (!c->info.encrypt_then_mac) {
		plain_len -= mac_len;
		pseudo_header(h, ds->seq, type, ver, plain_len);
		if (hmac(c, ds, h, sizeof(h), out, plain_len, mac) < 0)
			return "HMAC failed";
		if (CRYPTO_memcmp(mac, out + plain_len, mac_len))
			return "bad record MAC (wrong key?)";
	}
	*out_len = plain_len;
	return NULL;
}

/* Decrypts one protected record into c->plain. Returns NULL and sets
 * *type (the inner type for TLS 1.3) and *len, or why it failed. */
static const char *open_record(struct tls_conn *c, struct dir_state *ds, uint8_t *type,
			       uint16_t ver, const uint8_t *in, size_t n, size_t *len)
{
	uint8_t nonce[12], h[13], hdr[REC_HDR];
	const char *why = NULL;

	if (!c->plain) {
		if (mem_charge(c->mem, MEM_tls, REC_MAX) < 0) {
			c->cnt->memory_refused++;
			return "past the memory budget (--max-memory)";
		}
		if (!(c->plain = malloc(REC_MAX))) {
			mem_release(c->mem, MEM_tls, REC_MAX);
			return "out of memory";
		}
	}
	if (c->tls13) {
		if (n < TAG_LEN + 1)
			return "record shorter than its tag";
		hdr[0] = *type;
		hdr[1] = (uint8_t)(ver >> 8);
		hdr[2] = (uint8_t)ver;
		hdr[3] = (uint8_t)(n >> 8);
		hdr[4] = (uint8_t)n;
		xor_nonce(ds, nonce);
		if (aead_open(ds, nonce, hdr, sizeof(hdr), in, n, c->plain) < 0)
			return "authentication tag mismatch (wrong key?)";
		*len = n - TAG_LEN;
		/* RFC 8446 5.4: the content type is the last non-zero byte */
		while (*len && !c->plain[*len - 1])
			(*len)--;
		if (!*len)
			return "decrypted record has no content type";
		*type = c->plain[--(*len)];
		return NULL;
	}
	switch (c->suite->kind) {
	case CK_GCM:
		/* RFC 5288 3: 4-byte salt from the key block + 8 explicit bytes */
		if (n < 8 + TAG_LEN)
			return "record shorter than nonce and tag";
		memcpy(nonce, ds->k->iv, 4);
		memcpy(nonce + 4, in, 8);
		pseudo_header(h, ds->seq, *type, ver, n - 8 - TAG_LEN);
		if (aead_open(ds, nonce, h, sizeof(h), in + 8, n - 8, c->plain) < 0)
			return "authentication tag mismatch (wrong key?)";
		*len = n - 8 - TAG_LEN;
		return NULL;
	case CK_CHACHA:
		if (n < TAG_LEN)
			return "record shorter than its tag";
		xor_nonce(ds, nonce);
		pseudo_header(h, ds->seq, *type, ver, n - TAG_LEN);
		if (aead_open(ds, nonce, h, sizeof(h), in, n, c->plain) < 0)
			return "authentication tag mismatch (wrong key?)";
		*len = n - TAG_LEN;
		return NULL;
	case CK_CBC:
		why = open_cbc(c, ds, *type, ver, in, n, c->plain, len);
		return why;
	}
	return "cipher not supported";
}

/* ---- upward events ---- */

/* Losses matter upward once this direction's plaintext flows (or is about
 * to: the keys are there); without keys nothing goes up at all. */
static int upward(const struct tls_conn *c, const struct dir_state *ds)
{
	return ds->delivering || (ds->encrypted && c->info.decrypt == TLS_DECRYPT_OK &&
				  (ds->have_keys || !ds->key_tried));
}

static void emit(struct tls_conn *c, enum stream_ev_kind kind, enum stream_dir dir,
		 const uint8_t *data, size_t len, uint64_t first_frame, uint64_t first_ts,
		 uint64_t frame, uint64_t ts)
{
	struct stream_event ev = {
		.kind = kind, .dir = dir, .data = data, .len = len,
		.frame = frame, .first_frame = first_frame, .ts_ns = ts, .first_ts_ns = first_ts,
	};

	if (kind == STREAM_DATA)
		c->info.plaintext_bytes[dir] += len;
	if (c->cb)
		c->cb(c->cb_arg, &ev);
}

/* ---- handshake messages ---- */

/* The extensions block of a hello: returns 1 with *ext set, 0 when absent. */
static int hello_extensions(struct rd *r, struct rd *ext)
{
	uint16_t n;

	if (!rd_left(r))
		return 0;
	if (!rd_be16(r, &n) || !rd_sub(r, n, ext))
		return 0;
	return 1;
}

static char *printable_name(struct rd *r, size_t n)
{
	const uint8_t *p = rd_ptr(r);

	if (!rd_skip(r, n))
		return NULL;
	return str_printable(p, n, NAME_MAX_LEN);
}

static void parse_sni(struct tls_conn *c, struct rd *e)
{
	struct rd list;
	uint16_t n, nl;
	uint8_t t;

	if (!rd_be16(e, &n) || !rd_sub(e, n, &list))
		return;
	while (rd_left(&list)) {
		if (!rd_u8(&list, &t) || !rd_be16(&list, &nl))
			return;
		if (t == 0 && !c->info.sni) {
			c->info.sni = printable_name(&list, nl);
			return;
		}
		if (!rd_skip(&list, nl))
			return;
	}
}

/* protocol_name_list as "h2,http/1.1"; the first name for a ServerHello. */
static char *parse_alpn(struct rd *e)
{
	struct rd list;
	char buf[ALPN_LIST_MAX];
	size_t at = 0;
	uint16_t n;
	uint8_t pl;
	char *one;

	buf[0] = 0;
	if (!rd_be16(e, &n) || !rd_sub(e, n, &list))
		return NULL;
	while (rd_left(&list)) {
		if (!rd_u8(&list, &pl) || !(one = printable_name(&list, pl)))
			break;
		at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%s%s", at ? "," : "", one);
		free(one);
		if (at >= sizeof(buf))
			break;
	}
	return buf[0] ? strdup(buf) : NULL;
}

static void client_hello(struct tls_conn *c, struct rd *r, uint64_t frame)
{
	struct tls_info *in = &c->info;
	struct rd ext, e, list;
	uint16_t ver, n, type, v;
	uint8_t sid_len, vl;

	if (!rd_be16(r, &ver) || !rd_copy(r, c->client_random, 32) || !rd_u8(r, &sid_len) ||
	    sid_len > 32 || !rd_copy(r, c->ch_session_id, sid_len))
		return;
	/* a second ClientHello (after HelloRetryRequest) repeats the random */
	if (in->saw_client_hello)
		return;
	in->saw_client_hello = 1;
	in->client_hello_frame = frame;
	in->legacy_version = ver;
	c->ch_session_id_len = sid_len;
	in->session_id_offered = sid_len > 0;
	if (!rd_be16(r, &n) || !rd_skip(r, n) || !rd_u8(r, &sid_len) || !rd_skip(r, sid_len))
		return;
	if (!hello_extensions(r, &ext))
		return;
	while (rd_left(&ext)) {
		if (!rd_be16(&ext, &type) || !rd_be16(&ext, &n) || !rd_sub(&ext, n, &e))
			return;
		switch (type) {
		case EXT_SERVER_NAME:
			parse_sni(c, &e);
			break;
		case EXT_ALPN:
			free(in->alpn_offered);
			in->alpn_offered = parse_alpn(&e);
			break;
		case EXT_SUPPORTED_VERSIONS:
			if (!rd_u8(&e, &vl) || !rd_sub(&e, vl, &list))
				break;
			while (rd_be16(&list, &v) && in->n_offered_versions < TLS_MAX_VERSIONS)
				in->offered_versions[in->n_offered_versions++] = v;
			break;
		case EXT_SESSION_TICKET:
			in->ticket_offered = n > 0;
			break;
		case EXT_PRE_SHARED_KEY:
			in->psk_offered = 1;
			break;
		case EXT_EARLY_DATA:
			c->early_data_offered = 1;
			break;
		}
	}
}

static void server_hello(struct tls_conn *c, struct rd *r, uint64_t frame)
{
	struct tls_info *in = &c->info;
	uint8_t random[32], sid[32], sid_len, comp;
	uint16_t ver, suite, n, type, sel = 0;
	struct rd ext, e;
	int psk = 0, etm = 0, ems = 0;
	char *alpn = NULL;

	if (!rd_be16(r, &ver) || !rd_copy(r, random, 32) || !rd_u8(r, &sid_len) || sid_len > 32 ||
	    !rd_copy(r, sid, sid_len) || !rd_be16(r, &suite) || !rd_u8(r, &comp))
		return;
	if (hello_extensions(r, &ext)) {
		while (rd_left(&ext)) {
			if (!rd_be16(&ext, &type) || !rd_be16(&ext, &n) || !rd_sub(&ext, n, &e))
				break;
			switch (type) {
			case EXT_SUPPORTED_VERSIONS:
				rd_be16(&e, &sel);
				break;
			case EXT_ALPN:
				free(alpn);
				alpn = parse_alpn(&e);
				break;
			case EXT_PRE_SHARED_KEY:
				psk = 1;
				break;
			case EXT_ENCRYPT_THEN_MAC:
				etm = 1;
				break;
			case EXT_EMS:
				ems = 1;
				break;
			}
		}
	}
	in->saw_server_hello = 1;
	in->server_hello_frame = frame;
	in->version = sel ? sel : ver;
	in->has_cipher_suite = 1;
	in->cipher_suite = suite;
	c->suite = suite_by_id(suite);
	in->cipher_name = c->suite ? c->suite->name : NULL;
	if (sel == V_TLS13 && !memcmp(random, HRR_RANDOM, 32)) {
		/* the real ServerHello follows the client's second hello */
		in->hello_retry = 1;
		c->tls13 = 1;
		free(alpn);
		return;
	}
	memcpy(c->server_random, random, 32);
	c->have_randoms = in->saw_client_hello;
	if (alpn) {
		free(in->alpn);
		in->alpn = alpn;
	}
	if (in->version == V_TLS13) {
		c->tls13 = 1;
		if (psk) {
			in->resumed = 1;
			in->resumed_by = "PSK";
		}
		/* everything after ServerHello is protected, both ways */
		c->d[DIR_TO_SERVER].encrypted = c->d[DIR_TO_CLIENT].encrypted = 1;
		c->d[DIR_TO_SERVER].epoch = c->d[DIR_TO_CLIENT].epoch = EP_HANDSHAKE;
		return;
	}
	in->encrypt_then_mac = etm && c->suite && c->suite->kind == CK_CBC;
	in->extended_master_secret = ems;
	if (sid_len && sid_len == c->ch_session_id_len && !memcmp(sid, c->ch_session_id, sid_len)) {
		in->resumed = 1;
		in->resumed_by = "session id";
	}
}

static void certificates(struct tls_conn *c, enum stream_dir dir, struct rd *r)
{
	struct scep_cert **arr = dir == DIR_TO_CLIENT ? c->info.server_certs : c->info.client_certs;
	size_t *n = dir == DIR_TO_CLIENT ? &c->info.n_server_certs : &c->info.n_client_certs;
	struct rd list, cert;
	uint8_t ctx_len, b[3];
	uint16_t ext_len;
	size_t len;

	/* TLS 1.3 (4.4.2) adds a request context and per-entry extensions */
	if (c->tls13 && (!rd_u8(r, &ctx_len) || !rd_skip(r, ctx_len)))
		return;
	if (!rd_copy(r, b, 3))
		return;
	len = (size_t)b[0] << 16 | (size_t)b[1] << 8 | b[2];
	if (!rd_sub(r, len, &list))
		return;
	while (rd_left(&list)) {
		if (!rd_copy(&list, b, 3))
			return;
		len = (size_t)b[0] << 16 | (size_t)b[1] << 8 | b[2];
		if (!rd_sub(&list, len, &cert))
			return;
		if (c->tls13 && (!rd_be16(&list, &ext_len) || !rd_skip(&list, ext_len)))
			return;
		if (*n < TLS_MAX_CERTS) {
			arr[*n] = scep_cert_from_der(rd_ptr(&cert), rd_left(&cert));
			if (arr[*n])
				(*n)++;
		}
	}
}

static void encrypted_extensions(struct tls_conn *c, struct rd *r)
{
	struct rd ext, e;
	uint16_t type, n;

	if (!rd_be16(r, &n) || !rd_sub(r, n, &ext))
		return;
	while (rd_left(&ext)) {
		if (!rd_be16(&ext, &type) || !rd_be16(&ext, &n) || !rd_sub(&ext, n, &e))
			return;
		if (type == EXT_ALPN) {
			free(c->info.alpn);
			c->info.alpn = parse_alpn(&e);
		}
	}
}

static void handshake_message(struct tls_conn *c, enum stream_dir dir, uint8_t type,
			      struct rd *body, uint64_t frame)
{
	struct dir_state *ds = &c->d[dir];

	switch (type) {
	case HS_CLIENT_HELLO:
		if (dir == DIR_TO_SERVER)
			client_hello(c, body, frame);
		break;
	case HS_SERVER_HELLO:
		if (dir == DIR_TO_CLIENT)
			server_hello(c, body, frame);
		break;
	case HS_ENCRYPTED_EXTENSIONS:
		if (dir == DIR_TO_CLIENT)
			encrypted_extensions(c, body);
		break;
	case HS_CERTIFICATE:
		ds->sent_server_flight = 1;
		certificates(c, dir, body);
		break;
	case HS_SERVER_KEY_EXCHANGE:
	case HS_SERVER_HELLO_DONE:
		ds->sent_server_flight = 1;
		break;
	case HS_FINISHED:
		ds->finished = 1;
		check_complete(c);
		if (c->tls13 && ds->epoch == EP_HANDSHAKE) {
			/* RFC 8446 7.1: the sender's next records use its
			 * application traffic secret */
			ds->epoch = EP_APPLICATION;
			ds->key_tried = 0;
			dir_keys_free(ds);
		}
		break;
	case HS_KEY_UPDATE:
		if (c->tls13 && ds->epoch == EP_APPLICATION)
			key_update(c, dir);
		break;
	}
}

static void hs_consume(struct dir_state *ds, size_t n)
{
	memmove(ds->hs, ds->hs + n, ds->hs_len - n);
	ds->hs_len -= n;
}

/* Handshake bytes of one record: messages may span records (and several
 * may share one), so they are gathered per direction, capped at HS_MAX. */
static void handshake_bytes(struct tls_conn *c, enum stream_dir dir, const uint8_t *p, size_t n,
			    uint64_t frame)
{
	struct dir_state *ds = &c->d[dir];
	struct rd r, body;
	uint8_t type, b[3];
	size_t len, drop;

	if (ds->hs_skip) {
		drop = n < ds->hs_skip ? n : ds->hs_skip;
		ds->hs_skip -= drop;
		c->cnt->tls_bytes_capped += drop;
		p += drop;
		n -= drop;
	}
	if (!n)
		return;
	/* Held bytes are one partial message under HS_MAX (longer ones are
	 * dropped below), so a record always fits; the check is the cap. */
	if (n > HS_BUF - ds->hs_len) {
		c->cnt->tls_bytes_capped += n + ds->hs_len;
		ds->hs_len = 0;
		return;
	}
	if (ds->hs_len + n > ds->hs_cap) {
		size_t cap = ds->hs_cap ? ds->hs_cap : 4096;
		uint8_t *grown;

		while (cap < ds->hs_len + n)
			cap *= 2;
		cap = cap > HS_BUF ? HS_BUF : cap;
		if (mem_resize(c->mem, MEM_tls, ds->hs_cap, cap) < 0) {
			c->cnt->memory_refused++;
			c->cnt->tls_bytes_capped += n + ds->hs_len;
			ds->hs_len = 0;
			return;
		}
		grown = realloc(ds->hs, cap);
		if (!grown) {
			mem_resize(c->mem, MEM_tls, cap, ds->hs_cap);
			c->cnt->tls_bytes_capped += n;
			return;
		}
		ds->hs = grown;
		ds->hs_cap = cap;
	}
	memcpy(ds->hs + ds->hs_len, p, n);
	ds->hs_len += n;
	for (;;) {
		rd_init(&r, ds->hs, ds->hs_len);
		if (!rd_u8(&r, &type) || !rd_copy(&r, b, 3))
			break;
		len = (size_t)b[0] << 16 | (size_t)b[1] << 8 | b[2];
		if (len > HS_MAX) {
			drop = ds->hs_len < 4 + len ? ds->hs_len : 4 + len;
			ds->hs_skip = 4 + len - drop;
			c->cnt->tls_bytes_capped += drop;
			hs_consume(ds, drop);
			continue;
		}
		if (!rd_sub(&r, len, &body))
			break;
		handshake_message(c, dir, type, &body, frame);
		hs_consume(ds, 4 + len);
	}
	/* most connections hold nothing between flights: give it back */
	if (!ds->hs_len) {
		mem_release(c->mem, MEM_tls, ds->hs_cap);
		free(ds->hs);
		ds->hs = NULL;
		ds->hs_cap = 0;
	}
}

/* ---- records ---- */

/* The buffer of one record split across TCP events, charged while held. */
static int rec_buffer_new(struct tls_conn *c, struct dir_state *ds)
{
	if (mem_charge(c->mem, MEM_tls, REC_HDR + REC_MAX) < 0) {
		c->cnt->memory_refused++;
		return -1;
	}
	ds->rec = malloc(REC_HDR + REC_MAX);
	if (!ds->rec) {
		mem_release(c->mem, MEM_tls, REC_HDR + REC_MAX);
		return -1;
	}
	return 0;
}

static void rec_buffer_free(struct tls_conn *c, struct dir_state *ds)
{
	if (ds->rec)
		mem_release(c->mem, MEM_tls, REC_HDR + REC_MAX);
	free(ds->rec);
	ds->rec = NULL;
}

static void alert(struct tls_conn *c, enum stream_dir dir, const uint8_t *p, size_t n,
		  uint64_t frame, int readable)
{
	struct tls_info *in = &c->info;
	struct rd r;
	uint8_t level, desc;
	int fatal;

	rd_init(&r, p, n);
	do {
		level = 0;
		desc = 0;
		if (readable && (!rd_u8(&r, &level) || !rd_u8(&r, &desc)))
			return;
		in->alerts_total++;
		if (in->n_alerts < TLS_MAX_ALERTS) {
			struct tls_alert *a = &in->alerts[in->n_alerts++];

			a->dir = dir;
			a->frame = frame;
			a->level = readable ? level : -1;
			a->desc = readable ? desc : -1;
		}
		if (!readable)
			return;
		/* RFC 8446 6: in TLS 1.3 every alert but these two is fatal,
		 * whatever level it claims */
		fatal = level == 2 || (c->tls13 && desc != 0 && desc != 90);
		if (fatal && !in->handshake_complete)
			set_failed(c, str_printf("%s sent fatal alert %s", side(dir),
						 tls_alert_name(desc) ? tls_alert_name(desc) : "(unknown)"));
	} while (rd_left(&r));
}

/* A direction that failed to decrypt stops decrypting, says why once,
 * and tells the layer above that its bytes are gone. */
static void decrypt_failed(struct tls_conn *c, enum stream_dir dir, const char *why, size_t n,
			   uint64_t ff, uint64_t fts, uint64_t frame, uint64_t ts)
{
	struct dir_state *ds = &c->d[dir];

	set_decrypt(c, TLS_DECRYPT_FAILED,
		    str_printf("decrypt failed at record %llu (%s to %s): %s",
			       (unsigned long long)c->record_no, side(dir),
			       dir == DIR_TO_SERVER ? "server" : "client", why));
	dir_keys_free(ds);
	ds->key_tried = 1;
	if (upward(c, ds))
		emit(c, STREAM_GAP, dir, NULL, n, ff, fts, frame, ts);
}

static void record(struct tls_conn *c, enum stream_dir dir, uint8_t type, uint16_t ver,
		   const uint8_t *p, size_t n, uint64_t ff, uint64_t fts, uint64_t frame, uint64_t ts)
{
	struct dir_state *ds = &c->d[dir];
	const char *why;
	size_t plen;

	c->info.records[dir]++;
	c->info.bytes[dir] += REC_HDR + n;
	c->cnt->tls_records++;
	c->record_no++;
	if (type == RT_CCS) {
		/* TLS 1.3 middlebox-compatibility CCS is plaintext noise */
		if (c->tls13 || ds->encrypted)
			return;
		if (dir == DIR_TO_CLIENT && c->info.saw_server_hello && !ds->sent_server_flight &&
		    !c->info.resumed) {
			/* abbreviated handshake without a session id match */
			c->info.resumed = 1;
			c->info.resumed_by = c->info.ticket_offered ? "session ticket" : "session id";
		}
		ds->encrypted = 1;
		keys_12(c, dir);
		return;
	}
	if (ds->encrypted && (!c->tls13 || type == RT_APPDATA)) {
		if (c->tls13 && !ds->key_tried)
			keys_13(c, dir);
		if (!ds->have_keys) {
			infer_without_keys(c, dir, type);
			if (type == RT_ALERT)
				alert(c, dir, p, n, frame, 0);
			if (ds->delivering)
				emit(c, STREAM_GAP, dir, NULL, n, ff, fts, frame, ts);
			return;
		}
		why = open_record(c, ds, &type, ver, p, n, &plen);
		if (why) {
			/* 0-RTT data is under a secret we do not look up */
			if (c->tls13 && dir == DIR_TO_SERVER && ds->epoch == EP_HANDSHAKE &&
			    c->early_data_offered && !ds->delivering) {
				ds->enc_records++;
				return;
			}
			decrypt_failed(c, dir, why, n, ff, fts, frame, ts);
			return;
		}
		ds->seq++;
		c->info.records_decrypted[dir]++;
		c->cnt->tls_records_decrypted++;
		p = c->plain;
		n = plen;
	}
	switch (type) {
	case RT_ALERT:
		alert(c, dir, p, n, frame, 1);
		break;
	case RT_HANDSHAKE:
		handshake_bytes(c, dir, p, n, frame);
		break;
	case RT_APPDATA:
		if (ds->encrypted && ds->have_keys) {
			ds->delivering = 1;
			if (n)
				emit(c, STREAM_DATA, dir, p, n, ff, fts, frame, ts);
		} else if (!ds->encrypted) {
			/* application data before protection is on: a
			 * capture that started mid-connection */
			ds->enc_records++;
			if (!c->info.saw_server_hello)
				set_decrypt(c, TLS_DECRYPT_UNSUPPORTED,
					    str_printf("handshake not captured: cannot decrypt"));
		}
		break;
	default:
		break;
	}
}

/* Parses a record header; 0 when it is not one (a lost boundary or not
 * TLS at all). */
static int rec_header(const uint8_t *h, uint8_t *type, uint16_t *ver, uint16_t *len)
{
	struct rd r;

	rd_init(&r, h, REC_HDR);
	if (!rd_u8(&r, type) || !rd_be16(&r, ver) || !rd_be16(&r, len))
		return 0;
	return *type >= RT_CCS && *type <= RT_HEARTBEAT && (*ver >> 8) == 3 && *len <= REC_MAX;
}

/* Whether record() would look at no byte of this record's body: ciphertext
 * of a direction with no key, and not an alert. TLS 1.2 looked its keys up
 * at ChangeCipherSpec; TLS 1.3 looks them up per epoch, in record(). */
static int record_is_opaque(const struct tls_conn *c, const struct dir_state *ds, uint8_t type)
{
	if (!ds->encrypted || ds->have_keys || type == RT_ALERT)
		return 0;
	return c->tls13 ? type == RT_APPDATA && ds->key_tried : 1;
}

int tls_unreadable(const struct tls_conn *c)
{
	int d;

	for (d = 0; d < 2; d++) {
		const struct dir_state *ds = &c->d[d];

		if (ds->stopped)
			continue;
		if (!ds->encrypted || ds->have_keys ||
		    !(c->tls13 ? ds->key_tried : c->key_block_state == -1))
			return 0;
	}
	return 1;
}

static void stop_dir(struct tls_conn *c, enum stream_dir dir, int why)
{
	struct dir_state *ds = &c->d[dir];

	ds->stopped = why;
	ds->rec_len = 0;
	if (why == ST_NOT_TLS) {
		c->info.not_tls[dir] = 1;
		c->cnt->tls_malformed++;
	} else {
		c->info.desynced[dir] = 1;
	}
}

static void data(struct tls_conn *c, const struct stream_event *ev)
{
	enum stream_dir dir = ev->dir;
	struct dir_state *ds = &c->d[dir];
	struct rd r, rec;
	uint8_t type;
	uint16_t ver, len;
	size_t take, total;

	if (ds->stopped) {
		c->cnt->tls_desync_bytes += ev->len;
		if (upward(c, ds))
			emit(c, STREAM_GAP, dir, NULL, ev->len, ev->first_frame, ev->first_ts_ns,
			     ev->frame, ev->ts_ns);
		return;
	}
	rd_init(&r, ev->data, ev->len);
	while (rd_left(&r) && !ds->stopped) {
		if (ds->skip) {
			take = ds->skip > rd_left(&r) ? rd_left(&r) : ds->skip;
			rd_skip(&r, take);
			ds->skip -= take;
			continue;
		}
		if (ds->rec_len) {
			/* finish the held record: its header first */
			if (ds->rec_len < REC_HDR) {
				take = REC_HDR - ds->rec_len;
				take = take > rd_left(&r) ? rd_left(&r) : take;
				rd_copy(&r, ds->rec + ds->rec_len, take);
				ds->rec_len += take;
				if (ds->rec_len < REC_HDR)
					return;
			}
			if (!rec_header(ds->rec, &type, &ver, &len)) {
				stop_dir(c, dir, ST_NOT_TLS);
				return;
			}
			total = REC_HDR + (size_t)len;
			take = total - ds->rec_len;
			take = take > rd_left(&r) ? rd_left(&r) : take;
			rd_copy(&r, ds->rec + ds->rec_len, take);
			ds->rec_len += take;
			if (ds->rec_len < total)
				return;
			ds->rec_len = 0;
			record(c, dir, type, ver, ds->rec + REC_HDR, len, ds->rec_first_frame,
			       ds->rec_first_ts, ev->frame, ev->ts_ns);
			/* held only while a record is split: idle connections
			 * keep no 18 kB buffers */
			rec_buffer_free(c, ds);
			continue;
		}
		if (rd_left(&r) >= REC_HDR) {
			if (!rec_header(rd_ptr(&r), &type, &ver, &len)) {
				stop_dir(c, dir, ST_NOT_TLS);
				return;
			}
			if ((size_t)len + REC_HDR <= rd_left(&r) && rd_skip(&r, REC_HDR) &&
			    rd_sub(&r, len, &rec)) {
				record(c, dir, type, ver, rd_ptr(&rec), len, ev->first_frame,
				       ev->first_ts_ns, ev->frame, ev->ts_ns);
				continue;
			}
		}
		/* a partial record that nobody can read (ciphertext without a
		 * key): counted now, its bytes skipped as they come, neither
		 * copied nor held */
		if (rd_left(&r) >= REC_HDR && record_is_opaque(c, ds, type)) {
			record(c, dir, type, ver, NULL, len, ev->first_frame, ev->first_ts_ns,
			       ev->frame, ev->ts_ns);
			ds->skip = REC_HDR + (size_t)len;
			continue;
		}
		/* a partial record: hold it (never more than one record) */
		if (!ds->rec && rec_buffer_new(c, ds) < 0) {
			c->cnt->tls_bytes_capped += rd_left(&r);
			stop_dir(c, dir, ST_DESYNC);
			return;
		}
		ds->rec_first_frame = ev->first_frame;
		ds->rec_first_ts = ev->first_ts_ns;
		ds->rec_len = rd_left(&r);
		rd_copy(&r, ds->rec, ds->rec_len);
	}
}

/* ---- the connection ---- */

struct tls_conn *tls_open(const struct keylog *kl, struct counters *cnt, const struct flow *f,
			  tls_plain_cb cb, void *cb_arg)
{
	struct tls_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (!cnt) {
		free(c);
		return NULL;
	}
	c->kl = kl;
	c->cnt = cnt;
	if (f)
		c->flow = *f;
	c->cb = cb;
	c->cb_arg = cb_arg;
	cnt->tls_connections++;
	return c;
}

void tls_event(struct tls_conn *c, const struct stream_event *ev)
{
	struct dir_state *ds;

	if (!c || !ev || (ev->dir != DIR_TO_SERVER && ev->dir != DIR_TO_CLIENT))
		return;
	ds = &c->d[ev->dir];
	switch (ev->kind) {
	case STREAM_DATA:
		if (ev->len)
			data(c, ev);
		break;
	case STREAM_GAP:
		/* Record boundaries (and TLS 1.3 / ChaCha nonces) are lost
		 * with the bytes: this direction is not parsed any more. */
		c->cnt->tls_desync_bytes += ev->len;
		if (upward(c, ds))
			emit(c, STREAM_GAP, ev->dir, NULL, ev->len, ev->first_frame, ev->first_ts_ns,
			     ev->frame, ev->ts_ns);
		if (!ds->stopped)
			stop_dir(c, ev->dir, ST_DESYNC);
		break;
	case STREAM_CONFLICT:
		/* delivered ciphertext was contradicted: the records it
		 * carried may be misread, and decryption says so if they are */
		break;
	case STREAM_FIN:
	case STREAM_RST:
		c->ended = 1;
		emit(c, ev->kind, ev->dir, NULL, 0, ev->first_frame, ev->first_ts_ns, ev->frame,
		     ev->ts_ns);
		break;
	}
}

const struct tls_info *tls_get_info(const struct tls_conn *c)
{
	return c ? &c->info : NULL;
}

void tls_finish(struct tls_conn *c)
{
	struct tls_info *in;

	if (!c)
		return;
	in = &c->info;
	if (!in->saw_client_hello || in->handshake_complete || in->handshake_failed)
		return;
	if (c->tls13 && c->d[DIR_TO_SERVER].enc_records == 1 && !c->d[DIR_TO_SERVER].have_keys &&
	    !c->server_enc_after_client) {
		in->handshake_inferred = 1;
		set_failed(c, str_printf("client ended after one protected record "
					 "(an alert, most likely; no key to read it)"));
		return;
	}
	set_failed(c, str_printf("%s before the handshake completed",
				 !in->saw_server_hello ? "no ServerHello" :
				 c->ended ? "connection ended" : "capture ended"));
}

void tls_close(struct tls_conn *c)
{
	size_t i;
	int d;

	if (!c)
		return;
	tls_finish(c);
	for (d = 0; d < 2; d++) {
		dir_keys_free(&c->d[d]);
		rec_buffer_free(c, &c->d[d]);
		mem_release(c->mem, MEM_tls, c->d[d].hs_cap);
		free(c->d[d].hs);
	}
	if (c->key_block) {
		OPENSSL_cleanse(c->key_block, KEY_BLOCK_LEN);
		free(c->key_block);
	}
	for (i = 0; i < c->info.n_server_certs; i++)
		scep_cert_free(c->info.server_certs[i]);
	for (i = 0; i < c->info.n_client_certs; i++)
		scep_cert_free(c->info.client_certs[i]);
	free(c->info.sni);
	free(c->info.alpn_offered);
	free(c->info.alpn);
	free(c->info.failure);
	free(c->info.decrypt_note);
	if (c->plain)
		mem_release(c->mem, MEM_tls, REC_MAX);
	free(c->plain);
	free(c);
}

void tls_set_budget(struct tls_conn *c, struct mem_budget *mem)
{
	if (c)
		c->mem = mem;
}

/* --- registration with the application-layer dispatcher (app.h) -------- */

/* A hello names its sender: a ClientHello comes from the client. */
static int tls_app_probe(const uint8_t *data, size_t len, enum stream_dir dir)
{
	int r = tls_probe(data, len);

	return r != TLS_PROBE_NO && (r == TLS_PROBE_CLIENT) == (dir == DIR_TO_SERVER);
}

static void *tls_app_open(const struct app_open *o)
{
	struct tls_conn *c = tls_open(o->env->keylog, o->env->cnt, o->view, o->on_plaintext, o->arg);

	tls_set_budget(c, o->env->mem);
	return c;
}

static int tls_app_event(void *c, const struct stream_event *ev)
{
	tls_event(c, ev);
	return tls_unreadable(c) ? FLOW_BYTES_UNREAD : FLOW_BYTES_READ;
}

static void tls_app_close(void *c)
{
	tls_close(c);
}

const struct app_layer_ops tls_app_ops = {
	.probe = tls_app_probe,
	.open = tls_app_open,
	.event = tls_app_event,
	.close = tls_app_close,
};
