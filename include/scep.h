/* scep.h - SCEP operations and pkiMessages decoded from HTTP exchanges
 * (RFC 8894 and the drafts NDES and devices still speak). The decoder only
 * fills these structs; sinks print them. Strings are owned by the struct
 * and freed by scep_*_free. */
#ifndef SCEPDUMP_SCEP_H
#define SCEPDUMP_SCEP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "http.h"
#include "x509.h"

enum scep_op {
	SCEP_OP_NONE = 0,           /* not SCEP */
	SCEP_OP_GETCACAPS,
	SCEP_OP_GETCACERT,
	SCEP_OP_GETNEXTCACERT,
	SCEP_OP_PKIOPERATION,
	SCEP_OP_OTHER,              /* operation= with an unknown name */
	SCEP_OP_TLS                 /* a TLS connection whose HTTP could not be
				     * read (no key, failed handshake) */
};

/* What the TLS layer under an exchange said, copied onto its events. */
struct scep_tls {
	char *version;              /* "TLS 1.3" */
	char *cipher;               /* IANA cipher suite name */
	char *sni, *alpn;
	char *alert;                /* "client alert fatal unknown_ca" */
	char *note;                 /* why nothing was decrypted, if so */
	char *offered;              /* versions the client offered, "TLS 1.3, TLS 1.2" */
	char *resumed;              /* "session id", "session ticket", "PSK"; NULL if full */
	char *server_cert;          /* leaf: "CN=x (issuer CN=y, to 2027-01-01)"; TLS <= 1.2 or decrypted */
	int handshake_failed;
	uint64_t bytes_to_server, bytes_to_client;
};

enum scep_msg_type {
	SCEP_MT_NONE = -1,
	SCEP_MT_CERTREP = 3,
	SCEP_MT_RENEWALREQ = 17,
	SCEP_MT_UPDATEREQ = 18,
	SCEP_MT_PKCSREQ = 19,
	SCEP_MT_CERTPOLL = 20,      /* GetCertInitial */
	SCEP_MT_GETCERT = 21,
	SCEP_MT_GETCRL = 22
};

enum scep_pki_status {
	SCEP_STATUS_NONE = -1,
	SCEP_STATUS_SUCCESS = 0,
	SCEP_STATUS_FAILURE = 2,
	SCEP_STATUS_PENDING = 3
};

enum scep_fail_info {
	SCEP_FAIL_NONE = -1,
	SCEP_FAIL_BADALG = 0,
	SCEP_FAIL_BADMESSAGECHECK = 1,
	SCEP_FAIL_BADREQUEST = 2,
	SCEP_FAIL_BADTIME = 3,
	SCEP_FAIL_BADCERTID = 4
};

/* senderNonce / recipientNonce bytes kept (RFC 8894's are 16) */
#define SCEP_NONCE_MAX 64

/* One KeyTransRecipientInfo of a pkcsPKIEnvelope: whose certificate the
 * envelope was encrypted to. */
struct scep_recipient {
	char *issuer;               /* KeyTransRecipientInfo issuer */
	char *serial;               /* and serial, upper-case hex */
};

/* A PKCS#10 CSR from a PKCSReq, RenewalReq or UpdateReq envelope. */
struct scep_csr {
	char *subject;
	char *key_type;
	int key_bits;
	char *sans;                 /* "DNS:a, email:b" or NULL */
	int has_challenge;
	char *challenge;            /* secret: printed only with --show-secrets */
	/* requested extensions (extensionRequest) by name, in order:
	 * "subjectAltName, keyUsage, extendedKeyUsage"; unknown ones as
	 * dotted OIDs; NULL when the CSR requests none */
	char *extensions;
	char *key_usage;            /* requested keyUsage as names, or NULL */
	char *ext_key_usage;        /* requested extendedKeyUsage, or NULL */
};

enum scep_decrypt_state {
	SCEP_DECRYPT_NOT_TRIED = 0, /* no envelope, or no key given */
	SCEP_DECRYPT_OK = 1,
	SCEP_DECRYPT_FAILED = -1,   /* key given but did not open it; see error */
	/* a CertRep none of the loaded keys is a recipient of: it is for the
	 * device's key (RFC 8894 section 3.3.2), which the device alone holds */
	SCEP_DECRYPT_DEVICE_KEY = 2
};

/* A decoded pkiMessage. Absent values are NULL / -1 / 0 lengths. */
struct scep_msg {
	int decoded;                /* 1 when the SignedData parsed */
	char *error;                /* why decoding stopped, NULL when fine */
	int ber_indefinite;         /* BER with indefinite lengths (iOS) */
	size_t der_len;
	char *content_type;         /* outer ContentInfo type as OpenSSL names it, "pkcs7-signedData"; also when partial */

	/* SignedData */
	char *digest_alg;           /* "sha256" */
	char *sig_alg;              /* "rsaEncryption" / "sha256WithRSAEncryption" */
	struct scep_cert *signer;   /* certificate matching the signerInfo */
	int signature_ok;           /* 1 verified, 0 bad, -1 not checked */
	/* The SignerInfo's sid: issuer and serial (upper-case hex) of the
	 * certificate that signed, known even when the message carries no
	 * certificate (NDES CertReps); a subjectKeyIdentifier sid shows as
	 * issuer "(subjectKeyIdentifier)", serial "keyid:<hex>". */
	char *signer_issuer, *signer_serial;
	/* Where the signer certificate came from: SCEP_SIGNER_IN_MESSAGE, or
	 * when the message carries none SCEP_SIGNER_GIVEN (a --ca-cert file)
	 * or SCEP_SIGNER_GETCACERT (an answer of the same server earlier in
	 * the capture; signer->role is its role there, "RA-signing" for
	 * NDES); SCEP_SIGNER_UNKNOWN when no certificate matched the sid. */
	int signer_from;
	/* No certificate matched the sid of a message from a capture: where
	 * it is missing from and what to do, "certificate not in the capture
	 * (GetCACert not seen; give --ca-cert)"; NULL otherwise. */
	char *signer_missing;
	/* Signed attributes are present but contentType is not among them
	 * (libscep's CertReps): RFC 5652 5.3 requires it, so OpenSSL's CMS
	 * verifier refuses the message whatever its signature. signature_ok
	 * then says what the signature itself does. */
	int lacks_content_type;
	/* The certificates the SignedData carries besides the signer's, in
	 * order (a CertRep's CA next to its RA, a chain) */
	struct scep_cert **other_certs;
	size_t n_other_certs;

	/* SCEP signed attributes */
	int message_type;           /* enum scep_msg_type or the raw number */
	char *transaction_id;
	uint8_t sender_nonce[SCEP_NONCE_MAX];
	size_t sender_nonce_len;
	uint8_t recipient_nonce[SCEP_NONCE_MAX];
	size_t recipient_nonce_len;
	int pki_status;             /* enum scep_pki_status or raw */
	int fail_info;              /* enum scep_fail_info or raw */
	char *fail_info_text;
	time_t signing_time;        /* 0 when absent */
	/* challengePassword among the outer signed attributes, where Apple's
	 * older clients put a copy of the CSR's: a secret, printed only with
	 * --show-secrets (signed_attrs lists it masked) */
	int has_signed_challenge;
	char *signed_challenge;
	/* NDES's own signed attributes in CertReps: 1.3.6.1.4.1.311.21.33,
	 * the failure HRESULT as a decimal PrintableString ("-2147024809" is
	 * 0x80070057), and 1.3.6.1.4.1.311.21.38, a status text ("Issued") */
	int has_ms_hresult;
	uint32_t ms_hresult;
	char *ms_status_text;

	/* pkcsPKIEnvelope (EnvelopedData) */
	int enveloped;
	/* The SignedData carries content that is no pkcsPKIEnvelope (error
	 * says why): an error, unlike the absent, empty or single 0x00 content
	 * of a PENDING or FAILURE CertRep (NDES sends the 0x00). */
	int envelope_broken;
	struct scep_recipient *recipients;
	size_t n_recipients;
	char *key_enc_alg;          /* "rsaEncryption" */
	char *content_enc_alg;      /* "aes-256-cbc", "des-cbc", ... */
	int weak_cipher;            /* DES, 3DES, RC2, RC4 */
	int decrypt_state;          /* enum scep_decrypt_state */
	char *decrypt_error;

	/* decrypted content */
	struct scep_csr *csr;       /* PKCSReq / RenewalReq / UpdateReq */
	/* CertRep SUCCESS: the first non-CA certificate, else the first whose
	 * subject is not the signer's, else the first; points into rep_certs */
	struct scep_cert *issued;
	struct scep_cert **rep_certs; /* CertRep SUCCESS: all certs */
	size_t n_rep_certs;
	/* CertPoll (GetCertInitial): IssuerAndSubject, the CA's name and the
	 * subject asked for; GetCert / GetCRL: IssuerAndSerialNumber, the
	 * issuer and the serial (upper-case hex) of the certificate asked for
	 * (for GetCRL, the certificate whose CRL is wanted) */
	char *req_issuer;
	char *req_subject;
	char *req_serial;

	/* Every signed attribute, SCEP ones included, as "name=value" in the
	 * order sent: "contentType=pkcs7-data", "messageDigest=<hex>",
	 * "signingTime=2026-11-25T16:30:11Z", "messageType=19", ...;
	 * attributes OpenSSL has no name for as "1.2.3.4=<hex of the DER
	 * value>" with the hex cut at 64 bytes ("..." appended). */
	char **signed_attrs;
	size_t n_signed_attrs;

	/* 1 when the message did not parse (decoded=0) but a walk over its
	 * damaged or truncated encoding recovered some fields, which are
	 * filled as usual; error then says where and why it stopped and what
	 * came out: "truncated at byte 1480 of 2542 (inside signerInfos):
	 * recovered signer, recipient, messageType, transactionID". */
	int partial;
	/* partial because the input ends inside the message (a log line cut
	 * it), not because a byte is wrong: nothing seen contradicts it */
	int cut;

	/* Bytes after the end of the outer ContentInfo (ignored by OpenSSL,
	 * which stops at the end of the structure). */
	size_t trailing_bytes;
	/* What is wrong with a message that still decoded, one line each, in
	 * the order found: "no senderNonce attribute (RFC 8894 3.2.1.5)",
	 * "12 bytes after the end of the message", "failInfo 7 is none of
	 * RFC 8894's 0-4". */
	char **notes;
	size_t n_notes;
};

/* scep_msg.signer_from */
enum scep_signer_source {
	SCEP_SIGNER_UNKNOWN = 0,
	SCEP_SIGNER_IN_MESSAGE,
	SCEP_SIGNER_GIVEN,
	SCEP_SIGNER_GETCACERT
};

/* One SCEP operation seen on the wire: the request, the response and what
 * each carried. Owns everything it points to. */
struct scep_event {
	enum scep_op op;
	char *op_name;              /* as sent */
	/* copied from the exchange */
	uint64_t flow_id, http_seq;
	struct endpoint client, server;
	int http_version;
	char *host, *method, *path;
	size_t uri_len;
	int status;                 /* HTTP status, 0 if no response */
	char *status_text;
	char *res_content_type, *req_content_type, *location;
	char *server_header, *connection; /* response Server:, Connection: */
	char *reset;                /* HTTP/2: "RST_STREAM CANCEL by client", "GOAWAY ..." */
	uint64_t req_first_ts_ns, req_last_ts_ns, res_first_ts_ns, res_last_ts_ns;
	uint64_t req_first_frame, req_last_frame, res_first_frame, res_last_frame;
	/* several -r files: where those frames are in their own files (filled
	 * in as the event reaches the transactions; file 0: one file read) */
	struct frame_origin req_first_origin, req_last_origin, res_first_origin, res_last_origin;
	size_t req_body_len, res_body_len;
	int damaged;
	uint64_t gap_bytes;
	int req_damaged, res_damaged;     /* which side the gap hit */
	uint64_t req_gap_bytes, res_gap_bytes;
	/* a side's missing bytes were cut by this snap length (the capture
	 * kept that many bytes of each packet); 0: not */
	uint32_t req_snaplen, res_snaplen;
	/* why a side is damaged other than by a capture gap (an HTTP parse
	 * failure, a TCP retransmission with other bytes), for the line it is
	 * on; NULL when it is not. Such a damage also sets damaged. */
	char *req_damage, *res_damage;
	int has_response;
	int request_missing;        /* response seen, its request not captured */
	struct scep_tls *tls;       /* NULL for plain HTTP */

	/* request side */
	char *message_param;        /* GET message= when not a pkiMessage (CA name) */
	int request_encoding;       /* SCEP_ENC_* how the pkiMessage was carried */
	int plus_as_space_damage;   /* base64 '+' became ' ' on the way */
	struct scep_msg *request;   /* PKIOperation pkiMessage */

	/* response side */
	char **caps;                /* GetCACaps */
	size_t n_caps;
	struct scep_cert **ca_certs; /* GetCACert / GetNextCACert */
	size_t n_ca_certs;
	struct scep_msg *reply;     /* CertRep pkiMessage */
	char *error_text;           /* first line of a non-SCEP response body */
	char *problem;              /* why the response or request did not decode */
};

/* scep_event.request_encoding */
enum scep_encoding {
	SCEP_ENC_NONE = 0,
	SCEP_ENC_GET_BASE64,        /* GET ...&message=<percent-encoded base64> */
	SCEP_ENC_POST_DER,          /* POST with a binary body */
	SCEP_ENC_POST_BASE64        /* POST with base64 text */
};

/* Keys and certificates used to open envelopes (RA/CA keys for requests,
 * client keys for CertReps). Opaque; OpenSSL objects inside. */
struct scep_keys;

/* An empty set, with its own OpenSSL library context (default provider,
 * and legacy when it loads); NULL when out of memory. */
struct scep_keys *scep_keys_new(void);
/* Loads the private keys of path (PEM, DER or PKCS#12; a PKCS#12 file's
 * certificates are kept as scep_keys_load_certs keeps them): 0, or -1
 * with a one-line reason in err. */
int scep_keys_load(struct scep_keys *k, const char *path, char *err, size_t errlen);
/* The same with a passphrase for encrypted PEM (traditional or PKCS#8) and
 * DER PKCS#8 keys; pass NULL for none. A wrong passphrase is an error that
 * says so. The passphrase is not kept. */
int scep_keys_load_pass(struct scep_keys *k, const char *path, const char *pass,
			char *err, size_t errlen);
/* Loads certificates (PEM, one DER certificate, or a PKCS#7 bundle such as
 * a GetCACert body) that may have signed messages carrying none: NDES
 * CertReps name their RA signer only by issuer and serial. */
int scep_keys_load_certs(struct scep_keys *k, const char *path, char *err, size_t errlen);
/* How many private keys are loaded (0 for NULL). */
size_t scep_keys_count(const struct scep_keys *k);
/* The i-th private key loaded (borrowed; it lives as long as k), NULL past
 * the end: for a key store that is not about envelopes (TLS server keys). */
struct evp_pkey_st *scep_keys_pkey(const struct scep_keys *k, size_t i);
void scep_keys_free(struct scep_keys *k);

/* Returns the operation named by the exchange's query (operation=), or
 * SCEP_OP_NONE when the exchange is not SCEP. */
enum scep_op scep_classify(const struct http_exchange *x);
/* Builds the event for exchange x (x classified as SCEP). keys may be NULL. */
struct scep_event *scep_event_from_exchange(const struct http_exchange *x,
					    const struct scep_keys *keys);
void scep_event_free(struct scep_event *ev);
void scep_tls_free(struct scep_tls *t);

/* pkiMessage decoding (dissectors/scep/pkcs7.c; a message OpenSSL refuses
 * is walked by salvage.c, partial=1). Never fails to return a struct when
 * memory allows: on bad input, decoded=0 and error says why. keys (NULL
 * for none) open the envelope and name signers. */
struct scep_msg *scep_decode_pki_message(const uint8_t *der, size_t len,
					 const struct scep_keys *keys);
void scep_msg_free(struct scep_msg *m);

/* What an input to scepdump decode turned out to be. */
enum scep_input_kind {
	SCEP_INPUT_NONE = 0,        /* nothing recognised: error says why */
	SCEP_INPUT_MESSAGE,         /* a pkiMessage (msg) */
	SCEP_INPUT_CERTS,           /* a GetCACert body: certificates */
	SCEP_INPUT_CAPS             /* a GetCACaps body: capabilities */
};

/* What scepdump decode was given, once its text form is undone. Owns
 * everything it points to; freed by scep_input_free. */
struct scep_input {
	enum scep_input_kind kind;
	/* how the bytes were carried: "DER", "BER", "PEM", "base64",
	 * "percent-encoded base64", "URL message=", "S/MIME", "text" */
	char *form;
	size_t len;                 /* bytes the text form decoded to */
	/* what was undone to get them ("double percent-encoding (%252B)
	 * undone, spaces read as '+'"), NULL when nothing */
	char *repairs;
	/* base64 characters after the last whole byte: the text was cut */
	size_t b64_leftover;
	struct scep_msg *msg;       /* SCEP_INPUT_MESSAGE: never NULL */
	/* SCEP_INPUT_CERTS: "one DER certificate", "certificates-only
	 * PKCS#7", "PEM certificates"; the certificates with their roles */
	char *certs_container;
	struct scep_cert **certs;
	size_t n_certs;
	char **caps;                /* SCEP_INPUT_CAPS */
	size_t n_caps;
	/* why nothing was recognised, or what went wrong in certs/caps */
	char *error;
};

/* One input as a user pastes it (scepdump decode): DER or BER, PEM, base64
 * (line breaks, padding or not, URL-safe alphabet, cut anywhere),
 * percent-encoded base64, or any text holding "message=" (a URL, an iOS
 * profiled or Android jscep log line), with the damage logs and proxies
 * do undone; then told apart by content: a pkiMessage, GetCACert
 * certificates (a single certificate, a certificates-only PKCS#7, PEM
 * certificates) or a GetCACaps list. NULL only when out of memory. */
struct scep_input *scep_decode_input(const uint8_t *in, size_t len, const struct scep_keys *keys);
void scep_input_free(struct scep_input *in);

/* scepdump decode on a whole text log: every pkiMessage it holds. */
#define SCEP_LOG_HITS_MAX 10000u
struct scep_log_hit {
	uint64_t line;              /* 1-based line of the log */
	struct scep_input *in;      /* a message, whole or cut by the log */
};
struct scep_log_hits {
	struct scep_log_hit *hit;
	size_t n;
	uint64_t lines;             /* non-empty lines read */
	uint64_t capped;            /* messages past SCEP_LOG_HITS_MAX, not kept */
};
/* Reads p one line at a time: each message= value (to the end of its
 * line), and on lines without one each base64 run long enough to be a
 * pkiMessage, kept when it decodes as one or as the start of one (a log
 * cuts long lines). Binary input holds no lines: no hits. 0, or -1 when
 * out of memory (h empty then). Free h with scep_log_hits_free. */
int scep_decode_log(const uint8_t *p, size_t len, const struct scep_keys *keys,
		    struct scep_log_hits *h);
void scep_log_hits_free(struct scep_log_hits *h);
/* The pkiMessage of scep_decode_input's input (device logs hold message=
 * lines): anything else is an undecoded message whose error says what it
 * was. *how (when how is not NULL) gets a malloc'ed string the caller
 * frees, naming the form found (scep_input.form, or "unrecognised").
 * Returns NULL only when out of memory. */
struct scep_msg *scep_decode_text(const uint8_t *in, size_t len, const struct scep_keys *keys,
				  char **how);

/* What scep_der_certs_kind finds. */
enum { SCEP_DER_ONE_CERT = 1, SCEP_DER_CERTS_ONLY = 2 };
/* What der holds when it is no pkiMessage: SCEP_DER_ONE_CERT (an X.509
 * certificate), SCEP_DER_CERTS_ONLY (a SignedData without signerInfos, a
 * certificates-only PKCS#7), else 0. */
int scep_der_certs_kind(const uint8_t *der, size_t len);

/* Certificates from a GetCACert or GetNextCACert body (one DER
 * certificate, a certs-only PKCS#7, or PEM certificates), each with its
 * role set: 0 with *out and *n set (the caller frees them with
 * scep_certs_free), or -1. *error (when error is not NULL) is NULL or a
 * malloc'ed text: why it failed, or on success how many certificates were
 * left unread. */
int scep_decode_ca_certs(const uint8_t *body, size_t len,
			 struct scep_cert ***out, size_t *n, char **error);
/* The same, answered from keys' memory of recent bodies when this one was
 * seen before (a server sends every client the same); keys NULL decodes. */
int scep_decode_ca_certs_cached(const struct scep_keys *keys, const uint8_t *body, size_t len,
				struct scep_cert ***out, size_t *n, char **error);

const char *scep_op_name(enum scep_op op);    /* "GetCACert"; "none" for SCEP_OP_NONE */
const char *scep_msg_type_name(int mt);       /* "PKCSReq"; NULL if unknown */
const char *scep_pki_status_name(int st);     /* "SUCCESS"; NULL if unknown */
const char *scep_fail_info_name(int fi);      /* "badRequest"; NULL if unknown */
const char *scep_fail_info_meaning(int fi);   /* one-line explanation */
/* A Windows HRESULT's name ("E_INVALIDARG") and, in *text, Microsoft's
 * text for it; NULL for codes not in the table. */
const char *scep_hresult_name(uint32_t code, const char **text);
/* "0x80070057 E_INVALIDARG: The parameter is incorrect." (malloc'ed) */
char *scep_hresult_describe(uint32_t code);
/* Where a message's signer certificate came from (scep_msg.signer_from):
 * "message", "--ca-cert", "GetCACert"; NULL when none matched. */
const char *scep_signer_source_name(int signer_from);
/* How a message's signer certificate is labelled: "signer", "signer (from
 * --ca-cert)", "signer (RA-signing certificate from GetCACert)"
 * (malloc'ed, NULL when out of memory). */
char *scep_signer_label(const struct scep_msg *m);

#endif
