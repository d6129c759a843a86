/* test_decode_queue.c - the SCEP decode queue: events come out in push
 * order whether decoded inline or on the worker thread, events pushed
 * already decoded keep their place, the exchange is copied (the caller's
 * buffers may go at once), the queue says when it is full, and freeing it
 * with work still inside loses nothing to the leak checkers. The copies
 * are charged to the run's memory budget while they wait; one the budget
 * refuses is decoded at once instead, in its place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/decode_queue.h"
#include "http.h"
#include "membudget.h"
#include "scep.h"
#include "testutil.h"

/* A GetCACaps exchange whose strings and body live in heap buffers that
 * are freed (and scribbled on first) right after the push. */
static void push_caps(struct decode_queue *q, const struct scep_keys *k, uint64_t seq)
{
	char *query = strdup("operation=GetCACaps&message=CA");
	char *method = strdup("GET"), *path = strdup("/scep");
	char *body = strdup("POSTPKIOperation\nSHA-256\nAES\n");
	struct http_exchange x;

	assert_non_null(query);
	memset(&x, 0, sizeof(x));
	x.flow_id = 7;
	x.seq = seq;
	x.client.family = x.server.family = 4;
	x.server.port = 80;
	x.version = HTTP_V1;
	x.method = method;
	x.path = path;
	x.uri = path;
	x.query = query;
	x.status = 200;
	x.req.present = x.res.present = 1;
	x.res.body = (const uint8_t *)body;
	x.res.body_len = strlen(body);
	x.res.body_wire_len = x.res.body_len;
	assert_int_equal(decode_queue_push(q, &x, k, NULL), 0);
	memset(body, 'X', strlen(body));
	memset(query, 'X', strlen(query));
	free(query);
	free(method);
	free(path);
	free(body);
}

static struct scep_event *tls_event(uint64_t seq)
{
	struct scep_event *ev = calloc(1, sizeof(*ev));

	assert_non_null(ev);
	ev->op = SCEP_OP_TLS;
	ev->http_seq = seq;
	return ev;
}

/* Pushes 200 items (every fifth already decoded), popping now and then
 * without waiting, then the rest with waiting: all in order, all decoded. */
static void run_order(int threads)
{
	struct scep_keys *k = scep_keys_new();
	struct decode_queue *q = decode_queue_new(threads);
	struct scep_event *ev;
	uint64_t seq, want = 1;
	int dropped;

	assert_non_null(q);
	for (seq = 1; seq <= 200; seq++) {
		if (seq % 5 == 0)
			assert_int_equal(decode_queue_push_event(q, tls_event(seq)), 0);
		else
			push_caps(q, k, seq);
		while (decode_queue_full(q) || seq % 17 == 0) {
			ev = decode_queue_pop(q, decode_queue_full(q), &dropped);
			if (!ev)
				break;
			assert_int_equal(ev->http_seq, want++);
			scep_event_free(ev);
		}
	}
	while (decode_queue_pending(q)) {
		ev = decode_queue_pop(q, 1, &dropped);
		assert_non_null(ev);
		assert_int_equal(dropped, 0);
		assert_int_equal(ev->http_seq, want);
		if (want % 5) {
			assert_int_equal(ev->op, SCEP_OP_GETCACAPS);
			assert_int_equal(ev->n_caps, 3);
			assert_string_equal(ev->caps[0], "POSTPKIOperation");
			assert_string_equal(ev->message_param, "CA");
		} else {
			assert_int_equal(ev->op, SCEP_OP_TLS);
		}
		want++;
		scep_event_free(ev);
	}
	assert_int_equal(want, 201);
	assert_null(decode_queue_pop(q, 1, &dropped));
	decode_queue_free(q);
	scep_keys_free(k);
}

static void test_order_inline(void **state)
{
	(void)state;
	run_order(0);
}

static void test_order_thread(void **state)
{
	(void)state;
	run_order(1);
}

/* The queue asks for a wait before it holds more than 64 exchanges. */
static void test_full(void **state)
{
	struct scep_keys *k = scep_keys_new();
	struct decode_queue *q = decode_queue_new(0);
	uint64_t seq;

	(void)state;
	for (seq = 1; !decode_queue_full(q); seq++)
		push_caps(q, k, seq);
	assert_int_equal(decode_queue_pending(q), 64);
	decode_queue_free(q);
	scep_keys_free(k);
}

/* Freed with jobs queued, decoded or not: no leak, no hang. */
static void test_free_with_work(void **state)
{
	struct scep_keys *k = scep_keys_new();
	struct decode_queue *q = decode_queue_new(1);
	uint64_t seq;

	(void)state;
	for (seq = 1; seq <= 40; seq++)
		push_caps(q, k, seq);
	assert_int_equal(decode_queue_push_event(q, tls_event(41)), 0);
	decode_queue_free(q);
	scep_keys_free(k);
	decode_queue_free(NULL);
}

/* Each waiting copy is charged (MEM_decode) and given back as it comes
 * out; past the budget an exchange is decoded at once, not dropped, and
 * still comes out in push order. */
static void run_budget(int threads)
{
	struct scep_keys *k = scep_keys_new();
	struct decode_queue *q = decode_queue_new(threads);
	struct mem_budget mem;
	struct scep_event *ev;
	uint64_t seq;
	int dropped;

	memset(&mem, 0, sizeof(mem));
	assert_non_null(q);
	decode_queue_set_budget(q, &mem);
	/* room for two copies (each: a job, the 29-byte body) and no more */
	push_caps(q, k, 1);
	assert_int_equal(mem.refused[MEM_decode], 0);
	mem.limit = mem.used * 2 + 10;
	push_caps(q, k, 2);
	assert_int_equal(mem.refused[MEM_decode], 0);
	assert_int_equal(mem.held[MEM_decode], mem.limit - 10);
	for (seq = 3; seq <= 6; seq++)
		push_caps(q, k, seq);
	assert_int_equal(mem.refused[MEM_decode], 4);
	assert_int_equal(mem.held[MEM_decode], mem.limit - 10);
	assert_int_equal(decode_queue_pending(q), 6);
	for (seq = 1; seq <= 6; seq++) {
		ev = decode_queue_pop(q, 1, &dropped);
		assert_non_null(ev);
		assert_int_equal(ev->http_seq, seq);
		assert_int_equal(ev->op, SCEP_OP_GETCACAPS);
		assert_int_equal(ev->n_caps, 3);
		scep_event_free(ev);
	}
	assert_int_equal(mem.held[MEM_decode], 0);
	assert_int_equal(mem.used, 0);
	/* what is freed unpopped is given back too */
	push_caps(q, k, 7);
	assert_true(mem.used > 0);
	decode_queue_free(q);
	assert_int_equal(mem.used, 0);
	scep_keys_free(k);
}

static void test_budget_inline(void **state)
{
	(void)state;
	run_budget(0);
}

static void test_budget_thread(void **state)
{
	(void)state;
	run_budget(1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_inline),
		cmocka_unit_test(test_order_thread),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_free_with_work),
		cmocka_unit_test(test_budget_inline),
		cmocka_unit_test(test_budget_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
