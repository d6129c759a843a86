/* keylog.c - the NSS key log format (SSLKEYLOGFILE; also the text of pcapng
 * Decryption Secrets Blocks): "LABEL <client random hex> <secret hex>" per
 * line, and the TLS servers' RSA keys (--tls-key, read by the SCEP key
 * store's loader). Owns the parsed secrets; trusts nothing in the text:
 * every line is read through struct rd and a bad one is counted and
 * skipped; an encrypted premaster off the wire is opened by OpenSSL only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "keylog.h"
#include "membudget.h"
#include "reader.h"
#include "scep.h"
#include "strutil.h"

#define LINE_MAX_LEN 1024       /* longest real line is ~200 bytes */
#define BUCKETS_MIN 64

struct keylog_entry {
	uint8_t random[KEYLOG_RANDOM_LEN];
	uint8_t secret[KEYLOG_SECRET_MAX];
	uint8_t secret_len;
	uint8_t label;
	uint32_t next;              /* index + 1 of the next in the bucket, 0 ends */
};

struct keylog {
	struct keylog_entry *e;
	size_t n, cap;
	uint32_t *bucket;           /* index + 1 of the first entry, 0 for none */
	size_t nbuckets;            /* power of two */
	uint64_t bad_lines;
	uint64_t capped;
	struct mem_budget *mem;     /* entries and buckets are charged here */
	/* --tls-key: the keys live in a SCEP key store (its loader reads
	 * PEM, DER and PKCS#12 with --key-pass); each has its file and the
	 * SHA-256 of its public key, to be matched to a server certificate */
	struct scep_keys *srv;
	size_t n_srv;
	char *srv_file[KEYLOG_MAX_SERVER_KEYS];
	char srv_key_sha256[KEYLOG_MAX_SERVER_KEYS][2 * 32 + 1];
};

/* What one text's parse found, for keylog_load_file's message. */
struct parse_stats {
	uint64_t lines;             /* read so far, over the file's chunks */
	uint64_t bad;
	uint64_t first_bad_line;
	const char *first_bad_why;
};

static const struct {
	const char *name;
	int label;                  /* enum keylog_label, -1 known but unused */
} LABELS[] = {
	{ "CLIENT_RANDOM", KEYLOG_CLIENT_RANDOM },
	{ "CLIENT_HANDSHAKE_TRAFFIC_SECRET", KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET },
	{ "SERVER_HANDSHAKE_TRAFFIC_SECRET", KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET },
	{ "CLIENT_TRAFFIC_SECRET_0", KEYLOG_CLIENT_TRAFFIC_SECRET_0 },
	{ "SERVER_TRAFFIC_SECRET_0", KEYLOG_SERVER_TRAFFIC_SECRET_0 },
	/* written by OpenSSL, NSS, BoringSSL; nothing here needs them */
	{ "CLIENT_EARLY_TRAFFIC_SECRET", -1 },
	{ "EARLY_EXPORTER_SECRET", -1 },
	{ "EXPORTER_SECRET", -1 },
	{ "RSA", -1 },              /* pre-master secret by encrypted PMS prefix */
};

struct keylog *keylog_new(void)
{
	return calloc(1, sizeof(struct keylog));
}

void keylog_free(struct keylog *kl)
{
	if (!kl)
		return;
	/* the secrets should not linger in freed memory */
	if (kl->e)
		memset(kl->e, 0, kl->cap * sizeof(*kl->e));
	mem_release(kl->mem, MEM_keylog, kl->cap * sizeof(*kl->e) + kl->nbuckets * sizeof(*kl->bucket));
	free(kl->e);
	free(kl->bucket);
	scep_keys_free(kl->srv);
	while (kl->n_srv)
		free(kl->srv_file[--kl->n_srv]);
	free(kl);
}

void keylog_set_budget(struct keylog *kl, struct mem_budget *mem)
{
	if (kl && !kl->e)
		kl->mem = mem;
}

size_t keylog_count(const struct keylog *kl) { return kl ? kl->n : 0; }
uint64_t keylog_bad_lines(const struct keylog *kl) { return kl ? kl->bad_lines : 0; }
uint64_t keylog_capped(const struct keylog *kl) { return kl ? kl->capped : 0; }

/* Client randoms are random: their first bytes are as good a hash as any.
 * (A hostile key log can only make its own lookups slow.) */
/* All 32 bytes: TLS 1.2 randoms start with the time (RFC 5246), and a key
 * log's randoms may share any prefix, so none of it can be left out. */
static size_t hash_random(const uint8_t *r, size_t nbuckets)
{
	uint32_t h = 2166136261u;
	int i;

	for (i = 0; i < KEYLOG_RANDOM_LEN; i++)
		h = (h ^ r[i]) * 16777619u;
	return (h ^ (h >> 15)) & (nbuckets - 1);
}

static const struct keylog_entry *lookup(const struct keylog *kl, const uint8_t *random, int label)
{
	uint32_t i;

	if (!kl->nbuckets)
		return NULL;
	for (i = kl->bucket[hash_random(random, kl->nbuckets)]; i; i = kl->e[i - 1].next) {
		const struct keylog_entry *e = &kl->e[i - 1];

		if (e->label == label && !memcmp(e->random, random, KEYLOG_RANDOM_LEN))
			return e;
	}
	return NULL;
}

/* 0 charged, 1 refused by the budget (the entry is counted as capped). */
static int charge_growth(struct keylog *kl, size_t old_bytes, size_t new_bytes)
{
	if (mem_resize(kl->mem, MEM_keylog, old_bytes, new_bytes) == 0)
		return 0;
	kl->capped++;
	return 1;
}

static int rehash(struct keylog *kl, size_t nbuckets)
{
	uint32_t *b;
	size_t i, h;

	if (charge_growth(kl, kl->nbuckets * sizeof(*b), nbuckets * sizeof(*b)))
		return 1;
	b = calloc(nbuckets, sizeof(*b));
	if (!b) {
		mem_resize(kl->mem, MEM_keylog, nbuckets * sizeof(*b), kl->nbuckets * sizeof(*b));
		return -1;
	}
	for (i = 0; i < kl->n; i++) {
		h = hash_random(kl->e[i].random, nbuckets);
		kl->e[i].next = b[h];
		b[h] = (uint32_t)(i + 1);
	}
	free(kl->bucket);
	kl->bucket = b;
	kl->nbuckets = nbuckets;
	return 0;
}

/* Returns 1 added, 0 already there or capped, -1 out of memory. */
static int add_entry(struct keylog *kl, int label, const uint8_t *random,
		     const uint8_t *secret, size_t slen)
{
	struct keylog_entry *e;
	size_t h;

	if (lookup(kl, random, label))
		return 0;
	if (kl->n >= KEYLOG_MAX_ENTRIES) {
		kl->capped++;
		return 0;
	}
	if (kl->n == kl->cap) {
		size_t cap = kl->cap ? kl->cap * 2 : 64;
		struct keylog_entry *grown;

		if (charge_growth(kl, kl->cap * sizeof(*grown), cap * sizeof(*grown)))
			return 0;
		grown = realloc(kl->e, cap * sizeof(*grown));
		if (!grown) {
			mem_resize(kl->mem, MEM_keylog, cap * sizeof(*grown), kl->cap * sizeof(*grown));
			return -1;
		}
		kl->e = grown;
		kl->cap = cap;
	}
	/* load factor at most 1 keeps chains short */
	if (kl->n + 1 > kl->nbuckets) {
		int rc = rehash(kl, kl->nbuckets ? kl->nbuckets * 2 : BUCKETS_MIN);

		if (rc)
			return rc < 0 ? -1 : 0;
	}
	e = &kl->e[kl->n];
	memset(e, 0, sizeof(*e));
	memcpy(e->random, random, KEYLOG_RANDOM_LEN);
	memcpy(e->secret, secret, slen);
	e->secret_len = (uint8_t)slen;
	e->label = (uint8_t)label;
	h = hash_random(random, kl->nbuckets);
	e->next = kl->bucket[h];
	kl->bucket[h] = (uint32_t)(kl->n + 1);
	kl->n++;
	return 1;
}

size_t keylog_find(const struct keylog *kl, const uint8_t client_random[KEYLOG_RANDOM_LEN],
		   enum keylog_label label, uint8_t *secret)
{
	const struct keylog_entry *e;

	if (!kl || !client_random || (int)label < 0 || label >= KEYLOG_LABELS)
		return 0;
	e = lookup(kl, client_random, (int)label);
	if (!e)
		return 0;
	memcpy(secret, e->secret, e->secret_len);
	return e->secret_len;
}

static int is_blank(uint8_t c) { return c == ' ' || c == '\t'; }

/* Splits the next whitespace-separated token off line. */
static int token(struct rd *line, struct rd *tok)
{
	uint8_t c;
	size_t n = 0;

	while (rd_left(line) && is_blank(rd_ptr(line)[0]))
		rd_skip(line, 1);
	while (n < rd_left(line)) {
		c = rd_ptr(line)[n];
		if (is_blank(c))
			break;
		n++;
	}
	if (!n)
		return 0;
	return rd_sub(line, n, tok);
}

/* Hex token into out (at most max bytes); returns the byte count, 0 when
 * the token is not even-length hex of 1..max bytes. */
static size_t hex_token(struct rd *tok, uint8_t *out, size_t max)
{
	size_t n = 0;
	uint8_t hi, lo;

	if (rd_left(tok) % 2 || rd_left(tok) / 2 > max)
		return 0;
	while (rd_left(tok)) {
		if (!rd_u8(tok, &hi) || !rd_u8(tok, &lo) || str_hex_digit(hi) < 0 || str_hex_digit(lo) < 0)
			return 0;
		out[n++] = (uint8_t)(str_hex_digit(hi) << 4 | str_hex_digit(lo));
	}
	return n;
}

static int label_of(struct rd *tok)
{
	size_t i, n = rd_left(tok);

	for (i = 0; i < sizeof(LABELS) / sizeof(LABELS[0]); i++) {
		if (strlen(LABELS[i].name) == n && !memcmp(LABELS[i].name, rd_ptr(tok), n))
			return LABELS[i].label;
	}
	return -2;
}

/* One line without its line end. Returns 1 added, 0 skipped or duplicate,
 * -1 out of memory; *why is set when the line is bad. */
static int parse_line(struct keylog *kl, struct rd *line, const char **why)
{
	struct rd tok;
	uint8_t random[KEYLOG_RANDOM_LEN], secret[KEYLOG_SECRET_MAX];
	size_t slen;
	int label;

	*why = NULL;
	if (!token(line, &tok) || rd_ptr(&tok)[0] == '#')
		return 0;
	label = label_of(&tok);
	if (label == -1)
		return 0;
	if (!token(line, &tok) || hex_token(&tok, random, sizeof(random)) != KEYLOG_RANDOM_LEN) {
		*why = label == -2 ? "not a key log line" : "client random is not 64 hex digits";
		return 0;
	}
	if (!token(line, &tok) || !(slen = hex_token(&tok, secret, sizeof(secret)))) {
		*why = label == -2 ? "not a key log line" : "secret is not hex (at most 128 digits)";
		return 0;
	}
	if (label == KEYLOG_CLIENT_RANDOM && slen != 48) {
		*why = "master secret is not 48 bytes";
		return 0;
	}
	if (token(line, &tok)) {
		*why = "extra text after the secret";
		return 0;
	}
	/* A label from a newer TLS stack is skipped, as the format asks;
	 * only a line shaped like an entry passes for one. */
	if (label == -2)
		return 0;
	return add_entry(kl, label, random, secret, slen);
}

static int add_text(struct keylog *kl, const uint8_t *text, size_t len, struct parse_stats *st)
{
	struct rd r, line;
	const uint8_t *nl;
	const char *why;
	uint64_t lineno = st ? st->lines : 0;
	size_t n;
	int added = 0, rc;

	rd_init(&r, text, len);
	while (rd_left(&r)) {
		nl = memchr(rd_ptr(&r), '\n', rd_left(&r));
		n = nl ? (size_t)(nl - rd_ptr(&r)) : rd_left(&r);
		rd_sub(&r, n, &line);
		if (nl)
			rd_skip(&r, 1);
		lineno++;
		if (n && rd_ptr(&line)[n - 1] == '\r')
			rd_init(&line, rd_ptr(&line), n - 1);
		/* a DSB is NUL-padded to 32 bits; capture.c may also NUL-end it */
		while (rd_left(&line) && rd_ptr(&line)[rd_left(&line) - 1] == 0)
			rd_init(&line, rd_ptr(&line), rd_left(&line) - 1);
		if (rd_left(&line) > LINE_MAX_LEN) {
			why = "line longer than 1024 bytes";
		} else {
			rc = parse_line(kl, &line, &why);
			if (rc < 0)
				return -1;
			added += rc;
		}
		if (why) {
			kl->bad_lines++;
			if (st && !st->bad++) {
				st->first_bad_line = lineno;
				st->first_bad_why = why;
			}
		}
	}
	if (st)
		st->lines = lineno;
	return added;
}

int keylog_add_text(struct keylog *kl, const uint8_t *text, size_t len)
{
	if (!kl)
		return -1;
	return add_text(kl, text, len, NULL);
}

/* The file is read in chunks of whole lines, so only its entries are held
 * however large it is. A line longer than the chunk is bad (no key log
 * line comes near) and skipped to its end. */
static int load_lines(struct keylog *kl, FILE *f, struct parse_stats *st)
{
	static const char too_long[] = "line longer than 1024 bytes";
	uint8_t buf[KEYLOG_CHUNK];
	size_t len = 0, got, take, skip;
	int rc, added = 0, skipping = 0;
	const uint8_t *nl;

	do {
		got = fread(buf + len, 1, sizeof(buf) - len, f);
		len += got;
		for (take = len; take && buf[take - 1] != '\n'; take--)
			;
		if (got && !take && len == sizeof(buf)) {
			/* one line fills the chunk: counted once, dropped to its end */
			if (!skipping) {
				skipping = 1;
				kl->bad_lines++;
				if (!st->bad++) {
					st->first_bad_line = st->lines + 1;
					st->first_bad_why = too_long;
				}
			}
			len = 0;
			continue;
		}
		if (!got)
			take = len;     /* the last line may lack its newline */
		skip = 0;
		if (skipping && take) {
			nl = memchr(buf, '\n', take);
			skip = nl ? (size_t)(nl + 1 - buf) : take;
			st->lines++;
			skipping = 0;
		}
		rc = add_text(kl, buf + skip, take - skip, st);
		if (rc < 0)
			return -1;
		added += rc;
		memmove(buf, buf + take, len - take);
		len -= take;
	} while (got);
	memset(buf, 0, sizeof(buf));
	return added;
}

int keylog_load_file(struct keylog *kl, const char *path, char *err, size_t errlen)
{
	struct parse_stats st = { 0, 0, 0, NULL };
	FILE *f;
	int rc;

	if (errlen)
		err[0] = 0;
	if (!kl)
		return -1;
	f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	rc = load_lines(kl, f, &st);
	if (ferror(f)) {
		snprintf(err, errlen, "read error: %s", strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	if (rc < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (st.bad)
		snprintf(err, errlen, "%llu bad line%s, first at line %llu: %s",
			 (unsigned long long)st.bad, st.bad == 1 ? "" : "s",
			 (unsigned long long)st.first_bad_line, st.first_bad_why);
	return rc;
}

/* ---- server private keys (--tls-key) ---- */

size_t keylog_server_keys(const struct keylog *kl)
{
	return kl ? kl->n_srv : 0;
}

const char *keylog_server_key_file(const struct keylog *kl, size_t i)
{
	return kl && i < kl->n_srv ? kl->srv_file[i] : NULL;
}

/* SHA-256 of the RSAPublicKey DER: what X509_pubkey_digest hashes in a
 * certificate (the subjectPublicKey BIT STRING's contents). */
static int public_key_sha256(EVP_PKEY *pk, char out[2 * 32 + 1])
{
	static const char hexd[] = "0123456789abcdef";
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	int n = i2d_PublicKey(pk, &der);
	int ok = n > 0 && EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) && mdlen == 32;

	OPENSSL_free(der);
	ERR_clear_error();
	if (!ok)
		return -1;
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hexd[md[i] >> 4];
		out[2 * i + 1] = hexd[md[i] & 15];
	}
	out[2 * mdlen] = 0;
	return 0;
}

int keylog_load_server_key(struct keylog *kl, const char *path, const char *pass,
			   char *err, size_t errlen)
{
	size_t i, before;
	EVP_PKEY *pk;

	if (!kl->srv && !(kl->srv = scep_keys_new())) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	before = scep_keys_count(kl->srv);
	if (scep_keys_load_pass(kl->srv, path, pass, err, errlen) < 0)
		return -1;
	for (i = before; i < scep_keys_count(kl->srv); i++) {
		pk = scep_keys_pkey(kl->srv, i);
		if (!EVP_PKEY_is_a(pk, "RSA")) {
			snprintf(err, errlen, "the key is %s, not RSA: a server's key decrypts only RSA key "
				 "exchange (for ECDHE or TLS 1.3 give --keylog)", EVP_PKEY_get0_type_name(pk) ?
				 EVP_PKEY_get0_type_name(pk) : "not RSA");
			return -1;
		}
		if (kl->n_srv == KEYLOG_MAX_SERVER_KEYS) {
			snprintf(err, errlen, "too many server keys (at most %d)", KEYLOG_MAX_SERVER_KEYS);
			return -1;
		}
		if (public_key_sha256(pk, kl->srv_key_sha256[kl->n_srv]) < 0) {
			snprintf(err, errlen, "the RSA key's public part cannot be encoded");
			return -1;
		}
		if (!(kl->srv_file[kl->n_srv] = strdup(path))) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		kl->n_srv++;
	}
	return 0;
}

/* PKCS#1 v1.5 decryption of the premaster; 0 when it gives 48 bytes. */
static int rsa_open(EVP_PKEY *pk, const uint8_t *enc, size_t len, uint8_t pms[KEYLOG_PREMASTER_LEN])
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(pk, NULL);
	unsigned char out[1024];
	size_t outlen = sizeof(out);
	int ok;
#ifdef OSSL_ASYM_CIPHER_PARAM_IMPLICIT_REJECTION
	/* OpenSSL 3.2+ answers a bad padding with random bytes (a server's
	 * defence); a reader wants to hear that the key is wrong */
	unsigned int no = 0;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_uint(OSSL_ASYM_CIPHER_PARAM_IMPLICIT_REJECTION, &no),
		OSSL_PARAM_construct_end()
	};
#endif

	ok = pctx && (size_t)EVP_PKEY_get_size(pk) <= sizeof(out) && EVP_PKEY_decrypt_init(pctx) > 0 &&
	     EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
#ifdef OSSL_ASYM_CIPHER_PARAM_IMPLICIT_REJECTION
	ok = ok && EVP_PKEY_CTX_set_params(pctx, params) > 0;
#endif
	ok = ok && EVP_PKEY_decrypt(pctx, out, &outlen, enc, len) > 0 && outlen == KEYLOG_PREMASTER_LEN;
	if (ok)
		memcpy(pms, out, KEYLOG_PREMASTER_LEN);
	OPENSSL_cleanse(out, sizeof(out));
	EVP_PKEY_CTX_free(pctx);
	ERR_clear_error();
	return ok ? 0 : -1;
}

enum keylog_rsa_result keylog_rsa_premaster(const struct keylog *kl, const char *key_sha256,
					    const uint8_t *enc, size_t len,
					    uint8_t pms[KEYLOG_PREMASTER_LEN], const char **file)
{
	size_t i;
	int tried = 0;

	*file = NULL;
	for (i = 0; kl && i < kl->n_srv; i++) {
		if (key_sha256 && strcmp(key_sha256, kl->srv_key_sha256[i]))
			continue;
		if (!tried++)
			*file = kl->srv_file[i];
		if (rsa_open(scep_keys_pkey(kl->srv, i), enc, len, pms) == 0) {
			*file = kl->srv_file[i];
			return KEYLOG_RSA_OK;
		}
	}
	return tried ? KEYLOG_RSA_FAILED : KEYLOG_RSA_NO_MATCH;
}
