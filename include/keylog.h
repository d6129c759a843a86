/* keylog.h - TLS secrets in the NSS key log format (SSLKEYLOGFILE, pcapng
 * Decryption Secrets Blocks), looked up by ClientHello.random, and the TLS
 * servers' RSA private keys (--tls-key), which open the premaster secret
 * of RSA key exchange. The text is untrusted: bad lines are counted, never
 * fatal. */
#ifndef SCEPDUMP_KEYLOG_H
#define SCEPDUMP_KEYLOG_H

#include <stddef.h>
#include <stdint.h>

/* The labels that open a connection; later TLS 1.3 generations are derived
 * by key update, early data and exporter secrets are ignored. */
enum keylog_label {
	KEYLOG_CLIENT_RANDOM = 0,            /* TLS <= 1.2 master secret */
	KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET,
	KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET,
	KEYLOG_CLIENT_TRAFFIC_SECRET_0,
	KEYLOG_SERVER_TRAFFIC_SECRET_0,
	KEYLOG_LABELS
};

#define KEYLOG_RANDOM_LEN 32
#define KEYLOG_SECRET_MAX 64          /* SHA-512 sized; real ones are 32/48 */
#define KEYLOG_MAX_ENTRIES (1u << 20) /* ~100 MiB of key log; more is counted */
#define KEYLOG_CHUNK (64u << 10)      /* a key log file is read this much at a time */

struct keylog;

struct keylog *keylog_new(void);
void keylog_free(struct keylog *kl);
struct mem_budget;
/* Charges the entries to the run's budget (before any is added); past it,
 * entries are counted as capped like past KEYLOG_MAX_ENTRIES. */
void keylog_set_budget(struct keylog *kl, struct mem_budget *mem);

/* Adds every entry of an NSS key log text (LF or CRLF lines, the last line
 * may lack its newline). Comments (#), blank lines and labels we do not
 * use are skipped; lines that are not "LABEL <64 hex> <hex secret>" are
 * counted as bad. An entry already held (same label and client random) is
 * kept as it was, so adding the same text again is harmless. Returns the
 * number of new entries, or -1 when out of memory. */
int keylog_add_text(struct keylog *kl, const uint8_t *text, size_t len);

/* keylog_add_text over a whole file, read KEYLOG_CHUNK bytes at a time so
 * that only its entries are held, whatever its size.
 * Returns the number of new entries, or -1 when the file cannot be read
 * (err says why). When some lines were bad the load still succeeds and err
 * holds "N bad lines, first at line L: reason"; otherwise err is "". */
int keylog_load_file(struct keylog *kl, const char *path, char *err, size_t errlen);

/* Copies the secret for (client_random, label) into secret (room for
 * KEYLOG_SECRET_MAX bytes) and returns its length, or 0 when absent. */
size_t keylog_find(const struct keylog *kl, const uint8_t client_random[KEYLOG_RANDOM_LEN],
		   enum keylog_label label, uint8_t *secret);

size_t keylog_count(const struct keylog *kl);
/* Lines that were not key log entries, over all texts added. */
uint64_t keylog_bad_lines(const struct keylog *kl);
/* Entries dropped because KEYLOG_MAX_ENTRIES or the memory budget was reached. */
uint64_t keylog_capped(const struct keylog *kl);

/* ---- server private keys (--tls-key) ---- */

#define KEYLOG_MAX_SERVER_KEYS 16
#define KEYLOG_PREMASTER_LEN 48       /* RFC 5246 7.4.7.1 */

/* Adds the RSA private key(s) of a PEM, DER or PKCS#12 file; pass is the
 * passphrase of an encrypted one (NULL: none), read as --key reads it.
 * Returns 0, or -1 with a one-line reason in err: the file cannot be read,
 * holds no key, or a key that is not RSA (only RSA key exchange puts a
 * secret under the server's key). path is copied, to name the key. */
int keylog_load_server_key(struct keylog *kl, const char *path, const char *pass,
			   char *err, size_t errlen);
size_t keylog_server_keys(const struct keylog *kl);
/* The file the i-th server key came from; NULL past the end. */
const char *keylog_server_key_file(const struct keylog *kl, size_t i);

enum keylog_rsa_result {
	KEYLOG_RSA_OK = 0,
	KEYLOG_RSA_NO_MATCH = -1,     /* no key is the certificate's */
	KEYLOG_RSA_FAILED = -2        /* the key(s) did not decrypt it */
};

/* Opens an RSA-encrypted premaster secret (PKCS#1 v1.5) with the server
 * key whose public key has SHA-256 key_sha256 (hex of the subjectPublicKey,
 * as struct scep_cert has it) or, when key_sha256 is NULL (certificate not
 * captured), with each key in turn. On success pms holds the 48 bytes and
 * *file names the key's file; on KEYLOG_RSA_FAILED *file names the key
 * tried (the first one, when several were). */
enum keylog_rsa_result keylog_rsa_premaster(const struct keylog *kl, const char *key_sha256,
					    const uint8_t *enc, size_t len,
					    uint8_t pms[KEYLOG_PREMASTER_LEN], const char **file);

#endif
