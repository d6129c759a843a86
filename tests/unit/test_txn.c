/* test_txn.c - the transaction table: grouping by transactionID, attaching
 * preparation exchanges, verdicts and findings, on hand-built events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "counters.h"
#include "scep.h"
#include "summary.h"
#include "txn.h"

#define SEC 1000000000ull

static struct endpoint ep(uint8_t last, uint16_t port)
{
	struct endpoint e = { .family = 4, .addr = { 10, 0, 0, last }, .port = port };

	return e;
}

static struct scep_event *event(enum scep_op op, uint64_t t, int status)
{
	struct scep_event *ev = calloc(1, sizeof(*ev));

	ev->op = op;
	ev->client = ep(7, (uint16_t)(40000 + t));
	ev->server = ep(1, 80);
	ev->method = strdup("POST");
	ev->req_first_ts_ns = ev->req_last_ts_ns = t * SEC;
	ev->req_first_frame = ev->req_last_frame = t * 10;
	if (status) {
		ev->has_response = 1;
		ev->status = status;
		ev->res_first_ts_ns = ev->res_last_ts_ns = t * SEC + SEC / 2;
		ev->res_first_frame = ev->res_last_frame = t * 10 + 1;
	}
	return ev;
}

static struct scep_msg *msg(int mt, const char *tid, uint8_t nonce)
{
	struct scep_msg *m = calloc(1, sizeof(*m));

	m->decoded = 1;
	m->message_type = mt;
	m->transaction_id = tid ? strdup(tid) : NULL;
	m->pki_status = SCEP_STATUS_NONE;
	m->fail_info = SCEP_FAIL_NONE;
	m->signature_ok = -1;
	m->sender_nonce_len = 16;
	memset(m->sender_nonce, nonce, 16);
	return m;
}

static struct scep_event *pki(uint64_t t, int mt, const char *tid, int status, int pki_status,
			      int fail_info, uint8_t echo)
{
	struct scep_event *ev = event(SCEP_OP_PKIOPERATION, t, status);

	ev->request = msg(mt, tid, (uint8_t)t);
	if (status == 200 && pki_status != SCEP_STATUS_NONE) {
		ev->reply = msg(SCEP_MT_CERTREP, tid, 0xee);
		ev->reply->pki_status = pki_status;
		ev->reply->fail_info = fail_info;
		ev->reply->recipient_nonce_len = 16;
		memset(ev->reply->recipient_nonce, echo, 16);
	}
	return ev;
}

static struct txn_table *finish(struct txn_table *t)
{
	txn_finish(t);
	return t;
}

static int has_finding(const struct txn *t, const char *needle)
{
	size_t i;

	for (i = 0; i < t->n_findings; i++)
		if (strstr(t->findings[i], needle))
			return 1;
	return 0;
}

static void test_issued_with_preparation(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);
	const struct txn *t;

	(void)state;
	txn_add_event(tt, event(SCEP_OP_GETCACAPS, 1, 200));
	txn_add_event(tt, event(SCEP_OP_GETCACERT, 2, 200));
	txn_add_event(tt, pki(3, SCEP_MT_PKCSREQ, "ABC", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, 3));
	finish(tt);
	assert_int_equal(txn_count(tt), 1);
	t = txn_get(tt, 0);
	assert_string_equal(t->transaction_id, "ABC");
	assert_int_equal(t->verdict, VERDICT_ISSUED);
	assert_int_equal(t->n_events, 3);
	assert_int_equal(t->events[0]->op, SCEP_OP_GETCACAPS);
	assert_int_equal(t->events[2]->op, SCEP_OP_PKIOPERATION);
	assert_int_equal(t->n_findings, 0);
	assert_int_equal(txn_nonce_echoed(t->events[2]), 1);
	txn_table_free(tt);
}

static void test_rejected_with_failinfo_and_nonce_mismatch(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);
	const struct txn *t;

	(void)state;
	txn_add_event(tt, pki(5, SCEP_MT_PKCSREQ, "T1", 200, SCEP_STATUS_FAILURE, SCEP_FAIL_BADREQUEST, 0x99));
	finish(tt);
	t = txn_get(tt, 0);
	assert_int_equal(t->verdict, VERDICT_REJECTED);
	/* RFC 8894 3.2.1.4.4: "badRequest: Transaction not permitted or
	 * supported", and what it usually is in practice */
	assert_string_equal(t->reason, "badRequest: transaction not permitted or supported "
			    "(often a wrong, expired or reused challenge password)");
	assert_non_null(strstr(t->advice, "challenge password"));
	assert_true(has_finding(t, "recipientNonce"));
	txn_table_free(tt);
}

/* A PKCSReq answered PENDING at 1 s, then two more requests of type mt
 * (PENDING at t1, SUCCESS at t2): one transaction, returned settled. */
static const struct txn *pending_then_twice(struct txn_table *tt, int mt, uint64_t t1, uint64_t t2)
{
	txn_add_event(tt, pki(1, SCEP_MT_PKCSREQ, "P", 200, SCEP_STATUS_PENDING, SCEP_FAIL_NONE, 1));
	txn_add_event(tt, pki(t1, mt, "P", 200, SCEP_STATUS_PENDING, SCEP_FAIL_NONE, (uint8_t)t1));
	txn_add_event(tt, pki(t2, mt, "P", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, (uint8_t)t2));
	finish(tt);
	assert_int_equal(txn_count(tt), 1);
	return txn_get(tt, 0);
}

static void test_pending_then_poll_then_issued(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);
	const struct txn *t;

	(void)state;
	t = pending_then_twice(tt, SCEP_MT_CERTPOLL, 61, 121);
	assert_int_equal(t->n_events, 3);
	assert_int_equal(t->verdict, VERDICT_ISSUED);
	assert_true(has_finding(t, "client polled 2 times with CertPoll in 120.0 s"));
	txn_table_free(tt);
}

static void test_still_pending_at_end(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);

	(void)state;
	txn_add_event(tt, pki(1, SCEP_MT_PKCSREQ, "Q", 200, SCEP_STATUS_PENDING, SCEP_FAIL_NONE, 1));
	finish(tt);
	assert_int_equal(txn_get(tt, 0)->verdict, VERDICT_PENDING);
	txn_table_free(tt);
}

static void test_reused_id_after_close_opens_new(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);

	(void)state;
	txn_add_event(tt, pki(1, SCEP_MT_PKCSREQ, "R", 200, SCEP_STATUS_FAILURE, SCEP_FAIL_BADREQUEST, 1));
	txn_add_event(tt, pki(9, SCEP_MT_PKCSREQ, "R", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, 9));
	finish(tt);
	assert_int_equal(txn_count(tt), 2);
	assert_int_equal(txn_get(tt, 0)->verdict, VERDICT_REJECTED);
	assert_int_equal(txn_get(tt, 0)->reused_id, 0);
	assert_int_equal(txn_get(tt, 1)->verdict, VERDICT_ISSUED);
	assert_int_equal(txn_get(tt, 1)->reused_id, 1);
	assert_true(has_finding(txn_get(tt, 1), "reused"));
	txn_table_free(tt);
}

static void test_http_error_and_no_response(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);
	struct scep_event *e500 = pki(1, SCEP_MT_PKCSREQ, "H", 500, SCEP_STATUS_NONE, SCEP_FAIL_NONE, 0);
	struct scep_event *none = pki(2, SCEP_MT_PKCSREQ, "N", 0, SCEP_STATUS_NONE, SCEP_FAIL_NONE, 0);

	(void)state;
	e500->error_text = strdup("Internal Server Error");
	txn_add_event(tt, e500);
	txn_add_event(tt, none);
	finish(tt);
	assert_int_equal(txn_get(tt, 0)->verdict, VERDICT_HTTP_ERROR);
	assert_string_equal(txn_get(tt, 0)->reason, "HTTP 500 \"Internal Server Error\"");
	assert_int_equal(txn_get(tt, 1)->verdict, VERDICT_NO_RESPONSE);
	txn_table_free(tt);
}

static void test_lone_getcacaps_is_endpoint_group(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);
	struct scep_event *redirect = event(SCEP_OP_GETCACERT, 2, 302);

	(void)state;
	txn_add_event(tt, event(SCEP_OP_GETCACAPS, 1, 200));
	txn_add_event(tt, redirect);
	finish(tt);
	assert_int_equal(txn_count(tt), 1);
	assert_null(txn_get(tt, 0)->transaction_id);
	assert_int_equal(txn_get(tt, 0)->n_events, 2);
	assert_int_equal(txn_get(tt, 0)->verdict, VERDICT_HTTP_ERROR);
	txn_table_free(tt);
}

static void test_order_is_by_time_not_arrival(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);

	(void)state;
	txn_add_event(tt, pki(9, SCEP_MT_PKCSREQ, "LATE", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, 9));
	txn_add_event(tt, pki(3, SCEP_MT_PKCSREQ, "EARLY", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, 3));
	finish(tt);
	assert_string_equal(txn_get(tt, 0)->transaction_id, "EARLY");
	assert_int_equal(txn_get(tt, 0)->seq, 1);
	assert_string_equal(txn_get(tt, 1)->transaction_id, "LATE");
	txn_table_free(tt);
}

/* Past max_txns the oldest finished transactions leave the table, counted
 * in the summary; open ones stay while finished ones can go. */
static void test_txn_cap_evicts_oldest_finished(void **state)
{
	struct txn_limits lim = { .max_txns = 8 };
	struct counters cnt;
	struct txn_table *tt;
	const struct summary *s;
	char tid[16];
	uint64_t i;

	(void)state;
	memset(&cnt, 0, sizeof(cnt));
	tt = txn_table_new(&lim, &cnt);
	txn_add_event(tt, pki(1, SCEP_MT_PKCSREQ, "OPEN", 0, SCEP_STATUS_NONE, SCEP_FAIL_NONE, 0));
	for (i = 2; i < 102; i++) {
		snprintf(tid, sizeof(tid), "T%llu", (unsigned long long)i);
		txn_add_event(tt, pki(i, SCEP_MT_PKCSREQ, tid, 200, i % 2 ? SCEP_STATUS_SUCCESS : SCEP_STATUS_FAILURE,
				      i % 2 ? SCEP_FAIL_NONE : SCEP_FAIL_BADREQUEST, (uint8_t)i));
		assert_true(txn_count(tt) <= 8);
	}
	/* the open one is still there and can be answered */
	txn_add_event(tt, pki(200, SCEP_MT_CERTPOLL, "OPEN", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, 200));
	finish(tt);
	assert_string_equal(txn_get(tt, 0)->transaction_id, "OPEN");
	assert_int_equal(txn_get(tt, 0)->verdict, VERDICT_ISSUED);
	assert_int_equal(cnt.txns_evicted, 101 - txn_count(tt));
	s = txn_summary(tt);
	assert_non_null(s);
	assert_int_equal(s->transactions, 101);
	assert_int_equal(s->by_verdict[VERDICT_ISSUED], 51);
	assert_int_equal(s->by_verdict[VERDICT_REJECTED], 50);
	assert_int_equal(s->n_latency, 101);
	assert_int_equal(s->n_servers, 1);
	assert_int_equal(s->servers[0].total, 101);
	txn_table_free(tt);
}

/* With nothing finished to evict, the oldest open ones go, settled as they
 * stand; a transaction keeps max_events exchanges and counts the rest. */
static void test_txn_cap_open_and_exchange_cap(void **state)
{
	struct txn_limits lim = { .max_txns = 4, .max_events = 3 };
	struct counters cnt;
	struct txn_table *tt;
	char tid[16];
	uint64_t i;

	(void)state;
	memset(&cnt, 0, sizeof(cnt));
	tt = txn_table_new(&lim, &cnt);
	for (i = 1; i <= 20; i++) {
		snprintf(tid, sizeof(tid), "P%llu", (unsigned long long)i);
		txn_add_event(tt, pki(i, SCEP_MT_PKCSREQ, tid, 0, SCEP_STATUS_NONE, SCEP_FAIL_NONE, 0));
		assert_true(txn_count(tt) <= 4);
	}
	for (i = 21; i <= 30; i++)
		txn_add_event(tt, pki(i, SCEP_MT_CERTPOLL, "P20", 200, SCEP_STATUS_PENDING, SCEP_FAIL_NONE,
				      (uint8_t)i));
	finish(tt);
	assert_int_equal(cnt.txns_evicted, 20 - txn_count(tt));
	assert_string_equal(txn_get(tt, txn_count(tt) - 1)->transaction_id, "P20");
	assert_int_equal(txn_get(tt, txn_count(tt) - 1)->n_events, 3);
	assert_int_equal(txn_get(tt, txn_count(tt) - 1)->events_capped, 8);
	/* the latest poll took the last slot: it decides the verdict */
	assert_int_equal(txn_get(tt, txn_count(tt) - 1)->events[2]->req_first_ts_ns, 30 * SEC);
	assert_int_equal(cnt.txn_events_capped, 8);
	/* the capped exchanges still stretch the transaction in time */
	assert_int_equal(txn_get(tt, txn_count(tt) - 1)->last_ts_ns, 30 * SEC + SEC / 2);
	txn_table_free(tt);
}

/* A flood of GetCACaps with no enrollment: grouped early, bounded. */
static void test_loose_cap_groups_early(void **state)
{
	struct txn_limits lim = { .max_txns = 16, .max_events = 10, .max_loose = 32 };
	struct counters cnt;
	struct txn_table *tt;
	uint64_t i;

	(void)state;
	memset(&cnt, 0, sizeof(cnt));
	tt = txn_table_new(&lim, &cnt);
	for (i = 1; i <= 1000; i++)
		txn_add_event(tt, event(SCEP_OP_GETCACAPS, i, 200));
	finish(tt);
	assert_int_equal(txn_count(tt), 1);
	assert_int_equal(txn_get(tt, 0)->first_msg_type, TXN_ENDPOINT_GROUP);
	assert_int_equal(txn_get(tt, 0)->n_events, 10);
	assert_int_equal(cnt.txn_events_capped, 990);
	txn_table_free(tt);
}

/* What the release callback saw, and whether it takes the transaction. */
struct released_log {
	char tid[16][8];
	int verdict[16], reused[16];
	size_t n;
	int refuse;
};

static int record_release(void *arg, const struct txn *t)
{
	struct released_log *log = arg;

	if (log->refuse)
		return -1;
	assert_true(log->n < 16);
	assert_true(t->settled);
	snprintf(log->tid[log->n], sizeof(log->tid[0]), "%s", t->transaction_id);
	log->verdict[log->n] = t->verdict;
	log->reused[log->n] = t->reused_id;
	log->n++;
	return 0;
}

/* Offline spilling: a transaction leaves the table when its final CertRep
 * comes, settled; the summary still counts it and a later request reusing
 * its ID is still flagged. Open ones stay. */
static void test_release_finished(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);
	struct released_log log;
	const struct summary *s;

	(void)state;
	memset(&log, 0, sizeof(log));
	txn_table_on_release(tt, record_release, &log);
	txn_add_event(tt, pki(1, SCEP_MT_PKCSREQ, "R", 200, SCEP_STATUS_FAILURE, SCEP_FAIL_BADREQUEST, 1));
	txn_add_event(tt, pki(2, SCEP_MT_PKCSREQ, "P", 200, SCEP_STATUS_PENDING, SCEP_FAIL_NONE, 2));
	assert_int_equal(log.n, 1);
	assert_int_equal(txn_count(tt), 1);
	txn_add_event(tt, pki(9, SCEP_MT_PKCSREQ, "R", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, 9));
	assert_int_equal(log.n, 2);
	assert_string_equal(log.tid[0], "R");
	assert_int_equal(log.verdict[0], VERDICT_REJECTED);
	assert_int_equal(log.reused[0], 0);
	assert_int_equal(log.verdict[1], VERDICT_ISSUED);
	assert_int_equal(log.reused[1], 1);
	assert_int_equal(txn_released_count(tt), 2);
	/* the pending one is answered later: it is still there to be found */
	txn_add_event(tt, pki(12, SCEP_MT_CERTPOLL, "P", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, 12));
	assert_int_equal(log.n, 3);
	assert_string_equal(log.tid[2], "P");
	assert_int_equal(log.verdict[2], VERDICT_ISSUED);
	finish(tt);
	assert_int_equal(txn_count(tt), 0);
	s = txn_summary(tt);
	assert_non_null(s);
	assert_int_equal(s->transactions, 3);
	assert_int_equal(s->by_verdict[VERDICT_ISSUED], 2);
	assert_int_equal(s->by_verdict[VERDICT_REJECTED], 1);
	assert_int_equal(s->n_latency, 3);
	txn_table_free(tt);
}

/* A callback that cannot take one (its file is full) leaves it listed from
 * the table; released IDs are remembered up to the transaction cap. */
static void test_release_refused_and_id_memory_capped(void **state)
{
	struct txn_limits lim = { .max_txns = 4 };
	struct txn_table *tt = txn_table_new(&lim, NULL);
	struct released_log log;
	char tid[8];
	int i;

	(void)state;
	memset(&log, 0, sizeof(log));
	txn_table_on_release(tt, record_release, &log);
	for (i = 0; i < 10; i++) {
		snprintf(tid, sizeof(tid), "T%d", i);
		txn_add_event(tt, pki((uint64_t)i + 1, SCEP_MT_PKCSREQ, tid, 200, SCEP_STATUS_SUCCESS,
				      SCEP_FAIL_NONE, (uint8_t)(i + 1)));
	}
	assert_int_equal(log.n, 10);
	assert_int_equal(txn_count(tt), 0);
	/* T0 is forgotten (past the cap of 4), T9 is not */
	txn_add_event(tt, pki(20, SCEP_MT_PKCSREQ, "T0", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, 20));
	txn_add_event(tt, pki(21, SCEP_MT_PKCSREQ, "T9", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, 21));
	assert_int_equal(log.reused[10], 0);
	assert_int_equal(log.reused[11], 1);
	log.refuse = 1;
	txn_add_event(tt, pki(30, SCEP_MT_PKCSREQ, "K", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, 30));
	finish(tt);
	assert_int_equal(txn_count(tt), 1);
	assert_string_equal(txn_get(tt, 0)->transaction_id, "K");
	assert_int_equal(txn_released_count(tt), 12);
	txn_table_free(tt);
}

static void count_streamed(void *arg, const struct txn *t)
{
	(void)t;
	(*(int *)arg)++;
}

/* Live: transactions that expire one after another are each printed and
 * then let go; the one still within the timeout stays. */
static void test_live_expiry_releases_each(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);
	struct released_log log;
	int streamed = 0;
	char tid[8];
	int i;

	(void)state;
	memset(&log, 0, sizeof(log));
	txn_table_on_close(tt, count_streamed, &streamed);
	txn_table_on_release(tt, record_release, &log);
	for (i = 0; i < 4; i++) {
		snprintf(tid, sizeof(tid), "X%d", i);
		txn_add_event(tt, pki((uint64_t)i + 1, SCEP_MT_PKCSREQ, tid, 200, SCEP_STATUS_PENDING,
				      SCEP_FAIL_NONE, (uint8_t)(i + 1)));
	}
	txn_add_event(tt, pki(100, SCEP_MT_PKCSREQ, "LATE", 200, SCEP_STATUS_PENDING, SCEP_FAIL_NONE, 100));
	assert_int_equal(txn_count(tt), 5);
	txn_expire(tt, 50 * SEC, 10 * SEC);
	assert_int_equal(streamed, 4);
	assert_int_equal(log.n, 4);
	assert_int_equal(log.verdict[3], VERDICT_PENDING);
	assert_int_equal(txn_count(tt), 1);
	assert_string_equal(txn_get(tt, 0)->transaction_id, "LATE");
	/* a poll for one given up while PENDING opens a new transaction: the
	 * client still polls, its ID is no reuse */
	txn_add_event(tt, pki(101, SCEP_MT_CERTPOLL, "X0", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, 101));
	assert_int_equal(log.n, 5);
	assert_int_equal(log.reused[4], 0);
	txn_table_free(tt);
}

/* Past max_txns distinct clients (and servers) the summary stops telling
 * them apart: their transactions are counted as others. */
static void test_summary_groups_capped(void **state)
{
	struct txn_limits lim = { .max_txns = 2 };
	struct txn_table *tt = txn_table_new(&lim, NULL);
	const struct summary *s;
	uint8_t k;

	(void)state;
	for (k = 0; k < 5; k++) {
		char tid[8];
		struct scep_event *ev;

		snprintf(tid, sizeof(tid), "C%u", k);
		ev = pki(k + 1, SCEP_MT_PKCSREQ, tid, 200, k ? SCEP_STATUS_SUCCESS : SCEP_STATUS_FAILURE,
			 k ? SCEP_FAIL_NONE : SCEP_FAIL_BADREQUEST, (uint8_t)(k + 1));
		ev->client = ep((uint8_t)(20 + k), 40000);
		txn_add_event(tt, ev);
	}
	finish(tt);
	s = txn_summary(tt);
	assert_non_null(s);
	assert_int_equal(s->transactions, 5);
	assert_int_equal(s->n_clients, 2);
	assert_int_equal(s->clients[0].total + s->clients[1].total, 2);
	assert_int_equal(s->other_clients.total, 3);
	assert_int_equal(s->other_clients.by_verdict[VERDICT_ISSUED], 3);
	assert_int_equal(s->n_servers, 1);
	assert_int_equal(s->servers[0].total, 5);
	assert_int_equal(s->other_servers.total, 0);
	txn_table_free(tt);
}

/* NDES's HRESULT says why (ndes-certrep-getcrl-failure.pem carries
 * "-2147024809"): it replaces the failInfo guess in the reason. */
static void test_ndes_hresult_is_the_reason(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);
	struct scep_event *ev = pki(5, SCEP_MT_PKCSREQ, "H", 200, SCEP_STATUS_FAILURE, SCEP_FAIL_BADREQUEST, 5);

	(void)state;
	ev->reply->has_ms_hresult = 1;
	ev->reply->ms_hresult = 0x80070057;
	txn_add_event(tt, ev);
	finish(tt);
	assert_string_equal(txn_get(tt, 0)->reason,
			    "badRequest: NDES HRESULT 0x80070057 E_INVALIDARG: The parameter is incorrect.");
	txn_table_free(tt);
}

/* The same transactionID again, signed with the same key: a re-enrollment
 * (captures/same-key-reenroll.pcap shows it on the wire); with another
 * key, a retry or replay. */
static void test_reused_id_same_key(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);
	struct scep_event *a = pki(1, SCEP_MT_PKCSREQ, "K", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, 1);
	struct scep_event *b = pki(9, SCEP_MT_PKCSREQ, "K", 200, SCEP_STATUS_FAILURE, SCEP_FAIL_BADREQUEST, 9);
	struct scep_event *c = pki(20, SCEP_MT_PKCSREQ, "K", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, 20);

	(void)state;
	a->request->signer = calloc(1, sizeof(*a->request->signer));
	b->request->signer = calloc(1, sizeof(*b->request->signer));
	c->request->signer = calloc(1, sizeof(*c->request->signer));
	strcpy(a->request->signer->key_sha256, "aa");
	strcpy(b->request->signer->key_sha256, "aa");
	strcpy(c->request->signer->key_sha256, "bb");
	txn_add_event(tt, a);
	txn_add_event(tt, b);
	txn_add_event(tt, c);
	finish(tt);
	assert_int_equal(txn_count(tt), 3);
	assert_int_equal(txn_get(tt, 1)->reused_same_key, 1);
	assert_true(has_finding(txn_get(tt, 1), "same key as the earlier enrollment"));
	assert_int_equal(txn_get(tt, 2)->reused_id, 1);
	assert_int_equal(txn_get(tt, 2)->reused_same_key, 0);
	assert_true(has_finding(txn_get(tt, 2), "client retry or replay"));
	txn_table_free(tt);
}

/* certmonger never sends CertPoll: after PENDING it sends a fresh PKCSReq
 * with the same transactionID and a new senderNonce. Polling by
 * re-submission, named as such, not a reused ID. */
static void test_poll_by_resubmission(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);
	const struct txn *t;

	(void)state;
	t = pending_then_twice(tt, SCEP_MT_PKCSREQ, 31, 61);
	assert_int_equal(t->verdict, VERDICT_ISSUED);
	assert_int_equal(t->reused_id, 0);
	assert_true(has_finding(t, "client re-sent its request 2 times in 60.0 s (new nonce each: certmonger-style polling)"));
	assert_false(has_finding(t, "identical request"));
	assert_false(has_finding(t, "client polled"));
	assert_int_equal(t->polls[TXN_POLL_RESUBMIT], 2);
	assert_int_equal(t->polls[TXN_POLL_CERTPOLL], 0);
	assert_int_equal(t->polls[TXN_POLL_REPLAY], 0);
	txn_table_free(tt);
}

/* micromdm scepclient re-sends the same bytes: the same senderNonce. */
static void test_poll_by_replay(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);
	struct scep_event *again = pki(20, SCEP_MT_PKCSREQ, "MM", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, 1);
	const struct txn *t;

	(void)state;
	memset(again->request->sender_nonce, 1, 16);  /* the first request's */
	txn_add_event(tt, pki(1, SCEP_MT_PKCSREQ, "MM", 200, SCEP_STATUS_PENDING, SCEP_FAIL_NONE, 1));
	txn_add_event(tt, again);
	finish(tt);
	assert_int_equal(txn_count(tt), 1);
	t = txn_get(tt, 0);
	assert_true(has_finding(t, "client re-sent the identical request 1 time in 19.0 s: same senderNonce, "
				"a replay as far as the server can tell"));
	assert_false(has_finding(t, "new nonce each"));
	assert_int_equal(t->polls[TXN_POLL_REPLAY], 1);
	assert_int_equal(t->polls[TXN_POLL_RESUBMIT], 0);
	txn_table_free(tt);
}

/* A TLS-terminating proxy in front of NDES: the client's request reaches
 * the proxy (server .1:443) and, unchanged, NDES behind it (server .2:80);
 * each leg answers, the inner one first. One enrollment, not two, and no
 * leg's copy of a request counts as a replay. */
static struct scep_event *on_leg(struct scep_event *ev, uint8_t server, uint16_t port, uint8_t client)
{
	ev->server = ep(server, port);
	ev->client = ep(client, ev->client.port);
	return ev;
}

static void test_proxy_legs_joined(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);
	const struct txn *t;

	(void)state;
	txn_add_event(tt, on_leg(pki(1, SCEP_MT_PKCSREQ, "LEG", 200, SCEP_STATUS_PENDING, SCEP_FAIL_NONE, 1), 2, 80, 9));
	txn_add_event(tt, on_leg(pki(1, SCEP_MT_PKCSREQ, "LEG", 200, SCEP_STATUS_PENDING, SCEP_FAIL_NONE, 1), 1, 443, 7));
	txn_add_event(tt, on_leg(pki(4, SCEP_MT_PKCSREQ, "LEG", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, 4), 2, 80, 9));
	/* the inner leg's final reply alone does not end the enrollment */
	assert_int_equal(txn_count(tt), 1);
	assert_false(txn_get(tt, 0)->closed);
	txn_add_event(tt, on_leg(pki(4, SCEP_MT_PKCSREQ, "LEG", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, 4), 1, 443, 7));
	assert_true(txn_get(tt, 0)->closed);
	finish(tt);
	assert_int_equal(txn_count(tt), 1);
	t = txn_get(tt, 0);
	assert_int_equal(t->n_events, 4);
	assert_int_equal(t->verdict, VERDICT_ISSUED);
	assert_int_equal(t->reused_id, 0);
	assert_true(t->two_legs);
	assert_true(has_finding(t, "the same requests on two legs, a proxy between them: 10.0.0.9:40001 -> 10.0.0.2:80 "
				"and 10.0.0.7:40001 -> 10.0.0.1:443"));
	assert_int_equal(t->polls[TXN_POLL_REPLAY], 0);
	assert_int_equal(t->polls[TXN_POLL_RESUBMIT], 1);
	assert_int_equal(txn_summary(tt)->transactions, 1);
	txn_table_free(tt);
}

/* The same ID toward another server with a NEW request (another nonce) is
 * no second leg: a separate enrollment. */
static void test_other_server_new_nonce_not_joined(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);

	(void)state;
	txn_add_event(tt, on_leg(pki(1, SCEP_MT_PKCSREQ, "TWO", 200, SCEP_STATUS_PENDING, SCEP_FAIL_NONE, 1), 2, 80, 9));
	txn_add_event(tt, on_leg(pki(2, SCEP_MT_PKCSREQ, "TWO", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, 2), 1, 443, 7));
	finish(tt);
	assert_int_equal(txn_count(tt), 2);
	assert_false(txn_get(tt, 0)->two_legs);
	assert_false(txn_get(tt, 1)->two_legs);
	txn_table_free(tt);
}

/* certmonger asks GetCACaps again before each re-submission: each poll
 * claims the one just before it, none is left as an endpoint group. */
static void test_preparation_per_poll(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);
	const struct txn *t;

	(void)state;
	txn_add_event(tt, event(SCEP_OP_GETCACAPS, 1, 200));
	txn_add_event(tt, pki(2, SCEP_MT_PKCSREQ, "CM", 200, SCEP_STATUS_PENDING, SCEP_FAIL_NONE, 2));
	txn_add_event(tt, event(SCEP_OP_GETCACAPS, 10, 200));
	txn_add_event(tt, pki(11, SCEP_MT_PKCSREQ, "CM", 200, SCEP_STATUS_PENDING, SCEP_FAIL_NONE, 11));
	txn_add_event(tt, event(SCEP_OP_GETCACAPS, 20, 200));
	txn_add_event(tt, pki(21, SCEP_MT_PKCSREQ, "CM", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, 21));
	finish(tt);
	assert_int_equal(txn_count(tt), 1);
	t = txn_get(tt, 0);
	assert_int_equal(t->n_events, 6);
	assert_int_equal(t->events[2]->op, SCEP_OP_GETCACAPS);
	assert_int_equal(t->events[4]->op, SCEP_OP_GETCACAPS);
	assert_int_equal(txn_summary(tt)->endpoint_groups, 0);
	txn_table_free(tt);
}

static void closed_noop(void *arg, const struct txn *t)
{
	(void)arg;
	(void)t;
}

/* Live: a PENDING transaction given up by expiry, then certmonger
 * re-submits with the same ID (getcert resubmit, a restart): polling,
 * not a reused transactionID. A FAILURE before is a real reuse. */
static void test_resubmit_after_expired_pending(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);
	const struct txn *t;

	(void)state;
	txn_table_on_close(tt, closed_noop, NULL);
	txn_add_event(tt, pki(1, SCEP_MT_PKCSREQ, "LP", 200, SCEP_STATUS_PENDING, SCEP_FAIL_NONE, 1));
	txn_expire(tt, 500 * SEC, 60 * SEC);
	txn_add_event(tt, pki(600, SCEP_MT_PKCSREQ, "LP", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, 60));
	finish(tt);
	assert_int_equal(txn_count(tt), 2);
	assert_int_equal(txn_get(tt, 0)->verdict, VERDICT_PENDING);
	t = txn_get(tt, 1);
	assert_int_equal(t->verdict, VERDICT_ISSUED);
	assert_int_equal(t->reused_id, 0);
	assert_false(has_finding(t, "reused from an earlier"));
	assert_true(has_finding(t, "client re-sent its request 1 time"));
	assert_true(has_finding(t, "given up while PENDING"));
	assert_int_equal(t->resumes_pending, 1);
	txn_table_free(tt);
}

static struct scep_event *http_error(enum scep_op op, uint64_t t, int status, const char *path,
				     const char *location, const char *text)
{
	struct scep_event *ev = event(op, t, status);

	ev->flow_id = t;
	ev->path = strdup(path);
	ev->location = location ? strdup(location) : NULL;
	ev->error_text = text ? strdup(text) : NULL;
	return ev;
}

#define PASSTHROUGH "application proxy with pre-authentication: publish the NDES URL as passthrough"
#define IIS_LIMITS "GET URL over the IIS limits: let the client POST (POSTPKIOperation in GetCACaps) or raise MaxFieldLength/MaxRequestBytes"
#define NDES_POOL "NDES application pool or service (403: access to mscep.dll refused; 503: application pool stopped or service unavailable)"

/* Each HTTP error rule, on the endpoint group (whole-path errors stop the
 * client before any PKIOperation) or on the transaction; errors the table
 * does not know get no cause. */
static void test_http_error_causes(void **state)
{
	static const struct {
		enum scep_op op;
		int status;
		const char *path, *location, *text, *cause;
	} cases[] = {
		{ SCEP_OP_GETCACAPS, 302, "/certsrv/mscep/mscep.dll",
		  "https://login.microsoftonline.com/common/oauth2/authorize?client_id=1", NULL, PASSTHROUGH },
		{ SCEP_OP_GETCACERT, 302, "/certsrv/mscep/mscep.dll", "https://sts.example.com/adfs/ls/?wa=wsignin1.0", NULL, PASSTHROUGH },
		{ SCEP_OP_GETCACAPS, 307, "/certsrv/mscep/mscep.dll", "https://ndes-contoso.msappproxy.net/x", NULL, PASSTHROUGH },
		{ SCEP_OP_GETCACAPS, 301, "/scep", "https://ndes.example.com/scep", NULL, NULL },
		{ SCEP_OP_PKIOPERATION, 414, "/certsrv/mscep/mscep.dll", NULL, NULL, IIS_LIMITS },
		{ SCEP_OP_PKIOPERATION, 404, "/certsrv/mscep/mscep.dll", NULL, "HTTP Error 404.14 - Not Found", IIS_LIMITS },
		{ SCEP_OP_PKIOPERATION, 404, "/certsrv/mscep/mscep.dll", NULL, "HTTP Error 404.0 - Not Found", NULL },
		{ SCEP_OP_GETCACAPS, 403, "/certsrv/mscep/mscep.dll", NULL, "403 - Forbidden: Access is denied.", NDES_POOL },
		{ SCEP_OP_GETCACAPS, 503, "/certsrv/mscep/mscep.dll", NULL, "Service Unavailable", NDES_POOL },
		{ SCEP_OP_GETCACAPS, 503, "/scep", NULL, "Service Unavailable", NULL },
		{ SCEP_OP_GETCACAPS, 500, "/certsrv/mscep/mscep.dll", NULL, "Internal Server Error", NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct txn_table *tt = txn_table_new(NULL, NULL);
		struct scep_event *ev = http_error(cases[i].op, 5, cases[i].status, cases[i].path, cases[i].location,
						   cases[i].text);
		const struct txn *t;

		if (cases[i].op == SCEP_OP_PKIOPERATION)
			ev->request = msg(SCEP_MT_PKCSREQ, "U", 5);
		txn_add_event(tt, ev);
		finish(tt);
		assert_int_equal(txn_count(tt), 1);
		t = txn_get(tt, 0);
		assert_int_equal(t->verdict, VERDICT_HTTP_ERROR);
		if (cases[i].cause) {
			if (!has_finding(t, cases[i].cause))
				fail_msg("case %zu: HTTP %d has no cause", i, cases[i].status);
			assert_int_equal(t->n_findings, 1);
		} else if (t->n_findings) {
			fail_msg("case %zu: HTTP %d: unexpected finding %s", i, cases[i].status, t->findings[0]);
		}
		txn_table_free(tt);
	}
}

/* Behind a proxy every device has the proxy's address: endpoint groups
 * follow the connection, and the same connection idle for over a minute
 * starts a new group. */
static void test_endpoint_groups_by_connection(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);
	struct scep_event *a1 = event(SCEP_OP_GETCACAPS, 1, 200), *a2 = event(SCEP_OP_GETCACERT, 30, 200);
	struct scep_event *b = event(SCEP_OP_GETCACAPS, 2, 200), *a3 = event(SCEP_OP_GETCACAPS, 200, 200);

	(void)state;
	a1->flow_id = a2->flow_id = a3->flow_id = 1;
	b->flow_id = 2;            /* another device, same (proxy) address */
	txn_add_event(tt, a1);
	txn_add_event(tt, b);
	txn_add_event(tt, a2);
	txn_add_event(tt, a3);
	finish(tt);
	assert_int_equal(txn_count(tt), 3);
	assert_int_equal(txn_get(tt, 0)->n_events, 2);   /* a1, a2 */
	assert_int_equal(txn_get(tt, 1)->n_events, 1);   /* b */
	assert_int_equal(txn_get(tt, 2)->n_events, 1);   /* a3, after 170 s idle */
	assert_int_equal(txn_summary(tt)->endpoint_groups, 3);
	assert_int_equal(txn_summary(tt)->transactions, 0);
	txn_table_free(tt);
}

/* The summary counts endpoint groups apart from transactions, error or
 * not, so its figures match the objects listed. */
static void test_summary_counts_groups_apart(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);
	const struct summary *s;

	(void)state;
	txn_add_event(tt, http_error(SCEP_OP_GETCACAPS, 1, 302, "/certsrv/mscep/mscep.dll",
				     "https://login.microsoftonline.com/x", NULL));
	txn_add_event(tt, pki(300, SCEP_MT_PKCSREQ, "OK", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, 44));
	finish(tt);
	assert_int_equal(txn_count(tt), 2);
	s = txn_summary(tt);
	assert_int_equal(s->transactions, 1);
	assert_int_equal(s->endpoint_groups, 1);
	assert_int_equal(s->by_verdict[VERDICT_ISSUED], 1);
	assert_int_equal(s->by_verdict[VERDICT_HTTP_ERROR], 0);
	assert_int_equal(s->n_servers, 1);
	assert_int_equal(s->servers[0].total, 1);
	assert_int_equal(s->group_verdicts[VERDICT_HTTP_ERROR], 1);
	assert_true(txn_is_endpoint_group(txn_get(tt, 0)));
	assert_false(txn_is_endpoint_group(txn_get(tt, 1)));
	txn_table_free(tt);
}

static struct scep_event *tls_failed(uint64_t t, uint8_t server, const char *alert)
{
	struct scep_event *ev = event(SCEP_OP_TLS, t, 0);

	ev->server = ep(server, 443);
	ev->res_last_ts_ns = t * SEC + SEC / 2;
	ev->tls = calloc(1, sizeof(*ev->tls));
	ev->tls->handshake_failed = 1;
	ev->tls->alert = strdup(alert);
	return ev;
}

static const struct txn *txn_by_tid(const struct txn_table *tt, const char *tid)
{
	size_t i;

	for (i = 0; i < txn_count(tt); i++)
		if (txn_get(tt, i)->transaction_id && !strcmp(txn_get(tt, i)->transaction_id, tid))
			return txn_get(tt, i);
	fail_msg("no transaction %s", tid);
	return NULL;
}

/* Live: where the kernel dropped packets, what a transaction misses may
 * be among them: INCOMPLETE with the capture's loss as the reason, not
 * NO_RESPONSE. A loss before the request, or (txn_expire) after the time
 * the transaction is given up, changes nothing; a TLS alert is an alert. */
static void with_subject_key(struct scep_event *ev, const char *subject, const char *key)
{
	ev->request->csr = calloc(1, sizeof(*ev->request->csr));
	ev->request->csr->subject = strdup(subject);
	ev->request->signer = calloc(1, sizeof(*ev->request->signer));
	strcpy(ev->request->signer->key_sha256, key);
}

/* What earlier enrollments prove: a second request for a subject issued
 * before is said so (and the advice follows it); a key used under another
 * transactionID too. A rejection with no such history gets neither, and
 * neither does an issued one. */
static void test_history_proofs(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);
	struct scep_event *a = pki(1, SCEP_MT_PKCSREQ, "A", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, 1);
	struct scep_event *b = pki(5, SCEP_MT_PKCSREQ, "B", 200, SCEP_STATUS_FAILURE, SCEP_FAIL_BADREQUEST, 5);
	struct scep_event *c = pki(9, SCEP_MT_PKCSREQ, "C", 200, SCEP_STATUS_FAILURE, SCEP_FAIL_BADREQUEST, 9);
	struct scep_event *d = pki(12, SCEP_MT_PKCSREQ, "D", 200, SCEP_STATUS_SUCCESS, SCEP_FAIL_NONE, 12);

	(void)state;
	with_subject_key(a, "CN=dev1", "k1");
	with_subject_key(b, "CN=dev1", "k2");
	with_subject_key(c, "CN=dev2", "k1");
	with_subject_key(d, "CN=dev1", "k1");
	txn_add_event(tt, a);
	txn_add_event(tt, b);
	txn_add_event(tt, c);
	txn_add_event(tt, d);
	finish(tt);
	assert_int_equal(txn_count(tt), 4);
	assert_true(has_finding(txn_by_tid(tt, "B"), "a certificate for CN=dev1 was issued earlier in this capture (txn A"));
	assert_int_equal(txn_by_tid(tt, "B")->proof, TXN_PROOF_SUBJECT_ISSUED);
	assert_non_null(strstr(txn_by_tid(tt, "B")->advice, "already issued a certificate for this subject"));
	assert_true(has_finding(txn_by_tid(tt, "C"), "the same key signed an earlier request under another transactionID (txn A, ISSUED"));
	assert_int_equal(txn_by_tid(tt, "C")->proof, TXN_PROOF_KEY_USED);
	assert_non_null(strstr(txn_by_tid(tt, "C")->advice, "key already used"));
	assert_int_equal(txn_by_tid(tt, "D")->proof, 0);
	assert_null(txn_by_tid(tt, "D")->advice);
	txn_table_free(tt);
}

/* A refused RenewalReq (RFC 8894 3.5.2): the server's GetCACaps without
 * "Renewal" is said, and so is a certificate renewed with more than half
 * its life left (here 300 of 365 days). */
static void test_renewal_proofs(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);
	struct scep_event *caps = event(SCEP_OP_GETCACAPS, 1, 200);
	struct scep_event *r = pki(2, SCEP_MT_RENEWALREQ, "R", 200, SCEP_STATUS_FAILURE, SCEP_FAIL_BADREQUEST, 2);

	(void)state;
	caps->n_caps = 2;
	caps->caps = calloc(2, sizeof(char *));
	caps->caps[0] = strdup("SHA-256");
	caps->caps[1] = strdup("AES");
	r->request->signer = calloc(1, sizeof(*r->request->signer));
	r->request->signer->not_before = 2 - 65 * 86400;
	r->request->signer->not_after = 2 + 300 * 86400;
	txn_add_event(tt, caps);
	txn_add_event(tt, r);
	finish(tt);
	assert_int_equal(txn_by_tid(tt, "R")->proof, TXN_PROOF_RENEWAL_EARLY | TXN_PROOF_RENEWAL_NOT_OFFERED);
	assert_true(has_finding(txn_by_tid(tt, "R"), "GetCACaps does not list Renewal"));
	assert_true(has_finding(txn_by_tid(tt, "R"), "with 300 of its 365 days left"));
	assert_non_null(strstr(txn_by_tid(tt, "R")->advice, "does not offer renewal"));
	txn_table_free(tt);
}

static void test_capture_loss_verdicts(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);
	struct scep_event *damaged = pki(30, SCEP_MT_PKCSREQ, "C", 200, SCEP_STATUS_NONE, SCEP_FAIL_NONE, 0);
	const struct txn *t;
	size_t i;

	(void)state;
	txn_note_capture_loss(tt, 5 * SEC, 6 * SEC, 9);            /* before everything */
	txn_add_event(tt, pki(10, SCEP_MT_PKCSREQ, "A", 0, SCEP_STATUS_NONE, SCEP_FAIL_NONE, 0));
	txn_note_capture_loss(tt, 10 * SEC + SEC / 5, 10 * SEC + SEC / 4, 5);
	damaged->damaged = damaged->res_damaged = 1;
	damaged->gap_bytes = damaged->res_gap_bytes = 100;
	txn_add_event(tt, damaged);
	txn_note_capture_loss(tt, 30 * SEC + SEC / 10, 30 * SEC + SEC / 5, 2);
	txn_add_event(tt, tls_failed(40, 2, "no ServerHello before the handshake completed"));
	txn_add_event(tt, tls_failed(40, 3, "server alert fatal handshake_failure"));
	txn_note_capture_loss(tt, 40 * SEC + SEC / 10, 40 * SEC + SEC / 5, 1);
	finish(tt);

	t = txn_by_tid(tt, "A");
	assert_int_equal(t->verdict, VERDICT_INCOMPLETE);
	/* all the loss after its request: 5, 2 and 1 packets */
	assert_non_null(strstr(t->reason, "the capture lost 8 packets (kernel drops) after the request"));
	t = txn_by_tid(tt, "C");
	assert_int_equal(t->verdict, VERDICT_INCOMPLETE);
	assert_string_equal(t->reason, "response damaged by a 100-byte capture gap; the capture lost 2 packets "
			    "(kernel drops) meanwhile");
	for (i = 0; i < txn_count(tt); i++) {
		t = txn_get(tt, i);
		if (t->transaction_id)
			continue;
		if (t->server.addr[3] == 2) {
			assert_int_equal(t->verdict, VERDICT_INCOMPLETE);
			assert_string_equal(t->reason, "TLS handshake not seen to the end (no ServerHello before the "
					    "handshake completed): the capture lost 1 packet (kernel drops) meanwhile");
		} else {
			assert_int_equal(t->verdict, VERDICT_NO_RESPONSE);
		}
	}
	txn_table_free(tt);

	/* nothing lost after the request: never answered */
	tt = txn_table_new(NULL, NULL);
	txn_note_capture_loss(tt, 5 * SEC, 6 * SEC, 9);
	txn_add_event(tt, pki(10, SCEP_MT_PKCSREQ, "B", 0, SCEP_STATUS_NONE, SCEP_FAIL_NONE, 0));
	finish(tt);
	assert_int_equal(txn_get(tt, 0)->verdict, VERDICT_NO_RESPONSE);
	assert_string_equal(txn_get(tt, 0)->reason, "PKIOperation never answered");
	txn_table_free(tt);
}

static void count_closed(void *arg, const struct txn *t)
{
	(void)t;
	(*(int *)arg)++;
}

/* Live expiry gives a transaction up at a time: a loss after it is not
 * where its answer could have been. */
static void test_capture_loss_horizon(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);
	int closed = 0;

	(void)state;
	txn_table_on_close(tt, count_closed, &closed);
	txn_add_event(tt, pki(1, SCEP_MT_PKCSREQ, "E", 0, SCEP_STATUS_NONE, SCEP_FAIL_NONE, 0));
	txn_add_event(tt, pki(2, SCEP_MT_PKCSREQ, "F", 0, SCEP_STATUS_NONE, SCEP_FAIL_NONE, 0));
	txn_note_capture_loss(tt, 100 * SEC, 101 * SEC, 3);
	txn_expire(tt, 50 * SEC, 10 * SEC);
	assert_int_equal(closed, 2);
	assert_int_equal(txn_by_tid(tt, "E")->verdict, VERDICT_NO_RESPONSE);
	assert_int_equal(txn_by_tid(tt, "F")->verdict, VERDICT_NO_RESPONSE);
	txn_table_free(tt);
}

/* More spans than are kept merge; no dropped packet goes uncounted. */
static void test_capture_loss_spans_capped(void **state)
{
	struct txn_table *tt = txn_table_new(NULL, NULL);
	uint64_t k;

	(void)state;
	txn_add_event(tt, pki(1, SCEP_MT_PKCSREQ, "G", 0, SCEP_STATUS_NONE, SCEP_FAIL_NONE, 0));
	for (k = 1; k <= 3000; k++)
		txn_note_capture_loss(tt, k * 10 * SEC, k * 10 * SEC + SEC, k % 3 + 1);
	/* one that goes on from the last reading joins its span */
	txn_note_capture_loss(tt, 30000 * SEC + SEC, 30000 * SEC + 2 * SEC, 4);
	finish(tt);
	assert_int_equal(txn_get(tt, 0)->verdict, VERDICT_INCOMPLETE);
	/* 1000 times each of 1, 2 and 3, and the 4 */
	assert_non_null(strstr(txn_get(tt, 0)->reason, "the capture lost 6004 packets"));
	txn_table_free(tt);
}

/* The summary's "capped" figure counts every cap and every cut the memory
 * budget made; bytes count once; kernel drops are no cap. */
static void test_summary_capped_counts_every_cap(void **state)
{
	static const size_t fields[] = {
		offsetof(struct counters, flows_capped), offsetof(struct counters, flows_shed_not_scep),
		offsetof(struct counters, flows_shed_idle), offsetof(struct counters, memory_refused),
		offsetof(struct counters, http_bodies_capped), offsetof(struct counters, h2_headers_capped),
		offsetof(struct counters, h2_streams_capped), offsetof(struct counters, tls_opaque_capped),
		offsetof(struct counters, txns_evicted), offsetof(struct counters, txn_events_capped),
		offsetof(struct counters, device_events_capped), offsetof(struct counters, device_lines_capped),
		offsetof(struct counters, keylog_capped),
	};
	static const size_t byte_fields[] = {
		offsetof(struct counters, reasm_bytes_capped), offsetof(struct counters, tls_bytes_capped),
		offsetof(struct counters, device_bytes_capped),
	};
	struct counters c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		memset(&c, 0, sizeof(c));
		*(uint64_t *)((char *)&c + fields[i]) = 3;
		assert_int_equal(summary_capped(&c), 3);
	}
	for (i = 0; i < sizeof(byte_fields) / sizeof(byte_fields[0]); i++) {
		memset(&c, 0, sizeof(c));
		*(uint64_t *)((char *)&c + byte_fields[i]) = 5000;
		assert_int_equal(summary_capped(&c), 1);
	}
	memset(&c, 0, sizeof(c));
	c.capture_dropped = 7;
	c.http_skipped = 7;
	assert_int_equal(summary_capped(&c), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issued_with_preparation),
		cmocka_unit_test(test_rejected_with_failinfo_and_nonce_mismatch),
		cmocka_unit_test(test_pending_then_poll_then_issued),
		cmocka_unit_test(test_still_pending_at_end),
		cmocka_unit_test(test_reused_id_after_close_opens_new),
		cmocka_unit_test(test_ndes_hresult_is_the_reason),
		cmocka_unit_test(test_reused_id_same_key),
		cmocka_unit_test(test_poll_by_resubmission),
		cmocka_unit_test(test_poll_by_replay),
		cmocka_unit_test(test_proxy_legs_joined),
		cmocka_unit_test(test_other_server_new_nonce_not_joined),
		cmocka_unit_test(test_preparation_per_poll),
		cmocka_unit_test(test_resubmit_after_expired_pending),
		cmocka_unit_test(test_http_error_causes),
		cmocka_unit_test(test_endpoint_groups_by_connection),
		cmocka_unit_test(test_summary_counts_groups_apart),
		cmocka_unit_test(test_http_error_and_no_response),
		cmocka_unit_test(test_lone_getcacaps_is_endpoint_group),
		cmocka_unit_test(test_order_is_by_time_not_arrival),
		cmocka_unit_test(test_txn_cap_evicts_oldest_finished),
		cmocka_unit_test(test_txn_cap_open_and_exchange_cap),
		cmocka_unit_test(test_loose_cap_groups_early),
		cmocka_unit_test(test_release_finished),
		cmocka_unit_test(test_release_refused_and_id_memory_capped),
		cmocka_unit_test(test_summary_groups_capped),
		cmocka_unit_test(test_live_expiry_releases_each),
		cmocka_unit_test(test_history_proofs),
		cmocka_unit_test(test_renewal_proofs),
		cmocka_unit_test(test_capture_loss_verdicts),
		cmocka_unit_test(test_capture_loss_horizon),
		cmocka_unit_test(test_capture_loss_spans_capped),
		cmocka_unit_test(test_summary_capped_counts_every_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
