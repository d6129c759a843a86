/* fuzz_common.h - helpers shared by the libFuzzer harnesses: where the key
 * files are (SRCDIR, else next to this source), and exact-size copies of
 * input slices so AddressSanitizer sees every over-read. */
#ifndef SCEPDUMP_FUZZ_COMMON_H
#define SCEPDUMP_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scep.h"

/* "<source tree>/rel": $SRCDIR when set (as 'make check' sets it), else two
 * directories up from this harness's source file (build.sh compiles with
 * absolute paths, so __FILE__ is absolute). */
static inline void fuzz_src_path(char *buf, size_t len, const char *rel)
{
	const char *src = getenv("SRCDIR");

	if (src && *src) {
		snprintf(buf, len, "%s/%s", src, rel);
		return;
	}
	snprintf(buf, len, "%s", __FILE__);
	{
		char *slash = strrchr(buf, '/');

		if (slash)
			*slash = '\0';
		else
			snprintf(buf, len, ".");
	}
	snprintf(buf + strlen(buf), len - strlen(buf), "/../../%s", rel);
}

/* Loads the listed key files (relative to the source tree) into a new
 * scep_keys; a key that cannot be loaded is reported once and skipped, so
 * the harness still runs (without reaching the decryption paths). */
static inline struct scep_keys *fuzz_load_keys(const char *const *rel, size_t n)
{
	struct scep_keys *k = scep_keys_new();
	char path[4096], err[256];
	size_t i;

	if (!k) {
		fprintf(stderr, "fuzz: scep_keys_new failed\n");
		abort();
	}
	for (i = 0; i < n; i++) {
		fuzz_src_path(path, sizeof(path), rel[i]);
		if (scep_keys_load(k, path, err, sizeof(err)) < 0)
			fprintf(stderr, "fuzz: warning: key %s not loaded: %s\n", path, err);
	}
	return k;
}

/* An exact-size heap copy of len bytes (NULL for len 0), so a read one past
 * the slice is a heap-buffer-overflow and not a read of the next field. */
/* The keys that open the fixtures' and the captures' envelopes: requests
 * (the CAs) and CertReps (the clients), so decryption paths are fuzzed. */
static inline struct scep_keys *fuzz_load_fixture_keys(void)
{
	static const char *const files[] = {
		"tests/unit/data/ca.key",
		"tests/unit/data/client.key",
		"tests/unit/data/cap-ca.key",     /* the captures' CA */
		"tests/unit/data/renewal-old.key",
	};

	return fuzz_load_keys(files, sizeof(files) / sizeof(files[0]));
}

static inline uint8_t *fuzz_dup(const uint8_t *p, size_t len)
{
	uint8_t *d;

	if (!len)
		return NULL;
	d = malloc(len);
	if (!d)
		abort();
	memcpy(d, p, len);
	return d;
}

/* NUL-terminated copy of len bytes. */
static inline char *fuzz_strdup(const uint8_t *p, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		abort();
	if (len)
		memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

/* Reading every string and byte a decoder handed back makes ASan check
 * them: an unterminated string or a dangling pointer fails here, not later
 * in a sink. The sum goes to a volatile so nothing is optimised away. */
static volatile size_t fuzz_sink;

static inline void fuzz_touch_str(const char *s)
{
	if (s)
		fuzz_sink += strlen(s);
}

static inline void fuzz_touch_bytes(const uint8_t *p, size_t len)
{
	size_t i, sum = 0;

	if (!p)
		return;
	for (i = 0; i < len; i++)
		sum += p[i];
	fuzz_sink += sum;
}

static inline void fuzz_touch_cert(const struct scep_cert *c)
{
	if (!c)
		return;
	fuzz_touch_str(c->subject);
	fuzz_touch_str(c->issuer);
	fuzz_touch_str(c->serial);
	fuzz_touch_str(c->key_type);
	fuzz_touch_str(c->sha1);
	fuzz_touch_str(c->sha256);
	fuzz_sink += (size_t)c->not_before + (size_t)c->not_after + c->key_bits + c->der_len;
}

static inline void fuzz_touch_msg(const struct scep_msg *m)
{
	size_t i;

	if (!m)
		return;
	fuzz_touch_str(m->error);
	fuzz_touch_str(m->digest_alg);
	fuzz_touch_str(m->sig_alg);
	fuzz_touch_cert(m->signer);
	fuzz_touch_str(m->transaction_id);
	if (m->sender_nonce_len > SCEP_NONCE_MAX || m->recipient_nonce_len > SCEP_NONCE_MAX)
		abort();
	fuzz_touch_bytes(m->sender_nonce, m->sender_nonce_len);
	fuzz_touch_bytes(m->recipient_nonce, m->recipient_nonce_len);
	fuzz_touch_str(m->fail_info_text);
	for (i = 0; i < m->n_recipients; i++) {
		fuzz_touch_str(m->recipients[i].issuer);
		fuzz_touch_str(m->recipients[i].serial);
	}
	fuzz_touch_str(m->key_enc_alg);
	fuzz_touch_str(m->content_enc_alg);
	fuzz_touch_str(m->decrypt_error);
	if (m->csr) {
		fuzz_touch_str(m->csr->subject);
		fuzz_touch_str(m->csr->key_type);
		fuzz_touch_str(m->csr->sans);
		fuzz_touch_str(m->csr->challenge);
	}
	fuzz_touch_cert(m->issued);
	for (i = 0; i < m->n_rep_certs; i++)
		fuzz_touch_cert(m->rep_certs[i]);
	fuzz_touch_str(m->signer_issuer);
	fuzz_touch_str(m->signer_serial);
	for (i = 0; i < m->n_other_certs; i++)
		fuzz_touch_cert(m->other_certs[i]);
	fuzz_touch_str(m->signed_challenge);
	fuzz_touch_str(m->ms_status_text);
	for (i = 0; i < m->n_signed_attrs; i++)
		fuzz_touch_str(m->signed_attrs[i]);
	for (i = 0; i < m->n_notes; i++)
		fuzz_touch_str(m->notes[i]);
}

/* Everything scepdump decode found in one input. */
static inline void fuzz_touch_input(const struct scep_input *in)
{
	size_t i;

	if (!in)
		return;
	fuzz_touch_str(in->form);
	fuzz_touch_str(in->repairs);
	fuzz_touch_str(in->error);
	fuzz_touch_str(in->certs_container);
	fuzz_touch_msg(in->msg);
	for (i = 0; i < in->n_certs; i++)
		fuzz_touch_cert(in->certs[i]);
	for (i = 0; i < in->n_caps; i++)
		fuzz_touch_str(in->caps[i]);
}

#endif
