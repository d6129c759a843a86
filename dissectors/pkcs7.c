/* pkcs7.c - pkiMessages (CMS SignedData around an EnvelopedData), GetCACert
 * certificates, CSRs and struct scep_keys, the keys that open envelopes.
 * Trusts none of its input: DER/BER is parsed by OpenSSL only, and the few
 * bytes we look at ourselves are read through struct rd. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "reader.h"
#include "strutil.h"
#include "scep.h"

#define KEYS_MAX 64           /* --key files; more is a usage error */
#define CERTS_MAX 64          /* certificates kept from one message */
#define ASN1_DEPTH_MAX 32     /* nesting budget of the error locator */
#define ATTR_STR_MAX 256      /* printable copy of one signed attribute */

/* SCEP attribute OIDs as DER content octets. Comparing encodings instead
 * of OBJ_create()-ing NIDs keeps OpenSSL's global object table untouched
 * and needs no per-run setup. 2.16.840.1.113733.1.9.x */
static const uint8_t OID_SCEP_PREFIX[] = { 0x60, 0x86, 0x48, 0x01, 0x86, 0xf8, 0x45, 0x01, 0x09 };
enum { SCEP_ATTR_MESSAGE_TYPE = 2, SCEP_ATTR_PKI_STATUS = 3, SCEP_ATTR_FAIL_INFO = 4,
       SCEP_ATTR_SENDER_NONCE = 5, SCEP_ATTR_RECIPIENT_NONCE = 6, SCEP_ATTR_TRANSACTION_ID = 7 };
/* id-scep-failInfoText 1.3.6.1.5.5.7.24.1 (RFC 8894 section 3.2.1.4.4) */
static const uint8_t OID_FAIL_INFO_TEXT[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x18, 0x01 };

/* A private library context keeps the legacy provider (single DES and RC2,
 * which micromdm and old NDES still use for envelopes) out of the
 * application-wide default context. */
struct scep_keys {
	OSSL_LIB_CTX *libctx;
	OSSL_PROVIDER *prov_default;
	OSSL_PROVIDER *prov_legacy;   /* NULL when legacy.so is not there */
	EVP_PKEY *pkeys[KEYS_MAX];
	size_t n_pkeys;
};

static const char LEGACY_MISSING[] = "DES needs OpenSSL's legacy provider (ossl-modules/legacy.so)";

/* ---- small helpers ---- */



static void set_error(char **slot, char *msg)
{
	if (*slot) {
		free(msg);
		return;
	}
	*slot = msg;
}

/* The innermost OpenSSL reason, for messages like "wrong tag". */
static const char *ossl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : "unknown error";
}

static int ossl_reason_is(int lib, int reason)
{
	unsigned long e;

	while ((e = ERR_get_error()) != 0) {
		if (ERR_GET_LIB(e) == lib && ERR_GET_REASON(e) == reason)
			return 1;
	}
	return 0;
}

static char *obj_name(const ASN1_OBJECT *o)
{
	char buf[128];
	int nid;

	if (!o)
		return NULL;
	nid = OBJ_obj2nid(o);
	if (nid != NID_undef && OBJ_nid2ln(nid))
		return strdup(OBJ_nid2ln(nid));
	if (OBJ_obj2txt(buf, sizeof(buf), o, 1) <= 0)
		return strdup("?");
	return strdup(buf);
}

static char *name_str(const X509_NAME *n)
{
	BIO *b;
	char *data = NULL, *s = NULL;
	long len;

	if (!n)
		return NULL;
	b = BIO_new(BIO_s_mem());
	if (!b)
		return NULL;
	/* RFC 2253 with its escaping of control and non-ASCII bytes */
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0) {
		len = BIO_get_mem_data(b, &data);
		if (len >= 0)
			s = strndup(data ? data : "", (size_t)len);
	}
	BIO_free(b);
	return s;
}

static char *integer_hex(const ASN1_INTEGER *i)
{
	BIGNUM *bn;
	char *h, *s;

	if (!i)
		return NULL;
	bn = ASN1_INTEGER_to_BN(i, NULL);
	if (!bn)
		return NULL;
	h = BN_bn2hex(bn);
	BN_free(bn);
	if (!h)
		return NULL;
	s = strdup(h);
	OPENSSL_free(h);
	return s;
}

/* Seconds since the epoch without timegm() or the local zone. */
static time_t asn1_time_epoch(const ASN1_TIME *t)
{
	ASN1_TIME *epoch;
	int days = 0, secs = 0;
	time_t out = 0;

	if (!t)
		return 0;
	epoch = ASN1_TIME_set(NULL, 0);
	if (!epoch)
		return 0;
	if (ASN1_TIME_diff(&days, &secs, epoch, t))
		out = (time_t)days * 86400 + secs;
	ASN1_TIME_free(epoch);
	return out;
}

static void hex_lower(const unsigned char *p, unsigned n, char *out, size_t outlen)
{
	static const char digits[] = "0123456789abcdef";
	unsigned i;

	if (outlen == 0)
		return;
	for (i = 0; i < n && 2 * (size_t)i + 2 < outlen; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * i] = '\0';
}

static const char *key_type_name(const EVP_PKEY *pk)
{
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA: return "RSA";
	case EVP_PKEY_RSA_PSS: return "RSA-PSS";
	case EVP_PKEY_EC: return "EC";
	case EVP_PKEY_DSA: return "DSA";
	case EVP_PKEY_ED25519: return "Ed25519";
	case EVP_PKEY_ED448: return "Ed448";
	default: return EVP_PKEY_get0_type_name(pk) ? EVP_PKEY_get0_type_name(pk) : "unknown";
	}
}

/* ---- ASN.1 error locator ---- */

struct asn1_loc {
	const unsigned char *base;
	size_t off;
	char why[96];
};

/* Walks TLV headers to say where an encoding breaks, which OpenSSL's d2i
 * errors do not tell. Returns 0 when the structure holds together. */
static int asn1_walk(struct rd *r, int depth, int indef, struct asn1_loc *loc)
{
	while (rd_left(r) > 0) {
		const unsigned char *hdr = rd_ptr(r), *q = hdr;
		long plen = 0, avail;
		int tag = 0, cls = 0, ret;
		size_t hl;

		avail = rd_left(r) > LONG_MAX ? LONG_MAX : (long)rd_left(r);
		ret = ASN1_get_object(&q, &plen, &tag, &cls, avail);
		hl = (size_t)(q - hdr);
		loc->off = (size_t)(hdr - loc->base);
		if ((ret & 0x80) && hl == 0) {
			snprintf(loc->why, sizeof(loc->why), "bad ASN.1 header at byte %zu", loc->off);
			return -1;
		}
		if (ret & 0x80) {
			snprintf(loc->why, sizeof(loc->why),
				 "truncated at byte %zu: element needs %ld bytes, %zu left",
				 loc->off, plen, rd_left(r) - hl);
			return -1;
		}
		rd_skip(r, hl);
		if (!(ret & V_ASN1_CONSTRUCTED)) {
			if (plen < 0 || !rd_skip(r, (size_t)plen)) {
				snprintf(loc->why, sizeof(loc->why), "truncated at byte %zu", loc->off);
				return -1;
			}
			if (indef && tag == 0 && cls == 0 && plen == 0)
				return 0;
			continue;
		}
		if (depth == 0) {
			snprintf(loc->why, sizeof(loc->why), "nested deeper than %d at byte %zu",
				 ASN1_DEPTH_MAX, loc->off);
			return -1;
		}
		if (ret & 1) {
			if (asn1_walk(r, depth - 1, 1, loc) < 0)
				return -1;
		} else {
			struct rd sub;

			if (plen < 0 || !rd_sub(r, (size_t)plen, &sub))
				return -1;
			if (asn1_walk(&sub, depth - 1, 0, loc) < 0)
				return -1;
		}
	}
	if (indef) {
		loc->off = (size_t)(rd_ptr(r) - loc->base);
		snprintf(loc->why, sizeof(loc->why),
			 "truncated at byte %zu: indefinite length without end-of-contents", loc->off);
		return -1;
	}
	return 0;
}

/* The TLVs hold together but the structure is wrong: the oldest queued
 * error is the innermost reason ("wrong tag"), and the first one carrying
 * text names the field ("Field=d.signedData, Type=CMS_ContentInfo"). */
static char *asn1_reason(const char *what)
{
	const char *reason = NULL, *field = NULL, *data = NULL;
	char fieldbuf[128] = "";
	unsigned long e;
	int flags = 0;

	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		if (!reason)
			reason = ERR_reason_error_string(e);
		if (!field && data && (flags & ERR_TXT_STRING) && *data) {
			snprintf(fieldbuf, sizeof(fieldbuf), "%s", data);
			field = fieldbuf;
		}
	}
	if (field)
		return str_printf("%s: ASN.1 error (%s; %s)", what, reason ? reason : "?", field);
	return str_printf("%s: ASN.1 error (%s)", what, reason ? reason : "unknown");
}

/* "not a CMS ContentInfo: truncated at byte 1200: ..." or OpenSSL's reason. */
static char *parse_error(const char *what, const uint8_t *p, size_t len)
{
	struct asn1_loc loc = { .base = p };
	struct rd r;

	rd_init(&r, p, len);
	/* Only the first element matters: trailing bytes do not stop d2i. */
	{
		const unsigned char *q = p;
		long plen;
		int tag, cls, ret;
		long avail = len > LONG_MAX ? LONG_MAX : (long)len;

		ret = ASN1_get_object(&q, &plen, &tag, &cls, avail);
		if (!(ret & 0x80) && !(ret & 1)) {
			size_t total = (size_t)(q - p) + (size_t)plen;
			struct rd first;

			if (rd_sub(&r, total, &first))
				r = first;
		}
	}
	if (asn1_walk(&r, ASN1_DEPTH_MAX, 0, &loc) < 0)
		return str_printf("%s: %s", what, loc.why);
	return asn1_reason(what);
}

/* d2i in the keys' library context, so later decryption and digests fetch
 * algorithms (DES from the legacy provider) from there. */
static CMS_ContentInfo *cms_parse(const uint8_t *p, size_t len, OSSL_LIB_CTX *libctx)
{
	CMS_ContentInfo *cms, *ret;
	const unsigned char *q = p;

	if (len > LONG_MAX)
		return NULL;
	cms = CMS_ContentInfo_new_ex(libctx, NULL);
	if (!cms)
		return NULL;
	ERR_clear_error();
	ret = d2i_CMS_ContentInfo(&cms, &q, (long)len);
	if (!ret) {
		/* ASN1_item_d2i has freed *cms and set it to NULL on failure */
		CMS_ContentInfo_free(cms);
		return NULL;
	}
	return ret;
}

/* ---- certificates and CSRs ---- */

void scep_cert_free(struct scep_cert *c)
{
	if (!c)
		return;
	free(c->subject);
	free(c->issuer);
	free(c->serial);
	free(c->key_type);
	free(c->der);
	free(c);
}

static struct scep_cert *cert_from_x509(X509 *x)
{
	struct scep_cert *c = calloc(1, sizeof(*c));
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	unsigned char *der = NULL;
	EVP_PKEY *pk;
	uint32_t flags;
	int n;

	if (!c)
		return NULL;
	c->subject = name_str(X509_get_subject_name(x));
	c->issuer = name_str(X509_get_issuer_name(x));
	c->serial = integer_hex(X509_get0_serialNumber(x));
	c->not_before = asn1_time_epoch(X509_get0_notBefore(x));
	c->not_after = asn1_time_epoch(X509_get0_notAfter(x));
	pk = X509_get0_pubkey(x);
	if (pk) {
		c->key_type = strdup(key_type_name(pk));
		c->key_bits = EVP_PKEY_get_bits(pk);
	}
	flags = X509_get_extension_flags(x);
	if (flags & EXFLAG_KUSAGE) {
		c->has_key_usage = 1;
		c->key_usage = X509_get_key_usage(x);
	}
	c->is_ca = (flags & EXFLAG_BCONS) && (flags & EXFLAG_CA);
	c->self_signed = X509_self_signed(x, 0) == 1;
	if (X509_digest(x, EVP_sha1(), md, &mdlen))
		hex_lower(md, mdlen, c->sha1, sizeof(c->sha1));
	if (X509_digest(x, EVP_sha256(), md, &mdlen))
		hex_lower(md, mdlen, c->sha256, sizeof(c->sha256));
	n = i2d_X509(x, &der);
	if (n > 0) {
		c->der = malloc((size_t)n);
		if (c->der) {
			memcpy(c->der, der, (size_t)n);
			c->der_len = (size_t)n;
		}
		OPENSSL_free(der);
	}
	ERR_clear_error();
	return c;
}

static int certs_append(struct scep_cert ***arr, size_t *n, X509 *x)
{
	struct scep_cert **grown, *c;

	if (*n >= CERTS_MAX)
		return -1;
	c = cert_from_x509(x);
	if (!c)
		return -1;
	grown = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (!grown) {
		scep_cert_free(c);
		return -1;
	}
	grown[(*n)++] = c;
	*arr = grown;
	return 0;
}

/* Returns how many certificates did not fit under CERTS_MAX. */
static size_t certs_from_stack(STACK_OF(X509) *sk, struct scep_cert ***arr, size_t *n)
{
	size_t dropped = 0;
	int i;

	for (i = 0; sk && i < sk_X509_num(sk); i++) {
		if (certs_append(arr, n, sk_X509_value(sk, i)) < 0)
			dropped++;
	}
	return dropped;
}

static void csr_free(struct scep_csr *c)
{
	if (!c)
		return;
	free(c->subject);
	free(c->key_type);
	free(c->sans);
	if (c->challenge)
		OPENSSL_cleanse(c->challenge, strlen(c->challenge));
	free(c->challenge);
	free(c);
}

static const ASN1_STRING *type_string(const ASN1_TYPE *t)
{
	if (!t)
		return NULL;
	switch (ASN1_TYPE_get(t)) {
	case V_ASN1_PRINTABLESTRING:
	case V_ASN1_UTF8STRING:
	case V_ASN1_IA5STRING:
	case V_ASN1_T61STRING:
	case V_ASN1_VISIBLESTRING:
	case V_ASN1_BMPSTRING:
	case V_ASN1_UNIVERSALSTRING:
	case V_ASN1_OCTET_STRING:
		return t->value.asn1_string;
	default:
		return NULL;
	}
}

static char *csr_sans(X509_REQ *req)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	GENERAL_NAMES *gens;
	STACK_OF(CONF_VALUE) *vals;
	BIO *b;
	char *data = NULL, *s = NULL;
	long len;
	int i;

	if (!exts)
		return NULL;
	gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	if (!gens)
		return NULL;
	vals = i2v_GENERAL_NAMES(NULL, gens, NULL);
	GENERAL_NAMES_free(gens);
	if (!vals)
		return NULL;
	b = BIO_new(BIO_s_mem());
	for (i = 0; b && i < sk_CONF_VALUE_num(vals); i++) {
		CONF_VALUE *v = sk_CONF_VALUE_value(vals, i);

		BIO_printf(b, "%s%s:%s", i ? ", " : "", v->name ? v->name : "?", v->value ? v->value : "");
	}
	sk_CONF_VALUE_pop_free(vals, X509V3_conf_free);
	if (b) {
		len = BIO_get_mem_data(b, &data);
		if (len > 0)
			s = str_printable((const uint8_t *)data, (size_t)len, 1024);
		BIO_free(b);
	}
	return s;
}

static struct scep_csr *csr_from_der(const uint8_t *p, size_t len, char **error)
{
	const unsigned char *q = p;
	struct scep_csr *c;
	X509_REQ *req;
	EVP_PKEY *pk;
	int idx;

	ERR_clear_error();
	if (len > LONG_MAX || !(req = d2i_X509_REQ(NULL, &q, (long)len))) {
		set_error(error, parse_error("decrypted content is not a PKCS#10 CSR", p, len));
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		X509_REQ_free(req);
		return NULL;
	}
	c->subject = name_str(X509_REQ_get_subject_name(req));
	pk = X509_REQ_get0_pubkey(req);
	if (pk) {
		c->key_type = strdup(key_type_name(pk));
		c->key_bits = EVP_PKEY_get_bits(pk);
	}
	c->sans = csr_sans(req);
	idx = X509_REQ_get_attr_by_NID(req, NID_pkcs9_challengePassword, -1);
	if (idx >= 0) {
		X509_ATTRIBUTE *a = X509_REQ_get_attr(req, idx);
		const ASN1_STRING *s = type_string(X509_ATTRIBUTE_get0_type(a, 0));

		c->has_challenge = 1;
		if (s)
			c->challenge = str_printable(ASN1_STRING_get0_data(s),
						     (size_t)ASN1_STRING_length(s), ATTR_STR_MAX);
	}
	X509_REQ_free(req);
	ERR_clear_error();
	return c;
}

/* ---- keys ---- */

struct scep_keys *scep_keys_new(void)
{
	struct scep_keys *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->libctx = OSSL_LIB_CTX_new();
	if (!k->libctx)
		goto fail;
	k->prov_default = OSSL_PROVIDER_load(k->libctx, "default");
	if (!k->prov_default)
		goto fail;
	/* Missing legacy.so is not fatal: only DES/RC2 envelopes need it, and
	 * decrypt_error says so when one shows up. */
	k->prov_legacy = OSSL_PROVIDER_load(k->libctx, "legacy");
	ERR_clear_error();
	return k;
fail:
	scep_keys_free(k);
	ERR_clear_error();
	return NULL;
}

void scep_keys_free(struct scep_keys *k)
{
	size_t i;

	if (!k)
		return;
	for (i = 0; i < k->n_pkeys; i++)
		EVP_PKEY_free(k->pkeys[i]);
	if (k->prov_legacy)
		OSSL_PROVIDER_unload(k->prov_legacy);
	if (k->prov_default)
		OSSL_PROVIDER_unload(k->prov_default);
	OSSL_LIB_CTX_free(k->libctx);
	free(k);
}

size_t scep_keys_count(const struct scep_keys *k)
{
	return k ? k->n_pkeys : 0;
}

/* Never prompt on the terminal for a passphrase: a capture tool run in a
 * pipeline must not block on /dev/tty. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf; (void)size; (void)rwflag; (void)u;
	return -1;
}

static int keys_add(struct scep_keys *k, EVP_PKEY *pk, const char *path, char *err, size_t errlen)
{
	if (k->n_pkeys >= KEYS_MAX) {
		snprintf(err, errlen, "%s: too many keys (at most %d)", path, KEYS_MAX);
		EVP_PKEY_free(pk);
		return -1;
	}
	k->pkeys[k->n_pkeys++] = pk;
	return 0;
}

int scep_keys_load(struct scep_keys *k, const char *path, char *err, size_t errlen)
{
	BIO *b;
	EVP_PKEY *pk;
	int found = 0, encrypted = 0;

	if (!k || !path) {
		snprintf(err, errlen, "no key file given");
		return -1;
	}
	b = BIO_new_file(path, "rb");
	if (!b) {
		snprintf(err, errlen, "%s: cannot open key file", path);
		ERR_clear_error();
		return -1;
	}
	ERR_set_mark();
	/* PEM first: a file may hold several keys and certificates; the
	 * certificates are skipped (PEM_read_bio_PrivateKey passes over
	 * blocks it cannot use). */
	while ((pk = PEM_read_bio_PrivateKey_ex(b, NULL, no_passphrase, NULL, k->libctx, NULL)) != NULL) {
		if (keys_add(k, pk, path, err, errlen) < 0)
			goto fail;
		found++;
	}
	if (ossl_reason_is(ERR_LIB_PEM, PEM_R_BAD_PASSWORD_READ) ||
	    ossl_reason_is(ERR_LIB_PEM, PEM_R_PROBLEMS_GETTING_PASSWORD))
		encrypted = 1;
	if (!found && !encrypted) {
		if (BIO_reset(b) == 0 &&
		    (pk = d2i_PrivateKey_ex_bio(b, NULL, k->libctx, NULL)) != NULL) {
			if (keys_add(k, pk, path, err, errlen) < 0)
				goto fail;
			found++;
		}
	}
	ERR_pop_to_mark();
	BIO_free(b);
	if (found)
		return 0;
	if (encrypted)
		snprintf(err, errlen, "%s: the private key is encrypted; write a clear copy with "
			 "'openssl pkey -in %s -out KEY.pem' and give that", path, path);
	else
		snprintf(err, errlen, "%s: no private key found (PEM or DER, RSA/EC)", path);
	return -1;
fail:
	ERR_pop_to_mark();
	BIO_free(b);
	return -1;
}

/* ---- pkiMessage ---- */

void scep_msg_free(struct scep_msg *m)
{
	size_t i;

	if (!m)
		return;
	free(m->error);
	free(m->digest_alg);
	free(m->sig_alg);
	scep_cert_free(m->signer);
	free(m->transaction_id);
	free(m->fail_info_text);
	for (i = 0; i < m->n_recipients; i++) {
		free(m->recipients[i].issuer);
		free(m->recipients[i].serial);
	}
	free(m->recipients);
	free(m->key_enc_alg);
	free(m->content_enc_alg);
	free(m->decrypt_error);
	csr_free(m->csr);
	for (i = 0; i < m->n_rep_certs; i++)
		scep_cert_free(m->rep_certs[i]);
	free(m->rep_certs);
	/* issued points into rep_certs */
	free(m);
}

static int oid_is(const ASN1_OBJECT *o, const uint8_t *der, size_t len)
{
	const unsigned char *d = OBJ_get0_data(o);

	return d && OBJ_length(o) == len && memcmp(d, der, len) == 0;
}

/* Returns x for 2.16.840.1.113733.1.9.x, or -1. */
static int scep_attr_index(const ASN1_OBJECT *o)
{
	const unsigned char *d = OBJ_get0_data(o);
	size_t n = OBJ_length(o);
	struct rd r;
	uint8_t last;

	if (!d || n != sizeof(OID_SCEP_PREFIX) + 1 || memcmp(d, OID_SCEP_PREFIX, sizeof(OID_SCEP_PREFIX)))
		return -1;
	rd_init(&r, d, n);
	rd_skip(&r, sizeof(OID_SCEP_PREFIX));
	if (!rd_u8(&r, &last))
		return -1;
	return last;
}

/* Decimal PrintableString of messageType / pkiStatus / failInfo. */
static int attr_number(const ASN1_STRING *s, int *out)
{
	struct rd r;
	uint8_t c;
	long v = 0;
	int digits = 0;

	if (!s)
		return -1;
	rd_init(&r, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
	while (rd_u8(&r, &c)) {
		if (c < '0' || c > '9' || ++digits > 9)
			return -1;
		v = v * 10 + (c - '0');
	}
	if (!digits)
		return -1;
	*out = (int)v;
	return 0;
}

static void attr_nonce(const ASN1_STRING *s, uint8_t *dst, size_t *dlen)
{
	struct rd r;
	size_t n;

	if (!s)
		return;
	n = (size_t)ASN1_STRING_length(s);
	/* RFC 8894 nonces are 16 bytes; anything longer is kept to the cap */
	if (n > SCEP_NONCE_MAX)
		n = SCEP_NONCE_MAX;
	rd_init(&r, ASN1_STRING_get0_data(s), n);
	if (rd_copy(&r, dst, n))
		*dlen = n;
}

static void read_number_attr(struct scep_msg *m, const ASN1_STRING *s, int *slot, const char *name)
{
	char *shown;

	if (attr_number(s, slot) == 0)
		return;
	shown = s ? str_printable(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s), 32) : NULL;
	set_error(&m->error, str_printf("%s attribute \"%s\" is not a decimal number", name,
				       shown ? shown : "(not a string)"));
	free(shown);
}

static void read_signed_attrs(struct scep_msg *m, CMS_SignerInfo *si)
{
	int i, n = CMS_signed_get_attr_count(si);

	for (i = 0; i < n; i++) {
		X509_ATTRIBUTE *a = CMS_signed_get_attr(si, i);
		ASN1_OBJECT *o = a ? X509_ATTRIBUTE_get0_object(a) : NULL;
		ASN1_TYPE *t = a ? X509_ATTRIBUTE_get0_type(a, 0) : NULL;
		const ASN1_STRING *s = type_string(t);

		if (!o)
			continue;
		switch (scep_attr_index(o)) {
		case SCEP_ATTR_MESSAGE_TYPE:
			read_number_attr(m, s, &m->message_type, "messageType");
			break;
		case SCEP_ATTR_PKI_STATUS:
			read_number_attr(m, s, &m->pki_status, "pkiStatus");
			break;
		case SCEP_ATTR_FAIL_INFO:
			read_number_attr(m, s, &m->fail_info, "failInfo");
			break;
		case SCEP_ATTR_SENDER_NONCE:
			attr_nonce(s, m->sender_nonce, &m->sender_nonce_len);
			break;
		case SCEP_ATTR_RECIPIENT_NONCE:
			attr_nonce(s, m->recipient_nonce, &m->recipient_nonce_len);
			break;
		case SCEP_ATTR_TRANSACTION_ID:
			if (s && !m->transaction_id)
				m->transaction_id = str_printable(ASN1_STRING_get0_data(s),
								  (size_t)ASN1_STRING_length(s), ATTR_STR_MAX);
			break;
		default:
			if (oid_is(o, OID_FAIL_INFO_TEXT, sizeof(OID_FAIL_INFO_TEXT))) {
				if (s && !m->fail_info_text)
					m->fail_info_text = str_printable(ASN1_STRING_get0_data(s),
									  (size_t)ASN1_STRING_length(s),
									  ATTR_STR_MAX);
			} else if (OBJ_obj2nid(o) == NID_pkcs9_signingTime && t &&
				   (ASN1_TYPE_get(t) == V_ASN1_UTCTIME ||
				    ASN1_TYPE_get(t) == V_ASN1_GENERALIZEDTIME)) {
				m->signing_time = asn1_time_epoch(t->value.utctime);
			}
			break;
		}
	}
}

static int cipher_is_weak(int nid)
{
	switch (nid) {
	case NID_des_cbc: case NID_des_ede3_cbc: case NID_des_ede_cbc: case NID_desx_cbc:
	case NID_rc2_cbc: case NID_rc2_40_cbc: case NID_rc2_64_cbc: case NID_rc4:
		return 1;
	default:
		return 0;
	}
}

/* Ciphers OpenSSL 3 moved out of the default provider. */
static int cipher_needs_legacy(int nid)
{
	switch (nid) {
	case NID_des_cbc: case NID_desx_cbc: case NID_rc2_cbc: case NID_rc2_40_cbc:
	case NID_rc2_64_cbc: case NID_rc4:
		return 1;
	default:
		return 0;
	}
}

/* CMS has no getter for the content-encryption algorithm of an
 * EnvelopedData; the PKCS7 structures expose it. */
static int envelope_cipher_nid(const uint8_t *p, size_t len, char **name)
{
	const unsigned char *q = p;
	PKCS7 *p7;
	int nid = NID_undef;

	if (len > LONG_MAX)
		return NID_undef;
	p7 = d2i_PKCS7(NULL, &q, (long)len);
	if (p7 && PKCS7_type_is_enveloped(p7) && p7->d.enveloped && p7->d.enveloped->enc_data &&
	    p7->d.enveloped->enc_data->algorithm) {
		const ASN1_OBJECT *o = p7->d.enveloped->enc_data->algorithm->algorithm;

		nid = OBJ_obj2nid(o);
		*name = obj_name(o);
	}
	PKCS7_free(p7);
	ERR_clear_error();
	return nid;
}

static void read_recipients(struct scep_msg *m, CMS_ContentInfo *env)
{
	STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(env);
	int i, n = ris ? sk_CMS_RecipientInfo_num(ris) : 0;

	if (n <= 0)
		return;
	if (n > CERTS_MAX)
		n = CERTS_MAX;
	m->recipients = calloc((size_t)n, sizeof(*m->recipients));
	if (!m->recipients)
		return;
	for (i = 0; i < n; i++) {
		CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value(ris, i);
		struct scep_recipient *rc;
		ASN1_OCTET_STRING *keyid = NULL;
		X509_NAME *issuer = NULL;
		ASN1_INTEGER *sno = NULL;
		X509_ALGOR *palg = NULL;

		/* SCEP uses key transport only; other kinds have no issuer+serial */
		if (CMS_RecipientInfo_type(ri) != CMS_RECIPINFO_TRANS)
			continue;
		rc = &m->recipients[m->n_recipients++];
		if (CMS_RecipientInfo_ktri_get0_signer_id(ri, &keyid, &issuer, &sno) == 1) {
			if (issuer) {
				rc->issuer = name_str(issuer);
				rc->serial = integer_hex(sno);
			} else if (keyid) {
				char hex[2 * 64 + 1];
				unsigned kl = (unsigned)ASN1_STRING_length(keyid);

				hex_lower(ASN1_STRING_get0_data(keyid), kl > 64 ? 64 : kl, hex, sizeof(hex));
				rc->issuer = strdup("(subjectKeyIdentifier)");
				rc->serial = str_printf("keyid:%s", hex);
			}
		}
		if (!m->key_enc_alg && CMS_RecipientInfo_ktri_get0_algs(ri, NULL, NULL, &palg) == 1 && palg)
			m->key_enc_alg = obj_name(palg->algorithm);
	}
}

/* Opens env with each loaded key in turn. 0 and *plain set on success. */
static int try_decrypt(struct scep_msg *m, CMS_ContentInfo *env, const struct scep_keys *keys,
		       BIO **plain)
{
	STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(env);
	int i, tried = 0;
	size_t k;

	/* Sets the envelope's debug flag only (no key, no output): a wrong key
	 * must fail, not decrypt with OpenSSL's random-key MMA defence. */
	CMS_decrypt(env, NULL, NULL, NULL, NULL, CMS_DEBUG_DECRYPT);
	for (i = 0; ris && i < sk_CMS_RecipientInfo_num(ris); i++) {
		CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value(ris, i);

		if (CMS_RecipientInfo_type(ri) != CMS_RECIPINFO_TRANS)
			continue;
		for (k = 0; k < keys->n_pkeys; k++) {
			BIO *out;
			int ok;

			tried++;
			EVP_PKEY_up_ref(keys->pkeys[k]);
			CMS_RecipientInfo_set0_pkey(ri, keys->pkeys[k]);
			ok = CMS_RecipientInfo_decrypt(env, ri) == 1;
			CMS_RecipientInfo_set0_pkey(ri, NULL);
			if (!ok) {
				ERR_clear_error();
				continue;
			}
			out = BIO_new(BIO_s_mem());
			if (!out)
				return -1;
			/* The content key is in place: CMS_decrypt with no key
			 * only runs the content cipher and checks its padding. */
			if (CMS_decrypt(env, NULL, NULL, NULL, out, CMS_BINARY | CMS_DEBUG_DECRYPT) == 1) {
				*plain = out;
				return 0;
			}
			BIO_free(out);
			set_error(&m->decrypt_error,
				  str_printf("the key opened the key transport but the content did not decrypt (%s)",
					    ossl_reason()));
			ERR_clear_error();
		}
	}
	if (!tried)
		set_error(&m->decrypt_error, strdup("no key-transport recipient to decrypt"));
	else
		set_error(&m->decrypt_error,
			  str_printf("none of the %zu loaded key%s opens the envelope (it is for %s serial %s)",
				    keys->n_pkeys, keys->n_pkeys == 1 ? "" : "s",
				    m->n_recipients && m->recipients[0].issuer ? m->recipients[0].issuer : "?",
				    m->n_recipients && m->recipients[0].serial ? m->recipients[0].serial : "?"));
	return -1;
}

/* issued = the first non-CA certificate, else the first whose subject is
 * not the CertRep signer's (a CA issuing a sub-CA), else the first. */
static void pick_issued(struct scep_msg *m)
{
	size_t i;

	for (i = 0; i < m->n_rep_certs; i++) {
		if (!m->rep_certs[i]->is_ca) {
			m->issued = m->rep_certs[i];
			return;
		}
	}
	for (i = 0; i < m->n_rep_certs; i++) {
		if (!m->signer || !m->signer->subject || !m->rep_certs[i]->subject ||
		    strcmp(m->signer->subject, m->rep_certs[i]->subject) != 0) {
			m->issued = m->rep_certs[i];
			return;
		}
	}
	if (m->n_rep_certs)
		m->issued = m->rep_certs[0];
}

static void decode_plaintext(struct scep_msg *m, const uint8_t *p, size_t len, OSSL_LIB_CTX *libctx)
{
	switch (m->message_type) {
	case SCEP_MT_PKCSREQ:
	case SCEP_MT_RENEWALREQ:
	case SCEP_MT_UPDATEREQ:
		m->csr = csr_from_der(p, len, &m->error);
		break;
	case SCEP_MT_CERTREP: {
		CMS_ContentInfo *certs = cms_parse(p, len, libctx);
		STACK_OF(X509) *sk;
		size_t dropped;

		if (!certs) {
			set_error(&m->error, parse_error("decrypted CertRep content is not a certs-only PKCS#7",
							 p, len));
			break;
		}
		sk = CMS_get1_certs(certs);
		dropped = certs_from_stack(sk, &m->rep_certs, &m->n_rep_certs);
		sk_X509_pop_free(sk, X509_free);
		CMS_ContentInfo_free(certs);
		if (dropped)
			set_error(&m->error, str_printf("CertRep holds more than %d certificates; %zu not kept",
						       CERTS_MAX, dropped));
		if (!m->n_rep_certs && m->pki_status == SCEP_STATUS_SUCCESS)
			set_error(&m->error, strdup("CertRep SUCCESS envelope holds no certificate"));
		pick_issued(m);
		break;
	}
	default:
		/* CertPoll / GetCert / GetCRL carry IssuerAndSubject or
		 * IssuerAndSerialNumber: nothing the timeline shows yet */
		break;
	}
	ERR_clear_error();
}

static void decode_envelope(struct scep_msg *m, const uint8_t *p, size_t len,
			    const struct scep_keys *keys)
{
	OSSL_LIB_CTX *libctx = keys ? keys->libctx : NULL;
	CMS_ContentInfo *env = cms_parse(p, len, libctx);
	BIO *plain = NULL;
	int nid;

	if (!env) {
		set_error(&m->error, parse_error("pkcsPKIEnvelope is not a CMS ContentInfo", p, len));
		return;
	}
	if (OBJ_obj2nid(CMS_get0_type(env)) != NID_pkcs7_enveloped) {
		char *t = obj_name(CMS_get0_type(env));

		set_error(&m->error, str_printf("pkcsPKIEnvelope is %s, not envelopedData", t ? t : "?"));
		free(t);
		CMS_ContentInfo_free(env);
		return;
	}
	m->enveloped = 1;
	read_recipients(m, env);
	nid = envelope_cipher_nid(p, len, &m->content_enc_alg);
	m->weak_cipher = cipher_is_weak(nid);
	if (!keys || keys->n_pkeys == 0) {
		CMS_ContentInfo_free(env);
		return;
	}
	if (cipher_needs_legacy(nid) && !keys->prov_legacy) {
		m->decrypt_state = SCEP_DECRYPT_FAILED;
		m->decrypt_error = strdup(LEGACY_MISSING);
		CMS_ContentInfo_free(env);
		return;
	}
	if (try_decrypt(m, env, keys, &plain) == 0) {
		char *data = NULL;
		long n = BIO_get_mem_data(plain, &data);

		m->decrypt_state = SCEP_DECRYPT_OK;
		free(m->decrypt_error);
		m->decrypt_error = NULL;
		if (n >= 0)
			decode_plaintext(m, (const uint8_t *)data, (size_t)n, libctx);
		BIO_free(plain);
	} else {
		m->decrypt_state = SCEP_DECRYPT_FAILED;
	}
	CMS_ContentInfo_free(env);
}

/* Signature over the signed attributes and the content, not the chain: the
 * tool reports what was sent, trust decisions are the peers'. */
static int verify_signature(CMS_ContentInfo *cms)
{
	BIO *dcont = NULL;
	int ok;

	if (CMS_is_detached(cms)) {
		/* FAILURE/PENDING CertReps may omit the content; its digest
		 * is then over zero bytes */
		dcont = BIO_new_mem_buf("", 0);
		if (!dcont)
			return -1;
	}
	ok = CMS_verify(cms, NULL, NULL, dcont, NULL, CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) == 1;
	BIO_free(dcont);
	ERR_clear_error();
	return ok;
}

static void decode_signed(struct scep_msg *m, CMS_ContentInfo *cms, const struct scep_keys *keys)
{
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
	CMS_SignerInfo *si;
	EVP_PKEY *pk = NULL;
	X509 *signer = NULL;
	X509_ALGOR *dig = NULL, *sig = NULL;
	ASN1_OCTET_STRING **content;

	if (!sis || sk_CMS_SignerInfo_num(sis) == 0) {
		set_error(&m->error, strdup("signedData has no signerInfo"));
		return;
	}
	si = sk_CMS_SignerInfo_value(sis, 0);
	/* matches certificates carried in the message to signerInfos */
	CMS_set1_signers_certs(cms, NULL, 0);
	ERR_clear_error();
	CMS_SignerInfo_get0_algs(si, &pk, &signer, &dig, &sig);
	if (dig)
		m->digest_alg = obj_name(dig->algorithm);
	if (sig)
		m->sig_alg = obj_name(sig->algorithm);
	if (signer) {
		m->signer = cert_from_x509(signer);
		m->signature_ok = verify_signature(cms);
	}
	read_signed_attrs(m, si);
	content = CMS_get0_content(cms);
	if (content && *content && ASN1_STRING_length(*content) > 0)
		decode_envelope(m, ASN1_STRING_get0_data(*content),
				(size_t)ASN1_STRING_length(*content), keys);
}

struct scep_msg *scep_decode_pki_message(const uint8_t *der, size_t len,
					 const struct scep_keys *keys)
{
	struct scep_msg *m = calloc(1, sizeof(*m));
	CMS_ContentInfo *cms;
	struct rd r;
	uint8_t tag = 0, l0 = 0;

	if (!m)
		return NULL;
	m->signature_ok = -1;
	m->message_type = SCEP_MT_NONE;
	m->pki_status = SCEP_STATUS_NONE;
	m->fail_info = SCEP_FAIL_NONE;
	m->der_len = len;
	ERR_set_mark();
	rd_init(&r, der, len);
	if (!rd_u8(&r, &tag)) {
		m->error = strdup("empty pkiMessage");
		goto out;
	}
	if (tag != 0x30) {
		m->error = str_printf("not a CMS ContentInfo: starts with 0x%02x, not a SEQUENCE (0x30)", tag);
		goto out;
	}
	/* iOS sends BER with indefinite lengths; DER-only servers reject it */
	if (rd_u8(&r, &l0) && l0 == 0x80)
		m->ber_indefinite = 1;
	cms = cms_parse(der, len, keys ? keys->libctx : NULL);
	if (!cms) {
		m->error = parse_error("not a CMS ContentInfo", der, len);
		goto out;
	}
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		char *t = obj_name(CMS_get0_type(cms));

		m->error = str_printf("ContentInfo is %s, not signedData", t ? t : "?");
		free(t);
		CMS_ContentInfo_free(cms);
		goto out;
	}
	m->decoded = 1;
	decode_signed(m, cms, keys);
	CMS_ContentInfo_free(cms);
out:
	ERR_pop_to_mark();
	return m;
}

/* ---- GetCACert ---- */

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
			certs_append(&arr, &cnt, x);
			X509_free(x);
			ret = cnt ? 0 : -1;
			goto out;
		}
		ERR_clear_error();
		{
			CMS_ContentInfo *cms = cms_parse(body, len, NULL);
			ASN1_OCTET_STRING **content;
			STACK_OF(X509) *sk;

			if (!cms) {
				if (error)
					*error = parse_error("GetCACert body is neither a certificate nor a PKCS#7",
							     body, len);
				goto out;
			}
			sk = CMS_get1_certs(cms);
			dropped += certs_from_stack(sk, &arr, &cnt);
			sk_X509_pop_free(sk, X509_free);
			/* GetNextCACert: the new chain is a certs-only PKCS#7
			 * inside the CA-signed one */
			content = CMS_get0_content(cms);
			if (content && *content && ASN1_STRING_length(*content) > 0) {
				CMS_ContentInfo *inner = cms_parse(ASN1_STRING_get0_data(*content),
								   (size_t)ASN1_STRING_length(*content), NULL);

				if (inner) {
					sk = CMS_get1_certs(inner);
					dropped += certs_from_stack(sk, &arr, &cnt);
					sk_X509_pop_free(sk, X509_free);
					CMS_ContentInfo_free(inner);
				}
			}
			CMS_ContentInfo_free(cms);
		}
	} else if (starts_with(body, len, "-----BEGIN")) {
		BIO *b = BIO_new_mem_buf(body, (int)(len > INT_MAX ? INT_MAX : len));

		while (b && (x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)) != NULL) {
			if (certs_append(&arr, &cnt, x) < 0)
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
		*error = str_printf("more than %d certificates; %zu not kept", CERTS_MAX, dropped);
	ret = 0;
out:
	ERR_pop_to_mark();
	if (ret == 0) {
		*out = arr;
		*n = cnt;
	} else {
		while (cnt)
			scep_cert_free(arr[--cnt]);
		free(arr);
	}
	return ret;
}
