/* tls_crypto.c - TLS key derivation and record decryption: the keys of a
 * direction from the key log (TLS 1.0-1.2 key block, TLS 1.3 traffic
 * secrets and KeyUpdate), and protected records opened (AES-GCM,
 * ChaCha20-Poly1305, CBC with HMAC, encrypt_then_mac). Every primitive and
 * KDF is OpenSSL's (EVP_CIPHER, EVP_MAC HMAC, EVP_KDF TLS1-PRF and
 * TLS13-KDF); a failed tag, MAC or padding means a wrong key. Records come
 * off the wire: every length is checked before it is used. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "counters.h"
#include "keylog.h"
#include "membudget.h"
#include "strutil.h"
#include "tls.h"
#include "tls_crypto.h"
#include "x509.h"

#define TAG_LEN 16

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

/* The decryption line is set once; only "decrypting" may later become a
 * failure, so the lead reports one state per connection. */
void tls_set_decrypt(struct tls_conn *c, enum tls_decrypt_state st, char *note)
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

/* The TLS 1.0-1.2 PRF (RFC 5246 5; TLS 1.0/1.1 use the MD5+SHA-1 PRF):
 * PRF(secret, label, seed1 + seed2). */
static int tls1_prf(const char *md, const uint8_t *secret, size_t slen, const char *label,
		    const uint8_t *seed1, size_t len1, const uint8_t *seed2, size_t len2,
		    uint8_t *out, size_t outlen)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	EVP_KDF_CTX *k = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	uint8_t seed[32 + EVP_MAX_MD_SIZE + 64];
	size_t llen = strlen(label);
	OSSL_PARAM p[4], *q = p;
	int ok;

	EVP_KDF_free(kdf);
	if (!k || llen + len1 + len2 > sizeof(seed)) {
		EVP_KDF_CTX_free(k);
		return -1;
	}
	memcpy(seed, label, llen);
	memcpy(seed + llen, seed1, len1);
	if (len2)
		memcpy(seed + llen + len1, seed2, len2);
	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, slen);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, llen + len1 + len2);
	*q = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(k, out, outlen, p) > 0;
	EVP_KDF_CTX_free(k);
	ERR_clear_error();
	return ok ? 0 : -1;
}

/* key_block = PRF(master, "key expansion", server_random + client_random),
 * RFC 5246 6.3 */
static int key_block(const char *md, const uint8_t *master, size_t mlen,
		     const uint8_t *crand, const uint8_t *srand, uint8_t *out, size_t outlen)
{
	return tls1_prf(md, master, mlen, "key expansion", srand, 32, crand, 32, out, outlen);
}

/* The PRF hash of the connection's version and suite. */
static const char *prf_md(const struct tls_conn *c)
{
	return c->info.version == V_TLS12 ? c->suite->prf_md : "MD5-SHA1";
}

void tls_server_key_state_free(struct tls_conn *c)
{
	if (c->transcript) {
		OPENSSL_cleanse(c->transcript, c->transcript_len);
		mem_release(c->mem, MEM_tls, c->transcript_len);
		free(c->transcript);
	}
	c->transcript = NULL;
	c->transcript_len = 0;
	if (c->transcript_state != TR_LOST)
		c->transcript_state = TR_OFF;
	free(c->enc_premaster);
	c->enc_premaster = NULL;
	c->enc_premaster_len = 0;
}

/* RFC 5246 8.1 and RFC 7627 4: the master secret from the premaster. */
static int master_from_premaster(struct tls_conn *c, const uint8_t *pms, uint8_t master[48])
{
	uint8_t hash[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;
	EVP_MD *md;
	int ok;

	if (!c->info.extended_master_secret)
		return tls1_prf(prf_md(c), pms, KEYLOG_PREMASTER_LEN, "master secret",
				c->client_random, 32, c->server_random, 32, master, 48);
	md = EVP_MD_fetch(NULL, prf_md(c), NULL);
	ok = md && EVP_Digest(c->transcript, c->transcript_len, hash, &hlen, md, NULL);
	EVP_MD_free(md);
	ERR_clear_error();
	if (!ok)
		return -1;
	return tls1_prf(prf_md(c), pms, KEYLOG_PREMASTER_LEN, "extended master secret",
			hash, hlen, NULL, 0, master, 48);
}

/* --tls-key: why the server's key cannot give this connection's master
 * secret, or 48 with master set. Sets the note of every failure. */
static size_t master_from_server_key(struct tls_conn *c, uint8_t master[48])
{
	const struct scep_cert *leaf = c->info.n_server_certs ? c->info.server_certs[0] : NULL;
	const char *kx = tls_suite_kx(c->suite), *file = NULL;
	uint8_t pms[KEYLOG_PREMASTER_LEN];
	enum keylog_rsa_result r;

	c->info.server_key_tried = 1;
	if (!c->info.rsa_key_exchange) {
		tls_set_decrypt(c, TLS_DECRYPT_NO_KEY,
				str_printf("%s key exchange: the server key cannot decrypt it, give --keylog",
					   kx ? kx : c->suite->name));
		return 0;
	}
	if (c->info.resumed) {
		tls_set_decrypt(c, TLS_DECRYPT_NO_KEY,
				str_printf("resumed session (%s): its premaster went by in an earlier connection, "
					   "the server key cannot decrypt this one alone", c->info.resumed_by));
		return 0;
	}
	if (!c->enc_premaster) {
		tls_set_decrypt(c, TLS_DECRYPT_UNSUPPORTED,
				str_printf("ClientKeyExchange not captured: the server key cannot decrypt it"));
		return 0;
	}
	if (c->info.extended_master_secret && c->transcript_state != TR_DONE) {
		tls_set_decrypt(c, TLS_DECRYPT_UNSUPPORTED,
				str_printf("handshake messages lost or past %u bytes: the extended master "
					   "secret cannot be derived from the server key", TRANSCRIPT_MAX));
		return 0;
	}
	r = keylog_rsa_premaster(c->kl, leaf && leaf->key_sha256[0] ? leaf->key_sha256 : NULL,
				 c->enc_premaster, c->enc_premaster_len, pms, &file);
	if (r == KEYLOG_RSA_NO_MATCH) {
		size_t n = keylog_server_keys(c->kl);

		tls_set_decrypt(c, TLS_DECRYPT_NO_KEY,
				str_printf("the server certificate (%s) does not match --tls-key %s%s",
					   leaf && leaf->subject ? leaf->subject : "?",
					   keylog_server_key_file(c->kl, 0),
					   n > 1 ? " nor the other server keys" : ""));
		return 0;
	}
	if (r == KEYLOG_RSA_FAILED) {
		tls_set_decrypt(c, TLS_DECRYPT_FAILED,
				str_printf("decrypt failed: the premaster does not decrypt with --tls-key %s%s",
					   file ? file : "?", leaf ? "" : " (server certificate not captured; wrong key?)"));
		return 0;
	}
	if (master_from_premaster(c, pms, master) < 0) {
		OPENSSL_cleanse(pms, sizeof(pms));
		tls_set_decrypt(c, TLS_DECRYPT_FAILED,
				str_printf("decrypt failed: TLS1-PRF master secret derivation failed"));
		return 0;
	}
	OPENSSL_cleanse(pms, sizeof(pms));
	c->server_key_file = file;
	return 48;
}

void tls_dir_keys_free(struct dir_state *ds)
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
	tls_dir_keys_free(ds);
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
		tls_dir_keys_free(ds);
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
		tls_set_decrypt(c, TLS_DECRYPT_UNSUPPORTED,
			    str_printf("ServerHello not captured: cannot decrypt"));
		return 0;
	}
	if (c->suite && c->suite->kind != CK_NONE) {
		tls_set_decrypt(c, TLS_DECRYPT_UNSUPPORTED,
			    str_printf("%s with %s not supported for decryption",
				       c->suite->name, tls_version_name(c->info.version) ?
				       tls_version_name(c->info.version) : "this version"));
		return 0;
	}
	name = c->suite ? NULL : hex_id(c->info.cipher_suite);
	tls_set_decrypt(c, TLS_DECRYPT_UNSUPPORTED,
		    str_printf("cipher suite %s not supported for decryption",
			       c->suite ? c->suite->name : name ? name : "?"));
	free(name);
	return 0;
}

/* TLS <= 1.2, at a ChangeCipherSpec: the key block from the master
 * secret in the key log, then this direction's slice of it. */
void tls_keys_12(struct tls_conn *c, enum stream_dir dir)
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
			tls_set_decrypt(c, TLS_DECRYPT_UNSUPPORTED,
				    str_printf("handshake not captured: cannot decrypt"));
			return;
		}
		if (!decryptable(c))
			return;
		mlen = keylog_find(c->kl, c->client_random, KEYLOG_CLIENT_RANDOM, master);
		if (mlen)
			c->info.key_source = TLS_KEY_KEYLOG;
		else if (keylog_server_keys(c->kl) && (mlen = master_from_server_key(c, master)))
			c->info.key_source = TLS_KEY_SERVER;
		tls_server_key_state_free(c);
		if (!mlen) {
			if (!c->info.server_key_tried)
				tls_set_decrypt(c, TLS_DECRYPT_NO_KEY,
						str_printf("no key log entry for this connection"));
			return;
		}
		need = KEY_BLOCK_LEN;
		c->key_block = malloc(KEY_BLOCK_LEN);
		if (!c->key_block ||
		    key_block(prf_md(c), master, mlen,
			      c->client_random, c->server_random, c->key_block, need) < 0) {
			OPENSSL_cleanse(master, sizeof(master));
			tls_set_decrypt(c, TLS_DECRYPT_FAILED,
				    str_printf("decrypt failed: TLS1-PRF key derivation failed"));
			return;
		}
		OPENSSL_cleanse(master, sizeof(master));
		c->key_block_state = 1;
		tls_set_decrypt(c, TLS_DECRYPT_OK, c->info.key_source == TLS_KEY_SERVER ?
				str_printf("decrypting with the server key (--tls-key %s)", c->server_key_file) :
				str_printf("decrypting"));
	}
	if (c->key_block_state != 1)
		return;
	if (!dir_keys_new(ds)) {
		tls_set_decrypt(c, TLS_DECRYPT_FAILED, str_printf("decrypt failed: out of memory"));
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
		tls_set_decrypt(c, TLS_DECRYPT_FAILED,
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
void tls_keys_13(struct tls_conn *c, enum stream_dir dir)
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
	tls_dir_keys_free(ds);
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
		if (!any && keylog_server_keys(c->kl)) {
			/* RFC 8446 has no RSA key exchange */
			c->info.server_key_tried = 1;
			tls_set_decrypt(c, TLS_DECRYPT_NO_KEY,
					str_printf("TLS 1.3: the server key cannot decrypt it, give --keylog"));
			return;
		}
		tls_set_decrypt(c, TLS_DECRYPT_NO_KEY,
			    any ? str_printf("no key log entry for this connection (%s missing)",
					     label_names[label])
				: str_printf("no key log entry for this connection"));
		return;
	}
	if ((int)secret_len != hash_len(c->suite)) {
		OPENSSL_cleanse(secret, sizeof(secret));
		tls_set_decrypt(c, TLS_DECRYPT_FAILED,
			    str_printf("decrypt failed: %s in the key log is %zu bytes, %s needs %d",
				       label_names[label], secret_len, c->suite->name,
				       hash_len(c->suite)));
		return;
	}
	if (!dir_keys_new(ds)) {
		OPENSSL_cleanse(secret, sizeof(secret));
		tls_set_decrypt(c, TLS_DECRYPT_FAILED, str_printf("decrypt failed: out of memory"));
		return;
	}
	c->info.key_source = TLS_KEY_KEYLOG;
	memcpy(ds->k->secret, secret, secret_len);
	ds->k->secret_len = secret_len;
	OPENSSL_cleanse(secret, sizeof(secret));
	if (keys_13_from_secret(c, ds) < 0) {
		tls_set_decrypt(c, TLS_DECRYPT_FAILED,
			    str_printf("decrypt failed: TLS13-KDF key derivation failed"));
		return;
	}
	tls_set_decrypt(c, TLS_DECRYPT_OK, str_printf("decrypting"));
}

/* RFC 8446 7.2: the next generation after a KeyUpdate. */
void tls_key_update(struct tls_conn *c, enum stream_dir dir)
{
	struct dir_state *ds = &c->d[dir];
	uint8_t next[KEYLOG_SECRET_MAX];

	if (!ds->have_keys)
		return;
	if (expand_label(c->suite->prf_md, ds->k->secret, ds->k->secret_len, "traffic upd",
			 next, ds->k->secret_len) < 0 ||
	    (memcpy(ds->k->secret, next, ds->k->secret_len), keys_13_from_secret(c, ds) < 0)) {
		tls_dir_keys_free(ds);
		tls_set_decrypt(c, TLS_DECRYPT_FAILED,
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
const char *tls_open_record(struct tls_conn *c, struct dir_state *ds, uint8_t *type,
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
