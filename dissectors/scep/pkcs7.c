/* pkcs7.c - pkiMessages (CMS SignedData around an EnvelopedData), GetCACert
 * certificates, CSRs and struct scep_keys, the keys that open envelopes.
 * Trusts none of its input: DER/BER is parsed by OpenSSL only (a damaged
 * message is walked with OpenSSL's ASN1_get_object, its whole parts handed
 * to OpenSSL's d2i), and the few bytes we look at ourselves are read
 * through struct rd. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "reader.h"
#include "strutil.h"
#include "scep.h"

#define KEYS_MAX 64           /* --key files; more is a usage error */
/* Certificates of one message given to OpenSSL and summarised. OpenSSL 3
 * spends about a million instructions on each (a key decoder per public
 * key): a message with 10,000 cost 1.4 s. SCEP messages carry one to four
 * (NDES's GetCACert: the CA and two RA certificates; a chain rarely five),
 * so 64 leaves room for bundles of several CAs and costs at most a few
 * tens of milliseconds; the rest are counted, not parsed (certs_cut). */
#define CERTS_MAX 64
/* Signers looked for past CERTS_MAX (a pkiMessage has one). */
#define SIDS_MAX 8
/* What certs_cut can pass: the first CERTS_MAX, the signers, and the
 * first certificate that is not a CA's (a CertRep's issued one). */
#define CERTS_KEPT_MAX (CERTS_MAX + SIDS_MAX + 1)
#define ASN1_DEPTH_MAX 32     /* nesting budget of the error locator */
#define ATTR_STR_MAX 256      /* printable copy of one signed attribute */
#define ATTRS_MAX 32          /* signed attributes listed by name=value */
#define ATTR_HEX_MAX 64       /* bytes of an attribute value shown as hex */
#define NAMES_MAX 512         /* "digitalSignature, keyEncipherment" lists */
#define SALVAGE_MAX (1u << 20) /* bytes of a BER envelope gathered from chunks */

/* SCEP attribute OIDs as DER content octets. Comparing encodings instead
 * of OBJ_create()-ing NIDs keeps OpenSSL's global object table untouched
 * and needs no per-run setup. 2.16.840.1.113733.1.9.x */
static const uint8_t OID_SCEP_PREFIX[] = { 0x60, 0x86, 0x48, 0x01, 0x86, 0xf8, 0x45, 0x01, 0x09 };
enum { SCEP_ATTR_MESSAGE_TYPE = 2, SCEP_ATTR_PKI_STATUS = 3, SCEP_ATTR_FAIL_INFO = 4,
       SCEP_ATTR_SENDER_NONCE = 5, SCEP_ATTR_RECIPIENT_NONCE = 6, SCEP_ATTR_TRANSACTION_ID = 7 };
/* id-scep-failInfoText 1.3.6.1.5.5.7.24.1 (RFC 8894 section 3.2.1.4.4) */
static const uint8_t OID_FAIL_INFO_TEXT[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x18, 0x01 };
/* NDES's CertRep attributes: 1.3.6.1.4.1.311.21.33, the failure HRESULT
 * in decimal, and 1.3.6.1.4.1.311.21.38, a status text */
static const uint8_t OID_MS_HRESULT[] = { 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x15, 0x21 };
static const uint8_t OID_MS_STATUS[] = { 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x15, 0x26 };

/* A private library context keeps the legacy provider (single DES and RC2,
 * which micromdm and old NDES still use for envelopes) out of the
 * application-wide default context. */
/* Recent GetCACert answers and what they decoded to. A server hands every
 * client the same body, and parsing a certificate is the dearest thing in
 * a run: OpenSSL 3.0 builds a key decoder for each public key (about a
 * million instructions). Kept behind a pointer so decoding through a
 * const scep_keys can still remember: the cache changes no result. */
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

/* Certificates carried in pkiMessages, by DER: every CertRep of a server
 * carries the same CA/RA certificate. See cms_parse_cached. */
#define X509_CACHE_SLOTS 32
#define X509_CACHE_DER_MAX (16u * 1024)
struct x509_cache_slot {
	uint8_t *der;
	size_t len;
	X509 *x;
	uint64_t used;
};
struct x509_cache {
	struct x509_cache_slot slot[X509_CACHE_SLOTS];
	uint64_t tick;
};

struct scep_keys {
	OSSL_LIB_CTX *libctx;
	OSSL_PROVIDER *prov_default;
	OSSL_PROVIDER *prov_legacy;   /* NULL when legacy.so is not there */
	EVP_PKEY *pkeys[KEYS_MAX];
	size_t n_pkeys;
	struct ca_cache *ca_cache;
	struct x509_cache *x509_cache;
	/* --ca-cert certificates (and those of --key PKCS#12 files): the
	 * signers of messages that carry no certificate, such as NDES's
	 * CertReps */
	STACK_OF(X509) *given_certs;
};

static const char LEGACY_MISSING[] = "DES needs OpenSSL's legacy provider (ossl-modules/legacy.so)";

/* ---- small helpers ---- */

/* The first error (or algorithm, of the first signer) is the one shown;
 * a later one is freed. */
static void set_first(char **slot, char *msg)
{
	if (*slot) {
		free(msg);
		return;
	}
	*slot = msg;
}

/* One line for m->notes, taken over (NULL is out of memory: nothing). */
static void msg_note(struct scep_msg *m, char *note)
{
	str_list_add(&m->notes, &m->n_notes, note);
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

/* keyUsage bits in RFC 5280 section 4.2.1.3 order (bit 0 first). */
static const char *const KU_NAMES[] = {
	"digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment",
	"keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"
};

/* Growable ", "-separated list with a cap; a list that hit the cap ends in
 * "..." so the cut shows. */
struct name_list {
	char buf[NAMES_MAX];
	size_t n;
	int cut;
};

static void names_add(struct name_list *l, const char *name)
{
	int w;

	if (l->cut || !name)
		return;
	w = snprintf(l->buf + l->n, sizeof(l->buf) - l->n, "%s%s", l->n ? ", " : "", name);
	if (w < 0 || (size_t)w >= sizeof(l->buf) - l->n - 4) {
		l->buf[l->n] = '\0';
		snprintf(l->buf + l->n, sizeof(l->buf) - l->n, "%s...", l->n ? ", " : "");
		l->cut = 1;
		return;
	}
	l->n += (size_t)w;
}

static char *names_take(const struct name_list *l)
{
	return l->n || l->cut ? strdup(l->buf) : NULL;
}

static char *key_usage_names(const ASN1_BIT_STRING *ku)
{
	struct name_list l = { .n = 0 };
	size_t i;

	if (!ku)
		return NULL;
	for (i = 0; i < sizeof(KU_NAMES) / sizeof(KU_NAMES[0]); i++) {
		if (ASN1_BIT_STRING_get_bit(ku, (int)i))
			names_add(&l, KU_NAMES[i]);
	}
	/* an empty keyUsage is legal DER and says "no usage": show that */
	return l.n ? names_take(&l) : strdup("(none)");
}

/* OpenSSL's short name ("clientAuth") when it has one, else dotted text. */
static void obj_short(const ASN1_OBJECT *o, char *buf, size_t len)
{
	int nid = OBJ_obj2nid(o);

	if (nid != NID_undef && OBJ_nid2sn(nid))
		snprintf(buf, len, "%s", OBJ_nid2sn(nid));
	else if (OBJ_obj2txt(buf, (int)len, o, 1) <= 0)
		snprintf(buf, len, "?");
}

static char *eku_names(const EXTENDED_KEY_USAGE *eku)
{
	struct name_list l = { .n = 0 };
	char one[128];
	int i;

	if (!eku)
		return NULL;
	for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		obj_short(sk_ASN1_OBJECT_value(eku, i), one, sizeof(one));
		names_add(&l, one);
	}
	return l.n ? names_take(&l) : strdup("(none)");
}

/* ---- ASN.1 error locator ---- */

struct asn1_loc {
	const unsigned char *base;
	size_t off;
	char why[96];
};

/* Why the header at the reader's position fails. OpenSSL versions differ
 * in what ASN1_get_object leaves behind on its error path (3.0.20 does not
 * advance past a header whose content is cut, 3.0.22 does), so the header
 * is read again on its success path: from a zero-padded copy of its first
 * bytes, with no length limit, and the lengths are compared here. */
#define HEAD_COPY 16
static void locate_bad_header(const struct rd *r, struct asn1_loc *loc)
{
	/* LONG_MAX below means no "too long" error path, so nothing bounds the
	 * read but the bytes themselves: the tag loop stops at the first zero
	 * after the copy, but the length's leading-zero skip may run 127 bytes
	 * (0x30 0xff 00 00 ...), so the zero padding must cover that too. */
	unsigned char head[HEAD_COPY + 1 + 127 + 16] = { 0 };
	const unsigned char *q = head;
	size_t left = rd_left(r), n = left < HEAD_COPY ? left : HEAD_COPY, hl;
	long plen = 0;
	int tag, cls, ret;

	memcpy(head, rd_ptr(r), n);
	ret = ASN1_get_object(&q, &plen, &tag, &cls, LONG_MAX);
	hl = (size_t)(q - head);
	if ((ret & 0x80 && plen <= 0) || hl == 0 || hl > n)
		snprintf(loc->why, sizeof(loc->why), "bad ASN.1 header at byte %zu", loc->off);
	else
		snprintf(loc->why, sizeof(loc->why),
			 "truncated at byte %zu: element needs %ld bytes, %zu left",
			 loc->off, plen, left - hl);
}

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
		if (ret & 0x80) {
			locate_bad_header(r, loc);
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

/* ---- a pkiMessage parse that reuses certificates seen before ---- */

/* One definite-length element at *q (up to end): its header and content.
 * 0 when it is not one (error, indefinite length, or past end). */
struct der_elt {
	const uint8_t *hdr, *body, *end;
	int tag, cls, constructed;
};

static int der_next(const uint8_t **q, const uint8_t *end, struct der_elt *e)
{
	const unsigned char *c = *q;
	long plen = 0;
	int ret;

	if (c >= end)
		return 0;
	ret = ASN1_get_object(&c, &plen, &e->tag, &e->cls, end - *q);
	if ((ret & 0x80) || (ret & 1) || plen > end - c)
		return 0;
	e->hdr = *q;
	e->body = c;
	e->end = c + plen;
	e->constructed = (ret & V_ASN1_CONSTRUCTED) != 0;
	*q = e->end;
	return 1;
}

static int der_is(const struct der_elt *e, int cls, int constructed, int tag)
{
	return e->cls == cls && e->constructed == constructed && e->tag == tag;
}

/* Where the certificates [0] of a DER SignedData ContentInfo are: the
 * three enclosing elements and the set itself. 0 when the message is BER,
 * not signedData, or carries no certificates (nothing to gain then). */
struct cms_certs_at {
	struct der_elt ci, oid, explicit0, sd, certs;
};

static int find_cms_certs(const uint8_t *p, size_t len, struct cms_certs_at *a)
{
	static const uint8_t oid_signed[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02 };
	const uint8_t *q = p, *end;
	struct der_elt e;
	int i;

	if (len > LONG_MAX || !der_next(&q, p + len, &a->ci) ||
	    !der_is(&a->ci, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE))
		return 0;
	q = a->ci.body;
	end = a->ci.end;
	if (!der_next(&q, end, &a->oid) || !der_is(&a->oid, V_ASN1_UNIVERSAL, 0, V_ASN1_OBJECT) ||
	    a->oid.end - a->oid.body != (long)sizeof(oid_signed) ||
	    memcmp(a->oid.body, oid_signed, sizeof(oid_signed)) ||
	    !der_next(&q, end, &a->explicit0) || !der_is(&a->explicit0, V_ASN1_CONTEXT_SPECIFIC, 1, 0))
		return 0;
	q = a->explicit0.body;
	if (!der_next(&q, a->explicit0.end, &a->sd) || !der_is(&a->sd, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE))
		return 0;
	q = a->sd.body;
	for (i = 0; i < 3; i++)     /* version, digestAlgorithms, encapContentInfo */
		if (!der_next(&q, a->sd.end, &e))
			return 0;
	return der_next(&q, a->sd.end, &a->certs) && der_is(&a->certs, V_ASN1_CONTEXT_SPECIFIC, 1, 0);
}

/* The same message without its certificates, lengths re-encoded. */
static uint8_t *der_without_certs(const struct cms_certs_at *a, size_t *out_len)
{
	size_t cut = (size_t)(a->certs.end - a->certs.hdr);
	int sd_len = (int)(a->sd.end - a->sd.body - (long)cut);
	int ex_len = ASN1_object_size(1, sd_len, V_ASN1_SEQUENCE);
	int ci_len = (int)(a->oid.end - a->oid.hdr) + ASN1_object_size(1, ex_len, 0);
	int total = ASN1_object_size(1, ci_len, V_ASN1_SEQUENCE);
	uint8_t *buf, *o;

	if (sd_len < 0 || ex_len < 0 || ci_len < 0 || total < 0 || !(buf = malloc((size_t)total)))
		return NULL;
	o = buf;
	ASN1_put_object(&o, 1, ci_len, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	memcpy(o, a->oid.hdr, (size_t)(a->oid.end - a->oid.hdr));
	o += a->oid.end - a->oid.hdr;
	ASN1_put_object(&o, 1, ex_len, 0, V_ASN1_CONTEXT_SPECIFIC);
	ASN1_put_object(&o, 1, sd_len, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	memcpy(o, a->sd.body, (size_t)(a->certs.hdr - a->sd.body));
	o += a->certs.hdr - a->sd.body;
	memcpy(o, a->certs.end, (size_t)(a->sd.end - a->certs.end));
	o += a->sd.end - a->certs.end;
	*out_len = (size_t)(o - buf);
	return buf;
}

/* ---- certificates read per message ---- */

/* A SignerInfo's sid as DER: issuer Name and serial INTEGER elements
 * (issuer.hdr NULL when it names a subjectKeyIdentifier), or the key id. */
struct sid_der {
	struct der_elt issuer, serial, keyid;
};

static int der_same(const struct der_elt *a, const struct der_elt *b)
{
	return a->hdr && b->hdr && a->end - a->hdr == b->end - b->hdr &&
	       memcmp(a->hdr, b->hdr, (size_t)(a->end - a->hdr)) == 0;
}

/* The sids of the SignerInfos after the certificate set (and the optional
 * crls [1]); at most SIDS_MAX. */
static size_t signer_sids(const struct cms_certs_at *a, struct sid_der *sids)
{
	const uint8_t *q = a->certs.end, *sq;
	struct der_elt e, si, v, sid;
	size_t n = 0;

	if (!der_next(&q, a->sd.end, &e))
		return 0;
	if (der_is(&e, V_ASN1_CONTEXT_SPECIFIC, 1, 1) && !der_next(&q, a->sd.end, &e))
		return 0;
	if (!der_is(&e, V_ASN1_UNIVERSAL, 1, V_ASN1_SET))
		return 0;
	q = e.body;
	while (n < SIDS_MAX && der_next(&q, e.end, &si)) {
		memset(&sids[n], 0, sizeof(sids[n]));
		sq = si.body;
		if (!der_is(&si, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE) ||
		    !der_next(&sq, si.end, &v) || !der_next(&sq, si.end, &sid))
			continue;
		if (der_is(&sid, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE)) {
			const uint8_t *iq = sid.body;

			if (der_next(&iq, sid.end, &sids[n].issuer) &&
			    der_next(&iq, sid.end, &sids[n].serial))
				n++;
		} else if (der_is(&sid, V_ASN1_CONTEXT_SPECIFIC, 0, 0)) {
			sids[n].keyid = sid;
			n++;
		}
	}
	return n;
}

/* A certificate's serial and issuer elements and its extensions (exts.hdr
 * NULL when it has none), read without OpenSSL. 0 when it is not shaped
 * like a certificate. */
static int cert_der_fields(const struct der_elt *cert, struct der_elt *serial,
			   struct der_elt *issuer, struct der_elt *exts)
{
	const uint8_t *q = cert->body, *t;
	struct der_elt tbs, e;
	int i;

	memset(exts, 0, sizeof(*exts));
	if (!der_next(&q, cert->end, &tbs) || !der_is(&tbs, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE))
		return 0;
	t = tbs.body;
	if (!der_next(&t, tbs.end, serial))
		return 0;
	if (der_is(serial, V_ASN1_CONTEXT_SPECIFIC, 1, 0) && !der_next(&t, tbs.end, serial))
		return 0;                       /* [0] version came first */
	if (!der_next(&t, tbs.end, &e) || !der_next(&t, tbs.end, issuer))
		return 0;                       /* signature, issuer */
	for (i = 0; i < 3; i++)                 /* validity, subject, key */
		if (!der_next(&t, tbs.end, &e))
			return 0;
	while (der_next(&t, tbs.end, &e)) {
		if (der_is(&e, V_ASN1_CONTEXT_SPECIFIC, 1, 3)) {
			const uint8_t *x = e.body;

			if (der_next(&x, e.end, exts) && !der_is(exts, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE))
				memset(exts, 0, sizeof(*exts));
		}
	}
	return 1;
}

/* The extnValue content of extension oid (DER content octets), or 0. */
static int cert_der_ext(const struct der_elt *exts, const uint8_t *oid, size_t oid_len,
			struct der_elt *val)
{
	const uint8_t *q, *x;
	struct der_elt ext, id, e;

	if (!exts->hdr)
		return 0;
	q = exts->body;
	while (der_next(&q, exts->end, &ext)) {
		x = ext.body;
		if (!der_next(&x, ext.end, &id) || !der_is(&id, V_ASN1_UNIVERSAL, 0, V_ASN1_OBJECT) ||
		    (size_t)(id.end - id.body) != oid_len || memcmp(id.body, oid, oid_len) != 0)
			continue;
		while (der_next(&x, ext.end, &e))
			if (der_is(&e, V_ASN1_UNIVERSAL, 0, V_ASN1_OCTET_STRING)) {
				*val = e;
				return 1;
			}
		return 0;
	}
	return 0;
}

/* basicConstraints with cA TRUE, as OpenSSL's EXFLAG_BCONS + EXFLAG_CA. */
static int cert_der_is_ca(const struct der_elt *exts)
{
	static const uint8_t oid_bc[] = { 0x55, 0x1d, 0x13 };
	struct der_elt v, seq, b;
	const uint8_t *q;

	if (!cert_der_ext(exts, oid_bc, sizeof(oid_bc), &v))
		return 0;
	q = v.body;
	if (!der_next(&q, v.end, &seq) || !der_is(&seq, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE))
		return 0;
	q = seq.body;
	return der_next(&q, seq.end, &b) && der_is(&b, V_ASN1_UNIVERSAL, 0, V_ASN1_BOOLEAN) &&
	       b.end - b.body == 1 && b.body[0] != 0;
}

/* Whether the certificate is one a sid names. */
static int cert_der_signs(const struct der_elt *serial, const struct der_elt *issuer,
			  const struct der_elt *exts, const struct sid_der *sids, size_t n)
{
	static const uint8_t oid_ski[] = { 0x55, 0x1d, 0x0e };
	struct der_elt v, ski;
	const uint8_t *q;
	size_t i;

	for (i = 0; i < n; i++) {
		if (sids[i].issuer.hdr) {
			if (der_same(&sids[i].issuer, issuer) && der_same(&sids[i].serial, serial))
				return 1;
			continue;
		}
		if (!cert_der_ext(exts, oid_ski, sizeof(oid_ski), &v))
			continue;
		q = v.body;
		if (der_next(&q, v.end, &ski) && ski.end - ski.body == sids[i].keyid.end - sids[i].keyid.body &&
		    memcmp(ski.body, sids[i].keyid.body, (size_t)(ski.end - ski.body)) == 0)
			return 1;
	}
	return 0;
}

/* Whether certs_cut keeps certificate number i of the set. */
static int cert_kept(const struct der_elt *cert, size_t i, int *non_ca_seen,
		     const struct sid_der *sids, size_t n_sids)
{
	struct der_elt serial, issuer, exts;
	int keep = i < CERTS_MAX;

	if (!cert_der_fields(cert, &serial, &issuer, &exts))
		return keep;
	if (!*non_ca_seen && !cert_der_is_ca(&exts)) {
		*non_ca_seen = 1;
		return 1;
	}
	return keep || (n_sids && cert_der_signs(&serial, &issuer, &exts, sids, n_sids));
}

/* The message at p with its certificate set cut to what is read: the first
 * CERTS_MAX, any a SignerInfo names, and the first that is not a CA's (a
 * CertRep's issued certificate: pick_issued's choice). Malloc'ed; NULL
 * when the message is kept whole (BER, not signedData, no more than
 * CERTS_MAX certificates, out of memory). *skipped: how many were left. */
static uint8_t *certs_cut(const uint8_t *p, size_t len, size_t *cut_len, size_t *skipped)
{
	struct cms_certs_at a;
	struct sid_der sids[SIDS_MAX];
	struct der_elt cert;
	const uint8_t *q;
	size_t n_all = 0, n_sids, kept_len = 0, i;
	int non_ca_seen = 0;
	int certs_len, sd_len, ex_len, ci_len, total;
	uint8_t *buf, *o;

	*skipped = 0;
	if (!find_cms_certs(p, len, &a))
		return NULL;
	for (q = a.certs.body; der_next(&q, a.certs.end, &cert); n_all++)
		;
	if (n_all <= CERTS_MAX || q != a.certs.end)
		return NULL;
	n_sids = signer_sids(&a, sids);
	/* first pass: what is kept, and its size */
	for (q = a.certs.body, i = 0; der_next(&q, a.certs.end, &cert); i++) {
		if (cert_kept(&cert, i, &non_ca_seen, sids, n_sids))
			kept_len += (size_t)(cert.end - cert.hdr);
		else
			++*skipped;
	}
	if (kept_len > INT_MAX / 2 || (size_t)(a.sd.end - a.sd.body) > INT_MAX / 2)
		goto whole;
	certs_len = (int)kept_len;
	sd_len = (int)(a.certs.hdr - a.sd.body) + ASN1_object_size(1, certs_len, 0) +
		 (int)(a.sd.end - a.certs.end);
	ex_len = ASN1_object_size(1, sd_len, V_ASN1_SEQUENCE);
	ci_len = (int)(a.oid.end - a.oid.hdr) + ASN1_object_size(1, ex_len, 0);
	total = ASN1_object_size(1, ci_len, V_ASN1_SEQUENCE);
	if (sd_len < 0 || ex_len < 0 || ci_len < 0 || total < 0 || !(buf = malloc((size_t)total)))
		goto whole;
	o = buf;
	ASN1_put_object(&o, 1, ci_len, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	memcpy(o, a.oid.hdr, (size_t)(a.oid.end - a.oid.hdr));
	o += a.oid.end - a.oid.hdr;
	ASN1_put_object(&o, 1, ex_len, 0, V_ASN1_CONTEXT_SPECIFIC);
	ASN1_put_object(&o, 1, sd_len, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	memcpy(o, a.sd.body, (size_t)(a.certs.hdr - a.sd.body));
	o += a.certs.hdr - a.sd.body;
	ASN1_put_object(&o, 1, certs_len, 0, V_ASN1_CONTEXT_SPECIFIC);
	/* second pass: the same choices, copied */
	non_ca_seen = 0;
	for (q = a.certs.body, i = 0; der_next(&q, a.certs.end, &cert); i++) {
		if (cert_kept(&cert, i, &non_ca_seen, sids, n_sids)) {
			memcpy(o, cert.hdr, (size_t)(cert.end - cert.hdr));
			o += cert.end - cert.hdr;
		}
	}
	memcpy(o, a.certs.end, (size_t)(a.sd.end - a.certs.end));
	o += a.sd.end - a.certs.end;
	*cut_len = (size_t)(o - buf);
	return buf;
whole:
	*skipped = 0;
	return NULL;
}

/* The note for certificates certs_cut left out. */
static char *certs_skipped_text(size_t skipped)
{
	return str_printf("%zu more certificate%s not read (only the first %d of a message are)",
			  skipped, skipped == 1 ? "" : "s", CERTS_MAX);
}

/* A certificate by its DER, from the cache or parsed and remembered;
 * the caller owns a reference. */
static X509 *x509_cached(struct x509_cache *xc, OSSL_LIB_CTX *libctx, const uint8_t *der, size_t len)
{
	struct x509_cache_slot *s = &xc->slot[0];
	const unsigned char *q = der;
	X509 *x;
	size_t i;

	for (i = 0; i < X509_CACHE_SLOTS; i++) {
		if (xc->slot[i].x && xc->slot[i].len == len && !memcmp(xc->slot[i].der, der, len)) {
			xc->slot[i].used = ++xc->tick;
			X509_up_ref(xc->slot[i].x);
			return xc->slot[i].x;
		}
		if (xc->slot[i].used < s->used)
			s = &xc->slot[i];
	}
	x = X509_new_ex(libctx, NULL);
	if (!x || len > LONG_MAX || !d2i_X509(&x, &q, (long)len) || q != der + len) {
		X509_free(x);
		return NULL;
	}
	if (len <= X509_CACHE_DER_MAX) {
		uint8_t *copy = malloc(len);

		if (copy) {
			free(s->der);
			X509_free(s->x);
			memcpy(copy, der, len);
			s->der = copy;
			s->len = len;
			s->x = x;
			s->used = ++xc->tick;
			X509_up_ref(x);
		}
	}
	return x;
}

/* Gives cms the certificates of the set, in order; 0 when one is not a
 * plain certificate or does not parse on its own. */
static int add_certs_cached(CMS_ContentInfo *cms, const struct der_elt *set,
			    const struct scep_keys *k)
{
	const uint8_t *q = set->body;
	struct der_elt e;
	X509 *x;
	int ok;

	while (q < set->end) {
		if (!der_next(&q, set->end, &e) || !der_is(&e, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE))
			return 0;
		x = x509_cached(k->x509_cache, k->libctx, e.hdr, (size_t)(e.end - e.hdr));
		ok = x && CMS_add1_cert(cms, x);
		X509_free(x);
		if (!ok)
			return 0;
	}
	return 1;
}

/* cms_parse for pkiMessages. OpenSSL 3.0 spends about a million
 * instructions building a key decoder for each certificate it parses, and
 * every CertRep of a server carries the same CA/RA certificate: a DER
 * SignedData is parsed without its certificates, which are then added from
 * the cache. Anything unusual (BER, other certificate choices, a
 * certificate that does not parse alone, duplicates) takes the plain path,
 * so results and error messages are those of cms_parse. */
static CMS_ContentInfo *cms_parse_cached(const uint8_t *p, size_t len, const struct scep_keys *k)
{
	struct cms_certs_at a;
	CMS_ContentInfo *cms = NULL;
	uint8_t *bare;
	size_t bare_len = 0;

	if (!k || !k->x509_cache || !find_cms_certs(p, len, &a) ||
	    !(bare = der_without_certs(&a, &bare_len)))
		return cms_parse(p, len, k ? k->libctx : NULL);
	ERR_set_mark();
	cms = cms_parse(bare, bare_len, k->libctx);
	if (cms && !add_certs_cached(cms, &a.certs, k)) {
		CMS_ContentInfo_free(cms);
		cms = NULL;
	}
	ERR_pop_to_mark();
	free(bare);
	return cms ? cms : cms_parse(p, len, k->libctx);
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
	free(c->key_usage_names);
	free(c->ext_key_usage);
	free(c->role);
	free(c);
}

int scep_cert_validity(const struct scep_cert *c, time_t at)
{
	if (!c)
		return 0;
	if (at < c->not_before)
		return -1;
	if (at > c->not_after)
		return 1;
	return 0;
}

static struct scep_cert *cert_from_x509(X509 *x)
{
	struct scep_cert *c = calloc(1, sizeof(*c));
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
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
	if (flags & EXFLAG_KUSAGE) {
		ASN1_BIT_STRING *ku = X509_get_ext_d2i(x, NID_key_usage, NULL, NULL);

		c->key_usage_names = key_usage_names(ku);
		ASN1_BIT_STRING_free(ku);
	}
	if (flags & EXFLAG_XKUSAGE) {
		EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);

		c->ext_key_usage = eku_names(eku);
		EXTENDED_KEY_USAGE_free(eku);
	}
	c->is_ca = (flags & EXFLAG_BCONS) && (flags & EXFLAG_CA);
	c->self_signed = X509_self_signed(x, 0) == 1;
	if (X509_digest(x, EVP_sha1(), md, &mdlen))
		hex_lower(md, mdlen, c->sha1, sizeof(c->sha1));
	if (X509_digest(x, EVP_sha256(), md, &mdlen))
		hex_lower(md, mdlen, c->sha256, sizeof(c->sha256));
	if (X509_pubkey_digest(x, EVP_sha256(), md, &mdlen))
		hex_lower(md, mdlen, c->key_sha256, sizeof(c->key_sha256));
	n = i2d_X509(x, NULL);
	if (n > 0)
		c->der_len = (size_t)n;
	ERR_clear_error();
	return c;
}

struct scep_cert *scep_cert_from_der(const uint8_t *der, size_t len)
{
	const unsigned char *q = der;
	struct scep_cert *c;
	X509 *x;

	if (!der || !len || len > LONG_MAX)
		return NULL;
	x = d2i_X509(NULL, &q, (long)len);
	if (!x) {
		ERR_clear_error();
		return NULL;
	}
	c = cert_from_x509(x);
	X509_free(x);
	return c;
}

static int certs_append(struct scep_cert ***arr, size_t *n, X509 *x)
{
	struct scep_cert **grown, *c;

	if (*n >= CERTS_KEPT_MAX)
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

/* Returns how many certificates did not fit under CERTS_KEPT_MAX. */
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
	free(c->extensions);
	free(c->key_usage);
	free(c->ext_key_usage);
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

/* The extensionRequest attribute: which extensions the client asks for, and
 * the keyUsage / extendedKeyUsage values (what NDES templates check). */
static void csr_extensions(struct scep_csr *c, const STACK_OF(X509_EXTENSION) *exts)
{
	struct name_list l = { .n = 0 };
	char one[128];
	int i;

	for (i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);

		obj_short(X509_EXTENSION_get_object(e), one, sizeof(one));
		names_add(&l, one);
	}
	c->extensions = names_take(&l);
	{
		ASN1_BIT_STRING *ku = X509V3_get_d2i(exts, NID_key_usage, NULL, NULL);
		EXTENDED_KEY_USAGE *eku = X509V3_get_d2i(exts, NID_ext_key_usage, NULL, NULL);

		c->key_usage = key_usage_names(ku);
		c->ext_key_usage = eku_names(eku);
		ASN1_BIT_STRING_free(ku);
		EXTENDED_KEY_USAGE_free(eku);
	}
}

static char *csr_sans(const STACK_OF(X509_EXTENSION) *exts)
{
	GENERAL_NAMES *gens;
	STACK_OF(CONF_VALUE) *vals;
	BIO *b;
	char *data = NULL, *s = NULL;
	long len;
	int i;

	if (!exts)
		return NULL;
	gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
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
		set_first(error, parse_error("decrypted content is not a PKCS#10 CSR", p, len));
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
	{
		STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);

		if (exts) {
			c->sans = csr_sans(exts);
			csr_extensions(c, exts);
			sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
		}
	}
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

void scep_certs_free(struct scep_cert **certs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		scep_cert_free(certs[i]);
	free(certs);
}

static void ca_slot_clear(struct ca_cache_slot *s)
{
	free(s->body);
	scep_certs_free(s->certs, s->n);
	free(s->error);
	memset(s, 0, sizeof(*s));
}

static struct scep_cert *cert_dup(const struct scep_cert *c)
{
	struct scep_cert *d = malloc(sizeof(*d));

	if (!d)
		return NULL;
	*d = *c;
	d->subject = str_dup_or_null(c->subject);
	d->issuer = str_dup_or_null(c->issuer);
	d->serial = str_dup_or_null(c->serial);
	d->key_type = str_dup_or_null(c->key_type);
	d->key_usage_names = str_dup_or_null(c->key_usage_names);
	d->ext_key_usage = str_dup_or_null(c->ext_key_usage);
	d->role = str_dup_or_null(c->role);
	if ((c->subject && !d->subject) || (c->issuer && !d->issuer) || (c->serial && !d->serial) ||
	    (c->key_type && !d->key_type) || (c->key_usage_names && !d->key_usage_names) ||
	    (c->ext_key_usage && !d->ext_key_usage) || (c->role && !d->role)) {
		scep_cert_free(d);
		return NULL;
	}
	return d;
}

static int certs_dup(struct scep_cert **from, size_t n, struct scep_cert ***out)
{
	size_t i;

	*out = NULL;
	if (!n)
		return 0;
	if (!(*out = calloc(n, sizeof(**out))))
		return -1;
	for (i = 0; i < n; i++)
		if (!((*out)[i] = cert_dup(from[i]))) {
			scep_certs_free(*out, i);
			*out = NULL;
			return -1;
		}
	return 0;
}

struct scep_keys *scep_keys_new(void)
{
	struct scep_keys *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->libctx = OSSL_LIB_CTX_new();
	k->ca_cache = calloc(1, sizeof(*k->ca_cache));
	k->x509_cache = calloc(1, sizeof(*k->x509_cache));
	if (!k->libctx || !k->ca_cache || !k->x509_cache)
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
	for (i = 0; k->ca_cache && i < CA_CACHE_SLOTS; i++)
		ca_slot_clear(&k->ca_cache->slot[i]);
	free(k->ca_cache);
	for (i = 0; k->x509_cache && i < X509_CACHE_SLOTS; i++) {
		free(k->x509_cache->slot[i].der);
		X509_free(k->x509_cache->slot[i].x);
	}
	free(k->x509_cache);
	sk_X509_pop_free(k->given_certs, X509_free);
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

/* What the passphrase callback was given and whether OpenSSL asked: a key
 * that needed a passphrase and still did not load had the wrong one. */
struct pass_ctx {
	const char *pass;
	int asked;
};

/* Never prompts on the terminal (a capture tool in a pipeline must not
 * block on /dev/tty): only the --key-pass text, if any, is offered. */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass_ctx *pc = u;
	size_t n;

	(void)rwflag;
	pc->asked = 1;
	if (!pc->pass || size <= 0)
		return -1;
	n = strlen(pc->pass);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, pc->pass, n);
	return (int)n;
}

/* DER: plain PKCS#8 / PKCS#1 / SEC1, or encrypted PKCS#8, through the
 * decoders of the keys' library context. */
static EVP_PKEY *der_key(struct scep_keys *k, BIO *b, struct pass_ctx *pc)
{
	EVP_PKEY *pk = NULL;
	OSSL_DECODER_CTX *dctx;

	dctx = OSSL_DECODER_CTX_new_for_pkey(&pk, "DER", NULL, NULL, EVP_PKEY_KEYPAIR, k->libctx, NULL);
	if (!dctx)
		return NULL;
	OSSL_DECODER_CTX_set_pem_password_cb(dctx, pass_cb, pc);
	if (!OSSL_DECODER_from_bio(dctx, b)) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	OSSL_DECODER_CTX_free(dctx);
	return pk;
}

/* Certificates that name signers (--ca-cert, a PKCS#12's certificates). */
static int given_certs_add(struct scep_keys *k, X509 *x)
{
	if (!k->given_certs && !(k->given_certs = sk_X509_new_null()))
		return -1;
	if (sk_X509_num(k->given_certs) >= CERTS_MAX || !sk_X509_push(k->given_certs, x))
		return -1;
	return 0;
}

static int given_certs_add_stack(struct scep_keys *k, STACK_OF(X509) *sk)
{
	int i, added = 0;

	for (i = 0; sk && i < sk_X509_num(sk); i++) {
		X509 *x = sk_X509_value(sk, i);

		if (X509_up_ref(x) && given_certs_add(k, x) == 0)
			added++;
		else
			X509_free(x);
	}
	return added;
}

/* PKCS12_parse works in OpenSSL's default library context, where the
 * RC2/3DES of Windows and older OpenSSL exports need the legacy provider:
 * it is loaded there for the parse only. */
static int pkcs12_parse_legacy(PKCS12 *p12, const char *pass, EVP_PKEY **pk, X509 **cert,
			       STACK_OF(X509) **ca)
{
	OSSL_PROVIDER *legacy, *dflt;
	int ok;

	if (PKCS12_parse(p12, pass, pk, cert, ca))
		return 1;
	ERR_clear_error();
	legacy = OSSL_PROVIDER_try_load(NULL, "legacy", 1);
	dflt = legacy ? OSSL_PROVIDER_try_load(NULL, "default", 1) : NULL;
	ok = legacy && dflt && PKCS12_parse(p12, pass, pk, cert, ca);
	if (dflt)
		OSSL_PROVIDER_unload(dflt);
	if (legacy)
		OSSL_PROVIDER_unload(legacy);
	return ok;
}

/* A .pfx/.p12 (what keys leave NDES and EJBCA as): its key opens
 * envelopes, its certificates name signers. 1 found, 0 not PKCS#12, -1
 * error (err set). Windows exports often have an empty password. */
static int load_pkcs12(struct scep_keys *k, BIO *b, const char *path, const char *pass,
		       char *err, size_t errlen)
{
	PKCS12 *p12 = d2i_PKCS12_bio(b, NULL);
	EVP_PKEY *pk = NULL;
	X509 *cert = NULL;
	STACK_OF(X509) *ca = NULL;
	const char *use = pass;

	if (!p12)
		return 0;
	if (!PKCS12_mac_present(p12)) {
		if (!use)
			use = "";
	} else if (use && !PKCS12_verify_mac(p12, use, -1)) {
		snprintf(err, errlen, "%s: wrong passphrase: the PKCS#12 file's integrity check fails with "
			 "the one given", path);
		PKCS12_free(p12);
		return -1;
	} else if (!use && PKCS12_verify_mac(p12, "", 0)) {
		use = "";
	} else if (!use && !PKCS12_verify_mac(p12, NULL, 0)) {
		snprintf(err, errlen, "%s: the PKCS#12 file is protected; give its password with --key-pass",
			 path);
		PKCS12_free(p12);
		return -1;
	}
	if (!pkcs12_parse_legacy(p12, use, &pk, &cert, &ca)) {
		snprintf(err, errlen, "%s: PKCS#12 file does not open: %s", path, ossl_reason());
		PKCS12_free(p12);
		return -1;
	}
	PKCS12_free(p12);
	if (cert && given_certs_add(k, cert) < 0)
		X509_free(cert);
	given_certs_add_stack(k, ca);
	sk_X509_pop_free(ca, X509_free);
	if (!pk) {
		snprintf(err, errlen, "%s: the PKCS#12 file holds no private key", path);
		return -1;
	}
	return keys_add(k, pk, path, err, errlen) < 0 ? -1 : 1;
}

/* A key or certificate file to read; NULL with err set ("cannot open:
 * No such file or directory") when it cannot be opened. */
static BIO *open_file_bio(const char *path, char *err, size_t errlen)
{
	BIO *b = BIO_new_file(path, "rb");

	if (!b) {
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		ERR_clear_error();
	}
	return b;
}

int scep_keys_load_certs(struct scep_keys *k, const char *path, char *err, size_t errlen)
{
	STACK_OF(X509_INFO) *infos;
	BIO *b;
	X509 *x;
	int added = 0, i;

	b = open_file_bio(path, err, errlen);
	if (!b)
		return -1;
	ERR_set_mark();
	/* PEM: every CERTIFICATE block, and the certificates of a PKCS7 one */
	infos = PEM_X509_INFO_read_bio_ex(b, NULL, no_passphrase, NULL, k->libctx, NULL);
	for (i = 0; infos && i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *xi = sk_X509_INFO_value(infos, i);

		if (xi->x509 && given_certs_add(k, xi->x509) == 0) {
			xi->x509 = NULL;
			added++;
		}
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	if (!added && BIO_reset(b) == 0) {
		PKCS7 *p7 = PEM_read_bio_PKCS7(b, NULL, no_passphrase, NULL);

		if (!p7 && BIO_reset(b) == 0)
			p7 = d2i_PKCS7_bio(b, NULL);
		if (p7 && PKCS7_type_is_signed(p7) && p7->d.sign)
			added += given_certs_add_stack(k, p7->d.sign->cert);
		PKCS7_free(p7);
	}
	if (!added && BIO_reset(b) == 0 && (x = d2i_X509_bio(b, NULL)) != NULL) {
		if (given_certs_add(k, x) == 0)
			added++;
		else
			X509_free(x);
	}
	ERR_pop_to_mark();
	BIO_free(b);
	if (added)
		return 0;
	snprintf(err, errlen, "%s: no certificate found (PEM, DER or a PKCS#7 bundle)", path);
	return -1;
}

int scep_keys_load(struct scep_keys *k, const char *path, char *err, size_t errlen)
{
	return scep_keys_load_pass(k, path, NULL, err, errlen);
}

int scep_keys_load_pass(struct scep_keys *k, const char *path, const char *pass,
			char *err, size_t errlen)
{
	struct pass_ctx pc = { .pass = pass, .asked = 0 };
	BIO *b;
	EVP_PKEY *pk;
	int found = 0, encrypted = 0;

	if (!k || !path) {
		snprintf(err, errlen, "no key file given");
		return -1;
	}
	b = open_file_bio(path, err, errlen);
	if (!b)
		return -1;
	ERR_set_mark();
	/* PEM first: a file may hold several keys and certificates; the
	 * certificates are skipped (PEM_read_bio_PrivateKey passes over
	 * blocks it cannot use). */
	while ((pk = PEM_read_bio_PrivateKey_ex(b, NULL, pass_cb, &pc, k->libctx, NULL)) != NULL) {
		if (keys_add(k, pk, path, err, errlen) < 0)
			goto fail;
		found++;
	}
	if (pc.asked || ossl_reason_is(ERR_LIB_PEM, PEM_R_BAD_PASSWORD_READ) ||
	    ossl_reason_is(ERR_LIB_PEM, PEM_R_PROBLEMS_GETTING_PASSWORD))
		encrypted = 1;
	if (!found && !encrypted && BIO_reset(b) == 0) {
		pc.asked = 0;
		if ((pk = der_key(k, b, &pc)) != NULL) {
			if (keys_add(k, pk, path, err, errlen) < 0)
				goto fail;
			found++;
		} else if (pc.asked) {
			encrypted = 1;
		}
	}
	if (!found && !encrypted && BIO_reset(b) == 0) {
		int rc = load_pkcs12(k, b, path, pass, err, errlen);

		if (rc < 0)
			goto fail;
		found += rc;
	}
	ERR_pop_to_mark();
	BIO_free(b);
	if (found)
		return 0;
	if (encrypted && pass)
		snprintf(err, errlen, "%s: wrong passphrase: the private key is encrypted and the one "
			 "given does not open it", path);
	else if (encrypted)
		snprintf(err, errlen, "%s: the private key is encrypted; give its passphrase with "
			 "--key-pass, or write a clear copy with 'openssl pkey -in %s -out KEY.pem'",
			 path, path);
	else
		snprintf(err, errlen, "%s: no private key found (PEM, DER or PKCS#12, RSA/EC)", path);
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
	free(m->content_type);
	free(m->digest_alg);
	free(m->sig_alg);
	scep_cert_free(m->signer);
	free(m->signer_issuer);
	free(m->signer_serial);
	scep_certs_free(m->other_certs, m->n_other_certs);
	free(m->transaction_id);
	free(m->fail_info_text);
	free(m->signed_challenge);
	free(m->ms_status_text);
	for (i = 0; i < m->n_recipients; i++) {
		free(m->recipients[i].issuer);
		free(m->recipients[i].serial);
	}
	free(m->recipients);
	free(m->key_enc_alg);
	free(m->content_enc_alg);
	free(m->decrypt_error);
	csr_free(m->csr);
	scep_certs_free(m->rep_certs, m->n_rep_certs);
	free(m->req_issuer);
	free(m->req_subject);
	free(m->req_serial);
	str_list_free(m->signed_attrs, m->n_signed_attrs);
	str_list_free(m->notes, m->n_notes);
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
	set_first(&m->error, str_printf("%s attribute \"%s\" is not a decimal number", name,
				       shown ? shown : "(not a string)"));
	free(shown);
}

/* NDES writes the HRESULT as a signed decimal ("-2147024809"); kept as
 * the 32-bit code it stands for (0x80070057). */
static void read_ms_hresult(struct scep_msg *m, const ASN1_STRING *s)
{
	struct rd r;
	uint8_t c;
	int64_t v = 0;
	int neg = 0, digits = 0;

	if (!s)
		return;
	rd_init(&r, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
	if (rd_left(&r) && *rd_ptr(&r) == '-') {
		neg = 1;
		rd_skip(&r, 1);
	}
	while (rd_u8(&r, &c)) {
		if (c < '0' || c > '9' || ++digits > 10)
			goto bad;
		v = v * 10 + (c - '0');
	}
	if (!digits || (neg && v > 2147483648LL) || (!neg && v > 4294967295LL))
		goto bad;
	m->has_ms_hresult = 1;
	m->ms_hresult = (uint32_t)(neg ? -v : v);
	return;
bad:
	msg_note(m, strdup("NDES HRESULT attribute (1.3.6.1.4.1.311.21.33) is not a decimal number"));
}

/* Lower-case hex of at most ATTR_HEX_MAX bytes, "..." when cut. */
static char *hex_capped(const unsigned char *p, size_t n)
{
	char buf[2 * ATTR_HEX_MAX + 4];
	size_t shown = n > ATTR_HEX_MAX ? ATTR_HEX_MAX : n;

	hex_lower(p, (unsigned)shown, buf, sizeof(buf));
	if (shown < n)
		strcat(buf, "...");
	return strdup(buf);
}

static char *time_iso(const ASN1_TIME *t)
{
	struct tm tm;
	char buf[32];

	if (!ASN1_TIME_to_tm(t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return NULL;
	return strdup(buf);
}

/* The DER of any value, as hex: what an attribute we cannot name shows. */
static char *type_der_hex(const ASN1_TYPE *t)
{
	unsigned char *der = NULL;
	int n = i2d_ASN1_TYPE(t, &der);
	char *s;

	if (n <= 0)
		return strdup("?");
	s = hex_capped(der, (size_t)n);
	OPENSSL_free(der);
	return s;
}

static char *attr_value(const ASN1_TYPE *t)
{
	const ASN1_STRING *s;

	if (!t)
		return strdup("(no value)");
	switch (ASN1_TYPE_get(t)) {
	case V_ASN1_OBJECT: {
		char buf[128];

		obj_short(t->value.object, buf, sizeof(buf));
		return strdup(buf);
	}
	case V_ASN1_UTCTIME:
	case V_ASN1_GENERALIZEDTIME: {
		char *iso = time_iso(t->value.utctime);

		return iso ? iso : type_der_hex(t);
	}
	case V_ASN1_OCTET_STRING:
		s = t->value.octet_string;
		return hex_capped(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
	case V_ASN1_INTEGER: {
		char *h = integer_hex(t->value.integer);
		char *v = h ? str_printf("0x%s", h) : NULL;

		free(h);
		return v ? v : type_der_hex(t);
	}
	default:
		s = type_string(t);
		if (s)
			return str_printable(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s),
					     ATTR_STR_MAX);
		return type_der_hex(t);
	}
}

static const char *scep_attr_name(int idx)
{
	switch (idx) {
	case SCEP_ATTR_MESSAGE_TYPE: return "messageType";
	case SCEP_ATTR_PKI_STATUS: return "pkiStatus";
	case SCEP_ATTR_FAIL_INFO: return "failInfo";
	case SCEP_ATTR_SENDER_NONCE: return "senderNonce";
	case SCEP_ATTR_RECIPIENT_NONCE: return "recipientNonce";
	case SCEP_ATTR_TRANSACTION_ID: return "transactionID";
	default: return NULL;
	}
}

/* "name=value" for msg->signed_attrs. An OID nobody names shows the DER of
 * its value, since we cannot know its type's meaning. */
static char *attr_entry(const ASN1_OBJECT *o, const X509_ATTRIBUTE *a)
{
	int idx = scep_attr_index(o), nid = OBJ_obj2nid(o), i, n = X509_ATTRIBUTE_count(a);
	const char *name = scep_attr_name(idx);
	char dotted[128], *out = NULL;
	int named = 1;

	if (!name && oid_is(o, OID_FAIL_INFO_TEXT, sizeof(OID_FAIL_INFO_TEXT)))
		name = "failInfoText";
	if (!name && nid != NID_undef)
		name = OBJ_nid2sn(nid);
	if (!name) {
		if (OBJ_obj2txt(dotted, sizeof(dotted), o, 1) <= 0)
			snprintf(dotted, sizeof(dotted), "?");
		name = dotted;
		/* NDES's strings are read as strings; other unknown values are
		 * shown as their DER */
		named = oid_is(o, OID_MS_HRESULT, sizeof(OID_MS_HRESULT)) ||
			oid_is(o, OID_MS_STATUS, sizeof(OID_MS_STATUS));
	}
	if (n <= 0)
		return str_printf("%s=(no value)", name);
	/* a secret wherever it sits: the value is kept apart, for
	 * --show-secrets only */
	if (nid == NID_pkcs9_challengePassword)
		return str_printf("%s=****", name);
	/* several values (legal for an Attribute, never seen in SCEP) are
	 * joined with "; " */
	for (i = 0; i < n && i < 4; i++) {
		const ASN1_TYPE *t = X509_ATTRIBUTE_get0_type((X509_ATTRIBUTE *)a, i);
		char *v = named ? attr_value(t) : type_der_hex(t);
		char *joined = str_printf("%s%s%s", out ? out : "", out ? "; " : "", v ? v : "?");

		free(v);
		free(out);
		out = joined;
		if (!out)
			return NULL;
	}
	{
		char *e = str_printf("%s=%s%s", name, out, n > 4 ? "; ..." : "");

		free(out);
		return e;
	}
}

static void attrs_list_add(struct scep_msg *m, char *entry)
{
	str_list_add(&m->signed_attrs, &m->n_signed_attrs, entry);
}

/* One signed attribute: the SCEP ones fill their fields, every one is
 * listed. *listed counts entries so the list stays under ATTRS_MAX with a
 * last entry saying how many were left out. */
static void read_attr(struct scep_msg *m, X509_ATTRIBUTE *a, int total, int *listed)
{
	ASN1_OBJECT *o = a ? X509_ATTRIBUTE_get0_object(a) : NULL;
	ASN1_TYPE *t = a ? X509_ATTRIBUTE_get0_type(a, 0) : NULL;
	const ASN1_STRING *s = type_string(t);

	if (!o)
		return;
	if (*listed < ATTRS_MAX - 1 || (total > 0 && total <= ATTRS_MAX))
		attrs_list_add(m, attr_entry(o, a));
	else if (*listed == ATTRS_MAX - 1 && total > ATTRS_MAX)
		attrs_list_add(m, str_printf("(%d more attributes not listed)", total - (ATTRS_MAX - 1)));
	else if (*listed == ATTRS_MAX - 1)
		attrs_list_add(m, strdup("(more attributes not listed)"));
	(*listed)++;
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
		} else if (OBJ_obj2nid(o) == NID_pkcs9_challengePassword) {
			m->has_signed_challenge = 1;
			if (s && !m->signed_challenge)
				m->signed_challenge = str_printable(ASN1_STRING_get0_data(s),
								    (size_t)ASN1_STRING_length(s),
								    ATTR_STR_MAX);
		} else if (oid_is(o, OID_MS_HRESULT, sizeof(OID_MS_HRESULT))) {
			read_ms_hresult(m, s);
		} else if (oid_is(o, OID_MS_STATUS, sizeof(OID_MS_STATUS))) {
			if (s && !m->ms_status_text)
				m->ms_status_text = str_printable(ASN1_STRING_get0_data(s),
								  (size_t)ASN1_STRING_length(s),
								  ATTR_STR_MAX);
		}
		break;
	}
}

static void read_signed_attrs(struct scep_msg *m, CMS_SignerInfo *si)
{
	int i, n = CMS_signed_get_attr_count(si), listed = 0;

	for (i = 0; i < n; i++)
		read_attr(m, CMS_signed_get_attr(si, i), n, &listed);
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

/* A recipient's or signer's certificate identifier as two strings: issuer
 * and upper-case hex serial, or "(subjectKeyIdentifier)" and keyid:<hex>. */
static void cert_id_strings(const ASN1_OCTET_STRING *keyid, const X509_NAME *issuer,
			    const ASN1_INTEGER *sno, char **issuer_out, char **serial_out)
{
	if (issuer) {
		*issuer_out = name_str(issuer);
		*serial_out = integer_hex(sno);
	} else if (keyid) {
		char hex[2 * 64 + 1];
		unsigned kl = (unsigned)ASN1_STRING_length(keyid);

		hex_lower(ASN1_STRING_get0_data(keyid), kl > 64 ? 64 : kl, hex, sizeof(hex));
		*issuer_out = strdup("(subjectKeyIdentifier)");
		*serial_out = str_printf("keyid:%s", hex);
	}
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
		if (CMS_RecipientInfo_ktri_get0_signer_id(ri, &keyid, &issuer, &sno) == 1)
			cert_id_strings(keyid, issuer, sno, &rc->issuer, &rc->serial);
		if (!m->key_enc_alg && CMS_RecipientInfo_ktri_get0_algs(ri, NULL, NULL, &palg) == 1 && palg)
			m->key_enc_alg = obj_name(palg->algorithm);
	}
}

/* "ISSUER serial SERIAL; ISSUER2 serial SERIAL2": which certificates a key
 * should have belonged to. Malloc'ed. */
static char *recipients_text(const struct scep_msg *m)
{
	char *out = NULL;
	size_t i;

	for (i = 0; i < m->n_recipients && i < 8; i++) {
		char *next = str_printf("%s%s%s serial %s", out ? out : "", out ? "; " : "",
					m->recipients[i].issuer ? m->recipients[i].issuer : "?",
					m->recipients[i].serial ? m->recipients[i].serial : "?");

		free(out);
		out = next;
		if (!out)
			return NULL;
	}
	return out ? out : strdup("no recipient with an issuer and serial");
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
			set_first(&m->decrypt_error,
				  str_printf("the key opened the key transport but the content did not decrypt (%s)",
					    ossl_reason()));
			ERR_clear_error();
		}
	}
	if (!tried)
		set_first(&m->decrypt_error, strdup("no key-transport recipient to decrypt"));
	else {
		char *who = recipients_text(m);

		set_first(&m->decrypt_error,
			  str_printf("none of the %zu loaded key%s opens the envelope (it is for %s)",
				    keys->n_pkeys, keys->n_pkeys == 1 ? "" : "s", who ? who : "?"));
		free(who);
	}
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

/* GetCert / GetCRL (RFC 8894 3.3.3, 3.3.4): IssuerAndSerialNumber, which
 * OpenSSL has a template for. */
static void issuer_and_serial(struct scep_msg *m, const uint8_t *p, size_t len)
{
	const unsigned char *q = p;
	PKCS7_ISSUER_AND_SERIAL *ias;

	if (len > LONG_MAX || !(ias = d2i_PKCS7_ISSUER_AND_SERIAL(NULL, &q, (long)len))) {
		set_first(&m->error, parse_error("decrypted content is not an IssuerAndSerialNumber", p, len));
		return;
	}
	m->req_issuer = name_str(ias->issuer);
	m->req_serial = integer_hex(ias->serial);
	PKCS7_ISSUER_AND_SERIAL_free(ias);
}

/* CertPoll (RFC 8894 3.3.2): IssuerAndSubject ::= SEQUENCE { issuer Name,
 * subject Name }. OpenSSL has no template for it: the SEQUENCE header is
 * read with ASN1_get_object and each Name with d2i_X509_NAME, both held to
 * the SEQUENCE's bytes. */
static void issuer_and_subject(struct scep_msg *m, const uint8_t *p, size_t len)
{
	const unsigned char *q = p, *end;
	long plen = 0;
	int tag = 0, cls = 0, ret;
	X509_NAME *issuer = NULL, *subject = NULL;

	if (len > LONG_MAX)
		return;
	ret = ASN1_get_object(&q, &plen, &tag, &cls, (long)len);
	if ((ret & 0x80) || !(ret & V_ASN1_CONSTRUCTED) || tag != V_ASN1_SEQUENCE || cls != 0 ||
	    (ret & 1)) {
		set_first(&m->error, parse_error("decrypted content is not an IssuerAndSubject", p, len));
		return;
	}
	end = q + plen;
	issuer = d2i_X509_NAME(NULL, &q, end - q);
	if (issuer && q < end)
		subject = d2i_X509_NAME(NULL, &q, end - q);
	if (!issuer || !subject)
		set_first(&m->error, str_printf("decrypted IssuerAndSubject: %s does not parse (%s)",
					       issuer ? "subject" : "issuer", ossl_reason()));
	m->req_issuer = name_str(issuer);
	m->req_subject = name_str(subject);
	X509_NAME_free(issuer);
	X509_NAME_free(subject);
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
		size_t cut_len = 0, skipped = 0, dropped;
		uint8_t *cut = certs_cut(p, len, &cut_len, &skipped);
		CMS_ContentInfo *certs = cms_parse(cut ? cut : p, cut ? cut_len : len, libctx);
		STACK_OF(X509) *sk;

		free(cut);
		if (skipped)
			msg_note(m, certs_skipped_text(skipped));
		if (!certs) {
			set_first(&m->error, parse_error("decrypted CertRep content is not a certs-only PKCS#7",
							 p, len));
			break;
		}
		sk = CMS_get1_certs(certs);
		dropped = certs_from_stack(sk, &m->rep_certs, &m->n_rep_certs);
		sk_X509_pop_free(sk, X509_free);
		CMS_ContentInfo_free(certs);
		if (dropped)
			msg_note(m, certs_skipped_text(dropped));
		if (!m->n_rep_certs && m->pki_status == SCEP_STATUS_SUCCESS)
			set_first(&m->error, strdup("CertRep SUCCESS envelope holds no certificate"));
		pick_issued(m);
		break;
	}
	case SCEP_MT_CERTPOLL:
		issuer_and_subject(m, p, len);
		break;
	case SCEP_MT_GETCERT:
	case SCEP_MT_GETCRL:
		issuer_and_serial(m, p, len);
		break;
	default:
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
		set_first(&m->error, parse_error("pkcsPKIEnvelope is not a CMS ContentInfo", p, len));
		return;
	}
	if (OBJ_obj2nid(CMS_get0_type(env)) != NID_pkcs7_enveloped) {
		char *t = obj_name(CMS_get0_type(env));

		set_first(&m->error, str_printf("pkcsPKIEnvelope is %s, not envelopedData", t ? t : "?"));
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
 * tool reports what was sent, trust decisions are the peers'. certs are
 * further candidates for the signer (--ca-cert). */
static int verify_signature(CMS_ContentInfo *cms, STACK_OF(X509) *certs)
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
	ok = CMS_verify(cms, certs, NULL, dcont, NULL, CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) == 1;
	BIO_free(dcont);
	ERR_clear_error();
	return ok;
}

/* OpenSSL's CMS verifier refuses signed attributes without contentType
 * (RFC 5652 5.3) before it looks at the signature; its PKCS#7 verifier
 * checks only messageDigest and the signature over the attributes
 * (RFC 2315 9.3). So a message that breaks only that rule (libscep's
 * CertReps) is checked through PKCS#7, with the signer already found. */
static int verify_signature_pkcs7(const uint8_t *der, size_t len, X509 *signer, OSSL_LIB_CTX *libctx)
{
	const unsigned char *q = der;
	STACK_OF(X509) *certs = sk_X509_new_null();
	PKCS7 *p7 = PKCS7_new_ex(libctx, NULL);
	BIO *dcont = NULL;
	int ok = -1;

	if (!certs || !p7 || len > LONG_MAX || !sk_X509_push(certs, signer))
		goto out;
	if (!d2i_PKCS7(&p7, &q, (long)len)) {
		p7 = NULL;      /* freed by d2i on failure */
		goto out;
	}
	if (PKCS7_get_detached(p7) && !(dcont = BIO_new_mem_buf("", 0)))
		goto out;
	ok = PKCS7_verify(p7, certs, NULL, dcont, NULL,
			  PKCS7_NOVERIFY | PKCS7_NOINTERN | PKCS7_NOCHAIN | PKCS7_BINARY) == 1;
out:
	BIO_free(dcont);
	PKCS7_free(p7);
	sk_X509_free(certs);
	ERR_clear_error();
	return ok;
}

/* The SignerInfo's sid, shown whether or not a certificate matches it. */
static void read_signer_id(struct scep_msg *m, CMS_SignerInfo *si)
{
	ASN1_OCTET_STRING *keyid = NULL;
	X509_NAME *issuer = NULL;
	ASN1_INTEGER *sno = NULL;

	if (CMS_SignerInfo_get0_signer_id(si, &keyid, &issuer, &sno) == 1)
		cert_id_strings(keyid, issuer, sno, &m->signer_issuer, &m->signer_serial);
}

/* The signer's certificate: one the message carries, else one the user
 * gave (--ca-cert). */
static X509 *find_signer(struct scep_msg *m, CMS_ContentInfo *cms, CMS_SignerInfo *si,
			 const struct scep_keys *keys)
{
	X509 *signer = NULL;

	CMS_set1_signers_certs(cms, NULL, 0);
	ERR_clear_error();
	CMS_SignerInfo_get0_algs(si, NULL, &signer, NULL, NULL);
	if (signer) {
		m->signer_from = SCEP_SIGNER_IN_MESSAGE;
		return signer;
	}
	if (!keys || !keys->given_certs)
		return NULL;
	CMS_set1_signers_certs(cms, keys->given_certs, 0);
	ERR_clear_error();
	CMS_SignerInfo_get0_algs(si, NULL, &signer, NULL, NULL);
	if (signer)
		m->signer_from = SCEP_SIGNER_GIVEN;
	return signer;
}

/* The carried certificates other than the signer's. */
static void read_other_certs(struct scep_msg *m, CMS_ContentInfo *cms, X509 *signer)
{
	STACK_OF(X509) *sk = CMS_get1_certs(cms);
	int i;

	for (i = 0; sk && i < sk_X509_num(sk); i++) {
		X509 *x = sk_X509_value(sk, i);

		if (signer && X509_cmp(x, signer) == 0)
			continue;
		if (certs_append(&m->other_certs, &m->n_other_certs, x) < 0) {
			msg_note(m, str_printf("more than %d certificates; the rest not listed", CERTS_KEPT_MAX));
			break;
		}
	}
	sk_X509_pop_free(sk, X509_free);
}

/* RFC 8894 3.2.1: what every pkiMessage, and every CertRep, must carry.
 * A message without them still decodes; the note says what a strict
 * peer will refuse. */
static void check_required_attrs(struct scep_msg *m)
{
	if (m->lacks_content_type)
		msg_note(m, strdup("signed attributes lack contentType, which strict verifiers such as "
				   "OpenSSL reject (RFC 5652 5.3)"));
	if (m->message_type == SCEP_MT_NONE)
		msg_note(m, strdup("no messageType attribute"));
	else if (!scep_msg_type_name(m->message_type))
		msg_note(m, str_printf("messageType %d is none of RFC 8894's", m->message_type));
	if (!m->transaction_id)
		msg_note(m, strdup("no transactionID attribute"));
	if (!m->sender_nonce_len)
		msg_note(m, strdup("no senderNonce attribute (RFC 8894 3.2.1.5: every message carries one)"));
	if (m->message_type != SCEP_MT_CERTREP)
		return;
	if (m->pki_status == SCEP_STATUS_NONE)
		msg_note(m, strdup("CertRep without a pkiStatus attribute"));
	else if (!scep_pki_status_name(m->pki_status))
		msg_note(m, str_printf("pkiStatus %d is none of RFC 8894's (0, 2, 3)", m->pki_status));
	if (!m->recipient_nonce_len)
		msg_note(m, strdup("CertRep without a recipientNonce: the client cannot match it to its request"));
	if (m->pki_status == SCEP_STATUS_FAILURE && m->fail_info == SCEP_FAIL_NONE)
		msg_note(m, strdup("FAILURE without a failInfo attribute"));
	else if (m->fail_info != SCEP_FAIL_NONE && !scep_fail_info_name(m->fail_info))
		msg_note(m, str_printf("failInfo %d is none of RFC 8894's (0-4)", m->fail_info));
}

static void decode_signed(struct scep_msg *m, CMS_ContentInfo *cms, const uint8_t *der, size_t len,
			  const struct scep_keys *keys)
{
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
	CMS_SignerInfo *si;
	X509 *signer;
	X509_ALGOR *dig = NULL, *sig = NULL;
	ASN1_OCTET_STRING **content;

	if (!sis || sk_CMS_SignerInfo_num(sis) == 0) {
		set_first(&m->error, strdup("signedData has no signerInfo"));
		return;
	}
	si = sk_CMS_SignerInfo_value(sis, 0);
	read_signer_id(m, si);
	signer = find_signer(m, cms, si, keys);
	read_other_certs(m, cms, signer);
	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, &sig);
	if (dig)
		m->digest_alg = obj_name(dig->algorithm);
	if (sig)
		m->sig_alg = obj_name(sig->algorithm);
	read_signed_attrs(m, si);
	m->lacks_content_type = CMS_signed_get_attr_count(si) > 0 &&
				CMS_signed_get_attr_by_NID(si, NID_pkcs9_contentType, -1) < 0;
	if (signer) {
		m->signer = cert_from_x509(signer);
		m->signature_ok = m->lacks_content_type ?
			verify_signature_pkcs7(der, len, signer, keys ? keys->libctx : NULL) :
			verify_signature(cms, keys ? keys->given_certs : NULL);
	}
	check_required_attrs(m);
	content = CMS_get0_content(cms);
	if (!content || !*content || ASN1_STRING_length(*content) <= 0)
		return;
	/* A FAILURE or PENDING has no envelope to carry; NDES puts a single
	 * 0x00 byte where it would be. Only what could be one is read. */
	if (m->message_type == SCEP_MT_CERTREP && m->pki_status != SCEP_STATUS_SUCCESS &&
	    ASN1_STRING_get0_data(*content)[0] != 0x30)
		return;
	decode_envelope(m, ASN1_STRING_get0_data(*content), (size_t)ASN1_STRING_length(*content), keys);
}

/* ---- damaged input: decode as far as it goes ----
 *
 * When d2i_CMS_ContentInfo refuses a message (a device log cut it in the
 * middle, a proxy mangled a byte), the TLV headers are walked with
 * ASN1_get_object along the pkiMessage grammar, descending into elements
 * even when they are cut short, and every element that is whole is handed
 * to OpenSSL's own d2i (certificates, IssuerAndSerialNumber, attributes,
 * algorithm identifiers). In SignedData the pkcsPKIEnvelope (and so its
 * recipient) comes before certificates and signerInfos, so a message cut
 * in its signature still tells whom it was encrypted to. */

struct salvage {
	const uint8_t *base;      /* offsets in messages are counted from here */
	const uint8_t *end;       /* end of the input */
	int in_copy;              /* walking joined BER chunks: offsets are not the input's */
	const char *copy_where;   /* where a walk over joined chunks stopped */
	const char *where;        /* part of the grammar being read */
	int stopped;
	size_t stop_off;
	const char *stop_where;
	char stop_why[112];
	struct scep_msg *m;
	STACK_OF(X509) *certs;
	PKCS7_ISSUER_AND_SERIAL *sid;
	int attrs_listed;
};

struct tlv {
	const uint8_t *hdr;       /* the element's first byte */
	size_t hl;                /* header length */
	int tag, cls, cons, indef;
	int cut;                  /* content shorter than its length says */
	struct rd body;           /* the content, or what is there of it */
	size_t whole_len;         /* header + content when whole, else 0 */
};

static size_t salv_off(const struct salvage *s, const uint8_t *p)
{
	return (size_t)(p - s->base);
}

/* The first reason wins: it is the innermost, as the walk records on its
 * way out. Walks over joined chunks record nothing: the walk over the
 * chunks themselves finds the same place in input offsets. */
static void salv_stop(struct salvage *s, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (s->in_copy && !s->copy_where)
		s->copy_where = s->where;
	if (s->stopped || s->in_copy)
		return;
	s->stopped = 1;
	s->stop_off = off;
	s->stop_where = s->where;
	va_start(ap, fmt);
	vsnprintf(s->stop_why, sizeof(s->stop_why), fmt, ap);
	va_end(ap);
}

static void salv_trunc(struct salvage *s)
{
	salv_stop(s, salv_off(s, s->end), "truncated");
}

/* Reads the next element's header from r. Returns 1 with *t filled, 0 at
 * the end of r or when the header is unreadable (stop recorded). Definite
 * elements are consumed from r (all of r when cut); for indefinite ones
 * t->body is the rest of r and tlv_close() moves r past the end. */
static int tlv_get(struct salvage *s, struct rd *r, struct tlv *t)
{
	const unsigned char *hdr = rd_ptr(r), *q = hdr;
	long plen = 0, avail;
	int ret;

	memset(t, 0, sizeof(*t));
	if (rd_left(r) == 0)
		return 0;
	avail = rd_left(r) > LONG_MAX ? LONG_MAX : (long)rd_left(r);
	ret = ASN1_get_object(&q, &plen, &t->tag, &t->cls, avail);
	t->hdr = hdr;
	t->hl = (size_t)(q - hdr);
	if ((ret & 0x80) && t->hl == 0) {
		/* a header cut by the end of the input, or bytes that are not one */
		if (hdr + rd_left(r) == s->end && rd_left(r) < 8)
			salv_trunc(s);
		else
			salv_stop(s, salv_off(s, hdr), "bad ASN.1 header");
		return 0;
	}
	t->cons = (ret & V_ASN1_CONSTRUCTED) != 0;
	t->indef = ret & 1;
	rd_skip(r, t->hl);
	if (t->indef) {
		t->body = *r;
		return 1;
	}
	if ((ret & 0x80) || plen < 0 || (size_t)plen > rd_left(r)) {
		t->cut = 1;
		rd_sub(r, rd_left(r), &t->body);
		return 1;
	}
	rd_sub(r, (size_t)plen, &t->body);
	t->whole_len = t->hl + (size_t)plen;
	return 1;
}

static int at_eoc(const struct rd *r)
{
	struct rd peek = *r;
	uint8_t a = 1, b = 1;

	return rd_u8(&peek, &a) && rd_u8(&peek, &b) && a == 0 && b == 0;
}

/* The next element inside parent; 0 at the end of its content (the end of
 * its bytes, or the end-of-contents of an indefinite one, which is left
 * for tlv_close). A parent cut short records the truncation. */
static int tlv_child(struct salvage *s, struct tlv *parent, struct tlv *c)
{
	if (parent->indef && at_eoc(&parent->body))
		return 0;
	if (tlv_get(s, &parent->body, c))
		return 1;
	if (rd_left(&parent->body) == 0 && (parent->cut || parent->indef))
		salv_trunc(s);
	return 0;
}

static int tlv_is(const struct tlv *t, int cls, int cons, int tag)
{
	return t->cls == cls && t->cons == cons && t->tag == tag;
}

static int salv_skip(struct salvage *s, struct rd *r, int depth);

/* Done with t, read from r: an indefinite t has the rest of its content
 * skipped up to its end-of-contents and r moved past it; a cut one records
 * the truncation here, where the grammar position is known. */
static int tlv_close(struct salvage *s, struct rd *r, struct tlv *t, int depth)
{
	if (t->cut) {
		salv_trunc(s);
		return -1;
	}
	if (!t->indef)
		return 0;
	while (!at_eoc(&t->body)) {
		if (rd_left(&t->body) == 0) {
			salv_trunc(s);
			return -1;
		}
		if (salv_skip(s, &t->body, depth - 1) < 0)
			return -1;
	}
	rd_skip(&t->body, 2);
	*r = t->body;
	return 0;
}

/* Skips one element, whatever it is; depth-limited for nested BER. */
static int salv_skip(struct salvage *s, struct rd *r, int depth)
{
	struct tlv t;

	if (depth <= 0) {
		salv_stop(s, salv_off(s, rd_ptr(r)), "nested deeper than %d", ASN1_DEPTH_MAX);
		return -1;
	}
	if (!tlv_get(s, r, &t))
		return -1;
	return tlv_close(s, r, &t, depth);
}

/* The next element of parent, which must be (cls, cons, tag). */
static int tlv_expect(struct salvage *s, struct tlv *parent, struct tlv *t, int cls, int cons,
		      int tag, const char *what)
{
	if (!tlv_child(s, parent, t)) {
		salv_stop(s, salv_off(s, rd_ptr(&parent->body)), "%s missing", what);
		return 0;
	}
	if (!tlv_is(t, cls, cons, tag)) {
		salv_stop(s, salv_off(s, t->hdr), "expected %s, found tag 0x%02x", what, t->hdr[0]);
		return 0;
	}
	return 1;
}

/* An element handed to OpenSSL must be whole. */
static int tlv_whole(struct salvage *s, const struct tlv *t)
{
	if (t->whole_len && t->whole_len <= LONG_MAX)
		return 1;
	if (t->cut)
		salv_trunc(s);
	return 0;
}

static X509_ALGOR *tlv_algor(struct salvage *s, const struct tlv *t)
{
	const unsigned char *q = t->hdr;

	if (!tlv_whole(s, t))
		return NULL;
	return d2i_X509_ALGOR(NULL, &q, (long)t->whole_len);
}

static char *algor_name(X509_ALGOR *a)
{
	char *n = a ? obj_name(a->algorithm) : NULL;

	X509_ALGOR_free(a);
	return n;
}

static int tlv_oid_nid(struct salvage *s, const struct tlv *t, char **name)
{
	const unsigned char *q = t->hdr;
	ASN1_OBJECT *o;
	int nid;

	if (!tlv_whole(s, t))
		return -1;
	o = d2i_ASN1_OBJECT(NULL, &q, (long)t->whole_len);
	if (!o) {
		salv_stop(s, salv_off(s, t->hdr), "object identifier does not parse");
		return -1;
	}
	nid = OBJ_obj2nid(o);
	if (name)
		*name = obj_name(o);
	ASN1_OBJECT_free(o);
	return nid;
}

static void add_recipient(struct scep_msg *m, const PKCS7_ISSUER_AND_SERIAL *ias)
{
	struct scep_recipient *grown;

	if (m->n_recipients >= CERTS_MAX)
		return;
	grown = realloc(m->recipients, (m->n_recipients + 1) * sizeof(*grown));
	if (!grown)
		return;
	m->recipients = grown;
	grown[m->n_recipients].issuer = name_str(ias->issuer);
	grown[m->n_recipients].serial = integer_hex(ias->serial);
	m->n_recipients++;
}

/* KeyTransRecipientInfo ::= SEQUENCE { version, rid, keyEncryptionAlgorithm,
 * encryptedKey } (RFC 5652 6.2.1) */
static void salv_ktri(struct salvage *s, struct tlv *ri)
{
	struct tlv t;

	if (!tlv_expect(s, ri, &t, V_ASN1_UNIVERSAL, 0, V_ASN1_INTEGER, "KeyTransRecipientInfo version") ||
	    !tlv_child(s, ri, &t))
		return;
	if (tlv_is(&t, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE)) {
		const unsigned char *q = t.hdr;
		PKCS7_ISSUER_AND_SERIAL *ias;

		if (!tlv_whole(s, &t))
			return;
		ias = d2i_PKCS7_ISSUER_AND_SERIAL(NULL, &q, (long)t.whole_len);
		if (!ias) {
			salv_stop(s, salv_off(s, t.hdr), "recipient issuerAndSerialNumber does not parse");
			return;
		}
		add_recipient(s->m, ias);
		PKCS7_ISSUER_AND_SERIAL_free(ias);
	} else if (tlv_close(s, &ri->body, &t, ASN1_DEPTH_MAX) < 0) {
		return;     /* [0] subjectKeyIdentifier: not what SCEP sends */
	}
	if (!tlv_expect(s, ri, &t, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE, "keyEncryptionAlgorithm"))
		return;
	if (!s->m->key_enc_alg)
		s->m->key_enc_alg = algor_name(tlv_algor(s, &t));
}

/* encryptedContentInfo ::= SEQUENCE { contentType,
 * contentEncryptionAlgorithm, encryptedContent [0] IMPLICIT OPTIONAL } */
static void salv_eci(struct salvage *s, struct tlv *eci)
{
	struct tlv a;

	if (!tlv_expect(s, eci, &a, V_ASN1_UNIVERSAL, 0, V_ASN1_OBJECT, "encrypted contentType") ||
	    !tlv_whole(s, &a) ||
	    !tlv_expect(s, eci, &a, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE, "contentEncryptionAlgorithm"))
		return;
	if (!s->m->content_enc_alg) {
		X509_ALGOR *alg = tlv_algor(s, &a);

		if (alg) {
			s->m->weak_cipher = cipher_is_weak(OBJ_obj2nid(alg->algorithm));
			s->m->content_enc_alg = algor_name(alg);
		}
	}
	s->where = "encryptedContent";
	/* the ciphertext: all that is left to check is that it ends */
	while (!s->stopped && tlv_child(s, eci, &a) && tlv_close(s, &eci->body, &a, ASN1_DEPTH_MAX) == 0)
		;
}

/* pkcsPKIEnvelope: ContentInfo { envelopedData, [0] EnvelopedData {
 * version, originatorInfo [0] OPTIONAL, recipientInfos SET,
 * encryptedContentInfo } } */
static void salv_envelope(struct salvage *s, struct rd *r)
{
	const char *outer = s->where;
	struct tlv ci, oid, x0, ed, t, ri;
	const int depth = ASN1_DEPTH_MAX;

	s->where = "pkcsPKIEnvelope";
	if (!tlv_get(s, r, &ci))
		goto out;
	if (!tlv_is(&ci, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE)) {
		salv_stop(s, salv_off(s, ci.hdr), "envelope is not a SEQUENCE");
		goto out;
	}
	if (!tlv_expect(s, &ci, &oid, V_ASN1_UNIVERSAL, 0, V_ASN1_OBJECT, "envelope contentType"))
		goto out;
	switch (tlv_oid_nid(s, &oid, NULL)) {
	case NID_pkcs7_enveloped:
		s->m->enveloped = 1;
		break;
	case -1:
		goto out;
	default:
		salv_stop(s, salv_off(s, oid.hdr), "pkcsPKIEnvelope is not envelopedData");
		goto out;
	}
	if (!tlv_expect(s, &ci, &x0, V_ASN1_CONTEXT_SPECIFIC, 1, 0, "envelope content [0]") ||
	    !tlv_expect(s, &x0, &ed, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE, "EnvelopedData") ||
	    !tlv_expect(s, &ed, &t, V_ASN1_UNIVERSAL, 0, V_ASN1_INTEGER, "EnvelopedData version") ||
	    !tlv_child(s, &ed, &t))
		goto out;
	if (tlv_is(&t, V_ASN1_CONTEXT_SPECIFIC, 1, 0)) {      /* originatorInfo */
		if (tlv_close(s, &ed.body, &t, depth) < 0 || !tlv_child(s, &ed, &t))
			goto out;
	}
	if (!tlv_is(&t, V_ASN1_UNIVERSAL, 1, V_ASN1_SET)) {
		salv_stop(s, salv_off(s, t.hdr), "expected recipientInfos, found tag 0x%02x", t.hdr[0]);
		goto out;
	}
	s->where = "recipientInfos";
	while (!s->stopped && tlv_child(s, &t, &ri)) {
		if (tlv_is(&ri, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE))
			salv_ktri(s, &ri);
		/* other RecipientInfo kinds are skipped */
		if (s->stopped || tlv_close(s, &t.body, &ri, depth) < 0)
			goto out;
	}
	if (s->stopped || tlv_close(s, &ed.body, &t, depth) < 0)
		goto out;
	s->where = "encryptedContentInfo";
	if (!tlv_expect(s, &ed, &t, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE, "encryptedContentInfo"))
		goto out;
	salv_eci(s, &t);
	s->where = "pkcsPKIEnvelope";
	if (!s->stopped && tlv_close(s, &ed.body, &t, depth) == 0 &&
	    tlv_close(s, &x0.body, &ed, depth) == 0 && tlv_close(s, &ci.body, &x0, depth) == 0)
		tlv_close(s, r, &ci, depth);
out:
	s->where = outer;
}

/* SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, signedAttrs [0]
 * IMPLICIT OPTIONAL, signatureAlgorithm, signature, ... } */
static void salv_signer_info(struct salvage *s, struct tlv *si)
{
	struct tlv t, a;

	if (!tlv_expect(s, si, &t, V_ASN1_UNIVERSAL, 0, V_ASN1_INTEGER, "SignerInfo version") ||
	    !tlv_child(s, si, &t))
		return;
	if (tlv_is(&t, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE)) {
		const unsigned char *q = t.hdr;

		if (!tlv_whole(s, &t))
			return;
		if (!s->sid)    /* the first signer is the one checked, as in the OpenSSL path */
			s->sid = d2i_PKCS7_ISSUER_AND_SERIAL(NULL, &q, (long)t.whole_len);
	} else if (tlv_close(s, &si->body, &t, ASN1_DEPTH_MAX) < 0) {
		return;
	}
	if (!tlv_expect(s, si, &t, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE, "digestAlgorithm"))
		return;
	{
		char *d = algor_name(tlv_algor(s, &t));

		if (d) {
			free(s->m->digest_alg);
			s->m->digest_alg = d;
		}
	}
	if (!tlv_child(s, si, &t))
		return;
	if (tlv_is(&t, V_ASN1_CONTEXT_SPECIFIC, 1, 0)) {
		s->where = "signedAttrs";
		while (!s->stopped && tlv_child(s, &t, &a)) {
			const unsigned char *q = a.hdr;
			X509_ATTRIBUTE *attr;

			if (!tlv_whole(s, &a))
				break;
			attr = d2i_X509_ATTRIBUTE(NULL, &q, (long)a.whole_len);
			if (!attr) {
				salv_stop(s, salv_off(s, a.hdr), "signed attribute does not parse");
				break;
			}
			read_attr(s->m, attr, 0, &s->attrs_listed);
			X509_ATTRIBUTE_free(attr);
		}
		if (s->stopped || tlv_close(s, &si->body, &t, ASN1_DEPTH_MAX) < 0)
			return;
		s->where = "signerInfos";
		if (!tlv_child(s, si, &t))
			return;
	}
	if (!tlv_is(&t, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE))
		return;
	set_first(&s->m->sig_alg, algor_name(tlv_algor(s, &t)));
	s->where = "signature";
	if (!s->stopped && tlv_child(s, si, &t))
		tlv_close(s, &si->body, &t, ASN1_DEPTH_MAX);
}

/* Envelope bytes found in encapContentInfo. Whole ones are opened after
 * the walk, once messageType (which comes later, in signerInfos) says what
 * the plaintext is. */
struct salv_env {
	const uint8_t *p;
	size_t len;
	uint8_t *copy;            /* BER chunks joined, when the eContent was constructed */
	int whole;
};

static void salv_envelope_copy(struct salvage *s, const uint8_t *p, size_t len)
{
	const uint8_t *sb = s->base, *se = s->end;
	int was = s->in_copy;
	struct rd er;

	s->in_copy = 1;
	s->base = p;
	s->end = p + len;
	rd_init(&er, p, len);
	salv_envelope(s, &er);
	s->in_copy = was;
	s->base = sb;
	s->end = se;
}

/* encapContentInfo ::= SEQUENCE { eContentType, eContent [0] EXPLICIT
 * OCTET STRING OPTIONAL }; iOS sends the OCTET STRING constructed, in
 * chunks, which are joined (up to SALVAGE_MAX) before the envelope is read. */
static void salv_encap(struct salvage *s, struct tlv *eci, struct salv_env *env)
{
	struct tlv t, x0, os, chunk;
	size_t have = 0;
	int whole = 1;

	if (!tlv_expect(s, eci, &t, V_ASN1_UNIVERSAL, 0, V_ASN1_OBJECT, "eContentType"))
		return;
	if (!tlv_child(s, eci, &x0))
		return;                 /* no content: a FAILURE or PENDING CertRep */
	if (!tlv_is(&x0, V_ASN1_CONTEXT_SPECIFIC, 1, 0)) {
		salv_stop(s, salv_off(s, x0.hdr), "expected eContent [0], found tag 0x%02x", x0.hdr[0]);
		return;
	}
	if (!tlv_child(s, &x0, &os))
		return;
	if (os.cls != V_ASN1_UNIVERSAL || os.tag != V_ASN1_OCTET_STRING) {
		salv_stop(s, salv_off(s, os.hdr), "expected eContent OCTET STRING, found tag 0x%02x", os.hdr[0]);
		return;
	}
	s->where = "pkcsPKIEnvelope";
	if (!os.cons) {
		env->p = rd_ptr(&os.body);
		env->len = rd_left(&os.body);
		env->whole = !os.cut;
		if (os.cut) {
			salv_envelope(s, &os.body);     /* the cut is inside: say where */
			salv_trunc(s);
			return;
		}
	} else {
		env->copy = malloc(SALVAGE_MAX);
		if (!env->copy)
			return;
		while (tlv_child(s, &os, &chunk)) {
			size_t n = rd_left(&chunk.body);

			if (chunk.cons || chunk.tag != V_ASN1_OCTET_STRING) {
				salv_stop(s, salv_off(s, chunk.hdr), "eContent chunk is not an OCTET STRING");
				whole = 0;
				break;
			}
			if (n > SALVAGE_MAX - have) {
				salv_stop(s, salv_off(s, chunk.hdr), "eContent longer than %u bytes", SALVAGE_MAX);
				whole = 0;
				break;
			}
			memcpy(env->copy + have, rd_ptr(&chunk.body), n);
			have += n;
			if (chunk.cut) {
				whole = 0;
				break;
			}
		}
		env->p = env->copy;
		env->len = have;
		if (!whole || s->stopped || tlv_close(s, &x0.body, &os, ASN1_DEPTH_MAX) < 0)
			whole = 0;
		env->whole = whole;
		if (!whole) {
			/* the chunks end where the input does: the part of the
			 * envelope reached is the walk's over the joined copy */
			salv_envelope_copy(s, env->copy, have);
			if (s->copy_where)
				s->where = s->copy_where;
			salv_trunc(s);
			return;
		}
	}
	s->where = "encapContentInfo";
	if (!s->stopped)
		tlv_close(s, &eci->body, &x0, ASN1_DEPTH_MAX);
}

static void salv_signed_data(struct salvage *s, struct tlv *sd, struct salv_env *env)
{
	struct tlv t, a;

	s->where = "signedData";
	if (!tlv_expect(s, sd, &t, V_ASN1_UNIVERSAL, 0, V_ASN1_INTEGER, "SignedData version"))
		return;
	s->where = "digestAlgorithms";
	if (!tlv_expect(s, sd, &t, V_ASN1_UNIVERSAL, 1, V_ASN1_SET, "digestAlgorithms"))
		return;
	if (tlv_child(s, &t, &a) && tlv_is(&a, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE))
		set_first(&s->m->digest_alg, algor_name(tlv_algor(s, &a)));
	if (s->stopped || tlv_close(s, &sd->body, &t, ASN1_DEPTH_MAX) < 0)
		return;
	s->where = "encapContentInfo";
	if (!tlv_expect(s, sd, &t, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE, "encapContentInfo"))
		return;
	salv_encap(s, &t, env);
	if (s->stopped || tlv_close(s, &sd->body, &t, ASN1_DEPTH_MAX) < 0)
		return;
	while (!s->stopped && tlv_child(s, sd, &t)) {
		if (tlv_is(&t, V_ASN1_CONTEXT_SPECIFIC, 1, 0)) {
			s->where = "certificates";
			while (!s->stopped && tlv_child(s, &t, &a)) {
				const unsigned char *q = a.hdr;
				X509 *x;

				if (!tlv_whole(s, &a))
					break;
				if (!tlv_is(&a, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE))
					continue;       /* other certificate formats */
				x = d2i_X509(NULL, &q, (long)a.whole_len);
				if (!x) {
					salv_stop(s, salv_off(s, a.hdr), "certificate does not parse");
					break;
				}
				if (!s->certs)
					s->certs = sk_X509_new_null();
				if (!s->certs || sk_X509_num(s->certs) >= CERTS_MAX || !sk_X509_push(s->certs, x))
					X509_free(x);
			}
		} else if (tlv_is(&t, V_ASN1_UNIVERSAL, 1, V_ASN1_SET)) {
			s->where = "signerInfos";
			if (tlv_child(s, &t, &a) && tlv_is(&a, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE)) {
				salv_signer_info(s, &a);
				s->where = "signerInfos";
				if (!s->stopped)
					tlv_close(s, &t.body, &a, ASN1_DEPTH_MAX);
			}
		} else {
			s->where = "crls";
		}
		if (!s->stopped)
			tlv_close(s, &sd->body, &t, ASN1_DEPTH_MAX);
	}
}

static X509 *cert_by_issuer_serial(STACK_OF(X509) *certs, const PKCS7_ISSUER_AND_SERIAL *sid)
{
	int i, n = certs ? sk_X509_num(certs) : 0;

	for (i = 0; sid && i < n; i++) {
		X509 *x = sk_X509_value(certs, i);

		if (X509_NAME_cmp(X509_get_issuer_name(x), sid->issuer) == 0 &&
		    ASN1_INTEGER_cmp(X509_get0_serialNumber(x), sid->serial) == 0)
			return x;
	}
	return NULL;
}

/* The certificate the signerInfo names, else the only one carried, else
 * one the user gave (--ca-cert). */
static X509 *salv_signer_cert(const struct salvage *s, const struct scep_keys *keys)
{
	X509 *x = cert_by_issuer_serial(s->certs, s->sid);

	if (x)
		return x;
	if (s->certs && sk_X509_num(s->certs) == 1)
		return sk_X509_value(s->certs, 0);
	return cert_by_issuer_serial(keys ? keys->given_certs : NULL, s->sid);
}

static void decode_envelope(struct scep_msg *m, const uint8_t *p, size_t len,
			    const struct scep_keys *keys);

/* The whole envelope of a damaged message: OpenSSL opens it (and decrypts
 * it with the keys) when it parses, else it is walked as well. */
static void salv_open_envelope(struct salvage *s, const struct salv_env *env,
			       const struct scep_keys *keys)
{
	CMS_ContentInfo *probe;
	int was = s->stopped;

	if (!env->p || !env->whole)
		return;
	probe = cms_parse(env->p, env->len, keys ? keys->libctx : NULL);
	if (probe) {
		CMS_ContentInfo_free(probe);
		decode_envelope(s->m, env->p, env->len, keys);
		return;
	}
	if (s->m->n_recipients)
		return;
	if (env->copy) {
		salv_envelope_copy(s, env->p, env->len);
	} else {
		struct rd er;

		rd_init(&er, env->p, env->len);
		s->stopped = 0;
		salv_envelope(s, &er);
		s->stopped |= was;
	}
}

/* What the walk got, for the error text: "contentType, signer, recipient". */
static void salv_recovered(const struct scep_msg *m, struct name_list *got)
{
	if (m->content_type)
		names_add(got, "contentType");
	if (m->signer || m->signer_issuer)
		names_add(got, "signer");
	if (m->n_recipients)
		names_add(got, m->n_recipients > 1 ? "recipients" : "recipient");
	if (m->content_enc_alg)
		names_add(got, "contentEncryption");
	if (m->message_type != SCEP_MT_NONE)
		names_add(got, "messageType");
	if (m->pki_status != SCEP_STATUS_NONE)
		names_add(got, "pkiStatus");
	if (m->fail_info != SCEP_FAIL_NONE)
		names_add(got, "failInfo");
	if (m->transaction_id)
		names_add(got, "transactionID");
	if (m->sender_nonce_len)
		names_add(got, "senderNonce");
	if (m->recipient_nonce_len)
		names_add(got, "recipientNonce");
	if (m->csr)
		names_add(got, "CSR");
	if (m->n_rep_certs)
		names_add(got, "issued certificate");
}

/* Fills what it can of m from a message d2i refused. Returns the error
 * text, or NULL when nothing at all came out (the caller keeps its own
 * reason then). */
static char *salvage_message(struct scep_msg *m, const uint8_t *der, size_t len,
			     const struct scep_keys *keys)
{
	struct salvage s = { .base = der, .end = der + len, .m = m, .where = "ContentInfo" };
	struct salv_env env = { .p = NULL };
	struct name_list got = { .n = 0 };
	struct tlv ci, oid, x0, sd;
	struct rd r;
	size_t total = 0;
	char *inner, *msg, *full;
	X509 *sx;
	int nid;

	rd_init(&r, der, len);
	if (!tlv_get(&s, &r, &ci) || !tlv_is(&ci, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE))
		goto done;
	if (!ci.indef) {
		/* what the header says the whole message measures */
		total = ci.hl + (ci.cut ? 0 : rd_left(&ci.body));
		if (ci.cut) {
			const unsigned char *q = der;
			long plen = 0;
			int tag, cls;

			ASN1_get_object(&q, &plen, &tag, &cls, (long)len);
			total = (size_t)(q - der) + (size_t)plen;
		}
	}
	if (!tlv_expect(&s, &ci, &oid, V_ASN1_UNIVERSAL, 0, V_ASN1_OBJECT, "contentType"))
		goto done;
	nid = tlv_oid_nid(&s, &oid, &m->content_type);
	if (nid < 0)
		goto done;
	if (nid != NID_pkcs7_signed) {
		salv_stop(&s, salv_off(&s, oid.hdr), "ContentInfo is %s, not signedData",
			  m->content_type ? m->content_type : "?");
		goto done;
	}
	if (!tlv_expect(&s, &ci, &x0, V_ASN1_CONTEXT_SPECIFIC, 1, 0, "content [0]") ||
	    !tlv_expect(&s, &x0, &sd, V_ASN1_UNIVERSAL, 1, V_ASN1_SEQUENCE, "SignedData"))
		goto done;
	salv_signed_data(&s, &sd, &env);
	s.where = "signedData";
	if (!s.stopped && tlv_close(&s, &x0.body, &sd, ASN1_DEPTH_MAX) == 0 &&
	    tlv_close(&s, &ci.body, &x0, ASN1_DEPTH_MAX) == 0)
		tlv_close(&s, &r, &ci, ASN1_DEPTH_MAX);
done:
	if (s.sid) {
		m->signer_issuer = name_str(s.sid->issuer);
		m->signer_serial = integer_hex(s.sid->serial);
	}
	sx = salv_signer_cert(&s, keys);
	if (sx)
		m->signer = cert_from_x509(sx);
	sk_X509_pop_free(s.certs, X509_free);
	PKCS7_ISSUER_AND_SERIAL_free(s.sid);
	salv_open_envelope(&s, &env, keys);
	free(env.copy);
	ERR_clear_error();
	/* errors of what the envelope held (a CSR that does not parse) */
	inner = m->error;
	m->error = NULL;
	salv_recovered(m, &got);
	m->partial = got.n > 0;
	if (!m->partial) {
		free(inner);
		return NULL;
	}
	m->cut = s.stopped && strcmp(s.stop_why, "truncated") == 0;
	if (s.stopped && strcmp(s.stop_why, "truncated") == 0 && total > len)
		msg = str_printf("truncated at byte %zu of %zu (inside %s)", s.stop_off, total, s.stop_where);
	else if (s.stopped && strcmp(s.stop_why, "truncated") == 0)
		msg = str_printf("truncated at byte %zu (inside %s)", s.stop_off, s.stop_where);
	else if (s.stopped)
		msg = str_printf("damaged at byte %zu (inside %s): %s", s.stop_off, s.stop_where, s.stop_why);
	else
		msg = parse_error("damaged", der, len);
	full = str_printf("%s: recovered %s%s%s", msg ? msg : "damaged", got.buf,
			  inner ? "; " : "", inner ? inner : "");
	free(msg);
	free(inner);
	return full;
}

/* Bytes the first element of p takes, indefinite lengths followed to
 * their end-of-contents; 0 when it does not end inside p. */
static size_t element_len(const uint8_t *p, size_t len)
{
	struct salvage s = { .base = p, .end = p + len, .where = "" };
	struct rd r;

	rd_init(&r, p, len);
	if (salv_skip(&s, &r, ASN1_DEPTH_MAX) < 0)
		return 0;
	return len - rd_left(&r);
}

struct scep_msg *scep_decode_pki_message(const uint8_t *der, size_t len,
					 const struct scep_keys *keys)
{
	struct scep_msg *m = calloc(1, sizeof(*m));
	CMS_ContentInfo *cms;
	struct rd r;
	uint8_t tag = 0, l0 = 0, *cut = NULL;
	size_t cut_len = 0, skipped = 0;

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
	/* the signature is over the content and signed attributes, not the
	 * certificate set: what certs_cut leaves out changes no check */
	cut = certs_cut(der, len, &cut_len, &skipped);
	cms = cms_parse_cached(cut ? cut : der, cut ? cut_len : len, keys);
	if (!cms) {
		char *why = parse_error("not a CMS ContentInfo", der, len);

		m->error = salvage_message(m, der, len, keys);
		if (m->error)
			free(why);
		else
			m->error = why;
		goto out;
	}
	m->content_type = obj_name(CMS_get0_type(cms));
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		char *t = obj_name(CMS_get0_type(cms));

		m->error = str_printf("ContentInfo is %s, not signedData", t ? t : "?");
		free(t);
		CMS_ContentInfo_free(cms);
		goto out;
	}
	m->decoded = 1;
	{
		size_t used = element_len(der, len);

		if (used && used < len) {
			m->trailing_bytes = len - used;
			msg_note(m, str_printf("%zu byte%s after the end of the message (ignored)",
					       m->trailing_bytes, m->trailing_bytes == 1 ? "" : "s"));
		}
	}
	decode_signed(m, cms, cut ? cut : der, cut ? cut_len : len, keys);
	if (skipped)
		msg_note(m, certs_skipped_text(skipped));
	CMS_ContentInfo_free(cms);
out:
	free(cut);
	ERR_pop_to_mark();
	return m;
}

/* ---- GetCACert ---- */

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
		cut = certs_cut(der, len, &cut_len, &skipped);
		cms = cms_parse(cut ? cut : der, cut ? cut_len : len, NULL);
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
			certs_append(&arr, &cnt, x);
			X509_free(x);
			ret = cnt ? 0 : -1;
			goto out;
		}
		ERR_clear_error();
		{
			size_t cut_len = 0, skipped = 0;
			uint8_t *cut = certs_cut(body, len, &cut_len, &skipped);
			CMS_ContentInfo *cms = cms_parse(cut ? cut : body, cut ? cut_len : len, NULL);
			ASN1_OCTET_STRING **content;
			STACK_OF(X509) *sk;

			free(cut);
			dropped += skipped;
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
				const uint8_t *ip = ASN1_STRING_get0_data(*content);
				size_t ilen = (size_t)ASN1_STRING_length(*content);
				CMS_ContentInfo *inner;

				cut = certs_cut(ip, ilen, &cut_len, &skipped);
				inner = cms_parse(cut ? cut : ip, cut ? cut_len : ilen, NULL);
				free(cut);
				dropped += skipped;
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
		*error = certs_skipped_text(dropped);
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

/* A copy of what the slot holds, as scep_decode_ca_certs would return it. */
static int ca_slot_answer(const struct ca_cache_slot *s, struct scep_cert ***out, size_t *n,
			  char **error)
{
	if (certs_dup(s->certs, s->n, out) < 0)
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
	if (!s->body || certs_dup(certs, n, &s->certs) < 0 || (error && !(s->error = strdup(error)))) {
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
