/* attrs.c - the signed attributes of a pkiMessage (RFC 8894 section 3.2.1,
 * and the Microsoft ones NDES adds) read into struct scep_msg: the SCEP
 * fields, and every attribute listed by name=value for display. Used by
 * the whole-message decode (pkcs7.c) and the salvage walk (salvage.c).
 * Values are ASN1 objects OpenSSL parsed; sizes are capped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "reader.h"
#include "strutil.h"
#include "scep.h"
#include "pkcs7_internal.h"

#define ATTRS_MAX 32          /* signed attributes listed by name=value */
#define ATTR_HEX_MAX 64       /* bytes of an attribute value shown as hex */

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
	p7_set_first(&m->error, str_printf("%s attribute \"%s\" is not a decimal number", name,
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
	p7_msg_note(m, strdup("NDES HRESULT attribute (1.3.6.1.4.1.311.21.33) is not a decimal number"));
}

/* Lower-case hex of at most ATTR_HEX_MAX bytes, "..." when cut. */
static char *hex_capped(const unsigned char *p, size_t n)
{
	char buf[2 * ATTR_HEX_MAX + 4];
	size_t shown = n > ATTR_HEX_MAX ? ATTR_HEX_MAX : n;

	p7_hex_lower(p, (unsigned)shown, buf, sizeof(buf));
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

		p7_obj_short(t->value.object, buf, sizeof(buf));
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
		char *h = p7_integer_hex(t->value.integer);
		char *v = h ? str_printf("0x%s", h) : NULL;

		free(h);
		return v ? v : type_der_hex(t);
	}
	default:
		s = p7_type_string(t);
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
void p7_read_attr(struct scep_msg *m, X509_ATTRIBUTE *a, int total, int *listed)
{
	ASN1_OBJECT *o = a ? X509_ATTRIBUTE_get0_object(a) : NULL;
	ASN1_TYPE *t = a ? X509_ATTRIBUTE_get0_type(a, 0) : NULL;
	const ASN1_STRING *s = p7_type_string(t);

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
			m->signing_time = p7_asn1_time_epoch(t->value.utctime);
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
