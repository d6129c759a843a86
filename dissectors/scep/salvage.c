/* salvage.c - damaged input: decode as far as it goes.
 *
 * When d2i_CMS_ContentInfo refuses a message (a device log cut it in the
 * middle, a proxy mangled a byte), the TLV headers are walked with
 * ASN1_get_object along the pkiMessage grammar, descending into elements
 * even when they are cut short, and every element that is whole is handed
 * to OpenSSL's own d2i (certificates, IssuerAndSerialNumber, attributes,
 * algorithm identifiers). In SignedData the pkcsPKIEnvelope (and so its
 * recipient) comes before certificates and signerInfos, so a message cut
 * in its signature still tells whom it was encrypted to. Trusts nothing:
 * every header is read through struct rd against the bytes left, and
 * nesting has a depth budget (ASN1_DEPTH_MAX). */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "reader.h"
#include "strutil.h"
#include "scep.h"
#include "pkcs7_internal.h"

#define SALVAGE_MAX (1u << 20) /* bytes of a BER envelope gathered from chunks */

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
	char *n = a ? p7_obj_name(a->algorithm) : NULL;

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
		*name = p7_obj_name(o);
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
	grown[m->n_recipients].issuer = p7_name_str(ias->issuer);
	grown[m->n_recipients].serial = p7_integer_hex(ias->serial);
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
			s->m->weak_cipher = p7_cipher_is_weak(OBJ_obj2nid(alg->algorithm));
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
			p7_read_attr(s->m, attr, 0, &s->attrs_listed);
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
	p7_set_first(&s->m->sig_alg, algor_name(tlv_algor(s, &t)));
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
		p7_set_first(&s->m->digest_alg, algor_name(tlv_algor(s, &a)));
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

/* The whole envelope of a damaged message: OpenSSL opens it (and decrypts
 * it with the keys) when it parses, else it is walked as well. */
static void salv_open_envelope(struct salvage *s, const struct salv_env *env,
			       const struct scep_keys *keys)
{
	CMS_ContentInfo *probe;
	int was = s->stopped;

	if (!env->p || !env->whole)
		return;
	probe = p7_cms_parse(env->p, env->len, keys ? keys->libctx : NULL);
	if (probe) {
		CMS_ContentInfo_free(probe);
		p7_decode_envelope(s->m, env->p, env->len, keys);
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
		p7_names_add(got, "contentType");
	if (m->signer || m->signer_issuer)
		p7_names_add(got, "signer");
	if (m->n_recipients)
		p7_names_add(got, m->n_recipients > 1 ? "recipients" : "recipient");
	if (m->content_enc_alg)
		p7_names_add(got, "contentEncryption");
	if (m->message_type != SCEP_MT_NONE)
		p7_names_add(got, "messageType");
	if (m->pki_status != SCEP_STATUS_NONE)
		p7_names_add(got, "pkiStatus");
	if (m->fail_info != SCEP_FAIL_NONE)
		p7_names_add(got, "failInfo");
	if (m->transaction_id)
		p7_names_add(got, "transactionID");
	if (m->sender_nonce_len)
		p7_names_add(got, "senderNonce");
	if (m->recipient_nonce_len)
		p7_names_add(got, "recipientNonce");
	if (m->csr)
		p7_names_add(got, "CSR");
	if (m->n_rep_certs)
		p7_names_add(got, "issued certificate");
}

/* Fills what it can of m from a message d2i refused. Returns the error
 * text, or NULL when nothing at all came out (the caller keeps its own
 * reason then). */
char *p7_salvage_message(struct scep_msg *m, const uint8_t *der, size_t len,
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
		m->signer_issuer = p7_name_str(s.sid->issuer);
		m->signer_serial = p7_integer_hex(s.sid->serial);
	}
	sx = salv_signer_cert(&s, keys);
	if (sx)
		m->signer = p7_cert_from_x509(sx);
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
		msg = p7_parse_error("damaged", der, len);
	full = str_printf("%s: recovered %s%s%s", msg ? msg : "damaged", got.buf,
			  inner ? "; " : "", inner ? inner : "");
	free(msg);
	free(inner);
	return full;
}

/* Bytes the first element of p takes, indefinite lengths followed to
 * their end-of-contents; 0 when it does not end inside p. */
size_t p7_element_len(const uint8_t *p, size_t len)
{
	struct salvage s = { .base = p, .end = p + len, .where = "" };
	struct rd r;

	rd_init(&r, p, len);
	if (salv_skip(&s, &r, ASN1_DEPTH_MAX) < 0)
		return 0;
	return len - rd_left(&r);
}
