/* cacerts.c - GetCACert and GetNextCACert bodies: one DER certificate, a
 * certificates-only PKCS#7 or PEM, each certificate's role (CA, RA
 * encryption, RA signing), and a small cache of recent bodies, since a
 * server hands every client the same one. Bodies are untrusted: parsed by
 * OpenSSL only, the few bytes looked at first read through struct rd. */
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

int scep_decode_ca_certs(const uint8_t *body, size_t len,
			 struct scep_cert ***out, size_t *n, char **error)
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

static void ca_slot_clear(struct ca_cache_slot *s)
{
	free(s->body);
	scep_certs_free(s->certs, s->n);
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
			     struct scep_cert **certs, size_t n, const char *error)
{
	struct ca_cache_slot *s = &cc->slot[0];
	size_t i;

	for (i = 1; i < CA_CACHE_SLOTS; i++)
		if (cc->slot[i].used < s->used)
			s = &cc->slot[i];
	ca_slot_clear(s);
	s->body = malloc(len);
	if (!s->body || p7_certs_dup(certs, n, &s->certs) < 0 || (error && !(s->error = strdup(error)))) {
		ca_slot_clear(s);
		return;
	}
	memcpy(s->body, body, len);
	s->len = len;
	s->n = n;
	s->rc = rc;
	s->used = ++cc->tick;
}

int scep_decode_ca_certs_cached(const struct scep_keys *keys, const uint8_t *body, size_t len,
				struct scep_cert ***out, size_t *n, char **error)
{
	struct ca_cache *cc = keys ? keys->ca_cache : NULL;
	size_t i;
	int rc;

	if (!cc || !len || len > CA_CACHE_BODY_MAX)
		return scep_decode_ca_certs(body, len, out, n, error);
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
			return rc;
		}
	}
	rc = scep_decode_ca_certs(body, len, out, n, error);
	ca_slot_remember(cc, body, len, rc, *out, *n, error ? *error : NULL);
	return rc;
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
