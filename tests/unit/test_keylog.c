/* test_keylog.c - the NSS key log parser: labels, comments, line ends,
 * DSB-style text (NUL padding, no final newline), bad lines and where the
 * first one is, duplicates, and lookups that must miss. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_dsb_text),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_file_in_chunks),
	};

	return cmocka_run_group_tests_name("keylog", tests, NULL, NULL);
}
