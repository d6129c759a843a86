/* asn1_text.c - OpenSSL values (object identifiers, names, serials, times,
 * string types, certificate identifiers) as the text scepdump prints, and
 * the capped ", "-separated name list. Values come from OpenSSL's parse of
 * untrusted input; nothing here reads wire bytes itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "strutil.h"
#include "scep.h"
#include "pkcs7_internal.h"

char *p7_obj_name(const ASN1_OBJECT *o)
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

char *p7_name_str(const X509_NAME *n)
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

char *p7_integer_hex(const ASN1_INTEGER *i)
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
time_t p7_asn1_time_epoch(const ASN1_TIME *t)
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

void p7_hex_lower(const unsigned char *p, unsigned n, char *out, size_t outlen)
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

void p7_names_add(struct name_list *l, const char *name)
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

char *p7_names_take(const struct name_list *l)
{
	return l->n || l->cut ? strdup(l->buf) : NULL;
}

/* OpenSSL's short name ("clientAuth") when it has one, else dotted text. */
void p7_obj_short(const ASN1_OBJECT *o, char *buf, size_t len)
{
	int nid = OBJ_obj2nid(o);

	if (nid != NID_undef && OBJ_nid2sn(nid))
		snprintf(buf, len, "%s", OBJ_nid2sn(nid));
	else if (OBJ_obj2txt(buf, (int)len, o, 1) <= 0)
		snprintf(buf, len, "?");
}

const ASN1_STRING *p7_type_string(const ASN1_TYPE *t)
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

/* A recipient's or signer's certificate identifier as two strings: issuer
 * and upper-case hex serial, or "(subjectKeyIdentifier)" and keyid:<hex>. */
void p7_cert_id_strings(const ASN1_OCTET_STRING *keyid, const X509_NAME *issuer,
			    const ASN1_INTEGER *sno, char **issuer_out, char **serial_out)
{
	if (issuer) {
		*issuer_out = p7_name_str(issuer);
		*serial_out = p7_integer_hex(sno);
	} else if (keyid) {
		char hex[2 * 64 + 1];
		unsigned kl = (unsigned)ASN1_STRING_length(keyid);

		p7_hex_lower(ASN1_STRING_get0_data(keyid), kl > 64 ? 64 : kl, hex, sizeof(hex));
		*issuer_out = strdup("(subjectKeyIdentifier)");
		*serial_out = str_printf("keyid:%s", hex);
	}
}
