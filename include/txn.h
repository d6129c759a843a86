/* txn.h - SCEP events grouped into enrollments by transactionID, with the
 * checks a troubleshooter would do by hand and one verdict each. */
#ifndef SCEPDUMP_TXN_H
#define SCEPDUMP_TXN_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "scep.h"

struct devlog_list;
struct scep_cert;
struct scep_event;

/* A device-log event placed on a transaction's timeline. */
struct txn_device_event {
	uint64_t ts_ns;
	/* where it goes among the wire's exchanges: ts_ns, except for an
	 * outcome stamped to the whole second (syslog), which is placed after
	 * the exchanges of that second it may be answering */
	uint64_t order_ts_ns;
	int kind;                   /* enum devlog_kind */
	const char *source;         /* "android", "ios", "windows" (static) */
	char *what;                 /* one line: "SCEP cert state CERT_INSTALLING -> CERT_INSTALL_SUCCESS" */
	char *transaction_id;       /* when the log line named one */
	int pki_status;             /* from a logged CertRep, -1 absent */
	int inferred;               /* not matched by transactionID */
	/* how it was placed, said after it: "URL and time", "time, within
	 * 2 s", ... (static); NULL: by transactionID, or not placed on any
	 * transaction (a device log alone, TXN_DEVICE_UNMATCHED) */
	const char *matched_by;
	uint64_t line_no;
	int root_cert;              /* a trusted root's state, not the enrolled certificate's */
	/* the log gave no date and none was given (devlog ts_no_date): only
	 * the time of day of ts_ns means anything */
	int no_date;
};

enum txn_verdict {
	VERDICT_NONE = 0,           /* endpoint-level events, no transaction */
	VERDICT_ISSUED,
	VERDICT_REJECTED,
	VERDICT_PENDING,
	VERDICT_HTTP_ERROR,
	VERDICT_NO_RESPONSE,
	VERDICT_INCOMPLETE,
	VERDICT_UNDECODED,
	VERDICT_DELIVERED
};

/* What a transaction without a request message type is (first_msg_type
 * holds a message type when there is one, these otherwise). */
enum txn_group {
	TXN_NO_TYPE = -1,           /* PKIOperation whose request did not decode */
	TXN_ENDPOINT_GROUP = -2,    /* GetCACaps/GetCACert/TLS of one client and server */
	TXN_DEVICE_ONLY = -3,       /* a transactionID only the device log knows */
	TXN_DEVICE_GROUP = -4,      /* device log lines near no transaction */
	/* device log lines that no transaction of the capture claimed (no
	 * transactionID or URL of it, not close enough in time) */
	TXN_DEVICE_UNMATCHED = -5
};

/* How a client asked again for the certificate of one enrollment: the
 * RFC's CertPoll (GetCertInitial, strongSwan pki --scep at --interval), a
 * fresh request with the same transactionID and a new senderNonce
 * (certmonger never sends CertPoll: after PENDING it re-submits), or the
 * same request again with the same senderNonce (micromdm scepclient: a
 * replay as far as the server can tell). */
enum txn_poll_kind {
	TXN_POLL_CERTPOLL = 0,
	TXN_POLL_RESUBMIT,
	TXN_POLL_REPLAY,
	TXN_POLL_KINDS
};

/* Facts the capture proves about a transaction that did not end ISSUED,
 * each also said as a finding; they pick its advice. */
enum txn_proof {
	TXN_PROOF_SUBJECT_ISSUED = 1,      /* the subject got a certificate earlier */
	TXN_PROOF_KEY_USED = 2,            /* its key signed another transaction's request */
	TXN_PROOF_RENEWAL_EARLY = 4,       /* renewing a certificate far from expiry */
	TXN_PROOF_RENEWAL_NOT_OFFERED = 8  /* RenewalReq, GetCACaps without Renewal */
};

struct txn {
	uint64_t seq;               /* 1-based, in order of first event */
	uint64_t created;           /* order of creation: breaks ties of first_ts_ns */
	char *transaction_id;       /* NULL for endpoint-level groups */
	int reused_id;              /* same ID as an earlier, closed transaction */
	/* with reused_id: the earlier one's request was signed with the same
	 * key (a re-enrollment: RFC 8894 derives the transactionID from the
	 * key, so a device renewing with its old key sends the old ID) */
	int reused_same_key;
	/* SHA-256 of the first request's signer key (scep_cert.key_sha256),
	 * "" when unknown */
	char key_sha256[SCEP_SHA256_HEX];
	/* the same ID as an earlier transaction given up while still PENDING
	 * (live expiry): a client polling by re-submission, not a reused ID;
	 * prev_nonce is that one's last request senderNonce */
	int resumes_pending;
	uint8_t prev_nonce[SCEP_NONCE_MAX];
	size_t prev_nonce_len;
	/* The same requests (transactionID and senderNonce) seen toward a
	 * second server: the two legs of a proxy (TLS to the proxy, plain
	 * HTTP behind it). One enrollment: it closes when both legs had
	 * their final reply (finals counts them). */
	int two_legs;
	struct endpoint leg_client, leg_server;   /* the second leg */
	unsigned finals;
	/* polls per enum txn_poll_kind, counted when the transaction settles */
	size_t polls[TXN_POLL_KINDS];
	/* endpoint groups: the connection their exchanges came on (a group
	 * is one connection, split where it is idle for TXN_GROUP_GAP_NS) */
	uint64_t flow_id;
	struct endpoint client, server;
	char *subject;              /* from the CSR, else the signer cert */
	int first_msg_type;         /* PKCSReq, RenewalReq, ... or an enum txn_group */
	enum txn_verdict verdict;
	char *reason;               /* "badRequest", "HTTP 500", ... */
	/* what to check next, for a verdict that needs explaining, or NULL */
	char *advice;
	/* what the capture proves beyond this transaction (enum txn_proof) */
	unsigned proof;
	uint64_t first_ts_ns, last_ts_ns;
	struct scep_event **events;
	size_t n_events;
	char **findings;
	size_t n_findings;
	struct txn_device_event *device;   /* in time order */
	size_t n_device;
	/* known only from device log lines without a date (see
	 * txn_device_event.no_date): first_ts_ns and last_ts_ns are times
	 * of day on no known date */
	int no_date;
	int closed;
	int settled;                /* verdict and findings computed */
	int streamed;               /* handed to the close callback already */
	int told_settled;           /* handed to the settled callback already */
	uint64_t events_capped;     /* exchanges past txn_limits.max_events, not kept */
	struct txn *id_next;        /* table.c's transactionID index chain */
};

/* Memory caps (issue: a capture with a million enrollments or a flood of
 * GetCACaps must not grow the table without end). Past max_txns the oldest
 * finished transactions leave the table: streamed ones (live output) were
 * shown already; the others are counted in the summary but not listed
 * (counter txns_evicted). Past max_events a transaction keeps its first
 * exchanges and counts the rest. Past max_loose, the older half of the
 * GetCACaps/GetCACert not yet claimed by an enrollment become endpoint
 * groups early. */
struct txn_limits {
	size_t max_txns;            /* default TXN_MAX_TXNS */
	size_t max_events;          /* per transaction, default TXN_MAX_EVENTS */
	size_t max_loose;           /* default TXN_MAX_LOOSE */
};
#define TXN_MAX_TXNS 10000u
#define TXN_MAX_EVENTS 1000u
#define TXN_MAX_LOOSE 10000u
/* An endpoint group's connection idle this long starts a new group. */
#define TXN_GROUP_GAP_NS (60ull * 1000000000ull)

/* Called once per transaction as soon as its final CertRep (or HTTP error)
 * settles it, so live capture shows enrollments as they end. */
typedef void (*txn_closed_cb)(void *arg, const struct txn *t);
/* Called once per transaction that nothing can change any more (its final
 * CertRep came, or, live, it expired), with its verdict settled, after the
 * close callback if there is one. Returning 0 means the caller kept what it
 * needs (offline the rendered listing; live it was printed already): the
 * table then lets the transaction go, keeping its figures for the summary
 * and its ID for reuse detection, so memory does not grow with the number
 * of enrollments. Returning -1 keeps it in the table. */
typedef int (*txn_release_cb)(void *arg, const struct txn *t);

/* Called once for every transaction and endpoint group the summary
 * counts, as soon as its figures are final: as it is shown live, let go,
 * evicted, or at txn_finish. So running tallies (--metrics) grow during a
 * capture and end equal to the summary. */
typedef void (*txn_settled_cb)(void *arg, const struct txn *t);

struct txn_table;

struct counters;
struct summary;

/* lim NULL or a zero field: the defaults. cnt gets txns_evicted and
 * txn_events_capped; it must outlive the table. */
struct txn_table *txn_table_new(const struct txn_limits *lim, struct counters *cnt);
void txn_table_on_close(struct txn_table *t, txn_closed_cb cb, void *arg);
/* Not with device logs (they join finished transactions at the end) or an
 * output that needs them all at the end (--html; live, --check's names). */
void txn_table_on_release(struct txn_table *t, txn_release_cb cb, void *arg);
void txn_table_on_settled(struct txn_table *t, txn_settled_cb cb, void *arg);
/* 1 when a close callback is set: only then has txn_expire work to do. */
int txn_table_streams(const struct txn_table *t);
/* Takes ownership of ev. */
void txn_add_event(struct txn_table *t, struct scep_event *ev);
/* Live capture: transactions with no new event for timeout_ns are settled
 * and handed to the close callback as they stand (e.g. still PENDING). */
void txn_expire(struct txn_table *t, uint64_t now_ns, uint64_t timeout_ns);
/* Live capture: the kernel dropped packets somewhere between from_ns and
 * to_ns (capture_take_drops). A transaction whose missing piece could
 * fall there (a response never seen after its request, a capture gap, a
 * TLS handshake seen only in part) is INCOMPLETE with the capture's loss
 * as its reason, not NO_RESPONSE; one still PENDING says a later CertRep
 * may have been lost. Call before the transactions are settled (as the
 * counters are read, and once more before txn_finish). At most 1024 spans
 * are kept; past that the closest merge. */
void txn_note_capture_loss(struct txn_table *t, uint64_t from_ns, uint64_t to_ns, uint64_t packets);
/* Device logs: each event joins the transaction with its transactionID,
 * else (marked inferred) the one its URL names, else one its own log
 * identified, by time, else one of the capture's within 2 s; others go to
 * a TXN_DEVICE_UNMATCHED block. A request the device sent that never
 * reached the capture opens a transaction of its own.
 * Call after the packets, before txn_finish. Copies what it keeps. */
void txn_add_device_events(struct txn_table *t, const struct devlog_list *l);
/* The listing order: first event time, then order of creation. Returns
 * <0, 0 or >0 like a qsort comparator; the spill file (spill.c) merges by
 * the same rule. */
int txn_listing_cmp(uint64_t first_ts_a, uint64_t created_a, uint64_t first_ts_b, uint64_t created_b);
/* End of input: open transactions get their final verdict, findings are
 * computed, the table is ordered by first event time (txn_listing_cmp) and
 * the summary is built (txn_summary). */
void txn_finish(struct txn_table *t);
/* Transactions in the table (evicted and released ones are not). */
size_t txn_count(const struct txn_table *t);
/* Transactions handed to the release callback and let go. */
size_t txn_released_count(const struct txn_table *t);
/* What the transactions that left the table add to the summary: evicted
 * ones (txn_limits, not listed) and released ones (listed by whoever took
 * them); txn_summary has both folded in already. */
const struct summary *txn_evicted_summary(const struct txn_table *t);
const struct summary *txn_released_summary(const struct txn_table *t);
/* The whole run's figures (summary.h): the table's transactions and those
 * that left it, built once by txn_finish. NULL before txn_finish, or when
 * memory ran out building them. */
const struct summary *txn_summary(const struct txn_table *t);
const struct txn *txn_get(const struct txn_table *t, size_t i);
void txn_table_free(struct txn_table *t);
/* A table listing only the transactions of t that keep accepts, in t's
 * order, for the sinks' listing (--verdict): it borrows them from t, which
 * must outlive it; only txn_count and txn_get apply. NULL: out of memory.
 * Freed with txn_table_view_free, never txn_table_free. */
typedef int (*txn_keep_fn)(const struct txn *t, const void *arg);
struct txn_table *txn_table_view(const struct txn_table *t, txn_keep_fn keep, const void *arg);
void txn_table_view_free(struct txn_table *v);

const char *txn_verdict_name(enum txn_verdict v);
/* "CertPoll", "re-submission", "replay" */
const char *txn_poll_kind_name(enum txn_poll_kind k);
/* 1 when a CertRep's recipientNonce echoes its request's senderNonce, 0 when
 * it does not, -1 when either is missing. */
int txn_nonce_echoed(const struct scep_event *ev);
/* The certificate with this issuer and serial among those the server's
 * GetCACert returned within t, or NULL. */
const struct scep_cert *txn_ca_cert(const struct txn *t, const char *issuer, const char *serial);

/* t's first exchange toward its own server (not the other leg of a
 * proxy), NULL when it has none: what its header line names. */
const struct scep_event *txn_first_event(const struct txn *t);

#endif
