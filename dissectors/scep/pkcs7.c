/* pkcs7.c - pkiMessages: the CMS SignedData (signer, signed attributes,
 * signature) around the pkcsPKIEnvelope, and scep_decode_pki_message, which
 * hands a message d2i refuses to salvage.c and its envelope to envelope.c.
 * Trusts none of its input: DER/BER is parsed by OpenSSL only, and the few
 * bytes we look at ourselves are read through struct rd. */
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

#include "reader.h"
#include "strutil.h"
#include "scep.h"
#include "pkcs7_internal.h"

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
	free(m->signer_missing);
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
	p7_csr_free(m->csr);
	scep_certs_free(m->rep_certs, m->n_rep_certs);
	free(m->req_issuer);
	free(m->req_subject);
	free(m->req_serial);
	str_list_free(m->signed_attrs, m->n_signed_attrs);
	str_list_free(m->notes, m->n_notes);
	/* issued points into rep_certs */
	free(m);
}

static void read_signed_attrs(struct scep_msg *m, CMS_SignerInfo *si)
{
	int i, n = CMS_signed_get_attr_count(si), listed = 0;

	for (i = 0; i < n; i++)
		p7_read_attr(m, CMS_signed_get_attr(si, i), n, &listed);
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
		p7_cert_id_strings(keyid, issuer, sno, &m->signer_issuer, &m->signer_serial);
}

/* The signer's certificate: one the message carries, else one the user
 * gave (--ca-cert), else one server's GetCACert answers held (*role: its
 * role there). Without one, signer_missing says where it could have come
 * from, for messages from a capture (server not NULL). */
static X509 *find_signer(struct scep_msg *m, CMS_ContentInfo *cms, CMS_SignerInfo *si,
			 const struct scep_keys *keys, const struct endpoint *server, const char **role)
{
	X509 *signer = NULL;
	int seen_any = 0;

	*role = NULL;
	CMS_set1_signers_certs(cms, NULL, 0);
	ERR_clear_error();
	CMS_SignerInfo_get0_algs(si, NULL, &signer, NULL, NULL);
	if (signer) {
		m->signer_from = SCEP_SIGNER_IN_MESSAGE;
		return signer;
	}
	if (keys && keys->given_certs) {
		CMS_set1_signers_certs(cms, keys->given_certs, 0);
		ERR_clear_error();
		CMS_SignerInfo_get0_algs(si, NULL, &signer, NULL, NULL);
		if (signer) {
			m->signer_from = SCEP_SIGNER_GIVEN;
			return signer;
		}
	}
	signer = p7_ca_seen_signer(keys, server, si, role, &seen_any);
	if (signer) {
		CMS_SignerInfo_set1_signer_cert(si, signer);
		m->signer_from = SCEP_SIGNER_GETCACERT;
		return signer;
	}
	if (server)
		m->signer_missing = strdup(seen_any ?
			"certificate not in the capture (not among the certificates GetCACert returned; give --ca-cert)" :
			"certificate not in the capture (GetCACert not seen; give --ca-cert)");
	return NULL;
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
		if (p7_certs_append(&m->other_certs, &m->n_other_certs, x) < 0) {
			p7_msg_note(m, str_printf("more than %d certificates; the rest not listed", CERTS_KEPT_MAX));
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
		p7_msg_note(m, strdup("signed attributes lack contentType, which strict verifiers such as "
				   "OpenSSL reject (RFC 5652 5.3)"));
	if (m->message_type == SCEP_MT_NONE)
		p7_msg_note(m, strdup("no messageType attribute"));
	else if (!scep_msg_type_name(m->message_type))
		p7_msg_note(m, str_printf("messageType %d is none of RFC 8894's", m->message_type));
	if (!m->transaction_id)
		p7_msg_note(m, strdup("no transactionID attribute"));
	if (!m->sender_nonce_len)
		p7_msg_note(m, strdup("no senderNonce attribute (RFC 8894 3.2.1.5: every message carries one)"));
	if (m->message_type != SCEP_MT_CERTREP)
		return;
	if (m->pki_status == SCEP_STATUS_NONE)
		p7_msg_note(m, strdup("CertRep without a pkiStatus attribute"));
	else if (!scep_pki_status_name(m->pki_status))
		p7_msg_note(m, str_printf("pkiStatus %d is none of RFC 8894's (0, 2, 3)", m->pki_status));
	if (!m->recipient_nonce_len)
		p7_msg_note(m, strdup("CertRep without a recipientNonce: the client cannot match it to its request"));
	if (m->pki_status == SCEP_STATUS_FAILURE && m->fail_info == SCEP_FAIL_NONE)
		p7_msg_note(m, strdup("FAILURE without a failInfo attribute"));
	else if (m->fail_info != SCEP_FAIL_NONE && !scep_fail_info_name(m->fail_info))
		p7_msg_note(m, str_printf("failInfo %d is none of RFC 8894's (0-4)", m->fail_info));
}

static void decode_signed(struct scep_msg *m, CMS_ContentInfo *cms, const uint8_t *der, size_t len,
			  const struct scep_keys *keys, const struct endpoint *server)
{
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
	CMS_SignerInfo *si;
	X509 *signer;
	const char *role = NULL;
	X509_ALGOR *dig = NULL, *sig = NULL;
	ASN1_OCTET_STRING **content;

	if (!sis || sk_CMS_SignerInfo_num(sis) == 0) {
		p7_set_first(&m->error, strdup("signedData has no signerInfo"));
		return;
	}
	si = sk_CMS_SignerInfo_value(sis, 0);
	read_signer_id(m, si);
	signer = find_signer(m, cms, si, keys, server, &role);
	read_other_certs(m, cms, signer);
	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, &sig);
	if (dig)
		m->digest_alg = p7_obj_name(dig->algorithm);
	if (sig)
		m->sig_alg = p7_obj_name(sig->algorithm);
	read_signed_attrs(m, si);
	m->lacks_content_type = CMS_signed_get_attr_count(si) > 0 &&
				CMS_signed_get_attr_by_NID(si, NID_pkcs9_contentType, -1) < 0;
	if (signer) {
		m->signer = p7_cert_from_x509(signer);
		if (m->signer && role)
			m->signer->role = strdup(role);
		m->signature_ok = m->lacks_content_type ?
			verify_signature_pkcs7(der, len, signer, keys ? keys->libctx : NULL) :
			verify_signature(cms, keys ? keys->given_certs : NULL);
	}
	check_required_attrs(m);
	content = CMS_get0_content(cms);
	if (!content || !*content || ASN1_STRING_length(*content) <= 0)
		return;
	/* A FAILURE or PENDING has no envelope to carry (RFC 8894 3.3.2);
	 * NDES puts a single 0x00 byte where it would be. Anything more is
	 * read as an envelope, and is broken when it is none. */
	if (m->message_type == SCEP_MT_CERTREP && m->pki_status != SCEP_STATUS_SUCCESS &&
	    ASN1_STRING_length(*content) == 1 && ASN1_STRING_get0_data(*content)[0] == 0x00)
		return;
	if (p7_decode_envelope(m, ASN1_STRING_get0_data(*content), (size_t)ASN1_STRING_length(*content),
			       keys) < 0)
		m->envelope_broken = 1;
}

struct scep_msg *scep_decode_pki_message(const uint8_t *der, size_t len,
					 const struct scep_keys *keys)
{
	return p7_decode_pki_message_from(der, len, keys, NULL);
}

struct scep_msg *p7_decode_pki_message_from(const uint8_t *der, size_t len, const struct scep_keys *keys,
					    const struct endpoint *server)
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
	 * certificate set: what p7_certs_cut leaves out changes no check */
	cut = p7_certs_cut(der, len, &cut_len, &skipped);
	cms = p7_cms_parse_cached(cut ? cut : der, cut ? cut_len : len, keys);
	if (!cms) {
		char *why = p7_parse_error("not a CMS ContentInfo", der, len);

		m->error = p7_salvage_message(m, der, len, keys);
		if (m->error)
			free(why);
		else
			m->error = why;
		goto out;
	}
	m->content_type = p7_obj_name(CMS_get0_type(cms));
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		char *t = p7_obj_name(CMS_get0_type(cms));

		m->error = str_printf("ContentInfo is %s, not signedData", t ? t : "?");
		free(t);
		CMS_ContentInfo_free(cms);
		goto out;
	}
	m->decoded = 1;
	{
		size_t used = p7_element_len(der, len);

		if (used && used < len) {
			m->trailing_bytes = len - used;
			p7_msg_note(m, str_printf("%zu byte%s after the end of the message (ignored)",
					       m->trailing_bytes, m->trailing_bytes == 1 ? "" : "s"));
		}
	}
	decode_signed(m, cms, cut ? cut : der, cut ? cut_len : len, keys, server);
	if (skipped)
		p7_msg_note(m, p7_certs_skipped_text(skipped));
	CMS_ContentInfo_free(cms);
out:
	free(cut);
	ERR_pop_to_mark();
	return m;
}
