/* cms_parse.c - DER into a CMS_ContentInfo: the plain d2i in the keys'
 * library context, the certificate set of a SignedData cut to what is read
 * (p7_certs_cut), and a parse that reuses certificates seen in earlier
 * messages (p7_cms_parse_cached). Trusts nothing: the few elements read
 * here are bounded by ASN1_get_object against the bytes left, and every
 * structure is still parsed by OpenSSL. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "strutil.h"
#include "scep.h"
#include "pkcs7_internal.h"

/* Certificates carried in pkiMessages, by DER: every CertRep of a server
 * carries the same CA/RA certificate. See p7_cms_parse_cached. */
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

/* d2i in the keys' library context, so later decryption and digests fetch
 * algorithms (DES from the legacy provider) from there. */
CMS_ContentInfo *p7_cms_parse(const uint8_t *p, size_t len, OSSL_LIB_CTX *libctx)
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

/* Whether p7_certs_cut keeps certificate number i of the set. */
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
uint8_t *p7_certs_cut(const uint8_t *p, size_t len, size_t *cut_len, size_t *skipped)
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

/* The note for certificates p7_certs_cut left out. */
char *p7_certs_skipped_text(size_t skipped)
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

/* p7_cms_parse for pkiMessages. OpenSSL 3.0 spends about a million
 * instructions building a key decoder for each certificate it parses, and
 * every CertRep of a server carries the same CA/RA certificate: a DER
 * SignedData is parsed without its certificates, which are then added from
 * the cache. Anything unusual (BER, other certificate choices, a
 * certificate that does not parse alone, duplicates) takes the plain path,
 * so results and error messages are those of p7_cms_parse. */
CMS_ContentInfo *p7_cms_parse_cached(const uint8_t *p, size_t len, const struct scep_keys *k)
{
	struct cms_certs_at a;
	CMS_ContentInfo *cms = NULL;
	uint8_t *bare;
	size_t bare_len = 0;

	if (!k || !k->x509_cache || !find_cms_certs(p, len, &a) ||
	    !(bare = der_without_certs(&a, &bare_len)))
		return p7_cms_parse(p, len, k ? k->libctx : NULL);
	ERR_set_mark();
	cms = p7_cms_parse(bare, bare_len, k->libctx);
	if (cms && !add_certs_cached(cms, &a.certs, k)) {
		CMS_ContentInfo_free(cms);
		cms = NULL;
	}
	ERR_pop_to_mark();
	free(bare);
	return cms ? cms : p7_cms_parse(p, len, k->libctx);
}

struct x509_cache *p7_x509_cache_new(void)
{
	return calloc(1, sizeof(struct x509_cache));
}

void p7_x509_cache_free(struct x509_cache *xc)
{
	size_t i;

	for (i = 0; xc && i < X509_CACHE_SLOTS; i++) {
		free(xc->slot[i].der);
		X509_free(xc->slot[i].x);
	}
	free(xc);
}
