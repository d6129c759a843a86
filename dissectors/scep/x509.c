/* x509.c - summaries of X.509 certificates (struct scep_cert, the include/x509.h
 * contract TLS and SCEP share) and of PKCS#10 CSRs (struct scep_csr, in
 * pkiMessages). The code stays in dissectors/scep because it shares the
 * OpenSSL-to-text helpers of pkcs7_internal.h with the pkiMessage decoder;
 * TLS sees only include/x509.h. Input is parsed by OpenSSL only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "strutil.h"
#include "x509.h"
#include "scep.h"
#include "pkcs7_internal.h"

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

static char *key_usage_names(const ASN1_BIT_STRING *ku)
{
	struct name_list l = { .n = 0 };
	size_t i;

	if (!ku)
		return NULL;
	for (i = 0; i < sizeof(KU_NAMES) / sizeof(KU_NAMES[0]); i++) {
		if (ASN1_BIT_STRING_get_bit(ku, (int)i))
			p7_names_add(&l, KU_NAMES[i]);
	}
	/* an empty keyUsage is legal DER and says "no usage": show that */
	return l.n ? p7_names_take(&l) : strdup("(none)");
}

static char *eku_names(const EXTENDED_KEY_USAGE *eku)
{
	struct name_list l = { .n = 0 };
	char one[128];
	int i;

	if (!eku)
		return NULL;
	for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		p7_obj_short(sk_ASN1_OBJECT_value(eku, i), one, sizeof(one));
		p7_names_add(&l, one);
	}
	return l.n ? p7_names_take(&l) : strdup("(none)");
}

struct scep_cert *p7_cert_from_x509(X509 *x)
{
	struct scep_cert *c = calloc(1, sizeof(*c));
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_PKEY *pk;
	uint32_t flags;
	int n;

	if (!c)
		return NULL;
	c->subject = p7_name_str(X509_get_subject_name(x));
	c->issuer = p7_name_str(X509_get_issuer_name(x));
	c->serial = p7_integer_hex(X509_get0_serialNumber(x));
	c->not_before = p7_asn1_time_epoch(X509_get0_notBefore(x));
	c->not_after = p7_asn1_time_epoch(X509_get0_notAfter(x));
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
		p7_hex_lower(md, mdlen, c->sha1, sizeof(c->sha1));
	if (X509_digest(x, EVP_sha256(), md, &mdlen))
		p7_hex_lower(md, mdlen, c->sha256, sizeof(c->sha256));
	if (X509_pubkey_digest(x, EVP_sha256(), md, &mdlen))
		p7_hex_lower(md, mdlen, c->key_sha256, sizeof(c->key_sha256));
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
	c = p7_cert_from_x509(x);
	X509_free(x);
	return c;
}

int p7_certs_append(struct scep_cert ***arr, size_t *n, X509 *x)
{
	struct scep_cert **grown, *c;

	if (*n >= CERTS_KEPT_MAX)
		return -1;
	c = p7_cert_from_x509(x);
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
size_t p7_certs_from_stack(STACK_OF(X509) *sk, struct scep_cert ***arr, size_t *n)
{
	size_t dropped = 0;
	int i;

	for (i = 0; sk && i < sk_X509_num(sk); i++) {
		if (p7_certs_append(arr, n, sk_X509_value(sk, i)) < 0)
			dropped++;
	}
	return dropped;
}

void scep_certs_free(struct scep_cert **certs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		scep_cert_free(certs[i]);
	free(certs);
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

int p7_certs_dup(struct scep_cert **from, size_t n, struct scep_cert ***out)
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

void p7_csr_free(struct scep_csr *c)
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

/* The extensionRequest attribute: which extensions the client asks for, and
 * the keyUsage / extendedKeyUsage values (what NDES templates check). */
static void csr_extensions(struct scep_csr *c, const STACK_OF(X509_EXTENSION) *exts)
{
	struct name_list l = { .n = 0 };
	char one[128];
	int i;

	for (i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);

		p7_obj_short(X509_EXTENSION_get_object(e), one, sizeof(one));
		p7_names_add(&l, one);
	}
	c->extensions = p7_names_take(&l);
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

struct scep_csr *p7_csr_from_der(const uint8_t *p, size_t len, char **error)
{
	const unsigned char *q = p;
	struct scep_csr *c;
	X509_REQ *req;
	EVP_PKEY *pk;
	int idx;

	ERR_clear_error();
	if (len > LONG_MAX || !(req = d2i_X509_REQ(NULL, &q, (long)len))) {
		p7_set_first(error, p7_parse_error("decrypted content is not a PKCS#10 CSR", p, len));
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		X509_REQ_free(req);
		return NULL;
	}
	c->subject = p7_name_str(X509_REQ_get_subject_name(req));
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
		const ASN1_STRING *s = p7_type_string(X509_ATTRIBUTE_get0_type(a, 0));

		c->has_challenge = 1;
		if (s)
			c->challenge = str_printable(ASN1_STRING_get0_data(s),
						     (size_t)ASN1_STRING_length(s), ATTR_STR_MAX);
	}
	X509_REQ_free(req);
	ERR_clear_error();
	return c;
}

/* Never prompt on the terminal for a passphrase: a capture tool run in a
 * pipeline must not block on /dev/tty. */
int p7_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf; (void)size; (void)rwflag; (void)u;
	return -1;
}
