/* test_keylog.c - the NSS key log parser: labels, comments, line ends,
 * DSB-style text (NUL padding, no final newline), bad lines and where the
 * first one is, duplicates, and lookups that must miss; and the TLS server
 * keys (--tls-key): PEM, DER and PKCS#12 forms made here with OpenSSL, a
 * premaster OpenSSL encrypted to the server certificate's key opened
 * again, and keys that must be refused or must not match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "keylog.h"
#include "testutil.h"

#define CR1 "0000000000000000000000000000000000000000000000000000000000000001"
#define CR2 "ff00000000000000000000000000000000000000000000000000000000000002"
#define MS48 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" \
	     "202122232425262728292a2b2c2d2e2f"
#define S32 "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899"

static void random_of(const char *hex, uint8_t out[32])
{
	size_t i;
	unsigned v;

	for (i = 0; i < 32; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static int add(struct keylog *kl, const char *text)
{
	return keylog_add_text(kl, (const uint8_t *)text, strlen(text));
}

static void test_labels(void **state)
{
	struct keylog *kl = keylog_new();
	uint8_t cr[32], sec[KEYLOG_SECRET_MAX];
	const char *text =
		"# comment\n"
		"\n"
		"CLIENT_RANDOM " CR1 " " MS48 "\n"
		"CLIENT_HANDSHAKE_TRAFFIC_SECRET " CR2 " " S32 "\r\n"
		"SERVER_HANDSHAKE_TRAFFIC_SECRET " CR2 " " S32 "\n"
		"CLIENT_TRAFFIC_SECRET_0 " CR2 " " S32 "\n"
		"SERVER_TRAFFIC_SECRET_0 " CR2 " " MS48 "\n"
		"EXPORTER_SECRET " CR2 " " S32 "\n"
		"CLIENT_EARLY_TRAFFIC_SECRET " CR2 " " S32 "\n"
		"SOME_FUTURE_LABEL " CR2 " " S32 "\n";

	(void)state;
	assert_non_null(kl);
	assert_int_equal(add(kl, text), 5);
	assert_int_equal(keylog_count(kl), 5);
	assert_int_equal(keylog_bad_lines(kl), 0);
	random_of(CR1, cr);
	assert_int_equal(keylog_find(kl, cr, KEYLOG_CLIENT_RANDOM, sec), 48);
	assert_int_equal(sec[0], 0x00);
	assert_int_equal(sec[47], 0x2f);
	/* the label is part of the key */
	assert_int_equal(keylog_find(kl, cr, KEYLOG_CLIENT_TRAFFIC_SECRET_0, sec), 0);
	random_of(CR2, cr);
	assert_int_equal(keylog_find(kl, cr, KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET, sec), 32);
	assert_int_equal(sec[0], 0xaa);
	assert_int_equal(keylog_find(kl, cr, KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET, sec), 32);
	assert_int_equal(keylog_find(kl, cr, KEYLOG_CLIENT_TRAFFIC_SECRET_0, sec), 32);
	assert_int_equal(keylog_find(kl, cr, KEYLOG_SERVER_TRAFFIC_SECRET_0, sec), 48);
	assert_int_equal(keylog_find(kl, cr, KEYLOG_CLIENT_RANDOM, sec), 0);
	cr[31] ^= 1;
	assert_int_equal(keylog_find(kl, cr, KEYLOG_SERVER_TRAFFIC_SECRET_0, sec), 0);
	keylog_free(kl);
}

static void test_bad_lines(void **state)
{
	struct keylog *kl = keylog_new();

	(void)state;
	assert_int_equal(add(kl, "CLIENT_RANDOM " CR1 "\n"), 0);                 /* no secret */
	assert_int_equal(add(kl, "CLIENT_RANDOM " CR1 " " S32 "\n"), 0);         /* 32 != 48 */
	assert_int_equal(add(kl, "CLIENT_RANDOM 0123 " MS48 "\n"), 0);          /* short random */
	assert_int_equal(add(kl, "CLIENT_RANDOM " CR1 " " MS48 "zz\n"), 0);     /* not hex */
	assert_int_equal(add(kl, "CLIENT_RANDOM " CR1 " " MS48 " extra\n"), 0);
	assert_int_equal(add(kl, "GET / HTTP/1.1\n"), 0);
	assert_int_equal(add(kl, "CLIENT_RANDOM " CR1 " 0" MS48 "\n"), 0);      /* odd digits */
	assert_int_equal(keylog_bad_lines(kl), 7);
	assert_int_equal(keylog_count(kl), 0);
	keylog_free(kl);
}

/* Decryption Secrets Block text: NUL padding, no newline at the end, and
 * the same block seen twice (capture_tls_keylog returns all text so far). */
static void test_dsb_text(void **state)
{
	struct keylog *kl = keylog_new();
	uint8_t cr[32], sec[KEYLOG_SECRET_MAX];
	char text[400];
	size_t n;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "CLIENT_RANDOM " CR1 " " MS48);
	memset(text + n, 0, 4);
	assert_int_equal(keylog_add_text(kl, (const uint8_t *)text, n + 3), 1);
	assert_int_equal(keylog_add_text(kl, (const uint8_t *)text, n + 3), 0);
	assert_int_equal(keylog_count(kl), 1);
	assert_int_equal(keylog_bad_lines(kl), 0);
	random_of(CR1, cr);
	assert_int_equal(keylog_find(kl, cr, KEYLOG_CLIENT_RANDOM, sec), 48);
	/* empty input is nothing, not an error */
	assert_int_equal(keylog_add_text(kl, NULL, 0), 0);
	keylog_free(kl);
}

static void test_file(void **state)
{
	struct keylog *kl = keylog_new();
	char err[200], *path;
	uint8_t cr[32], sec[KEYLOG_SECRET_MAX];

	(void)state;
	path = test_data_path("tls-keylog-bad.txt");
	assert_int_equal(keylog_load_file(kl, path, err, sizeof(err)), 2);
	assert_string_equal(err, "2 bad lines, first at line 3: not a key log line");
	free(path);
	random_of(CR1, cr);
	assert_int_equal(keylog_find(kl, cr, KEYLOG_SERVER_TRAFFIC_SECRET_0, sec), 32);

	path = test_data_path("tls-13-aes128.keylog");
	assert_int_equal(keylog_load_file(kl, path, err, sizeof(err)), 4);
	assert_string_equal(err, "");
	free(path);
	assert_int_equal(keylog_count(kl), 6);

	assert_int_equal(keylog_load_file(kl, "/nonexistent/keylog", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open"));
	keylog_free(kl);
}

/* Written at test time: a line longer than the read chunk, lines across
 * chunk boundaries, a last line without its newline. */
static char *write_big_keylog(void)
{
	char *path = strdup("/tmp/test_keylog_XXXXXX");
	FILE *f;
	size_t i;
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fprintf(f, "# comment\n");
	for (i = 0; i < KEYLOG_CHUNK + 100; i++)
		fputc('x', f);
	fputc('\n', f);
	/* each ~180 bytes: several chunk boundaries fall inside these */
	for (i = 0; i < 2000; i++)
		fprintf(f, "CLIENT_TRAFFIC_SECRET_0 %064zx " S32 "\n", i + 1);
	fprintf(f, "not a key log line\n");
	fprintf(f, "SERVER_TRAFFIC_SECRET_0 " CR2 " " S32);
	fclose(f);
	return path;
}

/* A key log is read in chunks: only its entries are held, whatever the
 * file's size, and line numbers count across chunks. */
static void test_file_in_chunks(void **state)
{
	struct keylog *kl = keylog_new();
	char err[200], *path = write_big_keylog(), hex[65];
	uint8_t cr[32], sec[KEYLOG_SECRET_MAX];

	(void)state;
	assert_int_equal(keylog_load_file(kl, path, err, sizeof(err)), 2001);
	assert_string_equal(err, "2 bad lines, first at line 2: line longer than 1024 bytes");
	assert_int_equal(keylog_bad_lines(kl), 2);
	snprintf(hex, sizeof(hex), "%064x", 1234);
	random_of(hex, cr);
	assert_int_equal(keylog_find(kl, cr, KEYLOG_CLIENT_TRAFFIC_SECRET_0, sec), 32);
	random_of(CR2, cr);
	assert_int_equal(keylog_find(kl, cr, KEYLOG_SERVER_TRAFFIC_SECRET_0, sec), 32);
	unlink(path);
	free(path);
	keylog_free(kl);
}

/* ---- server keys (--tls-key) ---- */

/* A file of the source tree (the TLS capture's server key and certificate,
 * captures/keys/), by way of the unit data folder. */
static char *tree_path(const char *rel)
{
	char sub[256];

	snprintf(sub, sizeof(sub), "../../../%s", rel);
	return test_data_path(sub);
}

static EVP_PKEY *read_pem_key(const char *rel)
{
	char *path = tree_path(rel);
	FILE *f = fopen(path, "r");
	EVP_PKEY *pk;

	if (!f)
		fail_msg("cannot open %s", path);
	pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	free(path);
	assert_non_null(pk);
	return pk;
}

static X509 *read_cert(const char *rel)
{
	char *path = tree_path(rel);
	FILE *f = fopen(path, "r");
	X509 *x;

	if (!f)
		fail_msg("cannot open %s", path);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	free(path);
	assert_non_null(x);
	return x;
}

/* SHA-256 of the certificate's subjectPublicKey, lower-case hex (as
 * struct scep_cert's key_sha256), computed by OpenSSL from the cert. */
static void cert_key_sha256(X509 *x, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0, i;

	assert_true(X509_pubkey_digest(x, EVP_sha256(), md, &n));
	assert_int_equal(n, 32);
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* A premaster encrypted the way a TLS client does (RSAES-PKCS1-v1_5 to
 * the certificate's public key). */
static size_t encrypt_premaster(X509 *x, const uint8_t pms[48], uint8_t *out, size_t cap)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(X509_get0_pubkey(x), NULL);
	size_t n = cap;

	assert_non_null(c);
	assert_true(EVP_PKEY_encrypt_init(c) > 0);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) > 0);
	assert_true(EVP_PKEY_encrypt(c, out, &n, pms, 48) > 0);
	EVP_PKEY_CTX_free(c);
	return n;
}

/* Loads path as --tls-key and opens a premaster encrypted to the
 * fixture's certificate with it. */
static void check_opens(const char *path, const char *pass)
{
	struct keylog *kl = keylog_new();
	X509 *cert = read_cert("captures/keys/tls-server.pem");
	uint8_t pms[48], got[48], enc[512];
	char err[256], hash[65], c0;
	const char *file = NULL;
	size_t n;

	assert_int_equal(keylog_load_server_key(kl, path, pass, err, sizeof(err)), 0);
	assert_int_equal(keylog_server_keys(kl), 1);
	assert_string_equal(keylog_server_key_file(kl, 0), path);
	assert_true(RAND_bytes(pms, sizeof(pms)) == 1);
	n = encrypt_premaster(cert, pms, enc, sizeof(enc));
	cert_key_sha256(cert, hash);
	/* matched by the certificate's key, and tried blindly without one */
	assert_int_equal(keylog_rsa_premaster(kl, hash, enc, n, got, &file), KEYLOG_RSA_OK);
	assert_memory_equal(got, pms, 48);
	assert_string_equal(file, path);
	memset(got, 0, sizeof(got));
	assert_int_equal(keylog_rsa_premaster(kl, NULL, enc, n, got, &file), KEYLOG_RSA_OK);
	assert_memory_equal(got, pms, 48);
	/* another certificate's key: no match; damaged ciphertext: fails */
	c0 = hash[0];
	hash[0] = c0 == '0' ? '1' : '0';
	assert_int_equal(keylog_rsa_premaster(kl, hash, enc, n, got, &file), KEYLOG_RSA_NO_MATCH);
	hash[0] = c0;
	enc[n / 2] ^= 0x40;
	assert_int_equal(keylog_rsa_premaster(kl, hash, enc, n, got, &file), KEYLOG_RSA_FAILED);
	assert_string_equal(file, path);
	X509_free(cert);
	keylog_free(kl);
}

static char *temp_file(const char *suffix)
{
	char tmpl[] = "/tmp/test_keylog_XXXXXX";
	int fd = mkstemp(tmpl);
	char *p;

	assert_true(fd >= 0);
	close(fd);
	unlink(tmpl);
	p = malloc(strlen(tmpl) + strlen(suffix) + 1);
	assert_non_null(p);
	strcpy(p, tmpl);
	strcat(p, suffix);
	return p;
}

static void test_server_key_forms(void **s)
{
	EVP_PKEY *pk = read_pem_key("captures/keys/tls-server.key");
	char *pem = tree_path("captures/keys/tls-server.key");
	char *der = temp_file(".der"), *p12 = temp_file(".p12");
	PKCS12 *bag;
	FILE *f;

	(void)s;
	check_opens(pem, NULL);
	f = fopen(der, "wb");
	assert_non_null(f);
	assert_true(i2d_PrivateKey_fp(f, pk) > 0);
	fclose(f);
	check_opens(der, NULL);
	bag = PKCS12_create("s3cret", "tls", pk, NULL, NULL, 0, 0, 0, 0, 0);
	assert_non_null(bag);
	f = fopen(p12, "wb");
	assert_non_null(f);
	assert_true(i2d_PKCS12_fp(f, bag) > 0);
	fclose(f);
	PKCS12_free(bag);
	check_opens(p12, "s3cret");
	unlink(der);
	unlink(p12);
	free(der);
	free(p12);
	free(pem);
	EVP_PKEY_free(pk);
}

static void expect_refused(const char *path, const char *pass, const char *why)
{
	struct keylog *kl = keylog_new();
	char err[256];

	assert_int_equal(keylog_load_server_key(kl, path, pass, err, sizeof(err)), -1);
	if (!strstr(err, why))
		fail_msg("\"%s\" does not say \"%s\"", err, why);
	assert_int_equal(keylog_server_keys(kl), 0);
	keylog_free(kl);
}

static void test_server_key_refused(void **s)
{
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	char *ecf = temp_file(".pem"), *junk = temp_file(".key");
	FILE *f;

	(void)s;
	assert_non_null(ec);
	f = fopen(ecf, "w");
	assert_non_null(f);
	assert_true(PEM_write_PrivateKey(f, ec, NULL, NULL, 0, NULL, NULL));
	fclose(f);
	expect_refused(ecf, NULL, "the key is EC, not RSA");
	f = fopen(junk, "w");
	assert_non_null(f);
	fputs("not a key at all\n", f);
	fclose(f);
	expect_refused(junk, NULL, "no private key found");
	expect_refused("/nonexistent/tls.key", NULL, "cannot open");
	unlink(ecf);
	unlink(junk);
	free(ecf);
	free(junk);
	EVP_PKEY_free(ec);
}

/* With no key, nothing matches and nothing is written. */
static void test_server_key_none(void **s)
{
	struct keylog *kl = keylog_new();
	uint8_t enc[256] = { 1 }, pms[48];
	const char *file = "x";

	(void)s;
	assert_int_equal(keylog_server_keys(kl), 0);
	assert_null(keylog_server_key_file(kl, 0));
	assert_int_equal(keylog_rsa_premaster(kl, NULL, enc, sizeof(enc), pms, &file), KEYLOG_RSA_NO_MATCH);
	assert_null(file);
	keylog_free(kl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_dsb_text),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_file_in_chunks),
		cmocka_unit_test(test_server_key_forms),
		cmocka_unit_test(test_server_key_refused),
		cmocka_unit_test(test_server_key_none),
	};

	return cmocka_run_group_tests_name("keylog", tests, NULL, NULL);
}
