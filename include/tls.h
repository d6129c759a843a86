/* tls.h - one TLS connection seen from the wire: handshake metadata
 * (versions, SNI, ALPN, cipher suite, resumption, certificates, alerts)
 * and, with a key log, the decrypted application data handed upward as
 * stream events, so HTTP runs on top of TLS as it runs on top of TCP. */
#ifndef SCEPDUMP_TLS_H
#define SCEPDUMP_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "stream.h"

struct counters;
struct keylog;
struct scep_cert;

#define TLS_MAX_VERSIONS 16   /* supported_versions kept from a ClientHello */
#define TLS_MAX_CERTS 10      /* certificates kept per side */
#define TLS_MAX_ALERTS 8      /* alerts kept per connection (all are counted) */

enum tls_decrypt_state {
	TLS_DECRYPT_NONE = 0,       /* nothing encrypted seen (yet) */
	TLS_DECRYPT_NO_KEY,         /* no key log entry for this connection */
	TLS_DECRYPT_UNSUPPORTED,    /* suite, version or extension we cannot decrypt */
	TLS_DECRYPT_OK,             /* decrypting */
	TLS_DECRYPT_FAILED          /* a record did not authenticate, or similar */
};

/* Where a connection's keys came from. */
enum tls_key_source {
	TLS_KEY_NONE = 0,
	TLS_KEY_KEYLOG,             /* a key log entry for its client random */
	TLS_KEY_SERVER              /* RSA key exchange opened with --tls-key */
};

struct tls_alert {
	enum stream_dir dir;        /* who sent it */
	uint64_t frame;
	int level;                  /* 1 warning, 2 fatal; -1 encrypted, unread */
	int desc;                   /* AlertDescription; -1 encrypted, unread */
};

/* Everything the connection said about itself. Strings are NUL-terminated,
 * printable (wire bytes outside ASCII escaped) and owned by the connection;
 * absent values are NULL / 0. */
struct tls_info {
	int saw_client_hello, saw_server_hello;
	uint64_t client_hello_frame, server_hello_frame;
	uint16_t legacy_version;    /* ClientHello.legacy_version */
	uint16_t offered_versions[TLS_MAX_VERSIONS]; /* supported_versions, as sent */
	size_t n_offered_versions;
	uint16_t version;           /* negotiated; 0 until ServerHello */
	int hello_retry;            /* TLS 1.3 HelloRetryRequest seen */
	char *sni;                  /* server_name host_name */
	char *alpn_offered;         /* "h2,http/1.1" */
	char *alpn;                 /* chosen (TLS 1.3: needs the handshake key) */
	int has_cipher_suite;
	uint16_t cipher_suite;
	const char *cipher_name;    /* IANA name, or NULL when not in our table */
	/* resumption: what the client offered and what happened */
	int session_id_offered;     /* non-empty legacy_session_id (not proof in TLS 1.3) */
	int ticket_offered;         /* non-empty session_ticket extension */
	int psk_offered;            /* pre_shared_key extension (TLS 1.3) */
	int resumed;                /* 1 when the server accepted */
	const char *resumed_by;     /* "session id", "session ticket", "PSK" */
	int encrypt_then_mac;       /* RFC 7366 negotiated */
	int extended_master_secret; /* RFC 7627 negotiated */
	/* server (and client, for mutual TLS) certificates, leaf first; TLS 1.3
	 * sends them encrypted, so they are here only when decrypting */
	struct scep_cert *server_certs[TLS_MAX_CERTS];
	size_t n_server_certs;
	struct scep_cert *client_certs[TLS_MAX_CERTS];
	size_t n_client_certs;
	struct tls_alert alerts[TLS_MAX_ALERTS];
	size_t n_alerts;            /* kept; alerts_total counts all */
	uint64_t alerts_total;
	int handshake_complete;
	int handshake_inferred;     /* complete/failed judged from record shapes (no key) */
	int handshake_failed;
	char *failure;              /* why it failed: "client sent fatal alert unknown_ca" */
	enum tls_decrypt_state decrypt;
	/* the one line the lead prints about decryption: "decrypting",
	 * "no key log entry for this connection", "decrypt failed at record
	 * 7 (to client): bad record MAC (wrong key?)", "cipher suite
	 * TLS_RSA_WITH_RC4_128_SHA not supported for decryption"; NULL when
	 * nothing encrypted was seen. Set once and then only upgraded from
	 * "decrypting" to a failure. */
	char *decrypt_note;
	enum tls_key_source key_source;
	/* the key log had no entry and the --tls-key keys were consulted:
	 * decrypt_note says why they could not help unless key_source is
	 * TLS_KEY_SERVER */
	int server_key_tried;
	int rsa_key_exchange;       /* TLS <= 1.2 suite with RSA key exchange */
	uint64_t records[2];        /* by enum stream_dir */
	uint64_t records_decrypted[2];
	uint64_t bytes[2];          /* TLS bytes (headers included) */
	uint64_t plaintext_bytes[2]; /* application data handed upward */
	int desynced[2];            /* ciphertext was lost: direction no longer parsed */
	int not_tls[2];             /* a direction stopped parsing as TLS records */
};

/* Decrypted application data: STREAM_DATA (data borrowed for the call),
 * STREAM_GAP when ciphertext was lost or could not be decrypted after
 * decryption had started (len: the ciphertext bytes lost, a bound, not
 * the plaintext count), STREAM_FIN / STREAM_RST passed through. */
typedef void (*tls_plain_cb)(void *arg, const struct stream_event *ev);

enum tls_probe_result {
	TLS_PROBE_NO = 0,
	TLS_PROBE_CLIENT = 1,       /* a ClientHello: these bytes come from the client */
	TLS_PROBE_SERVER = 2        /* a ServerHello: these bytes come from the server */
};

/* Looks at the first bytes of a direction: a TLS handshake record (type
 * 22, version 0x0301-0x0304, sane length) starting a ClientHello or a
 * ServerHello. Needs 6 bytes. */
int tls_probe(const uint8_t *data, size_t len);

struct tls_conn;

/* kl may be NULL (metadata only); it is read when keys are needed, so
 * secrets added to it later (pcapng blocks) still count. f is copied. */
struct mem_budget;
/* Charges the connection's buffers (handshake, split record, plaintext) to
 * the run's budget; a refused charge caps them (tls_bytes_capped). */
void tls_set_budget(struct tls_conn *c, struct mem_budget *mem);
struct tls_conn *tls_open(const struct keylog *kl, struct counters *cnt,
			  const struct flow *f, tls_plain_cb cb, void *cb_arg);
/* The TCP stream events of the connection, in order. Records may span
 * events; a partial record is held (at most one record per direction). */
void tls_event(struct tls_conn *c, const struct stream_event *ev);
const struct tls_info *tls_get_info(const struct tls_conn *c);
/* 1 once no plaintext can come out of either direction any more: each is
 * encrypted and its key lookup failed, or it stopped (not TLS, desync).
 * Records are still framed and counted. */
int tls_unreadable(const struct tls_conn *c);
/* Settles the handshake verdict and frees. */
void tls_close(struct tls_conn *c);
/* The verdict tls_close would give, without freeing (for a lead that
 * reads the info before closing). */
void tls_finish(struct tls_conn *c);

/* Names; NULL when unknown. */
const char *tls_version_name(uint16_t v);       /* "TLS 1.2" */
const char *tls_cipher_suite_name(uint16_t id); /* IANA name */
const char *tls_alert_name(int desc);           /* "unknown_ca" */
const char *tls_alert_level_name(int level);    /* "warning", "fatal" */

#endif
