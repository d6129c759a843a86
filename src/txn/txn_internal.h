/* txn_internal.h - what the transaction stage's files share: the table
 * itself and the steps one file takes for another. Not for other stages:
 * they see include/txn.h. */
#ifndef SCEPDUMP_TXN_INTERNAL_H
#define SCEPDUMP_TXN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "scep.h"
#include "summary.h"
#include "txn.h"

struct counters;
struct loss_span;
struct released_id;
struct history_entry;

struct txn_table {
	struct txn **txns;          /* in order of creation until txn_finish sorts them */
	size_t n;
	uint64_t n_created;
	/* GetCACaps/GetCACert not (yet) attached to an enrollment */
	struct scep_event **loose;
	size_t n_loose;
	txn_closed_cb on_close;
	void *on_close_arg;
	txn_release_cb on_release;
	void *on_release_arg;
	txn_settled_cb on_settled;
	void *on_settled_arg;
	size_t n_released;
	/* IDs of released transactions, at most lim.max_txns of them (as many
	 * as the table would have remembered had it kept them) */
	struct released_id **released_by_id;   /* id_buckets chains */
	struct released_id *released_oldest, *released_newest;
	size_t n_released_ids;
	struct txn_limits lim;
	struct counters *cnt;
	/* transactionID -> transactions, newest first in each chain */
	struct txn **by_id;
	size_t id_buckets;          /* a power of two */
	struct summary gone;        /* what evicted transactions add to the summary */
	struct summary released;    /* what released transactions add to it */
	/* the whole run's figures, built once by txn_finish; whole: built
	 * without running out of memory */
	struct summary all;
	int all_whole;
	/* live capture: where the kernel dropped packets (txn_note_capture_loss),
	 * in time order; a missing piece that falls there is the capture's loss */
	struct loss_span *losses;
	size_t n_losses, losses_alloc;
	/* while txn_expire gives transactions up: the capture time then, after
	 * which nothing they miss could have come; 0: no bound (the end) */
	uint64_t horizon_ns;
	/* the last TXN_HISTORY_MAX settled enrollments (history.c), a ring */
	struct history_entry *history;
	size_t history_next;
};
#define TXN_HISTORY_MAX 4096u

/* The transaction's last PKIOperation: the one its verdict is about. */
static inline const struct scep_event *txn_last_pki_operation(const struct txn *t)
{
	size_t i;

	for (i = t->n_events; i-- > 0;)
		if (t->events[i]->op == SCEP_OP_PKIOPERATION)
			return t->events[i];
	return NULL;
}

/* An exchange answered with an HTTP error (a TLS event has no status). */
static inline int event_is_http_error(const struct scep_event *ev)
{
	return ev->has_response && ev->status != 200 && ev->op != SCEP_OP_TLS;
}

/* The first exchange answered with an HTTP error, or NULL. */
static inline const struct scep_event *txn_first_http_error(const struct txn *t)
{
	size_t i;

	for (i = 0; i < t->n_events; i++)
		if (event_is_http_error(t->events[i]))
			return t->events[i];
	return NULL;
}

/* An exchange's first and last byte in capture time, either side. */
static inline uint64_t event_start(const struct scep_event *ev)
{
	return ev->req_first_ts_ns ? ev->req_first_ts_ns : ev->res_first_ts_ns;
}

static inline uint64_t event_end(const struct scep_event *ev)
{
	uint64_t e = ev->res_last_ts_ns > ev->req_last_ts_ns ? ev->res_last_ts_ns : ev->req_last_ts_ns;

	return e ? e : event_start(ev);
}

/* The request's messageType, -1 when it did not decode. */
static inline int event_msg_type(const struct scep_event *ev)
{
	return ev->request && ev->request->decoded ? ev->request->message_type : -1;
}

/* table.c */
int txn_push_ptr(void ***arr, size_t *n, void *p);
struct txn **txn_id_bucket(const struct txn_table *tt, const char *tid);
void txn_id_index_remove(struct txn_table *tt, struct txn *t);
/* What a later request with the same transactionID needs to know of an
 * earlier, finished transaction toward the same server. */
struct txn_prev {
	const char *key_sha256;     /* its signer key fingerprint, "" when unknown */
	int pending;                /* given up while PENDING (live expiry) */
	const uint8_t *nonce;       /* its last request's senderNonce */
	size_t nonce_len;           /* 0: unknown */
};
/* 1 and *prev filled when a transaction with this ID toward server was
 * released, else 0. */
int txn_released_prev(const struct txn_table *tt, const char *tid, const struct endpoint *server,
		      struct txn_prev *prev);
/* Whether one of t's first n events is a PKIOperation request with this
 * senderNonce (toward server; NULL: any). */
int txn_has_request_nonce(const struct txn *t, size_t n, const struct endpoint *server,
			  const uint8_t *nonce, size_t len);
/* t's last decoded PKIOperation request with a senderNonce, or NULL. */
const struct scep_msg *txn_last_request(const struct txn *t);
void txn_remember_released_id(struct txn_table *tt, const struct txn *t);
/* Takes reason (malloc'ed or NULL). */
void txn_set_verdict(struct txn *t, enum txn_verdict v, char *reason);
/* Takes finding (malloc'ed, NULL ignored). */
void txn_add_finding(struct txn *t, char *finding);
int txn_append(struct txn_table *tt, struct txn *t, struct scep_event *ev);
struct txn *txn_new(struct txn_table *tt, const struct scep_event *ev, const char *tid);
void txn_table_remove(struct txn_table *tt, const struct txn *t);
void txn_free(struct txn *t);

/* correlate.c. Takes ev into its transaction (or the loose list); returns
 * the transaction ev closed, for lifecycle.c to stream or release. */
struct txn *txn_correlate(struct txn_table *tt, struct scep_event *ev);
void txn_group_loose_events(struct txn_table *tt, size_t count);

/* loss.c */
uint64_t txn_lost_between(const struct txn_table *tt, uint64_t from_ns, uint64_t to_ns);
uint64_t txn_lost_after(const struct txn_table *tt, uint64_t from_ns);

/* verdict.c. have_wire: the run saw packets (a request only the device saw then
 * never reached the capture point). */
void txn_settle(struct txn_table *tt, struct txn *t, int have_wire);

/* checks.c */
void txn_run_checks(struct txn *t);
/* The advice for an HTTP error a rule in checks.c names, or NULL. */
const char *txn_http_cause(const struct txn *t);
/* history.c: remember a settled enrollment; what earlier ones prove
 * (findings and t->proof); free the ring. */
void txn_history_add(struct txn_table *tt, const struct txn *t, const char *verdict_name);
#define TXN_HISTORY_FINDINGS 2
size_t txn_history_findings(const struct txn_table *tt, struct txn *t, char **out);
void txn_history_free(struct txn_table *tt);
/* advice.c: t->advice from the verdict, reason and proofs */
void txn_advise(struct txn *t);

/* devmerge.c */
void txn_settle_device(struct txn *t, int have_wire);

#endif
