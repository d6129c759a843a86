/* pkcs7_internal.h - what the files that decode pkiMessages, certificates
 * and GetCACert bodies share, and nothing outside dissectors/scep may use:
 * the limits they agree on, struct scep_keys (opaque in scep.h), and the
 * helpers one of them owns and the others call. Every symbol here carries
 * the p7_ prefix; the file that defines it is named above each group. */
#ifndef SCEPDUMP_PKCS7_INTERNAL_H
#define SCEPDUMP_PKCS7_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/cms.h>
#include <openssl/x509.h>

#include "scep.h"

#define KEYS_MAX 64           /* --key files; more is a usage error */
/* Certificates of one message given to OpenSSL and summarised. OpenSSL 3
 * spends about a million instructions on each (a key decoder per public
 * key): a message with 10,000 cost 1.4 s. SCEP messages carry one to four
 * (NDES's GetCACert: the CA and two RA certificates; a chain rarely five),
 * so 64 leaves room for bundles of several CAs and costs at most a few
 * tens of milliseconds; the rest are counted, not parsed (p7_certs_cut). */
#define CERTS_MAX 64
/* Signers looked for past CERTS_MAX (a pkiMessage has one). */
#define SIDS_MAX 8
/* What p7_certs_cut can pass: the first CERTS_MAX, the signers, and the
 * first certificate that is not a CA's (a CertRep's issued one). */
#define CERTS_KEPT_MAX (CERTS_MAX + SIDS_MAX + 1)
#define ASN1_DEPTH_MAX 32     /* nesting budget of the error locator and the salvage walk */
#define ATTR_STR_MAX 256      /* printable copy of one signed attribute */
#define NAMES_MAX 512         /* "digitalSignature, keyEncipherment" lists */

struct ca_cache;              /* cacerts.c */
struct ca_seen;               /* cacerts.c */
struct x509_cache;            /* cms_parse.c */

struct scep_keys {
	/* A private library context keeps the legacy provider (single DES
	 * and RC2, which micromdm and old NDES still use for envelopes) out
	 * of the application-wide default context. */
	OSSL_LIB_CTX *libctx;
	OSSL_PROVIDER *prov_default;
	OSSL_PROVIDER *prov_legacy;   /* NULL when legacy.so is not there */
	EVP_PKEY *pkeys[KEYS_MAX];
	size_t n_pkeys;
	/* Kept behind pointers so decoding through a const scep_keys can
	 * still remember: the caches change no result. */
	struct ca_cache *ca_cache;
	struct x509_cache *x509_cache;
	/* What each server's GetCACert answers held, for the CertReps that
	 * follow: unlike the caches this changes results, and it holds
	 * because exchanges are decoded one at a time, in the order they
	 * ended (decode_queue.c) */
	struct ca_seen *ca_seen;
	/* --ca-cert certificates (and those of --key PKCS#12 files): the
	 * signers of messages that carry no certificate, such as NDES's
	 * CertReps */
	STACK_OF(X509) *given_certs;
};

/* Growable ", "-separated list with a cap; a list that hit the cap ends in
 * "..." so the cut shows. */
struct name_list {
	char buf[NAMES_MAX];
	size_t n;
	int cut;
};

/* ---- asn1_text.c: OpenSSL values as the text scepdump prints ---- */

char *p7_obj_name(const ASN1_OBJECT *o);
char *p7_name_str(const X509_NAME *n);
char *p7_integer_hex(const ASN1_INTEGER *i);
time_t p7_asn1_time_epoch(const ASN1_TIME *t);
void p7_hex_lower(const unsigned char *p, unsigned n, char *out, size_t outlen);
void p7_names_add(struct name_list *l, const char *name);
char *p7_names_take(const struct name_list *l);
void p7_obj_short(const ASN1_OBJECT *o, char *buf, size_t len);
const ASN1_STRING *p7_type_string(const ASN1_TYPE *t);
void p7_cert_id_strings(const ASN1_OCTET_STRING *keyid, const X509_NAME *issuer,
			const ASN1_INTEGER *sno, char **issuer_out, char **serial_out);

/* ---- decode_error.c: what went wrong, and where ---- */

void p7_set_first(char **slot, char *msg);
void p7_msg_note(struct scep_msg *m, char *note);
const char *p7_ossl_reason(void);
char *p7_parse_error(const char *what, const uint8_t *p, size_t len);

/* ---- cms_parse.c: DER to CMS_ContentInfo, certificate sets cut and reused ---- */

CMS_ContentInfo *p7_cms_parse(const uint8_t *p, size_t len, OSSL_LIB_CTX *libctx);
uint8_t *p7_certs_cut(const uint8_t *p, size_t len, size_t *cut_len, size_t *skipped);
char *p7_certs_skipped_text(size_t skipped);
CMS_ContentInfo *p7_cms_parse_cached(const uint8_t *p, size_t len, const struct scep_keys *k);
struct x509_cache *p7_x509_cache_new(void);
void p7_x509_cache_free(struct x509_cache *xc);

/* ---- x509.c: certificate and CSR summaries ---- */

struct scep_cert *p7_cert_from_x509(X509 *x);
int p7_certs_append(struct scep_cert ***arr, size_t *n, X509 *x);
size_t p7_certs_from_stack(STACK_OF(X509) *sk, struct scep_cert ***arr, size_t *n);
int p7_certs_dup(struct scep_cert **from, size_t n, struct scep_cert ***out);
void p7_csr_free(struct scep_csr *c);
struct scep_csr *p7_csr_from_der(const uint8_t *p, size_t len, char **error);

/* ---- x509.c ---- */

/* OpenSSL's PEM readers never prompt: the passphrase callback of every
 * certificate and key read (keys.c, cacerts.c). */
int p7_no_passphrase(char *buf, int size, int rwflag, void *u);

/* ---- attrs.c: the signed attributes ---- */

void p7_read_attr(struct scep_msg *m, X509_ATTRIBUTE *a, int total, int *listed);

/* ---- envelope.c: the pkcsPKIEnvelope ---- */

int p7_cipher_is_weak(int nid);
/* Reads the pkcsPKIEnvelope p (and opens it with keys): 0, or -1 when p
 * is no EnvelopedData (m->error says why). */
int p7_decode_envelope(struct scep_msg *m, const uint8_t *p, size_t len,
		       const struct scep_keys *keys);

/* ---- salvage.c: damaged input ---- */

char *p7_salvage_message(struct scep_msg *m, const uint8_t *der, size_t len,
			 const struct scep_keys *keys);
size_t p7_element_len(const uint8_t *p, size_t len);

/* ---- cacerts.c: GetCACert answers ---- */

struct ca_cache *p7_ca_cache_new(void);
void p7_ca_cache_free(struct ca_cache *cc);
struct ca_seen *p7_ca_seen_new(void);
void p7_ca_seen_free(struct ca_seen *cs);
/* scep_decode_ca_certs_cached, remembering the certificates for server
 * (NULL: not remembered) as the candidate signers of its CertReps. */
int p7_decode_ca_certs_seen(const struct scep_keys *keys, const struct endpoint *server,
			    const uint8_t *body, size_t len, struct scep_cert ***out, size_t *n,
			    char **error);
/* The certificate server's GetCACert answers held that si names, with its
 * role there in *role ("RA-signing"; NULL when none was given); NULL when
 * none matches. *seen_any: whether any answer of server was seen. */
X509 *p7_ca_seen_signer(const struct scep_keys *keys, const struct endpoint *server,
			CMS_SignerInfo *si, const char **role, int *seen_any);

/* ---- pkcs7.c: the pkiMessage ---- */

/* scep_decode_pki_message for a message server sent (NULL: not from a
 * capture, as scepdump decode's input): a CertRep carrying no certificate
 * is also checked against what server's GetCACert answers held. */
struct scep_msg *p7_decode_pki_message_from(const uint8_t *der, size_t len, const struct scep_keys *keys,
					    const struct endpoint *server);

#endif
