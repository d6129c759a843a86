/* test_pkcs7.c - pkiMessage, GetCACert and key decoding against messages
 * recorded from micromdm scepclient/scepserver (tests/unit/data/README.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "scep.h"
#include "testutil.h"

/* Values scepclient/scepserver logged while the fixtures were recorded. */
#define TXID_OK "w0jpNA4EPQlTeN+KtR6UBrgcSs8="
#define TXID_BAD "G3R49EXXieO6Snl600JOgMbWP+o="
#define CA_SUBJECT "CN=scepdump Test CA,O=scepdump test,C=US"
#define CA_SHA256 "e6b0d6621a13b27c061e6a2dabb65c74032c6c99ca69e9c02d1bd6e6c1a377b0"
#define CLIENT_SUBJECT "CN=scepdump-client,OU=MDM,O=scepdump test,C=US"

static struct scep_keys *keys_with(const char *k1, const char *k2)
{
	struct scep_keys *k = scep_keys_new();
	char err[256];
	char *p;

	assert_non_null(k);
	p = test_data_path(k1);
	if (scep_keys_load(k, p, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	free(p);
	if (k2) {
		p = test_data_path(k2);
		if (scep_keys_load(k, p, err, sizeof(err)) < 0)
			fail_msg("%s", err);
		free(p);
	}
	return k;
}

static struct scep_msg *decode_file(const char *name, const struct scep_keys *k)
{
	size_t len;
	uint8_t *der = test_load(name, &len);
	struct scep_msg *m = scep_decode_pki_message(der, len, k);

	assert_non_null(m);
	assert_int_equal(m->der_len, len);
	free(der);
	return m;
}

static void test_pkcsreq_without_keys(void **state)
{
	struct scep_msg *m = decode_file("pkcsreq.der", NULL);

	(void)state;
	assert_int_equal(m->decoded, 1);
	assert_null(m->error);
	assert_int_equal(m->ber_indefinite, 0);
	assert_int_equal(m->message_type, SCEP_MT_PKCSREQ);
	assert_string_equal(m->transaction_id, TXID_OK);
	assert_int_equal(m->sender_nonce_len, 16);
	assert_int_equal(m->recipient_nonce_len, 0);
	assert_int_equal(m->pki_status, SCEP_STATUS_NONE);
	assert_int_equal(m->fail_info, SCEP_FAIL_NONE);
	assert_string_equal(m->digest_alg, "sha1");
	assert_string_equal(m->sig_alg, "sha1WithRSAEncryption");
	assert_non_null(m->signer);
	assert_string_equal(m->signer->subject, "CN=SCEP SIGNER,O=scepdump test");
	assert_int_equal(m->signer->self_signed, 1);
	assert_int_equal(m->signature_ok, 1);
	assert_true(m->signing_time > 1700000000);
	/* envelope: single DES to the CA certificate (serial 01) */
	assert_int_equal(m->enveloped, 1);
	assert_string_equal(m->content_enc_alg, "des-cbc");
	assert_int_equal(m->weak_cipher, 1);
	assert_string_equal(m->key_enc_alg, "rsaEncryption");
	assert_int_equal(m->n_recipients, 1);
	assert_string_equal(m->recipients[0].issuer, CA_SUBJECT);
	assert_string_equal(m->recipients[0].serial, "01");
	assert_int_equal(m->decrypt_state, SCEP_DECRYPT_NOT_TRIED);
	assert_null(m->csr);
	scep_msg_free(m);
}

static void test_pkcsreq_decrypted(void **state)
{
	struct scep_keys *k = keys_with("client.key", "ca.key");
	struct scep_msg *m;

	(void)state;
	assert_int_equal(scep_keys_count(k), 2);
	m = decode_file("pkcsreq.der", k);
	assert_int_equal(m->decrypt_state, SCEP_DECRYPT_OK);
	assert_null(m->decrypt_error);
	assert_null(m->error);
	assert_non_null(m->csr);
	assert_string_equal(m->csr->subject, CLIENT_SUBJECT);
	assert_string_equal(m->csr->key_type, "RSA");
	assert_int_equal(m->csr->key_bits, 2048);
	assert_int_equal(m->csr->has_challenge, 1);
	assert_string_equal(m->csr->challenge, "secret");
	assert_null(m->csr->sans);
	scep_msg_free(m);

	m = decode_file("pkcsreq-badchallenge.der", k);
	assert_int_equal(m->decrypt_state, SCEP_DECRYPT_OK);
	assert_string_equal(m->transaction_id, TXID_BAD);
	assert_string_equal(m->csr->subject, "CN=scepdump-bad,OU=MDM,O=scepdump test,C=US");
	assert_string_equal(m->csr->challenge, "wrong");
	scep_msg_free(m);
	scep_keys_free(k);
}

static void test_certrep_success(void **state)
{
	struct scep_keys *k = keys_with("client.key", NULL);
	struct scep_msg *req = decode_file("pkcsreq.der", NULL);
	struct scep_msg *m = decode_file("certrep-success.der", k);

	(void)state;
	assert_int_equal(m->decoded, 1);
	assert_null(m->error);
	assert_int_equal(m->message_type, SCEP_MT_CERTREP);
	assert_int_equal(m->pki_status, SCEP_STATUS_SUCCESS);
	assert_int_equal(m->fail_info, SCEP_FAIL_NONE);
	assert_string_equal(m->transaction_id, TXID_OK);
	assert_int_equal(m->sender_nonce_len, 16);
	assert_int_equal(m->recipient_nonce_len, 16);
	assert_memory_equal(m->recipient_nonce, req->sender_nonce, 16);
	assert_int_equal(m->signature_ok, 1);
	assert_string_equal(m->signer->subject, CA_SUBJECT);
	assert_int_equal(m->signer->is_ca, 1);
	assert_int_equal(m->weak_cipher, 1);
	assert_string_equal(m->content_enc_alg, "des-cbc");
	/* the CertRep envelope is for the requester's self-signed cert */
	assert_string_equal(m->recipients[0].issuer, "CN=SCEP SIGNER,O=scepdump test");
	assert_string_equal(m->recipients[0].serial, req->signer->serial);
	assert_int_equal(m->decrypt_state, SCEP_DECRYPT_OK);
	assert_true(m->n_rep_certs >= 1);
	assert_non_null(m->issued);
	assert_string_equal(m->issued->subject, CLIENT_SUBJECT);
	assert_string_equal(m->issued->issuer, CA_SUBJECT);
	assert_string_equal(m->issued->serial, "02");
	assert_int_equal(m->issued->is_ca, 0);
	assert_int_equal(m->issued->key_bits, 2048);
	assert_true(m->issued->not_after > m->issued->not_before);
	assert_true(m->issued->der_len > 500);
	assert_int_equal(strlen(m->issued->sha256), 64);
	scep_msg_free(m);
	scep_msg_free(req);
	scep_keys_free(k);
}

static void test_certrep_wrong_or_no_key(void **state)
{
	struct scep_keys *k = keys_with("ca.key", "client-bad.key");
	struct scep_msg *m = decode_file("certrep-success.der", k);

	(void)state;
	assert_int_equal(m->decoded, 1);
	/* a CertRep is encrypted to the device's key (RFC 8894 3.3.2): no
	 * loaded key being a recipient is the normal case, not a failure */
	assert_int_equal(m->decrypt_state, SCEP_DECRYPT_DEVICE_KEY);
	assert_null(m->decrypt_error);
	assert_null(m->issued);
	scep_msg_free(m);
	scep_keys_free(k);

	m = decode_file("certrep-success.der", NULL);
	assert_int_equal(m->decrypt_state, SCEP_DECRYPT_NOT_TRIED);
	assert_int_equal(m->enveloped, 1);
	assert_null(m->decrypt_error);
	assert_null(m->issued);
	scep_msg_free(m);
}

static void test_certrep_failure(void **state)
{
	struct scep_msg *req = decode_file("pkcsreq-badchallenge.der", NULL);
	struct scep_msg *m = decode_file("certrep-failure.der", NULL);

	(void)state;
	assert_int_equal(m->decoded, 1);
	assert_null(m->error);
	assert_int_equal(m->message_type, SCEP_MT_CERTREP);
	assert_int_equal(m->pki_status, SCEP_STATUS_FAILURE);
	assert_int_equal(m->fail_info, SCEP_FAIL_BADREQUEST);
	assert_string_equal(scep_fail_info_name(m->fail_info), "badRequest");
	assert_string_equal(m->transaction_id, TXID_BAD);
	assert_int_equal(m->recipient_nonce_len, 16);
	assert_memory_equal(m->recipient_nonce, req->sender_nonce, 16);
	assert_int_equal(m->enveloped, 0);
	assert_int_equal(m->signature_ok, 1);
	assert_null(m->fail_info_text);
	scep_msg_free(m);
	scep_msg_free(req);
}

static void test_ber_indefinite(void **state)
{
	struct scep_keys *k = keys_with("ca.key", NULL);
	struct scep_msg *m = decode_file("pkcsreq-ber.der", k);

	(void)state;
	assert_int_equal(m->decoded, 1);
	assert_null(m->error);
	assert_int_equal(m->ber_indefinite, 1);
	assert_int_equal(m->message_type, SCEP_MT_PKCSREQ);
	assert_string_equal(m->transaction_id, TXID_OK);
	assert_int_equal(m->signature_ok, 1);
	assert_int_equal(m->decrypt_state, SCEP_DECRYPT_OK);
	assert_string_equal(m->csr->subject, CLIENT_SUBJECT);
	scep_msg_free(m);
	scep_keys_free(k);
}

static void test_tampered_signature(void **state)
{
	size_t len;
	uint8_t *der = test_load("certrep-failure.der", &len);
	struct scep_msg *m;

	(void)state;
	/* the last byte is inside the RSA signature value */
	der[len - 1] ^= 0x01;
	m = scep_decode_pki_message(der, len, NULL);
	assert_int_equal(m->decoded, 1);
	assert_int_equal(m->signature_ok, 0);
	assert_int_equal(m->pki_status, SCEP_STATUS_FAILURE);
	scep_msg_free(m);
	free(der);
}

static void test_garbage(void **state)
{
	static const uint8_t text[] = "hello, this is not DER";
	static const uint8_t seq[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	static const uint8_t cut[] = { 0x30, 0x82, 0x09, 0xc3, 0x06, 0x09, 0x2a };
	struct scep_msg *m;

	(void)state;
	m = scep_decode_pki_message(text, sizeof(text) - 1, NULL);
	assert_int_equal(m->decoded, 0);
	assert_string_equal(m->error, "not a CMS ContentInfo: starts with 0x68, not a SEQUENCE (0x30)");
	scep_msg_free(m);

	m = scep_decode_pki_message(seq, sizeof(seq), NULL);
	assert_int_equal(m->decoded, 0);
	assert_non_null(m->error);
	assert_non_null(strstr(m->error, "not a CMS ContentInfo: ASN.1 error"));
	scep_msg_free(m);

	m = scep_decode_pki_message(cut, sizeof(cut), NULL);
	assert_int_equal(m->decoded, 0);
	assert_string_equal(m->error,
			    "not a CMS ContentInfo: truncated at byte 0: element needs 2499 bytes, 3 left");
	scep_msg_free(m);

	m = scep_decode_pki_message(NULL, 0, NULL);
	assert_int_equal(m->decoded, 0);
	assert_string_equal(m->error, "empty pkiMessage");
	scep_msg_free(m);
}

/* Every prefix of a real message must be refused cleanly, never crash. */
static void truncate_all(const char *name, const struct scep_keys *k)
{
	size_t len, i;
	uint8_t *der = test_load(name, &len);

	for (i = 0; i < len; i++) {
		uint8_t *cut = malloc(i ? i : 1);
		struct scep_msg *m;

		assert_non_null(cut);
		memcpy(cut, der, i);
		m = scep_decode_pki_message(cut, i, k);
		assert_non_null(m);
		if (m->decoded || !m->error)
			fail_msg("%s cut at %zu bytes: decoded=%d error=%s", name, i, m->decoded,
				 m->error ? m->error : "(null)");
		scep_msg_free(m);
		free(cut);
	}
	free(der);
}

static void test_truncated_everywhere(void **state)
{
	struct scep_keys *k = keys_with("ca.key", "client.key");

	(void)state;
	truncate_all("pkcsreq.der", k);
	truncate_all("pkcsreq-ber.der", k);
	truncate_all("certrep-failure.der", NULL);
	scep_keys_free(k);
}

/* Flipped bytes anywhere (the envelope included, decrypted with a real
 * key) must give a struct, never a crash; run under ASan/UBSan. */
static void test_bitflips(void **state)
{
	struct scep_keys *k = keys_with("ca.key", NULL);
	size_t len, i, undecoded = 0;
	uint8_t *der = test_load("pkcsreq.der", &len);

	(void)state;
	for (i = 0; i < len; i += 3) {
		struct scep_msg *m;

		der[i] ^= 0x41;
		m = scep_decode_pki_message(der, len, k);
		assert_non_null(m);
		if (!m->decoded) {
			assert_non_null(m->error);
			undecoded++;
		}
		scep_msg_free(m);
		der[i] ^= 0x41;
	}
	assert_true(undecoded > 0);
	free(der);
	scep_keys_free(k);
}

static void test_legacy_provider_missing(void **state)
{
	struct scep_keys *k;
	struct scep_msg *m;
	const char *old = getenv("OPENSSL_MODULES");
	char *saved = old ? strdup(old) : NULL;

	(void)state;
	/* a library context created now cannot find legacy.so */
	setenv("OPENSSL_MODULES", "/nonexistent-scepdump-test", 1);
	k = keys_with("ca.key", NULL);
	if (saved) {
		setenv("OPENSSL_MODULES", saved, 1);
		free(saved);
	} else {
		unsetenv("OPENSSL_MODULES");
	}
	m = decode_file("pkcsreq.der", k);
	assert_int_equal(m->decoded, 1);
	assert_int_equal(m->weak_cipher, 1);
	assert_int_equal(m->decrypt_state, SCEP_DECRYPT_FAILED);
	assert_string_equal(m->decrypt_error, "DES needs OpenSSL's legacy provider (ossl-modules/legacy.so)");
	assert_null(m->csr);
	scep_msg_free(m);
	scep_keys_free(k);
}

static void test_ca_certs_single_der(void **state)
{
	size_t len, n = 0;
	uint8_t *body = test_load("getcacert.der", &len);
	struct scep_cert **certs = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(scep_decode_ca_certs(body, len, &certs, &n, &err), 0);
	assert_null(err);
	assert_int_equal(n, 1);
	assert_string_equal(certs[0]->subject, CA_SUBJECT);
	assert_string_equal(certs[0]->issuer, CA_SUBJECT);
	assert_string_equal(certs[0]->serial, "01");
	assert_string_equal(certs[0]->sha256, CA_SHA256);
	assert_int_equal(certs[0]->is_ca, 1);
	assert_int_equal(certs[0]->self_signed, 1);
	assert_int_equal(certs[0]->has_key_usage, 1);
	/* digitalSignature | keyCertSign | cRLSign */
	assert_int_equal(certs[0]->key_usage, 0x80 | 0x04 | 0x02);
	assert_string_equal(certs[0]->key_type, "RSA");
	assert_int_equal(certs[0]->der_len, len);
	scep_cert_free(certs[0]);
	free(certs);
	free(body);
}

static void free_certs(struct scep_cert **certs, size_t n)
{
	while (n)
		scep_cert_free(certs[--n]);
	free(certs);
}

/* The cache answers a body seen before with an equal, separately owned
 * copy; another body (or a failing one) is decoded on its own. */
static void test_ca_certs_cached(void **state)
{
	struct scep_keys *k = scep_keys_new();
	size_t len, len2, n1 = 0, n2 = 0, n3 = 0, i;
	uint8_t *body = test_load("ca-ra.p7b", &len), *one = test_load("getcacert.der", &len2);
	struct scep_cert **c1 = NULL, **c2 = NULL, **c3 = NULL;
	static const uint8_t bad[] = { 0x30, 0x03, 0x02, 0x01 };
	char *err = NULL;

	(void)state;
	assert_int_equal(scep_decode_ca_certs_cached(k, body, len, &c1, &n1, &err), 0);
	assert_int_equal(scep_decode_ca_certs_cached(k, body, len, &c2, &n2, &err), 0);
	assert_null(err);
	assert_int_equal(n1, 2);
	assert_int_equal(n2, 2);
	for (i = 0; i < n1; i++) {
		assert_ptr_not_equal(c1[i], c2[i]);
		assert_ptr_not_equal(c1[i]->subject, c2[i]->subject);
		assert_string_equal(c1[i]->subject, c2[i]->subject);
		assert_string_equal(c1[i]->sha256, c2[i]->sha256);
		assert_string_equal(c1[i]->role, c2[i]->role);
		assert_int_equal(c1[i]->der_len, c2[i]->der_len);
	}
	free_certs(c1, n1);         /* the copy handed out is the caller's */
	assert_int_equal(scep_decode_ca_certs_cached(k, one, len2, &c3, &n3, &err), 0);
	assert_int_equal(n3, 1);
	assert_string_equal(c3[0]->subject, CA_SUBJECT);
	free_certs(c3, n3);
	assert_int_equal(scep_decode_ca_certs_cached(k, bad, sizeof(bad), &c3, &n3, &err), -1);
	assert_non_null(err);
	free(err);
	err = NULL;
	assert_int_equal(scep_decode_ca_certs_cached(k, bad, sizeof(bad), &c3, &n3, &err), -1);
	assert_non_null(err);
	free(err);
	free_certs(c2, n2);
	free(body);
	free(one);
	scep_keys_free(k);
}

static void test_ca_certs_pkcs7(void **state)
{
	size_t len, n = 0;
	uint8_t *body = test_load("ca-ra.p7b", &len);
	struct scep_cert **certs = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(scep_decode_ca_certs(body, len, &certs, &n, &err), 0);
	assert_null(err);
	assert_int_equal(n, 2);
	assert_string_equal(certs[0]->subject, CA_SUBJECT);
	assert_int_equal(certs[0]->is_ca, 1);
	assert_string_equal(certs[1]->subject, CLIENT_SUBJECT);
	assert_int_equal(certs[1]->is_ca, 0);
	scep_cert_free(certs[0]);
	scep_cert_free(certs[1]);
	free(certs);
	free(body);
}

static void test_ca_certs_garbage(void **state)
{
	static const uint8_t html[] = "<html>nope</html>";
	static const uint8_t bad[] = { 0x30, 0x05, 0x02, 0x01, 0x01, 0x02, 0x01 };
	struct scep_cert **certs = (struct scep_cert **)1;
	size_t n = 7;
	char *err = NULL;

	(void)state;
	assert_int_equal(scep_decode_ca_certs(html, sizeof(html) - 1, &certs, &n, &err), -1);
	assert_null(certs);
	assert_int_equal(n, 0);
	assert_string_equal(err, "GetCACert body is neither a certificate nor a PKCS#7 (starts with 0x3c)");
	free(err);
	err = NULL;
	assert_int_equal(scep_decode_ca_certs(bad, sizeof(bad), &certs, &n, &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err, "truncated at byte 5"));
	free(err);
}

static void test_keys_load_errors(void **state)
{
	struct scep_keys *k = scep_keys_new();
	char err[512];
	char *p;

	(void)state;
	assert_int_equal(scep_keys_load(k, "/nonexistent/key.pem", err, sizeof(err)), -1);
	assert_string_equal(err, "cannot open: No such file or directory");
	/* a certificate is not a key */
	p = test_data_path("ca.pem");
	assert_int_equal(scep_keys_load(k, p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no private key found"));
	free(p);
	/* a passphrase-protected key is refused without prompting */
	p = test_data_path("client-enc.key");
	assert_int_equal(scep_keys_load(k, p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "the private key is encrypted"));
	free(p);
	assert_int_equal(scep_keys_count(k), 0);
	p = test_data_path("client.key");
	assert_int_equal(scep_keys_load(k, p, err, sizeof(err)), 0);
	free(p);
	assert_int_equal(scep_keys_count(k), 1);
	scep_keys_free(k);
}


/* ---- issue 5: fields checked against what openssl says of the same bytes
 * (tests/unit/data/README.md lists the commands and their output) ---- */

#define CAP_CA_SUBJECT "CN=scepdump Test SCEP CA,O=scepdump test CA,C=US"

static void nonce_is(const uint8_t *n, size_t len, const char *hex)
{
	char buf[2 * SCEP_NONCE_MAX + 1];
	size_t i;

	assert_int_equal(len * 2, strlen(hex));
	for (i = 0; i < len; i++)
		sprintf(buf + 2 * i, "%02X", n[i]);
	assert_string_equal(buf, hex);
}

static int has_attr(const struct scep_msg *m, const char *entry)
{
	size_t i;

	for (i = 0; i < m->n_signed_attrs; i++)
		if (strcmp(m->signed_attrs[i], entry) == 0)
			return 1;
	return 0;
}

/* certmonger 0.79: GET message=, AES-256 envelope to the CA (micromdm has
 * no RA), RSA signerInfo signatureAlgorithm rsaEncryption. */
static void test_openssl_certmonger_get(void **state)
{
	struct scep_keys *k = keys_with("cap-ca.key", NULL);
	size_t len;
	uint8_t *txt = test_load("certmonger-get-request.txt", &len);
	char *how = NULL;
	struct scep_msg *m = scep_decode_text(txt, len, k, &how);

	(void)state;
	assert_string_equal(how, "URL message=");
	assert_int_equal(m->decoded, 1);
	assert_null(m->error);
	assert_int_equal(m->der_len, 2726);
	assert_string_equal(m->content_type, "pkcs7-signedData");
	assert_int_equal(m->message_type, SCEP_MT_PKCSREQ);
	assert_string_equal(m->transaction_id,
			    "5144491690879529360878486159391127810268425020412081902742954422986051904389");
	nonce_is(m->sender_nonce, m->sender_nonce_len, "ABEDF31D28B37E28868B0B4FCB7FB65D");
	assert_string_equal(m->digest_alg, "sha256");
	assert_string_equal(m->sig_alg, "rsaEncryption");
	assert_string_equal(m->signer->serial,
			    "0B5FADDA383EB4E9E43DB39C3444E371E4BCD5F8FA54CBC3316243680DAF6385");
	assert_int_equal(m->signature_ok, 1);
	assert_int_equal(m->n_recipients, 1);
	assert_string_equal(m->recipients[0].issuer, CAP_CA_SUBJECT);
	assert_string_equal(m->recipients[0].serial, "01");
	assert_string_equal(m->content_enc_alg, "aes-256-cbc");
	assert_int_equal(m->weak_cipher, 0);
	assert_int_equal(m->decrypt_state, SCEP_DECRYPT_OK);
	/* openssl req -text: Subject: CN = certmonger-get-enroll, O = scepdump */
	assert_string_equal(m->csr->subject, "O=scepdump,CN=certmonger-get-enroll");
	assert_int_equal(m->csr->key_bits, 2048);
	assert_string_equal(m->csr->challenge, "scepdump-challenge");
	assert_string_equal(m->csr->extensions, "basicConstraints, subjectKeyIdentifier");
	assert_null(m->csr->key_usage);
	assert_true(has_attr(m, "messageType=19"));
	assert_true(has_attr(m, "contentType=pkcs7-data"));
	assert_true(has_attr(m, "signingTime=2026-11-25T16:30:11Z"));
	assert_true(has_attr(m, "senderNonce=abedf31d28b37e28868b0b4fcb7fb65d"));
	scep_msg_free(m);
	free(how);
	free(txt);
	scep_keys_free(k);
}

/* strongSwan pki --scep: POST, 3DES envelope, sha256WithRSAEncryption. */
static void test_openssl_strongswan_post(void **state)
{
	struct scep_keys *k = keys_with("cap-ca.key", NULL);
	struct scep_msg *m = decode_file("strongswan-pkcsreq.der", k);

	(void)state;
	assert_int_equal(m->decoded, 1);
	assert_null(m->error);
	assert_int_equal(m->message_type, SCEP_MT_PKCSREQ);
	assert_string_equal(m->transaction_id, "F930E10F7F0D9DA86AAF24E75EF5906029A3D357");
	nonce_is(m->sender_nonce, m->sender_nonce_len, "D7C709C943A74F8C60E4E6EF059C986F");
	assert_string_equal(m->digest_alg, "sha256");
	assert_string_equal(m->sig_alg, "sha256WithRSAEncryption");
	assert_string_equal(m->signer->serial, "F930E10F7F0D9DA86AAF24E75EF5906029A3D357");
	assert_string_equal(m->signer->subject, "CN=strongswan-enroll,O=scepdump,C=US");
	assert_string_equal(m->recipients[0].serial, "01");
	assert_string_equal(m->recipients[0].issuer, CAP_CA_SUBJECT);
	assert_string_equal(m->content_enc_alg, "des-ede3-cbc");
	assert_int_equal(m->weak_cipher, 1);
	assert_int_equal(m->decrypt_state, SCEP_DECRYPT_OK);
	assert_string_equal(m->csr->subject, "CN=strongswan-enroll,O=scepdump,C=US");
	assert_int_equal(m->csr->key_bits, 2048);
	assert_string_equal(m->csr->challenge, "scepdump-challenge");
	scep_msg_free(m);
	scep_keys_free(k);
}

/* micromdm scepclient renewal: RenewalReq signed by the old certificate
 * (serial 02, issued by the CA), and its CertRep opened with the old key. */
static void test_openssl_renewal(void **state)
{
	struct scep_keys *k = keys_with("cap-ca.key", "renewal-old.key");
	struct scep_msg *m = decode_file("renewal-req.der", k);

	(void)state;
	assert_int_equal(m->decoded, 1);
	assert_int_equal(m->message_type, SCEP_MT_RENEWALREQ);
	assert_string_equal(scep_msg_type_name(m->message_type), "RenewalReq");
	assert_string_equal(m->transaction_id, "9E5E8456699D039F5175BCBBBECF8A22187DB4DD");
	nonce_is(m->sender_nonce, m->sender_nonce_len, "7BB73C5F613D00FE28E3207D7A4665BF");
	assert_string_equal(m->sig_alg, "sha256WithRSAEncryption");
	assert_string_equal(m->signer->serial, "02");
	assert_string_equal(m->signer->issuer, CAP_CA_SUBJECT);
	assert_int_equal(m->signer->self_signed, 0);
	assert_string_equal(m->signer->key_usage_names, "digitalSignature");
	assert_string_equal(m->signer->ext_key_usage, "clientAuth");
	assert_null(m->signer->role);
	assert_string_equal(m->content_enc_alg, "des-ede3-cbc");
	assert_string_equal(m->csr->subject, "CN=renewal,O=scepdump,C=US");
	assert_null(m->csr->extensions);
	scep_msg_free(m);

	m = decode_file("renewal-certrep.der", k);
	assert_int_equal(m->pki_status, SCEP_STATUS_SUCCESS);
	nonce_is(m->recipient_nonce, m->recipient_nonce_len, "7BB73C5F613D00FE28E3207D7A4665BF");
	assert_string_equal(m->digest_alg, "sha1");
	/* openssl cms -print of the envelope: recipient serial 2, des-cbc */
	assert_string_equal(m->recipients[0].serial, "02");
	assert_string_equal(m->content_enc_alg, "des-cbc");
	assert_int_equal(m->decrypt_state, SCEP_DECRYPT_OK);
	/* openssl pkcs7 -print_certs | openssl x509 -serial: serial=03 */
	assert_string_equal(m->issued->serial, "03");
	assert_string_equal(m->issued->subject, "CN=renewal,O=scepdump,C=US");
	assert_string_equal(m->issued->key_usage_names, "digitalSignature");
	assert_string_equal(m->issued->ext_key_usage, "clientAuth");
	scep_msg_free(m);
	scep_keys_free(k);
}

/* micromdm's CertRep FAILURE to a wrong challenge (capture
 * wrong-challenge.pcap); every signed attribute listed. */
static void test_openssl_certrep_failure(void **state)
{
	struct scep_msg *m = decode_file("wrongchal-certrep.der", NULL);

	(void)state;
	assert_int_equal(m->decoded, 1);
	assert_int_equal(m->message_type, SCEP_MT_CERTREP);
	assert_int_equal(m->pki_status, SCEP_STATUS_FAILURE);
	assert_int_equal(m->fail_info, SCEP_FAIL_BADREQUEST);
	assert_string_equal(m->transaction_id, "HlOfSCoh1SHeA4UxsEp13VZPrGA=");
	nonce_is(m->recipient_nonce, m->recipient_nonce_len, "F79C55F725F57B8D4FC217C7B88441A8");
	assert_string_equal(m->digest_alg, "sha1");
	assert_string_equal(m->sig_alg, "sha1WithRSAEncryption");
	assert_string_equal(m->signer->subject, CAP_CA_SUBJECT);
	assert_string_equal(m->signer->key_usage_names, "digitalSignature, keyCertSign, cRLSign");
	assert_int_equal(m->enveloped, 0);
	assert_int_equal(m->n_signed_attrs, 9);
	assert_string_equal(m->signed_attrs[0], "messageType=3");
	assert_string_equal(m->signed_attrs[1], "pkiStatus=2");
	assert_string_equal(m->signed_attrs[2], "failInfo=2");
	assert_string_equal(m->signed_attrs[3], "contentType=pkcs7-data");
	assert_string_equal(m->signed_attrs[4], "signingTime=2026-11-25T16:30:21Z");
	/* no content: the digest is SHA-1 of nothing */
	assert_string_equal(m->signed_attrs[7], "messageDigest=da39a3ee5e6b4b0d3255bfef95601890afd80709");
	assert_string_equal(m->signed_attrs[8], "transactionID=HlOfSCoh1SHeA4UxsEp13VZPrGA=");
	scep_msg_free(m);
}

static void test_wrong_key_names_recipient(void **state)
{
	struct scep_keys *k = keys_with("client-bad.key", NULL);
	struct scep_msg *m = decode_file("strongswan-pkcsreq.der", k);

	(void)state;
	assert_int_equal(m->decrypt_state, SCEP_DECRYPT_FAILED);
	assert_string_equal(m->decrypt_error, "none of the 1 loaded key opens the envelope "
			    "(it is for " CAP_CA_SUBJECT " serial 01)");
	assert_null(m->csr);
	scep_msg_free(m);
	scep_keys_free(k);
}

/* NDES-like GetCACert: RA signing cert, CA, RA encryption cert. */
static void test_ca_roles(void **state)
{
	size_t len, n = 0;
	uint8_t *body = test_load("ndes-ca-ra.p7b", &len);
	struct scep_cert **certs = NULL;
	char *err = NULL;
	size_t i;

	(void)state;
	assert_int_equal(scep_decode_ca_certs(body, len, &certs, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(certs[0]->subject,
			    "O=scepdump test,CN=NDES-Exchange Enrollment Agent (Offline request)");
	assert_string_equal(certs[0]->role, "RA-signing");
	assert_string_equal(certs[0]->key_usage_names, "digitalSignature, nonRepudiation");
	assert_string_equal(certs[0]->ext_key_usage, "1.3.6.1.4.1.311.20.2.1, clientAuth");
	assert_string_equal(certs[1]->subject, CA_SUBJECT);
	assert_string_equal(certs[1]->role, "CA");
	assert_string_equal(certs[2]->role, "RA-encryption");
	assert_string_equal(certs[2]->key_usage_names, "keyEncipherment");
	assert_null(certs[2]->ext_key_usage);
	/* validity against a reference time, not the clock */
	assert_int_equal(scep_cert_validity(certs[2], certs[2]->not_before - 1), -1);
	assert_int_equal(scep_cert_validity(certs[2], certs[2]->not_before), 0);
	assert_int_equal(scep_cert_validity(certs[2], certs[2]->not_after), 0);
	assert_int_equal(scep_cert_validity(certs[2], certs[2]->not_after + 1), 1);
	for (i = 0; i < n; i++)
		scep_cert_free(certs[i]);
	free(certs);
	free(body);

	/* micromdm: the CA alone; ca-ra.p7b: CA + a client cert that can
	 * both sign and encrypt */
	body = test_load("getcacert.der", &len);
	assert_int_equal(scep_decode_ca_certs(body, len, &certs, &n, &err), 0);
	assert_string_equal(certs[0]->role, "CA");
	scep_cert_free(certs[0]);
	free(certs);
	free(body);
	body = test_load("ca-ra.p7b", &len);
	assert_int_equal(scep_decode_ca_certs(body, len, &certs, &n, &err), 0);
	assert_string_equal(certs[0]->role, "CA");
	/* issued.pem: keyUsage digitalSignature only */
	assert_string_equal(certs[1]->role, "RA-signing");
	for (i = 0; i < n; i++)
		scep_cert_free(certs[i]);
	free(certs);
	free(body);
}

static void test_keys_passphrase(void **state)
{
	struct scep_keys *k = scep_keys_new();
	char err[512];
	char *p = test_data_path("client-enc.key");
	struct scep_msg *m;

	(void)state;
	assert_int_equal(scep_keys_load_pass(k, p, "not-it", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "wrong passphrase"));
	assert_int_equal(scep_keys_load_pass(k, p, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--key-pass"));
	assert_int_equal(scep_keys_count(k), 0);
	assert_int_equal(scep_keys_load_pass(k, p, "scepdump", err, sizeof(err)), 0);
	assert_int_equal(scep_keys_count(k), 1);
	free(p);
	/* encrypted DER PKCS#8 of client.key: it opens the CertRep */
	p = test_data_path("client-enc.p8.der");
	assert_int_equal(scep_keys_load_pass(k, p, "wrong", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "wrong passphrase"));
	assert_int_equal(scep_keys_load_pass(k, p, "scepdump", err, sizeof(err)), 0);
	assert_int_equal(scep_keys_count(k), 2);
	free(p);
	m = decode_file("certrep-success.der", k);
	assert_int_equal(m->decrypt_state, SCEP_DECRYPT_OK);
	assert_string_equal(m->issued->serial, "02");
	scep_msg_free(m);
	scep_keys_free(k);
}

/* Where a byte string first occurs in buf, or (size_t)-1. */
static size_t find_bytes(const uint8_t *buf, size_t len, const uint8_t *pat, size_t plen)
{
	size_t i;

	for (i = 0; plen <= len && i <= len - plen; i++)
		if (memcmp(buf + i, pat, plen) == 0)
			return i;
	return (size_t)-1;
}

/* The DER of the first certificate a SignedData carries (OpenSSL's
 * parse: the decoder keeps no certificate bytes); OPENSSL_free it. */
static uint8_t *first_cert_der(const uint8_t *der, size_t len, size_t *out_len)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	STACK_OF(X509) *certs;
	unsigned char *out = NULL;
	int n;

	assert_non_null(cms);
	certs = CMS_get1_certs(cms);
	assert_non_null(certs);
	n = i2d_X509(sk_X509_value(certs, 0), &out);
	assert_true(n > 0);
	*out_len = (size_t)n;
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	return out;
}

/* Cut a real message every 64 bytes (and just before/after the points
 * that matter). What must come out depends on where the cut is: the
 * envelope (recipient) comes before certificates and signerInfos, the
 * SCEP attributes last. recip_name is the DER of the recipient's issuer
 * Name, followed in the message by the serial INTEGER 02 01 <serial>. */
static void cuts(const char *name, const char *ca_pem, uint8_t serial, const char *txid, int definite)
{
	size_t len, nlen, i, rpos, tpos, mpos;
	uint8_t *der = test_load(name, &len);
	uint8_t *pat;
	char *p = test_data_path(ca_pem);
	FILE *f = fopen(p, "r");
	X509 *ca;
	unsigned char *nder = NULL;
	static const uint8_t MT_OID[] = { 0x06, 0x0a, 0x60, 0x86, 0x48, 0x01, 0x86, 0xf8, 0x45, 0x01, 0x09, 0x02 };

	assert_non_null(f);
	ca = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	free(p);
	assert_non_null(ca);
	nlen = (size_t)i2d_X509_NAME(X509_get_subject_name(ca), &nder);
	pat = malloc(nlen + 3);
	memcpy(pat, nder, nlen);
	pat[nlen] = 0x02;
	pat[nlen + 1] = 0x01;
	pat[nlen + 2] = serial;
	rpos = find_bytes(der, len, pat, nlen + 3);
	assert_true(rpos != (size_t)-1);
	rpos += nlen + 3;                       /* the recipient's serial is whole from here */
	tpos = find_bytes(der, len, (const uint8_t *)txid, strlen(txid));
	assert_true(tpos != (size_t)-1);
	tpos += strlen(txid);                   /* transactionID's value ends its attribute */
	mpos = find_bytes(der, len, MT_OID, sizeof(MT_OID));
	assert_true(mpos != (size_t)-1);
	mpos += sizeof(MT_OID) + 6;             /* SET { PrintableString "19" } */

	for (i = 16; i < len; i += (i + 64 < len ? 64 : 1)) {
		struct scep_msg *m = scep_decode_pki_message(der, i, NULL);
		char head[64];

		assert_non_null(m);
		assert_int_equal(m->decoded, 0);
		assert_int_equal(m->partial, 1);
		assert_string_equal(m->content_type, "pkcs7-signedData");
		if (definite)
			snprintf(head, sizeof(head), "truncated at byte %zu of %zu (inside ", i, len);
		else
			snprintf(head, sizeof(head), "truncated at byte %zu (inside ", i);
		if (strncmp(m->error, head, strlen(head)) != 0)
			fail_msg("%s cut at %zu: %s", name, i, m->error);
		if (i >= rpos) {
			if (m->n_recipients != 1)
				fail_msg("%s cut at %zu (recipient ends at %zu): no recipient; %s", name, i,
					 rpos, m->error);
			assert_int_equal(m->recipients[0].serial[0], '0');
			assert_int_equal(strtoul(m->recipients[0].serial, NULL, 16), serial);
			assert_non_null(strstr(m->error, "recipient"));
		} else {
			assert_int_equal(m->n_recipients, 0);
		}
		if (i >= mpos)
			assert_int_not_equal(m->message_type, SCEP_MT_NONE);
		else
			assert_int_equal(m->message_type, SCEP_MT_NONE);
		if (i >= tpos)
			assert_string_equal(m->transaction_id, txid);
		else
			assert_null(m->transaction_id);
		scep_msg_free(m);
	}
	/* right at the points */
	{
		struct scep_msg *m = scep_decode_pki_message(der, rpos, NULL);

		assert_int_equal(m->n_recipients, 1);
		scep_msg_free(m);
		m = scep_decode_pki_message(der, rpos - 1, NULL);
		assert_int_equal(m->n_recipients, 0);
		scep_msg_free(m);
		m = scep_decode_pki_message(der, tpos, NULL);
		assert_string_equal(m->transaction_id, txid);
		assert_non_null(m->signer);
		assert_non_null(strstr(m->error, "): recovered contentType, signer, recipient"));
		assert_non_null(strstr(m->error, "transactionID"));
		scep_msg_free(m);
	}
	OPENSSL_free(nder);
	free(pat);
	X509_free(ca);
	free(der);
}

static void test_partial_cuts(void **state)
{
	(void)state;
	cuts("pkcsreq.der", "ca.pem", 1, TXID_OK, 1);
	cuts("pkcsreq-ber.der", "ca.pem", 1, TXID_OK, 0);
	cuts("strongswan-pkcsreq.der", "cap-ca.pem", 1, "F930E10F7F0D9DA86AAF24E75EF5906029A3D357", 1);
	cuts("renewal-req.der", "cap-ca.pem", 1, "9E5E8456699D039F5175BCBBBECF8A22187DB4DD", 1);
}

/* A cut message with its envelope whole still opens with a key: the CSR
 * is read once messageType (after the envelope) is there. */
static void test_partial_decrypts(void **state)
{
	struct scep_keys *k = keys_with("cap-ca.key", NULL);
	size_t len;
	uint8_t *der = test_load("strongswan-pkcsreq.der", &len);
	struct scep_msg *m = scep_decode_pki_message(der, len - 40, k);

	(void)state;
	assert_int_equal(m->decoded, 0);
	assert_int_equal(m->partial, 1);
	assert_int_equal(m->decrypt_state, SCEP_DECRYPT_OK);
	assert_string_equal(m->csr->subject, "CN=strongswan-enroll,O=scepdump,C=US");
	assert_string_equal(m->error, "truncated at byte 2535 of 2575 (inside signature): recovered contentType, "
			    "signer, recipient, contentEncryption, messageType, transactionID, senderNonce, CSR");
	scep_msg_free(m);
	/* the certificates' [0] tag overwritten: d2i refuses the message,
	 * the walk skips the unknown element and still reads signerInfos */
	{
		size_t cert_len, at;
		uint8_t *cert = first_cert_der(der, len, &cert_len);

		at = find_bytes(der, len, cert, cert_len);
		assert_true(at != (size_t)-1 && at >= 4);
		assert_int_equal(der[at - 4], 0xa0);
		der[at - 4] = 0xa5;
		OPENSSL_free(cert);
	}
	m = scep_decode_pki_message(der, len, k);
	assert_int_equal(m->decoded, 0);
	assert_int_equal(m->partial, 1);
	assert_null(m->signer);
	assert_string_equal(m->transaction_id, "F930E10F7F0D9DA86AAF24E75EF5906029A3D357");
	assert_string_equal(m->recipients[0].serial, "01");
	assert_string_equal(m->csr->subject, "CN=strongswan-enroll,O=scepdump,C=US");
	assert_non_null(strstr(m->error, "damaged"));
	/* the signer's certificate is gone with the damaged [0], but the
	 * SignerInfo still names it: openssl cms -print's issuerAndSerialNumber */
	assert_string_equal(m->signer_issuer, "CN=strongswan-enroll,O=scepdump,C=US");
	assert_string_equal(m->signer_serial, "F930E10F7F0D9DA86AAF24E75EF5906029A3D357");
	assert_non_null(strstr(m->error, "recovered contentType, signer, recipient, contentEncryption, messageType"));
	scep_msg_free(m);
	free(der);
	scep_keys_free(k);
}


static X509 *load_cert(const char *name)
{
	char *p = test_data_path(name);
	FILE *f = fopen(p, "r");
	X509 *x;

	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	free(p);
	assert_non_null(x);
	return x;
}

/* A pkiMessage of type mt around content, made here with OpenSSL's CMS
 * API the way SCEP clients do (no capture has CertPoll, GetCert or
 * GetCRL): envelope to the test CA, signed with the client's key and
 * certificate, messageType and transactionID as signed attributes. */
static uint8_t *build_pki_message_ex(int mt, const uint8_t *content, size_t clen, size_t *outlen,
				     const char *const *extra);

static uint8_t *build_pki_message(int mt, const uint8_t *content, size_t clen, size_t *outlen)
{
	return build_pki_message_ex(mt, content, clen, outlen, NULL);
}

/* extra: more signed attributes as PrintableStrings, pairs of a dotted OID
 * and a value, ending with NULL (a challengePassword where Apple's older
 * clients put a copy of the CSR's, a pkiStatus and failInfo). */
static uint8_t *build_pki_message_ex(int mt, const uint8_t *content, size_t clen, size_t *outlen,
				     const char *const *extra)
{
	X509 *ca = load_cert("ca.pem"), *cert = load_cert("issued.pem");
	char *kp = test_data_path("client.key");
	FILE *kf = fopen(kp, "r");
	EVP_PKEY *key;
	STACK_OF(X509) *rcpt = sk_X509_new_null();
	BIO *in = BIO_new_mem_buf(content, (int)clen), *ebio;
	CMS_ContentInfo *env, *sd;
	CMS_SignerInfo *si;
	unsigned char *envder = NULL, *out = NULL;
	int envlen, n;
	char mts[8];
	uint8_t *ret;

	assert_non_null(kf);
	key = PEM_read_PrivateKey(kf, NULL, NULL, NULL);
	fclose(kf);
	free(kp);
	assert_non_null(key);
	sk_X509_push(rcpt, ca);
	env = CMS_encrypt(rcpt, in, EVP_aes_128_cbc(), CMS_BINARY);
	assert_non_null(env);
	envlen = i2d_CMS_ContentInfo(env, &envder);
	assert_true(envlen > 0);
	ebio = BIO_new_mem_buf(envder, envlen);
	sd = CMS_sign(NULL, NULL, NULL, NULL, CMS_BINARY | CMS_PARTIAL);
	assert_non_null(sd);
	si = CMS_add1_signer(sd, cert, key, EVP_sha256(), CMS_BINARY);
	assert_non_null(si);
	snprintf(mts, sizeof(mts), "%d", mt);
	{
		ASN1_OBJECT *o = OBJ_txt2obj("2.16.840.1.113733.1.9.2", 1);
		ASN1_OBJECT *tx = OBJ_txt2obj("2.16.840.1.113733.1.9.7", 1);

		assert_int_equal(CMS_signed_add1_attr_by_OBJ(si, o, V_ASN1_PRINTABLESTRING, mts,
							 (int)strlen(mts)), 1);
		assert_int_equal(CMS_signed_add1_attr_by_OBJ(si, tx, V_ASN1_PRINTABLESTRING, "built-tx", 8), 1);
		for (; extra && extra[0]; extra += 2) {
			ASN1_OBJECT *x = OBJ_txt2obj(extra[0], 1);

			assert_int_equal(CMS_signed_add1_attr_by_OBJ(si, x, V_ASN1_PRINTABLESTRING, extra[1],
								 (int)strlen(extra[1])), 1);
			ASN1_OBJECT_free(x);
		}
		ASN1_OBJECT_free(o);
		ASN1_OBJECT_free(tx);
	}
	assert_int_equal(CMS_final(sd, ebio, NULL, CMS_BINARY), 1);
	n = i2d_CMS_ContentInfo(sd, &out);
	assert_true(n > 0);
	ret = malloc((size_t)n);
	memcpy(ret, out, (size_t)n);
	*outlen = (size_t)n;
	OPENSSL_free(out);
	OPENSSL_free(envder);
	CMS_ContentInfo_free(sd);
	CMS_ContentInfo_free(env);
	BIO_free(ebio);
	BIO_free(in);
	sk_X509_free(rcpt);
	X509_free(ca);
	X509_free(cert);
	EVP_PKEY_free(key);
	return ret;
}

static void test_pkiop_contents(void **state)
{
	struct scep_keys *k = keys_with("ca.key", NULL);
	X509 *ca = load_cert("ca.pem"), *cl = load_cert("issued.pem");
	PKCS7_ISSUER_AND_SERIAL *ias = PKCS7_ISSUER_AND_SERIAL_new();
	unsigned char *c = NULL, *n1 = NULL, *n2 = NULL;
	uint8_t *msg, *seq;
	size_t mlen;
	int clen, l1, l2, mts[] = { SCEP_MT_GETCERT, SCEP_MT_GETCRL };
	unsigned i;
	struct scep_msg *m;

	(void)state;
	/* GetCert / GetCRL: IssuerAndSerialNumber of serial 0x1234 */
	X509_NAME_set(&ias->issuer, X509_get_subject_name(ca));
	ASN1_INTEGER_set(ias->serial, 0x1234);
	clen = i2d_PKCS7_ISSUER_AND_SERIAL(ias, &c);
	assert_true(clen > 0);
	for (i = 0; i < 2; i++) {
		msg = build_pki_message(mts[i], c, (size_t)clen, &mlen);
		m = scep_decode_pki_message(msg, mlen, k);
		assert_int_equal(m->decoded, 1);
		assert_null(m->error);
		assert_int_equal(m->message_type, mts[i]);
		assert_string_equal(m->transaction_id, "built-tx");
		assert_int_equal(m->decrypt_state, SCEP_DECRYPT_OK);
		assert_string_equal(m->req_issuer, CA_SUBJECT);
		assert_string_equal(m->req_serial, "1234");
		assert_null(m->req_subject);
		scep_msg_free(m);
		free(msg);
	}
	/* CertPoll: IssuerAndSubject ::= SEQUENCE { issuer, subject } */
	l1 = i2d_X509_NAME(X509_get_subject_name(ca), &n1);
	l2 = i2d_X509_NAME(X509_get_subject_name(cl), &n2);
	assert_true(l1 > 0 && l2 > 0 && l1 + l2 < 65536);
	seq = malloc((size_t)(l1 + l2 + 4));
	seq[0] = 0x30;
	seq[1] = 0x82;
	seq[2] = (uint8_t)((l1 + l2) >> 8);
	seq[3] = (uint8_t)(l1 + l2);
	memcpy(seq + 4, n1, (size_t)l1);
	memcpy(seq + 4 + l1, n2, (size_t)l2);
	msg = build_pki_message(SCEP_MT_CERTPOLL, seq, (size_t)(l1 + l2 + 4), &mlen);
	m = scep_decode_pki_message(msg, mlen, k);
	assert_null(m->error);
	assert_string_equal(m->req_issuer, CA_SUBJECT);
	assert_string_equal(m->req_subject, CLIENT_SUBJECT);
	assert_null(m->req_serial);
	scep_msg_free(m);
	free(msg);
	/* a CertPoll whose content is an IssuerAndSerialNumber instead */
	msg = build_pki_message(SCEP_MT_CERTPOLL, c, (size_t)clen, &mlen);
	m = scep_decode_pki_message(msg, mlen, k);
	assert_int_equal(m->decoded, 1);
	assert_non_null(m->error);
	assert_non_null(strstr(m->error, "IssuerAndSubject"));
	scep_msg_free(m);
	free(msg);
	free(seq);
	OPENSSL_free(n1);
	OPENSSL_free(n2);
	OPENSSL_free(c);
	PKCS7_ISSUER_AND_SERIAL_free(ias);
	X509_free(ca);
	X509_free(cl);
	scep_keys_free(k);
}

/* ---- signers named only by issuer and serial, keys in PKCS#12 ---- */

/* certrep-failure.der with its certificates [0] taken out (an NDES-shaped
 * CertRep): openssl cms -print names the signer issuer CN=scepdump Test CA,
 * serial 01; openssl cms -verify -noverify fails ("signer certificate not
 * found") without -certfile ca.pem and succeeds with it. */
static void test_signer_from_ca_cert(void **state)
{
	struct scep_keys *k = scep_keys_new();
	struct scep_msg *m;
	char err[256], *p;

	(void)state;
	m = decode_file("certrep-failure-nocerts.der", NULL);
	assert_int_equal(m->decoded, 1);
	assert_null(m->signer);
	assert_int_equal(m->signature_ok, -1);
	assert_int_equal(m->n_other_certs, 0);
	assert_string_equal(m->signer_issuer, CA_SUBJECT);
	assert_string_equal(m->signer_serial, "01");
	assert_string_equal(m->transaction_id, TXID_BAD);
	scep_msg_free(m);

	assert_non_null(k);
	p = test_data_path("ca.pem");
	assert_int_equal(scep_keys_load_certs(k, p, err, sizeof(err)), 0);
	free(p);
	m = decode_file("certrep-failure-nocerts.der", k);
	assert_non_null(m->signer);
	assert_int_equal(m->signer_from, SCEP_SIGNER_GIVEN);
	assert_string_equal(m->signer->subject, CA_SUBJECT);
	assert_int_equal(m->signature_ok, 1);
	scep_msg_free(m);
	/* the message's own certificate still comes first */
	m = decode_file("certrep-failure.der", k);
	assert_int_equal(m->signer_from, SCEP_SIGNER_IN_MESSAGE);
	assert_int_equal(m->signature_ok, 1);
	scep_msg_free(m);
	/* not a certificate file */
	p = test_data_path("getcacaps.txt");
	assert_int_equal(scep_keys_load_certs(k, p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no certificate found"));
	free(p);
	scep_keys_free(k);
}

/* client.key and issued.pem exported by openssl pkcs12 -export (AES, then
 * -legacy RC2/3DES, then an empty password); the key opens
 * certrep-success.der as the PEM key does: issued serial 02. */
static void test_keys_pkcs12(void **state)
{
	static const struct {
		const char *file, *pass;
		int ok;
		const char *err;
	} cases[] = {
		{ "client.p12", "scepdump", 1, NULL },
		{ "client-legacy.p12", "scepdump", 1, NULL },
		{ "client-nopass.p12", NULL, 1, NULL },
		{ "client.p12", NULL, 0, "give its password with --key-pass" },
		{ "client.p12", "nope", 0, "wrong passphrase" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct scep_keys *k = scep_keys_new();
		char err[256] = "", *p = test_data_path(cases[i].file);
		int rc = scep_keys_load_pass(k, p, cases[i].pass, err, sizeof(err));
		struct scep_msg *m;

		free(p);
		if (!cases[i].ok) {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(err, cases[i].err));
			scep_keys_free(k);
			continue;
		}
		if (rc < 0)
			fail_msg("%s: %s", cases[i].file, err);
		m = decode_file("certrep-success.der", k);
		assert_int_equal(m->decrypt_state, SCEP_DECRYPT_OK);
		assert_non_null(m->issued);
		assert_string_equal(m->issued->serial, "02");
		scep_msg_free(m);
		scep_keys_free(k);
	}
}

/* A CA:TRUE certificate whose key usage is keyEncipherment and
 * dataEncipherment only (no keyCertSign) is an RA encryption
 * certificate, not a CA: some NDES deployments issue it so. */
static void test_ca_true_ra_role(void **state)
{
	size_t len, n = 0, i;
	uint8_t *body = test_load("ndes-ca-ra-catrue.p7b", &len);
	struct scep_cert **certs = NULL;
	char *err = NULL;
	int ras = 0;

	(void)state;
	assert_int_equal(scep_decode_ca_certs(body, len, &certs, &n, &err), 0);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		if (!strcmp(certs[i]->subject, CA_SUBJECT)) {
			assert_string_equal(certs[i]->role, "CA");
			continue;
		}
		assert_int_equal(certs[i]->is_ca, 1);
		assert_string_equal(certs[i]->role, "RA-encryption");
		ras++;
	}
	assert_int_equal(ras, 1);
	scep_certs_free(certs, n);
	free(err);
	free(body);
}

/* No message from an Apple client with challengePassword among the outer
 * signed attributes was found published: this one is built here the same
 * way. The secret never reaches the attribute list; it is kept apart for
 * --show-secrets. */
static void test_outer_challenge_masked(void **state)
{
	size_t clen, len, i;
	uint8_t *csr = test_load("pkcsreq.der", &clen), *msg;
	struct scep_msg *m;
	int listed = 0;

	(void)state;
	static const char *const challenge[] = { "1.2.840.113549.1.9.7", "outer-secret", NULL };

	msg = build_pki_message_ex(SCEP_MT_PKCSREQ, csr, clen, &len, challenge);
	m = scep_decode_pki_message(msg, len, NULL);
	assert_int_equal(m->decoded, 1);
	assert_int_equal(m->has_signed_challenge, 1);
	assert_string_equal(m->signed_challenge, "outer-secret");
	for (i = 0; i < m->n_signed_attrs; i++) {
		assert_null(strstr(m->signed_attrs[i], "outer-secret"));
		if (!strcmp(m->signed_attrs[i], "challengePassword=****"))
			listed++;
	}
	assert_int_equal(listed, 1);
	/* built without senderNonce: said, not passed over */
	for (i = 0, listed = 0; i < m->n_notes; i++)
		if (strstr(m->notes[i], "no senderNonce"))
			listed++;
	assert_int_equal(listed, 1);
	scep_msg_free(m);
	free(msg);
	free(csr);
}

/* What a message that still decodes breaks is noted, not passed over:
 * bytes after its end, a failInfo RFC 8894 does not define, a FAILURE
 * without recipientNonce. */
static void test_notes_of_decoded_messages(void **state)
{
	static const char *const odd[] = { "2.16.840.1.113733.1.9.3", "2",
					   "2.16.840.1.113733.1.9.4", "7", NULL };
	size_t len, n, i;
	uint8_t *der = test_load("pkcsreq.der", &len), *grown, *msg;
	struct scep_msg *m;
	int seen = 0;

	(void)state;
	grown = malloc(len + 3);
	memcpy(grown, der, len);
	memcpy(grown + len, "\r\n\0", 3);
	m = scep_decode_pki_message(grown, len + 3, NULL);
	assert_int_equal(m->decoded, 1);
	assert_int_equal(m->trailing_bytes, 3);
	assert_string_equal(m->notes[0], "3 bytes after the end of the message (ignored)");
	scep_msg_free(m);
	/* BER: the end is found by following the indefinite lengths */
	free(der);
	der = test_load("pkcsreq-ber.der", &len);
	grown = realloc(grown, len + 1);
	memcpy(grown, der, len);
	grown[len] = 0x0a;
	m = scep_decode_pki_message(grown, len + 1, NULL);
	assert_int_equal(m->trailing_bytes, 1);
	scep_msg_free(m);
	m = scep_decode_pki_message(der, len, NULL);
	assert_int_equal(m->trailing_bytes, 0);
	assert_int_equal(m->n_notes, 0);
	scep_msg_free(m);

	msg = build_pki_message_ex(SCEP_MT_CERTREP, (const uint8_t *)"", 0, &n, odd);
	m = scep_decode_pki_message(msg, n, NULL);
	assert_int_equal(m->decoded, 1);
	assert_int_equal(m->pki_status, SCEP_STATUS_FAILURE);
	assert_int_equal(m->fail_info, 7);
	for (i = 0; i < m->n_notes; i++) {
		if (!strcmp(m->notes[i], "failInfo 7 is none of RFC 8894's (0-4)") ||
		    strstr(m->notes[i], "CertRep without a recipientNonce") ||
		    strstr(m->notes[i], "no senderNonce"))
			seen++;
	}
	assert_int_equal(seen, 3);
	scep_msg_free(m);
	free(msg);
	free(grown);
	free(der);
}

/* ---- certificates past the per-message cap ---- */

/* n certificates made here with OpenSSL, each CN=filler <i>, serial i + 1,
 * basicConstraints CA:TRUE except the one at non_ca (none when n or more),
 * all signed by one fresh P-256 key: parsing is what costs, not signing. */
static STACK_OF(X509) *filler_certs(size_t n, size_t non_ca)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	EVP_PKEY *key = EVP_EC_gen("P-256");
	size_t i;

	assert_non_null(sk);
	assert_non_null(key);
	for (i = 0; i < n; i++) {
		X509 *x = X509_new();
		X509_NAME *nm = X509_NAME_new();
		X509_EXTENSION *bc;
		X509V3_CTX v3;
		char cn[32];

		assert_non_null(x);
		snprintf(cn, sizeof(cn), "filler %zu", i);
		X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
		assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
		ASN1_INTEGER_set(X509_get_serialNumber(x), (long)i + 1);
		X509_set_subject_name(x, nm);
		X509_set_issuer_name(x, nm);
		X509_gmtime_adj(X509_getm_notBefore(x), 0);
		X509_gmtime_adj(X509_getm_notAfter(x), 86400);
		X509_set_pubkey(x, key);
		X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
		bc = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
					 i == non_ca ? "critical,CA:FALSE" : "critical,CA:TRUE");
		assert_non_null(bc);
		X509_add_ext(x, bc, -1);
		X509_EXTENSION_free(bc);
		assert_true(X509_sign(x, key, EVP_sha256()) > 0);
		X509_NAME_free(nm);
		sk_X509_push(sk, x);
	}
	EVP_PKEY_free(key);
	return sk;
}

/* A degenerate certs-only PKCS#7 of sk, as `openssl crl2pkcs7 -nocrl
 * -certfile many.pem -outform DER` writes it. */
static uint8_t *certs_only_der(STACK_OF(X509) *sk, size_t *len)
{
	PKCS7 *p7 = PKCS7_new();
	unsigned char *out = NULL;
	uint8_t *ret;
	int i, n;

	assert_non_null(p7);
	assert_int_equal(PKCS7_set_type(p7, NID_pkcs7_signed), 1);
	assert_int_equal(PKCS7_content_new(p7, NID_pkcs7_data), 1);
	for (i = 0; i < sk_X509_num(sk); i++)
		assert_int_equal(PKCS7_add_certificate(p7, sk_X509_value(sk, i)), 1);
	n = i2d_PKCS7(p7, &out);
	assert_true(n > 0);
	ret = malloc((size_t)n);
	assert_non_null(ret);
	memcpy(ret, out, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(out);
	PKCS7_free(p7);
	return ret;
}

static int has_note(const struct scep_msg *m, const char *text)
{
	size_t i;

	for (i = 0; i < m->n_notes; i++)
		if (strstr(m->notes[i], text))
			return 1;
	return 0;
}

/* GetCACert with 150 certificates, the one at 120 an RA's (CA:FALSE): the
 * first 64 are summarised and so is the RA certificate past them; the
 * other 85 are counted (150 - 64 - 1). */
static void test_certs_cap_ca_certs(void **state)
{
	STACK_OF(X509) *sk = filler_certs(150, 120);
	struct scep_cert **certs = NULL;
	size_t len, n = 0, i;
	uint8_t *der = certs_only_der(sk, &len);
	char *err = NULL;

	(void)state;
	assert_int_equal(scep_decode_ca_certs(der, len, &certs, &n, &err), 0);
	assert_int_equal(n, 65);
	for (i = 0; i < 64; i++) {
		char cn[32];

		snprintf(cn, sizeof(cn), "CN=filler %zu", i);
		assert_string_equal(certs[i]->subject, cn);
		assert_int_equal(certs[i]->is_ca, 1);
	}
	assert_string_equal(certs[64]->subject, "CN=filler 120");
	assert_int_equal(certs[64]->is_ca, 0);
	assert_non_null(err);
	assert_non_null(strstr(err, "85 more certificates not read"));
	assert_int_equal(scep_der_certs_kind(der, len), SCEP_DER_CERTS_ONLY);
	free(err);
	free_certs(certs, n);
	free(der);
	sk_X509_pop_free(sk, X509_free);
}

/* A signed pkiMessage carrying 100 certificates before its signer's: the
 * signer is still found (and the signature checked) though it is past the
 * cap; the 36 others past it are counted (101 - 64 - the signer). */
static void test_certs_cap_signer_past_cap(void **state)
{
	STACK_OF(X509) *sk = filler_certs(100, 100);
	X509 *cert = load_cert("issued.pem");
	char *kp = test_data_path("client.key");
	FILE *kf = fopen(kp, "r");
	EVP_PKEY *key;
	BIO *in = BIO_new_mem_buf("content", 7);
	CMS_ContentInfo *sd;
	unsigned char *out = NULL;
	struct scep_msg *m;
	int i, n;

	(void)state;
	assert_non_null(kf);
	key = PEM_read_PrivateKey(kf, NULL, NULL, NULL);
	fclose(kf);
	free(kp);
	assert_non_null(key);
	sd = CMS_sign(NULL, NULL, NULL, NULL, CMS_BINARY | CMS_PARTIAL);
	assert_non_null(sd);
	assert_non_null(CMS_add1_signer(sd, cert, key, EVP_sha256(), CMS_BINARY | CMS_NOCERTS));
	for (i = 0; i < sk_X509_num(sk); i++)
		assert_int_equal(CMS_add1_cert(sd, sk_X509_value(sk, i)), 1);
	assert_int_equal(CMS_add1_cert(sd, cert), 1);
	assert_int_equal(CMS_final(sd, in, NULL, CMS_BINARY), 1);
	n = i2d_CMS_ContentInfo(sd, &out);
	assert_true(n > 0);
	m = scep_decode_pki_message(out, (size_t)n, NULL);
	assert_non_null(m);
	assert_int_equal(m->decoded, 1);
	assert_non_null(m->signer);
	assert_string_equal(m->signer->subject, CLIENT_SUBJECT);
	assert_string_equal(m->signer->serial, "02");
	assert_int_equal(m->signer_from, SCEP_SIGNER_IN_MESSAGE);
	assert_int_equal(m->signature_ok, 1);
	assert_int_equal(m->n_other_certs, 64);
	assert_true(has_note(m, "36 more certificates not read"));
	scep_msg_free(m);
	OPENSSL_free(out);
	CMS_ContentInfo_free(sd);
	BIO_free(in);
	EVP_PKEY_free(key);
	X509_free(cert);
	sk_X509_pop_free(sk, X509_free);
}

/* A CertRep whose certs-only content holds 100 CA certificates before the
 * issued one: the issued certificate is still the one picked. */
static void test_certs_cap_issued_past_cap(void **state)
{
	struct scep_keys *k = keys_with("ca.key", NULL);
	STACK_OF(X509) *sk = filler_certs(100, 100);
	X509 *cert = load_cert("issued.pem");
	uint8_t *inner, *msg;
	size_t ilen, mlen;
	struct scep_msg *m;

	(void)state;
	sk_X509_push(sk, cert);
	inner = certs_only_der(sk, &ilen);
	msg = build_pki_message(SCEP_MT_CERTREP, inner, ilen, &mlen);
	m = scep_decode_pki_message(msg, mlen, k);
	assert_int_equal(m->decoded, 1);
	assert_int_equal(m->decrypt_state, SCEP_DECRYPT_OK);
	assert_null(m->error);
	assert_int_equal(m->n_rep_certs, 65);
	assert_non_null(m->issued);
	assert_string_equal(m->issued->subject, CLIENT_SUBJECT);
	assert_string_equal(m->issued->serial, "02");
	assert_true(has_note(m, "36 more certificates not read"));
	scep_msg_free(m);
	free(msg);
	free(inner);
	sk_X509_pop_free(sk, X509_free);
	scep_keys_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkcsreq_without_keys),
		cmocka_unit_test(test_pkcsreq_decrypted),
		cmocka_unit_test(test_certrep_success),
		cmocka_unit_test(test_certrep_wrong_or_no_key),
		cmocka_unit_test(test_certrep_failure),
		cmocka_unit_test(test_ber_indefinite),
		cmocka_unit_test(test_tampered_signature),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_bitflips),
		cmocka_unit_test(test_legacy_provider_missing),
		cmocka_unit_test(test_ca_certs_single_der),
		cmocka_unit_test(test_ca_certs_pkcs7),
		cmocka_unit_test(test_ca_certs_cached),
		cmocka_unit_test(test_ca_certs_garbage),
		cmocka_unit_test(test_keys_load_errors),
		cmocka_unit_test(test_openssl_certmonger_get),
		cmocka_unit_test(test_openssl_strongswan_post),
		cmocka_unit_test(test_openssl_renewal),
		cmocka_unit_test(test_openssl_certrep_failure),
		cmocka_unit_test(test_wrong_key_names_recipient),
		cmocka_unit_test(test_ca_roles),
		cmocka_unit_test(test_keys_passphrase),
		cmocka_unit_test(test_partial_cuts),
		cmocka_unit_test(test_partial_decrypts),
		cmocka_unit_test(test_pkiop_contents),
		cmocka_unit_test(test_signer_from_ca_cert),
		cmocka_unit_test(test_keys_pkcs12),
		cmocka_unit_test(test_ca_true_ra_role),
		cmocka_unit_test(test_outer_challenge_masked),
		cmocka_unit_test(test_notes_of_decoded_messages),
		cmocka_unit_test(test_certs_cap_ca_certs),
		cmocka_unit_test(test_certs_cap_signer_past_cap),
		cmocka_unit_test(test_certs_cap_issued_past_cap),
	};

	return cmocka_run_group_tests_name("pkcs7", tests, NULL, NULL);
}
