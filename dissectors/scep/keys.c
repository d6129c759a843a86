/* keys.c - struct scep_keys: the private keys that open envelopes (PEM,
 * DER, encrypted PKCS#8, PKCS#12) and the certificates that name signers
 * (--ca-cert), in a library context of their own. Key files are the
 * user's; their contents are still parsed by OpenSSL only, and nothing
 * ever prompts on the terminal for a passphrase. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include "scep.h"
#include "pkcs7_internal.h"

/* Whether OpenSSL queued (lib, reason) since the last clear; empties the
 * queue. Tells a PEM key that wanted a passphrase from no key at all. */
static int ossl_reason_is(int lib, int reason)
{
	unsigned long e;

	while ((e = ERR_get_error()) != 0) {
		if (ERR_GET_LIB(e) == lib && ERR_GET_REASON(e) == reason)
			return 1;
	}
	return 0;
}

struct scep_keys *scep_keys_new(void)
{
	struct scep_keys *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->libctx = OSSL_LIB_CTX_new();
	k->ca_cache = p7_ca_cache_new();
	k->x509_cache = p7_x509_cache_new();
	k->ca_seen = p7_ca_seen_new();
	if (!k->libctx || !k->ca_cache || !k->x509_cache || !k->ca_seen)
		goto fail;
	k->prov_default = OSSL_PROVIDER_load(k->libctx, "default");
	if (!k->prov_default)
		goto fail;
	/* Missing legacy.so is not fatal: only DES/RC2 envelopes need it, and
	 * decrypt_error says so when one shows up. */
	k->prov_legacy = OSSL_PROVIDER_load(k->libctx, "legacy");
	ERR_clear_error();
	return k;
fail:
	scep_keys_free(k);
	ERR_clear_error();
	return NULL;
}

void scep_keys_free(struct scep_keys *k)
{
	size_t i;

	if (!k)
		return;
	for (i = 0; i < k->n_pkeys; i++)
		EVP_PKEY_free(k->pkeys[i]);
	p7_ca_cache_free(k->ca_cache);
	p7_x509_cache_free(k->x509_cache);
	p7_ca_seen_free(k->ca_seen);
	sk_X509_pop_free(k->given_certs, X509_free);
	if (k->prov_legacy)
		OSSL_PROVIDER_unload(k->prov_legacy);
	if (k->prov_default)
		OSSL_PROVIDER_unload(k->prov_default);
	OSSL_LIB_CTX_free(k->libctx);
	free(k);
}

size_t scep_keys_count(const struct scep_keys *k)
{
	return k ? k->n_pkeys : 0;
}

EVP_PKEY *scep_keys_pkey(const struct scep_keys *k, size_t i)
{
	return k && i < k->n_pkeys ? k->pkeys[i] : NULL;
}

static int keys_add(struct scep_keys *k, EVP_PKEY *pk, const char *path, char *err, size_t errlen)
{
	if (k->n_pkeys >= KEYS_MAX) {
		snprintf(err, errlen, "%s: too many keys (at most %d)", path, KEYS_MAX);
		EVP_PKEY_free(pk);
		return -1;
	}
	k->pkeys[k->n_pkeys++] = pk;
	return 0;
}

/* What the passphrase callback was given and whether OpenSSL asked: a key
 * that needed a passphrase and still did not load had the wrong one. */
struct pass_ctx {
	const char *pass;
	int asked;
};

/* Never prompts on the terminal (a capture tool in a pipeline must not
 * block on /dev/tty): only the --key-pass text, if any, is offered. */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass_ctx *pc = u;
	size_t n;

	(void)rwflag;
	pc->asked = 1;
	if (!pc->pass || size <= 0)
		return -1;
	n = strlen(pc->pass);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, pc->pass, n);
	return (int)n;
}

/* DER: plain PKCS#8 / PKCS#1 / SEC1, or encrypted PKCS#8, through the
 * decoders of the keys' library context. */
static EVP_PKEY *der_key(struct scep_keys *k, BIO *b, struct pass_ctx *pc)
{
	EVP_PKEY *pk = NULL;
	OSSL_DECODER_CTX *dctx;

	dctx = OSSL_DECODER_CTX_new_for_pkey(&pk, "DER", NULL, NULL, EVP_PKEY_KEYPAIR, k->libctx, NULL);
	if (!dctx)
		return NULL;
	OSSL_DECODER_CTX_set_pem_password_cb(dctx, pass_cb, pc);
	if (!OSSL_DECODER_from_bio(dctx, b)) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	OSSL_DECODER_CTX_free(dctx);
	return pk;
}

/* Certificates that name signers (--ca-cert, a PKCS#12's certificates). */
static int given_certs_add(struct scep_keys *k, X509 *x)
{
	if (!k->given_certs && !(k->given_certs = sk_X509_new_null()))
		return -1;
	if (sk_X509_num(k->given_certs) >= CERTS_MAX || !sk_X509_push(k->given_certs, x))
		return -1;
	return 0;
}

static int given_certs_add_stack(struct scep_keys *k, STACK_OF(X509) *sk)
{
	int i, added = 0;

	for (i = 0; sk && i < sk_X509_num(sk); i++) {
		X509 *x = sk_X509_value(sk, i);

		if (X509_up_ref(x) && given_certs_add(k, x) == 0)
			added++;
		else
			X509_free(x);
	}
	return added;
}

/* PKCS12_parse works in OpenSSL's default library context, where the
 * RC2/3DES of Windows and older OpenSSL exports need the legacy provider:
 * it is loaded there for the parse only. */
static int pkcs12_parse_legacy(PKCS12 *p12, const char *pass, EVP_PKEY **pk, X509 **cert,
			       STACK_OF(X509) **ca)
{
	OSSL_PROVIDER *legacy, *dflt;
	int ok;

	if (PKCS12_parse(p12, pass, pk, cert, ca))
		return 1;
	ERR_clear_error();
	legacy = OSSL_PROVIDER_try_load(NULL, "legacy", 1);
	dflt = legacy ? OSSL_PROVIDER_try_load(NULL, "default", 1) : NULL;
	ok = legacy && dflt && PKCS12_parse(p12, pass, pk, cert, ca);
	if (dflt)
		OSSL_PROVIDER_unload(dflt);
	if (legacy)
		OSSL_PROVIDER_unload(legacy);
	return ok;
}

/* A .pfx/.p12 (what keys leave NDES and EJBCA as): its key opens
 * envelopes, its certificates name signers. 1 found, 0 not PKCS#12, -1
 * error (err set). Windows exports often have an empty password. */
static int load_pkcs12(struct scep_keys *k, BIO *b, const char *path, const char *pass,
		       char *err, size_t errlen)
{
	PKCS12 *p12 = d2i_PKCS12_bio(b, NULL);
	EVP_PKEY *pk = NULL;
	X509 *cert = NULL;
	STACK_OF(X509) *ca = NULL;
	const char *use = pass;

	if (!p12)
		return 0;
	if (!PKCS12_mac_present(p12)) {
		if (!use)
			use = "";
	} else if (use && !PKCS12_verify_mac(p12, use, -1)) {
		snprintf(err, errlen, "%s: wrong passphrase: the PKCS#12 file's integrity check fails with "
			 "the one given", path);
		PKCS12_free(p12);
		return -1;
	} else if (!use && PKCS12_verify_mac(p12, "", 0)) {
		use = "";
	} else if (!use && !PKCS12_verify_mac(p12, NULL, 0)) {
		snprintf(err, errlen, "%s: the PKCS#12 file is protected; give its password with --key-pass",
			 path);
		PKCS12_free(p12);
		return -1;
	}
	if (!pkcs12_parse_legacy(p12, use, &pk, &cert, &ca)) {
		snprintf(err, errlen, "%s: PKCS#12 file does not open: %s", path, p7_ossl_reason());
		PKCS12_free(p12);
		return -1;
	}
	PKCS12_free(p12);
	if (cert && given_certs_add(k, cert) < 0)
		X509_free(cert);
	given_certs_add_stack(k, ca);
	sk_X509_pop_free(ca, X509_free);
	if (!pk) {
		snprintf(err, errlen, "%s: the PKCS#12 file holds no private key", path);
		return -1;
	}
	return keys_add(k, pk, path, err, errlen) < 0 ? -1 : 1;
}

/* A key or certificate file to read; NULL with err set ("cannot open:
 * No such file or directory") when it cannot be opened. */
static BIO *open_file_bio(const char *path, char *err, size_t errlen)
{
	BIO *b = BIO_new_file(path, "rb");

	if (!b) {
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		ERR_clear_error();
	}
	return b;
}

int scep_keys_load_certs(struct scep_keys *k, const char *path, char *err, size_t errlen)
{
	STACK_OF(X509_INFO) *infos;
	BIO *b;
	X509 *x;
	int added = 0, i;

	b = open_file_bio(path, err, errlen);
	if (!b)
		return -1;
	ERR_set_mark();
	/* PEM: every CERTIFICATE block, and the certificates of a PKCS7 one */
	infos = PEM_X509_INFO_read_bio_ex(b, NULL, p7_no_passphrase, NULL, k->libctx, NULL);
	for (i = 0; infos && i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *xi = sk_X509_INFO_value(infos, i);

		if (xi->x509 && given_certs_add(k, xi->x509) == 0) {
			xi->x509 = NULL;
			added++;
		}
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	if (!added && BIO_reset(b) == 0) {
		PKCS7 *p7 = PEM_read_bio_PKCS7(b, NULL, p7_no_passphrase, NULL);

		if (!p7 && BIO_reset(b) == 0)
			p7 = d2i_PKCS7_bio(b, NULL);
		if (p7 && PKCS7_type_is_signed(p7) && p7->d.sign)
			added += given_certs_add_stack(k, p7->d.sign->cert);
		PKCS7_free(p7);
	}
	if (!added && BIO_reset(b) == 0 && (x = d2i_X509_bio(b, NULL)) != NULL) {
		if (given_certs_add(k, x) == 0)
			added++;
		else
			X509_free(x);
	}
	ERR_pop_to_mark();
	BIO_free(b);
	if (added)
		return 0;
	snprintf(err, errlen, "%s: no certificate found (PEM, DER or a PKCS#7 bundle)", path);
	return -1;
}

int scep_keys_load(struct scep_keys *k, const char *path, char *err, size_t errlen)
{
	return scep_keys_load_pass(k, path, NULL, err, errlen);
}

int scep_keys_load_pass(struct scep_keys *k, const char *path, const char *pass,
			char *err, size_t errlen)
{
	struct pass_ctx pc = { .pass = pass, .asked = 0 };
	BIO *b;
	EVP_PKEY *pk;
	int found = 0, encrypted = 0;

	if (!k || !path) {
		snprintf(err, errlen, "no key file given");
		return -1;
	}
	b = open_file_bio(path, err, errlen);
	if (!b)
		return -1;
	ERR_set_mark();
	/* PEM first: a file may hold several keys and certificates; the
	 * certificates are skipped (PEM_read_bio_PrivateKey passes over
	 * blocks it cannot use). */
	while ((pk = PEM_read_bio_PrivateKey_ex(b, NULL, pass_cb, &pc, k->libctx, NULL)) != NULL) {
		if (keys_add(k, pk, path, err, errlen) < 0)
			goto fail;
		found++;
	}
	if (pc.asked || ossl_reason_is(ERR_LIB_PEM, PEM_R_BAD_PASSWORD_READ) ||
	    ossl_reason_is(ERR_LIB_PEM, PEM_R_PROBLEMS_GETTING_PASSWORD))
		encrypted = 1;
	if (!found && !encrypted && BIO_reset(b) == 0) {
		pc.asked = 0;
		if ((pk = der_key(k, b, &pc)) != NULL) {
			if (keys_add(k, pk, path, err, errlen) < 0)
				goto fail;
			found++;
		} else if (pc.asked) {
			encrypted = 1;
		}
	}
	if (!found && !encrypted && BIO_reset(b) == 0) {
		int rc = load_pkcs12(k, b, path, pass, err, errlen);

		if (rc < 0)
			goto fail;
		found += rc;
	}
	ERR_pop_to_mark();
	BIO_free(b);
	if (found)
		return 0;
	if (encrypted && pass)
		snprintf(err, errlen, "%s: wrong passphrase: the private key is encrypted and the one "
			 "given does not open it", path);
	else if (encrypted)
		snprintf(err, errlen, "%s: the private key is encrypted; give its passphrase with "
			 "--key-pass, or write a clear copy with 'openssl pkey -in %s -out KEY.pem'",
			 path, path);
	else
		snprintf(err, errlen, "%s: no private key found (PEM, DER or PKCS#12, RSA/EC)", path);
	return -1;
fail:
	ERR_pop_to_mark();
	BIO_free(b);
	return -1;
}
