/* test_spill.c - finished transactions rendered to a temporary file and
 * copied back at the end in listing order, merged with the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "scep.h"
#include "spill.h"
#include "txn.h"

#define SEC 1000000000ull

static void test_unusable_tmpdir_is_one_line(void **state)
{
	char err[256] = "";

	(void)state;
	setenv("TMPDIR", "/nonexistent-scepdump-dir", 1);
	assert_null(spill_new(err, sizeof(err)));
	unsetenv("TMPDIR");
	assert_non_null(strstr(err, "cannot create a temporary file in /nonexistent-scepdump-dir"));
	assert_null(strchr(err, '\n'));
}

static struct scep_event *finished_enrollment(uint64_t t, const char *tid)
{
	struct scep_event *ev = calloc(1, sizeof(*ev));

	ev->op = SCEP_OP_PKIOPERATION;
	ev->client.family = ev->server.family = 4;
	ev->server.port = 80;
	ev->req_first_ts_ns = ev->req_last_ts_ns = t * SEC;
	ev->request = calloc(1, sizeof(*ev->request));
	ev->request->decoded = 1;
	ev->request->message_type = SCEP_MT_PKCSREQ;
	ev->request->transaction_id = strdup(tid);
	ev->request->pki_status = SCEP_STATUS_NONE;
	ev->request->fail_info = SCEP_FAIL_NONE;
	return ev;   /* no response: it stays open in the table */
}

static void put(struct spill *sp, uint64_t t, uint64_t created, const char *listing, const char *check)
{
	struct txn x;
	char err[256];

	memset(&x, 0, sizeof(x));
	x.first_ts_ns = t * SEC;
	x.created = created;
	assert_int_equal(spill_add(sp, &x, listing, strlen(listing), check, strlen(check),
				   err, sizeof(err)), 0);
}

static void render_tid(FILE *out, const void *arg, const struct txn *t)
{
	fprintf(out, "%s%s\n", (const char *)arg, t->transaction_id);
}

static char *walk(struct spill *sp, const struct txn_table *tt, enum spill_part part, const char *tag)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	assert_non_null(m);
	assert_int_equal(listing_write(sp, tt, part, m, render_tid, tag), 0);
	fclose(m);
	return buf;
}

/* Added in the order transactions finish, listed in the order they began;
 * a tie in time goes to the one created first. */
static void test_listing_order_and_parts(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);
	char err[256];
	struct spill *sp = spill_new(err, sizeof(err));
	char *out;

	(void)state;
	assert_non_null(sp);
	txn_add_event(tt, finished_enrollment(2, "B"));   /* created 0 */
	txn_add_event(tt, finished_enrollment(5, "E"));   /* created 1 */
	txn_finish(tt);
	put(sp, 9, 105, "f\n", "");
	put(sp, 3, 102, "c\n", "check c\n");
	put(sp, 5, 0, "d\n", "");
	put(sp, 1, 101, "a\n", "check a\n");
	put(sp, 7, 106, "", "");      /* nothing to print: not kept */
	assert_int_equal(spill_count(sp), 4);
	out = walk(sp, tt, SPILL_LISTING, "T:");
	assert_string_equal(out, "a\nT:B\nc\nd\nT:E\nf\n");
	free(out);
	out = walk(sp, tt, SPILL_CHECK, "C:");
	assert_string_equal(out, "check a\nC:B\ncheck c\nC:E\n");
	free(out);
	out = walk(NULL, tt, SPILL_LISTING, "T:");
	assert_string_equal(out, "T:B\nT:E\n");
	free(out);
	spill_free(sp);
	txn_table_free(tt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unusable_tmpdir_is_one_line),
		cmocka_unit_test(test_listing_order_and_parts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
