/* x509.h - one X.509 certificate summarised (subject, issuer, serial,
 * validity, key, usages, fingerprints): what TLS Certificate messages and
 * SCEP pkiMessages and GetCACert answers both show. Neither dissector owns
 * it, so neither includes the other's header for it. The code lives in
 * dissectors/scep/x509.c, beside the OpenSSL-to-text helpers it shares
 * with the pkiMessage decoder; the scep_ names are older than this header
 * and are kept so the transactions and sinks that print certificates did
 * not change with it. Strings are owned by the struct and freed by
 * scep_cert_free. */
#ifndef SCEPDUMP_X509_H
#define SCEPDUMP_X509_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SCEP_SHA1_HEX 41
#define SCEP_SHA256_HEX 65

struct scep_cert {
	char *subject;              /* RFC 2253-ish one line */
	char *issuer;
	char *serial;               /* upper-case hex */
	time_t not_before, not_after;
	char *key_type;             /* "RSA", "EC", ... */
	int key_bits;
	unsigned key_usage;         /* X509v3 KU bits as OpenSSL reports them, 0 if absent */
	int has_key_usage;
	int is_ca;                  /* basicConstraints CA:TRUE */
	int self_signed;
	char sha1[SCEP_SHA1_HEX];
	char sha256[SCEP_SHA256_HEX];
	/* SHA-256 of the subjectPublicKeyInfo: the same key in two
	 * certificates (a device's self-signed signer and its re-enrollment) */
	char key_sha256[SCEP_SHA256_HEX];
	/* the certificate's DER length; its bytes are not kept (nothing
	 * prints them, and at a few kB per transaction they were the largest
	 * part of what a long capture holds) */
	size_t der_len;
	/* X509v3 keyUsage as names, "digitalSignature, keyEncipherment";
	 * NULL when the certificate has no keyUsage extension */
	char *key_usage_names;
	/* extendedKeyUsage as names ("clientAuth, serverAuth"), unknown
	 * purposes as dotted OIDs; NULL when absent */
	char *ext_key_usage;
	/* Role in a GetCACert answer, set by scep_decode_ca_certs (NULL for
	 * certificates from anywhere else): "CA" (basicConstraints CA:TRUE,
	 * or the self-signed issuer of the others), "RA-encryption"
	 * (keyEncipherment/dataEncipherment, not CA), "RA-signing"
	 * (digitalSignature without encipherment, not CA), "RA" (not CA and
	 * no keyUsage to tell), "other" (e.g. a leaf signed by nobody here) */
	char *role;
};

/* Validity of c at time at (the capture time, not the local clock):
 * 0 within notBefore..notAfter, 1 expired, -1 not yet valid. */
int scep_cert_validity(const struct scep_cert *c, time_t at);

/* Frees c and its strings; NULL is fine. */
void scep_cert_free(struct scep_cert *c);
/* Frees the n certificates of certs and certs itself. */
void scep_certs_free(struct scep_cert **certs, size_t n);
/* One DER certificate (a TLS Certificate message entry) summarised like
 * the others; NULL when it does not parse or memory runs out. */
struct scep_cert *scep_cert_from_der(const uint8_t *der, size_t len);

#endif
