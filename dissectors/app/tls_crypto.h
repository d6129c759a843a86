/* tls_crypto.h - what tls.c and tls_crypto.c share, private to the TLS
 * dissector: the connection's state (struct tls_conn and its two
 * directions), the cipher-suite entry the keys are derived for, and the
 * entry points tls.c calls when a direction changes keys or a protected
 * record arrives. The crypto reads and writes most of the connection
 * (randoms, suite, key block, scratch buffer, notes), so the state is
 * defined here once instead of being passed piecemeal. */
#ifndef SCEPDUMP_TLS_CRYPTO_H
#define SCEPDUMP_TLS_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "stream.h"
#include "tls.h"

/* RFC 5246 6.2.3: a TLSCiphertext fragment is at most 2^14 + 2048 bytes
 * (TLS 1.3 allows less); anything longer is not TLS (record_overflow). */
#define REC_HDR 5
#define REC_MAX (16384 + 2048)

#define V_TLS10 0x0301
#define V_TLS11 0x0302
#define V_TLS12 0x0303
#define V_TLS13 0x0304

enum cipher_kind { CK_NONE = 0, CK_GCM, CK_CHACHA, CK_CBC };

struct suite {
	uint16_t id;
	const char *name;
	uint8_t kind;               /* enum cipher_kind; CK_NONE: named, not decrypted */
	uint8_t tls13;
	uint8_t key_len;
	const char *cipher;         /* EVP name */
	const char *mac_md;         /* CBC: HMAC digest */
	uint8_t mac_len;
	const char *prf_md;         /* TLS 1.2 PRF / TLS 1.3 HKDF hash */
};

/* TLS 1.3 read-key epochs of one direction. */
enum epoch { EP_PLAIN = 0, EP_HANDSHAKE, EP_APPLICATION };

/* TLS 1.0-1.2 key block: two MAC keys, two write keys, two IVs at most */
#define KEY_BLOCK_LEN (2 * 48 + 2 * 32 + 2 * 16)

/* Why a direction stopped being parsed. */
enum stop_why { ST_RUNNING = 0, ST_NOT_TLS, ST_DESYNC };

struct dir_keys;              /* tls_crypto.c */

/* The handshake transcript kept for an extended master secret. */
enum transcript_state { TR_OFF = 0, TR_RECORDING, TR_DONE, TR_LOST };
#define TRANSCRIPT_MAX (2 * 256u * 1024)  /* two maximal certificate chains */
#define ENC_PREMASTER_MAX 1024            /* RSA-8192 */

/* Read state of one direction. */
struct dir_state {
	/* a record split over TCP segments, held until complete */
	uint8_t *rec;
	size_t rec_len;
	size_t skip;                /* bytes left of an opaque record already counted */
	uint64_t rec_first_frame, rec_first_ts;
	/* handshake messages split over records */
	uint8_t *hs;
	size_t hs_len, hs_cap;
	size_t hs_skip;             /* bytes of an over-cap message still to drop */
	int stopped;                /* enum stop_why */
	/* protection */
	int encrypted;              /* records are ciphertext from now on */
	int have_keys;              /* ...and we can decrypt them */
	int key_tried;              /* key lookup done for the current epoch */
	int epoch;                  /* TLS 1.3: enum epoch */
	int delivering;             /* plaintext went upward: losses become gaps */
	uint64_t seq;
	struct dir_keys *k;         /* only while decrypting (have_keys) */
	/* handshake progress */
	int finished;               /* Finished seen (or inferred: 1.2 without keys) */
	int sent_server_flight;     /* Certificate / ServerKeyExchange / ServerHelloDone */
	uint64_t enc_records;       /* records we could not decrypt */
};

struct tls_conn {
	const struct keylog *kl;
	struct counters *cnt;
	struct mem_budget *mem;     /* the run's budget (tls_set_budget); NULL: none */
	struct flow flow;
	tls_plain_cb cb;
	void *cb_arg;
	struct tls_info info;
	struct dir_state d[2];
	uint8_t client_random[32], server_random[32];
	int have_randoms;
	uint8_t ch_session_id[32];
	size_t ch_session_id_len;
	const struct suite *suite;
	int tls13;
	int early_data_offered;
	int key_block_state;        /* TLS 1.2: 0 not tried, 1 ready, -1 none */
	uint8_t *key_block;         /* KEY_BLOCK_LEN bytes once derived */
	uint8_t *plain;             /* decrypt scratch, REC_MAX bytes */
	uint64_t record_no;         /* records of the connection, both ways */
	int server_enc_after_client; /* TLS 1.3 without keys: shape of the ending */
	/* --tls-key: the RSA-encrypted premaster of the ClientKeyExchange, and
	 * the handshake messages up to it (RFC 7627 session hash), kept only
	 * when server keys are loaded and only until the keys are derived */
	uint8_t *enc_premaster;
	size_t enc_premaster_len;
	uint8_t *transcript;
	size_t transcript_len;
	int transcript_state;       /* enum transcript_state */
	const char *server_key_file; /* the --tls-key file that opened it (borrowed) */
	int ended;                  /* FIN or RST seen */
};

/* ---- tls_names.c ---- */

/* The suite's name and what decrypting it needs; NULL when unknown. */
const struct suite *tls_suite_by_id(uint16_t id);
/* The key exchange a TLS <= 1.2 suite names: "RSA", "ECDHE", "DHE", ...
 * (from its IANA name); NULL for TLS 1.3 suites and unknown ones. */
const char *tls_suite_kx(const struct suite *s);

/* ---- tls_crypto.c ---- */

/* The decryption line is set once; only "decrypting" may later become a
 * failure, so the lead reports one state per connection. note is taken
 * over (freed when not kept). */
void tls_set_decrypt(struct tls_conn *c, enum tls_decrypt_state st, char *note);

/* ---- tls_crypto.c ---- */

/* TLS <= 1.2, at a ChangeCipherSpec: the direction's keys from the key
 * log's master secret. Failures are set as the connection's decrypt note. */
void tls_keys_12(struct tls_conn *c, enum stream_dir dir);
/* TLS 1.3, at the first protected record of an epoch: the direction's
 * keys from the key log's traffic secret. */
void tls_keys_13(struct tls_conn *c, enum stream_dir dir);
/* RFC 8446 7.2: the direction's next key generation after a KeyUpdate. */
void tls_key_update(struct tls_conn *c, enum stream_dir dir);
/* Forgets the transcript and the encrypted premaster (wiped). */
void tls_server_key_state_free(struct tls_conn *c);
/* Forgets the direction's keys (wiped) and clears have_keys. */
void tls_dir_keys_free(struct dir_state *ds);
/* Decrypts one protected record into c->plain. Returns NULL and sets
 * *type (the inner type for TLS 1.3) and *len, or why it failed. */
const char *tls_open_record(struct tls_conn *c, struct dir_state *ds, uint8_t *type,
			    uint16_t ver, const uint8_t *in, size_t n, size_t *len);

#endif
