/* cacerts.c - GetCACert and GetNextCACert bodies: one DER certificate, a
 * certificates-only PKCS#7 or PEM, each certificate's role (CA, RA
 * encryption, RA signing), a small cache of recent bodies, since a
 * server hands every client the same one, and per server the certificates
 * its answers held, which name the signers of its later CertReps. Bodies
 * are untrusted: parsed by OpenSSL only, the few bytes looked at first
 * read through struct rd. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "reader.h"
#include "strutil.h"
#include "scep.h"
#include "pkcs7_internal.h"

/* Recent GetCACert answers and what they decoded to. A server hands every
 * client the same body, and parsing a certificate is the dearest thing in
 * a run: OpenSSL 3.0 builds a key decoder for each public key (about a
 * million instructions). */
#define CA_CACHE_SLOTS 8
#define CA_CACHE_BODY_MAX (64u * 1024)
struct ca_cache_slot {
	uint8_t *body;
	size_t len;
	int rc;
	struct scep_cert **certs;
	size_t n;
	STACK_OF(X509) *x509s;      /* the same certificates, for signers */
	char *error;
	uint64_t used;              /* tick of the last hit, for LRU */
};
struct ca_cache {
	struct ca_cache_slot slot[CA_CACHE_SLOTS];
	uint64_t tick;
};

int scep_der_certs_kind(const uint8_t *der, size_t len)
{
	const unsigned char *q = der;
	CMS_ContentInfo *cms = NULL;
	X509 *x;
	uint8_t *cut;
	size_t cut_len = 0, skipped = 0;
	int certs_only = 0;

	if (!der || len == 0 || len > LONG_MAX)
		return 0;
	ERR_set_mark();
	x = d2i_X509(NULL, &q, (long)len);
	if (x) {
		certs_only = q == der + len ? SCEP_DER_ONE_CERT : 0;
		X509_free(x);
	} else {
		cut = p7_certs_cut(der, len, &cut_len, &skipped);
		cms = p7_cms_parse(cut ? cut : der, cut ? cut_len : len, NULL);
		free(cut);
	}
	if (cms) {
		STACK_OF(CMS_SignerInfo) *sis = NULL;

		if (OBJ_obj2nid(CMS_get0_type(cms)) == NID_pkcs7_signed)
			sis = CMS_get0_SignerInfos(cms);
		if (OBJ_obj2nid(CMS_get0_type(cms)) == NID_pkcs7_signed &&
		    (!sis || sk_CMS_SignerInfo_num(sis) == 0))
			certs_only = SCEP_DER_CERTS_ONLY;
		CMS_ContentInfo_free(cms);
	}
	ERR_pop_to_mark();
	return certs_only;
}

static int starts_with(const uint8_t *p, size_t len, const char *lit)
{
	size_t n = strlen(lit);
	struct rd r;
	uint8_t c;
	size_t i;

	rd_init(&r, p, len);
	for (i = 0; i < n; i++) {
		if (!rd_u8(&r, &c) || c != (uint8_t)lit[i])
			return 0;
	}
	return 1;
}

/* 1 when c issued another certificate of the set. */
static int issued_another(struct scep_cert **arr, size_t n, const struct scep_cert *c)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (arr[i] != c && c->subject && arr[i]->issuer && !arr[i]->self_signed &&
		    strcmp(arr[i]->issuer, c->subject) == 0)
			return 1;
	}
	return 0;
}

/* Which certificate a client should encrypt to and which signs CertReps.
 * NDES answers the CA plus two RA certificates: "CEP Encryption"
 * (keyEncipherment) and "Exchange Enrollment Agent (Offline request)"
 * (digitalSignature); a client that encrypts to the wrong one fails. */
static void assign_roles(struct scep_cert **arr, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct scep_cert *c = arr[i];
		const unsigned enc = KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT;
		const char *role;

		/* CA:TRUE alone does not make the CA: some NDES deployments
		 * put a CA:TRUE certificate in the RA role, and then its key
		 * usage (no keyCertSign) tells what it is for */
		if ((c->is_ca && (!c->has_key_usage || (c->key_usage & KU_KEY_CERT_SIGN))) ||
		    (c->self_signed && issued_another(arr, n, c)))
			role = "CA";
		else if (!c->has_key_usage)
			role = "RA";
		else if ((c->key_usage & enc) && !(c->key_usage & KU_DIGITAL_SIGNATURE))
			role = "RA-encryption";
		else if ((c->key_usage & KU_DIGITAL_SIGNATURE) && !(c->key_usage & enc))
			role = "RA-signing";
		else if (c->key_usage & enc)
			role = "RA";            /* one RA certificate for both jobs */
		else
			role = "other";
		c->role = strdup(role);
	}
}

/* Adds x (a reference of its own) to keep, when keep is not NULL. */
static void keep_x509(STACK_OF(X509) *keep, X509 *x)
{
	if (!keep || sk_X509_num(keep) >= CERTS_MAX || !X509_up_ref(x))
		return;
	if (!sk_X509_push(keep, x))
		X509_free(x);
}

static void keep_stack(STACK_OF(X509) *keep, STACK_OF(X509) *sk)
{
	int i;

	for (i = 0; keep && sk && i < sk_X509_num(sk); i++)
		keep_x509(keep, sk_X509_value(sk, i));
}

/* scep_decode_ca_certs; keep (when not NULL) also gets the certificates
 * as OpenSSL objects, at most CERTS_MAX. */
static int decode_ca_certs(const uint8_t *body, size_t len, struct scep_cert ***out, size_t *n,
			   char **error, STACK_OF(X509) *keep)
{
	struct scep_cert **arr = NULL;
	size_t cnt = 0, dropped = 0;
	const unsigned char *q = body;
	struct rd r;
	uint8_t tag = 0;
	X509 *x;
	int ret = -1;

	*out = NULL;
	*n = 0;
	if (error)
		*error = NULL;
	ERR_set_mark();
	rd_init(&r, body, len);
	if (!rd_u8(&r, &tag) || len > LONG_MAX) {
		if (error)
			*error = strdup("empty GetCACert body");
		goto out;
	}
	if (tag == 0x30) {
		/* The Content-Type lies often enough (a lone certificate labelled
		 * ra-cert, a PKCS#7 labelled ca-cert) that the bytes decide. */
		x = d2i_X509(NULL, &q, (long)len);
		if (x) {
			p7_certs_append(&arr, &cnt, x);
			keep_x509(keep, x);
			X509_free(x);
			ret = cnt ? 0 : -1;
			goto out;
		}
		ERR_clear_error();
		{
			size_t cut_len = 0, skipped = 0;
			uint8_t *cut = p7_certs_cut(body, len, &cut_len, &skipped);
			CMS_ContentInfo *cms = p7_cms_parse(cut ? cut : body, cut ? cut_len : len, NULL);
			ASN1_OCTET_STRING **content;
			STACK_OF(X509) *sk;

			free(cut);
			dropped += skipped;
			if (!cms) {
				if (error)
					*error = p7_parse_error("GetCACert body is neither a certificate nor a PKCS#7",
							     body, len);
				goto out;
			}
			sk = CMS_get1_certs(cms);
			dropped += p7_certs_from_stack(sk, &arr, &cnt);
			keep_stack(keep, sk);
			sk_X509_pop_free(sk, X509_free);
			/* GetNextCACert: the new chain is a certs-only PKCS#7
			 * inside the CA-signed one */
			content = CMS_get0_content(cms);
			if (content && *content && ASN1_STRING_length(*content) > 0) {
				const uint8_t *ip = ASN1_STRING_get0_data(*content);
				size_t ilen = (size_t)ASN1_STRING_length(*content);
				CMS_ContentInfo *inner;

				cut = p7_certs_cut(ip, ilen, &cut_len, &skipped);
				inner = p7_cms_parse(cut ? cut : ip, cut ? cut_len : ilen, NULL);
				free(cut);
				dropped += skipped;
				if (inner) {
					sk = CMS_get1_certs(inner);
					dropped += p7_certs_from_stack(sk, &arr, &cnt);
					keep_stack(keep, sk);
					sk_X509_pop_free(sk, X509_free);
					CMS_ContentInfo_free(inner);
				}
			}
			CMS_ContentInfo_free(cms);
		}
	} else if (starts_with(body, len, "-----BEGIN")) {
		BIO *b = BIO_new_mem_buf(body, (int)(len > INT_MAX ? INT_MAX : len));

		while (b && (x = PEM_read_bio_X509(b, NULL, p7_no_passphrase, NULL)) != NULL) {
			if (p7_certs_append(&arr, &cnt, x) < 0)
				dropped++;
			keep_x509(keep, x);
			X509_free(x);
		}
		BIO_free(b);
	} else {
		if (error)
			*error = str_printf("GetCACert body is neither a certificate nor a PKCS#7 "
					   "(starts with 0x%02x)", tag);
		goto out;
	}
	if (!cnt) {
		if (error && !*error)
			*error = strdup("GetCACert body holds no certificate");
		goto out;
	}
	if (dropped && error)
		*error = p7_certs_skipped_text(dropped);
	ret = 0;
out:
	ERR_pop_to_mark();
	if (ret == 0) {
		assign_roles(arr, cnt);
		*out = arr;
		*n = cnt;
	} else {
		scep_certs_free(arr, cnt);
	}
	return ret;
}

int scep_decode_ca_certs(const uint8_t *body, size_t len,
			 struct scep_cert ***out, size_t *n, char **error)
{
	return decode_ca_certs(body, len, out, n, error, NULL);
}

static void ca_slot_clear(struct ca_cache_slot *s)
{
	free(s->body);
	scep_certs_free(s->certs, s->n);
	sk_X509_pop_free(s->x509s, X509_free);
	free(s->error);
	memset(s, 0, sizeof(*s));
}

/* A copy of what the slot holds, as scep_decode_ca_certs would return it. */
static int ca_slot_answer(const struct ca_cache_slot *s, struct scep_cert ***out, size_t *n,
			  char **error)
{
	if (p7_certs_dup(s->certs, s->n, out) < 0)
		return -2;
	*n = s->n;
	if (error && s->error && !(*error = strdup(s->error))) {
		scep_certs_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -2;
	}
	return s->rc;
}

static void ca_slot_remember(struct ca_cache *cc, const uint8_t *body, size_t len, int rc,
			     struct scep_cert **certs, size_t n, const char *error, STACK_OF(X509) *x509s)
{
	struct ca_cache_slot *s = &cc->slot[0];
	size_t i;

	for (i = 1; i < CA_CACHE_SLOTS; i++)
		if (cc->slot[i].used < s->used)
			s = &cc->slot[i];
	ca_slot_clear(s);
	s->body = malloc(len);
	if (!s->body || p7_certs_dup(certs, n, &s->certs) < 0 || (error && !(s->error = strdup(error))) ||
	    !(s->x509s = X509_chain_up_ref(x509s))) {
		ca_slot_clear(s);
		return;
	}
	memcpy(s->body, body, len);
	s->len = len;
	s->n = n;
	s->rc = rc;
	s->used = ++cc->tick;
}

/* scep_decode_ca_certs_cached; x509s (when not NULL) gets a new stack of
 * the certificates as OpenSSL objects, or NULL. */
static int decode_cached(const struct scep_keys *keys, const uint8_t *body, size_t len,
			 struct scep_cert ***out, size_t *n, char **error, STACK_OF(X509) **x509s)
{
	struct ca_cache *cc = keys ? keys->ca_cache : NULL;
	STACK_OF(X509) *keep = sk_X509_new_null();
	size_t i;
	int rc;

	if (x509s)
		*x509s = NULL;
	if (!cc || !keep || !len || len > CA_CACHE_BODY_MAX) {
		rc = decode_ca_certs(body, len, out, n, error, keep);
		goto out;
	}
	*out = NULL;
	*n = 0;
	if (error)
		*error = NULL;
	for (i = 0; i < CA_CACHE_SLOTS; i++) {
		struct ca_cache_slot *s = &cc->slot[i];

		if (s->body && s->len == len && !memcmp(s->body, body, len)) {
			rc = ca_slot_answer(s, out, n, error);
			if (rc == -2)
				break;          /* out of memory copying: decode afresh */
			s->used = ++cc->tick;
			keep_stack(keep, s->x509s);
			goto out;
		}
	}
	rc = decode_ca_certs(body, len, out, n, error, keep);
	ca_slot_remember(cc, body, len, rc, *out, *n, error ? *error : NULL, keep);
out:
	if (x509s && rc == 0)
		*x509s = keep;
	else
		sk_X509_pop_free(keep, X509_free);
	return rc;
}

int scep_decode_ca_certs_cached(const struct scep_keys *keys, const uint8_t *body, size_t len,
				struct scep_cert ***out, size_t *n, char **error)
{
	return decode_cached(keys, body, len, out, n, error, NULL);
}

struct ca_cache *p7_ca_cache_new(void)
{
	return calloc(1, sizeof(struct ca_cache));
}

void p7_ca_cache_free(struct ca_cache *cc)
{
	size_t i;

	for (i = 0; cc && i < CA_CACHE_SLOTS; i++)
		ca_slot_clear(&cc->slot[i]);
	free(cc);
}

/* ---- what each server's GetCACert answers held ---- */

/* NDES signs its CertReps with the RA signing certificate of its GetCACert
 * answer and carries no certificate in them: the signer is found here, by
 * the SignerInfo's issuerAndSerialNumber or subjectKeyIdentifier. A server
 * is its address, either port: the same NDES answers over HTTP and HTTPS.
 * Exchanges are decoded one at a time and in the order they ended
 * (decode_queue.c), so a CertRep finds what the answers before it held,
 * whatever the number of decoding threads. */
#define SEEN_SERVERS 16
struct seen_server {
	int in_use;
	uint8_t family;
	uint8_t addr[16];
	STACK_OF(X509) *certs;      /* at most CERTS_MAX, newest answer last */
	char *roles[CERTS_MAX];     /* each certificate's role in its answer */
	uint64_t used;
};
struct ca_seen {
	struct seen_server srv[SEEN_SERVERS];
	uint64_t tick;
};

struct ca_seen *p7_ca_seen_new(void)
{
	return calloc(1, sizeof(struct ca_seen));
}

static void seen_server_clear(struct seen_server *s)
{
	int i;

	for (i = 0; s->certs && i < sk_X509_num(s->certs); i++)
		free(s->roles[i]);
	sk_X509_pop_free(s->certs, X509_free);
	memset(s, 0, sizeof(*s));
}

void p7_ca_seen_free(struct ca_seen *cs)
{
	size_t i;

	for (i = 0; cs && i < SEEN_SERVERS; i++)
		seen_server_clear(&cs->srv[i]);
	free(cs);
}

static int same_server(const struct seen_server *s, const struct endpoint *server)
{
	size_t n = server->family == 4 ? 4 : 16;

	return s->in_use && s->family == server->family && !memcmp(s->addr, server->addr, n);
}

/* s, emptied and given to server; 0, or -1 out of memory (s left free) */
static int seen_server_init(struct seen_server *s, const struct endpoint *server)
{
	seen_server_clear(s);
	if (!(s->certs = sk_X509_new_null()))
		return -1;
	s->in_use = 1;
	s->family = server->family;
	memcpy(s->addr, server->addr, sizeof(s->addr));
	return 0;
}

/* The server's slot; with make, a new one (the least recently used one
 * given up) when it has none. */
static struct seen_server *seen_server_find(struct ca_seen *cs, const struct endpoint *server, int make)
{
	struct seen_server *lru = &cs->srv[0];
	size_t i;

	for (i = 0; i < SEEN_SERVERS; i++) {
		if (same_server(&cs->srv[i], server))
			return &cs->srv[i];
		if (cs->srv[i].used < lru->used)
			lru = &cs->srv[i];
	}
	if (!make || seen_server_init(lru, server) < 0)
		return NULL;
	return lru;
}

/* The role scep_decode_ca_certs gave x, found by fingerprint. */
static const char *role_of(X509 *x, struct scep_cert **certs, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char hex[SCEP_SHA256_HEX];
	size_t i;

	if (!X509_digest(x, EVP_sha256(), md, &mdlen))
		return NULL;
	p7_hex_lower(md, mdlen, hex, sizeof(hex));
	for (i = 0; i < n; i++)
		if (!strcmp(certs[i]->sha256, hex))
			return certs[i]->role;
	return NULL;
}

static void seen_remember(struct ca_seen *cs, const struct endpoint *server, STACK_OF(X509) *sk,
			  struct scep_cert **certs, size_t n)
{
	struct seen_server *s = seen_server_find(cs, server, 1);
	int i, j;

	if (!s)
		return;
	s->used = ++cs->tick;
	for (i = 0; i < sk_X509_num(sk); i++) {
		X509 *x = sk_X509_value(sk, i);
		const char *role = role_of(x, certs, n);
		int have = 0;

		for (j = 0; j < sk_X509_num(s->certs) && !have; j++)
			have = X509_cmp(sk_X509_value(s->certs, j), x) == 0;
		if (have)
			continue;
		/* full: a server that changed its RA certificates that often
		 * starts over with its latest answer */
		if (sk_X509_num(s->certs) >= CERTS_MAX) {
			if (seen_server_init(s, server) < 0)
				return;
			s->used = ++cs->tick;
		}
		if (!X509_up_ref(x))
			continue;
		j = sk_X509_num(s->certs);
		if (!sk_X509_push(s->certs, x)) {
			X509_free(x);
			continue;
		}
		s->roles[j] = role ? strdup(role) : NULL;
	}
}

int p7_decode_ca_certs_seen(const struct scep_keys *keys, const struct endpoint *server,
			    const uint8_t *body, size_t len, struct scep_cert ***out, size_t *n,
			    char **error)
{
	STACK_OF(X509) *sk = NULL;
	int rc = decode_cached(keys, body, len, out, n, error, &sk);

	if (rc == 0 && sk && keys && keys->ca_seen && server)
		seen_remember(keys->ca_seen, server, sk, *out, *n);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

X509 *p7_ca_seen_signer(const struct scep_keys *keys, const struct endpoint *server,
			CMS_SignerInfo *si, const char **role, int *seen_any)
{
	struct seen_server *s;
	int i;

	*role = NULL;
	*seen_any = 0;
	if (!keys || !keys->ca_seen || !server)
		return NULL;
	s = seen_server_find(keys->ca_seen, server, 0);
	if (!s)
		return NULL;
	*seen_any = sk_X509_num(s->certs) > 0;
	for (i = 0; i < sk_X509_num(s->certs); i++) {
		if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(s->certs, i)) == 0) {
			*role = s->roles[i];
			return sk_X509_value(s->certs, i);
		}
	}
	return NULL;
}
