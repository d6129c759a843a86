/* envelope.c - the pkcsPKIEnvelope (CMS EnvelopedData) of a pkiMessage:
 * its recipients and content cipher, opening it with the loaded keys, and
 * what it held by messageType (a CSR, a CertRep's certificates, an
 * IssuerAndSerialNumber or IssuerAndSubject). The envelope and what it
 * decrypts to are untrusted and parsed by OpenSSL only. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "strutil.h"
#include "scep.h"
#include "pkcs7_internal.h"

static const char LEGACY_MISSING[] = "DES needs OpenSSL's legacy provider (ossl-modules/legacy.so)";

int p7_cipher_is_weak(int nid)
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
		*name = p7_obj_name(o);
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
		if (CMS_RecipientInfo_ktri_get0_signer_id(ri, &keyid, &issuer, &sno) == 1)
			p7_cert_id_strings(keyid, issuer, sno, &rc->issuer, &rc->serial);
		if (!m->key_enc_alg && CMS_RecipientInfo_ktri_get0_algs(ri, NULL, NULL, &palg) == 1 && palg)
			m->key_enc_alg = p7_obj_name(palg->algorithm);
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

/* Opens env with each loaded key in turn. 0 and *plain set on success;
 * -2 when no loaded key opened any key transport (the envelope is for
 * someone else), -1 otherwise. */
static int try_decrypt(struct scep_msg *m, CMS_ContentInfo *env, const struct scep_keys *keys,
		       BIO **plain)
{
	STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(env);
	int i, tried = 0, opened = 0;
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
			opened = 1;
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
			p7_set_first(&m->decrypt_error,
				  str_printf("the key opened the key transport but the content did not decrypt (%s)",
					    p7_ossl_reason()));
			ERR_clear_error();
		}
	}
	if (!tried)
		p7_set_first(&m->decrypt_error, strdup("no key-transport recipient to decrypt"));
	else {
		char *who = recipients_text(m);

		p7_set_first(&m->decrypt_error,
			  str_printf("none of the %zu loaded key%s opens the envelope (it is for %s)",
				    keys->n_pkeys, keys->n_pkeys == 1 ? "" : "s", who ? who : "?"));
		free(who);
	}
	return tried && !opened ? -2 : -1;
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
		p7_set_first(&m->error, p7_parse_error("decrypted content is not an IssuerAndSerialNumber", p, len));
		return;
	}
	m->req_issuer = p7_name_str(ias->issuer);
	m->req_serial = p7_integer_hex(ias->serial);
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
		p7_set_first(&m->error, p7_parse_error("decrypted content is not an IssuerAndSubject", p, len));
		return;
	}
	end = q + plen;
	issuer = d2i_X509_NAME(NULL, &q, end - q);
	if (issuer && q < end)
		subject = d2i_X509_NAME(NULL, &q, end - q);
	if (!issuer || !subject)
		p7_set_first(&m->error, str_printf("decrypted IssuerAndSubject: %s does not parse (%s)",
					       issuer ? "subject" : "issuer", p7_ossl_reason()));
	m->req_issuer = p7_name_str(issuer);
	m->req_subject = p7_name_str(subject);
	X509_NAME_free(issuer);
	X509_NAME_free(subject);
}

static void decode_plaintext(struct scep_msg *m, const uint8_t *p, size_t len, OSSL_LIB_CTX *libctx)
{
	switch (m->message_type) {
	case SCEP_MT_PKCSREQ:
	case SCEP_MT_RENEWALREQ:
	case SCEP_MT_UPDATEREQ:
		m->csr = p7_csr_from_der(p, len, &m->error);
		break;
	case SCEP_MT_CERTREP: {
		size_t cut_len = 0, skipped = 0, dropped;
		uint8_t *cut = p7_certs_cut(p, len, &cut_len, &skipped);
		CMS_ContentInfo *certs = p7_cms_parse(cut ? cut : p, cut ? cut_len : len, libctx);
		STACK_OF(X509) *sk;

		free(cut);
		if (skipped)
			p7_msg_note(m, p7_certs_skipped_text(skipped));
		if (!certs) {
			p7_set_first(&m->error, p7_parse_error("decrypted CertRep content is not a certs-only PKCS#7",
							 p, len));
			break;
		}
		sk = CMS_get1_certs(certs);
		dropped = p7_certs_from_stack(sk, &m->rep_certs, &m->n_rep_certs);
		sk_X509_pop_free(sk, X509_free);
		CMS_ContentInfo_free(certs);
		if (dropped)
			p7_msg_note(m, p7_certs_skipped_text(dropped));
		if (!m->n_rep_certs && m->pki_status == SCEP_STATUS_SUCCESS)
			p7_set_first(&m->error, strdup("CertRep SUCCESS envelope holds no certificate"));
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

int p7_decode_envelope(struct scep_msg *m, const uint8_t *p, size_t len,
		       const struct scep_keys *keys)
{
	OSSL_LIB_CTX *libctx = keys ? keys->libctx : NULL;
	CMS_ContentInfo *env = p7_cms_parse(p, len, libctx);
	BIO *plain = NULL;
	int rc;
	int nid;

	if (!env) {
		p7_set_first(&m->error, p7_parse_error("pkcsPKIEnvelope is not a CMS ContentInfo", p, len));
		return -1;
	}
	if (OBJ_obj2nid(CMS_get0_type(env)) != NID_pkcs7_enveloped) {
		char *t = p7_obj_name(CMS_get0_type(env));

		p7_set_first(&m->error, str_printf("pkcsPKIEnvelope is %s, not envelopedData", t ? t : "?"));
		free(t);
		CMS_ContentInfo_free(env);
		return -1;
	}
	m->enveloped = 1;
	read_recipients(m, env);
	nid = envelope_cipher_nid(p, len, &m->content_enc_alg);
	m->weak_cipher = p7_cipher_is_weak(nid);
	if (!keys || keys->n_pkeys == 0) {
		CMS_ContentInfo_free(env);
		return 0;
	}
	if (cipher_needs_legacy(nid) && !keys->prov_legacy) {
		m->decrypt_state = SCEP_DECRYPT_FAILED;
		m->decrypt_error = strdup(LEGACY_MISSING);
		CMS_ContentInfo_free(env);
		return 0;
	}
	rc = try_decrypt(m, env, keys, &plain);
	if (rc == 0) {
		char *data = NULL;
		long n = BIO_get_mem_data(plain, &data);

		m->decrypt_state = SCEP_DECRYPT_OK;
		free(m->decrypt_error);
		m->decrypt_error = NULL;
		if (n >= 0)
			decode_plaintext(m, (const uint8_t *)data, (size_t)n, libctx);
		BIO_free(plain);
	} else if (rc == -2 && m->message_type == SCEP_MT_CERTREP) {
		/* A CertRep is encrypted to the device's own (signer) key, which
		 * only the device holds: the RA/CA key not opening it is the
		 * normal case, not a failure. */
		m->decrypt_state = SCEP_DECRYPT_DEVICE_KEY;
		free(m->decrypt_error);
		m->decrypt_error = NULL;
	} else {
		m->decrypt_state = SCEP_DECRYPT_FAILED;
	}
	CMS_ContentInfo_free(env);
	return 0;
}
