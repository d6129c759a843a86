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
	assert_int_equal(m->decrypt_state, SCEP_DECRYPT_FAILED);
	assert_non_null(m->decrypt_error);
	assert_non_null(strstr(m->decrypt_error, "none of the 2 loaded keys"));
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
	assert_memory_equal(certs[0]->der, body, len);
	scep_cert_free(certs[0]);
	free(certs);
	free(body);
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
	assert_string_equal(err, "/nonexistent/key.pem: cannot open key file");
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
		cmocka_unit_test(test_ca_certs_garbage),
		cmocka_unit_test(test_keys_load_errors),
	};

	return cmocka_run_group_tests_name("pkcs7", tests, NULL, NULL);
}
