/* scep_input.c - one input as a user pastes it (scepdump decode, and the
 * message= of device log lines): finds the bytes in whatever text form
 * they came (DER, PEM, base64 cut by a log, URL message= mangled by logs
 * and proxies), then tells a pkiMessage from GetCACert certificates and a
 * GetCACaps list by content. Trusts none of its input: bytes are read
 * through struct rd, DER by OpenSSL (pkcs7.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"
#include "scep.h"
#include "scep_text.h"
#include "strutil.h"

/* A byte no text holds, in the first 64: DER always has one there (the
 * long-form length of the outer SEQUENCE, the OID's 0x86 0xf7). */
static int has_binary(const uint8_t *p, size_t len)
{
	struct rd r;
	uint8_t c;
	size_t i = 0;

	rd_init(&r, p, len);
	while (i++ < 64 && rd_u8(&r, &c)) {
		if (c >= 0x7f || (c < 0x20 && !scep_is_space(c)))
			return 1;
	}
	return 0;
}

static int set_form(struct scep_input *in, const char *form)
{
	free(in->form);
	in->form = strdup(form);
	return in->form ? 0 : -1;
}

/* The bytes, whatever they hold: certificates, else a pkiMessage. */
static int classify_bytes(struct scep_input *in, const uint8_t *der, size_t len,
			  const struct scep_keys *keys)
{
	int kind = scep_der_certs_kind(der, len);

	in->len = len;
	if (kind) {
		in->kind = SCEP_INPUT_CERTS;
		in->certs_container = strdup(kind == SCEP_DER_ONE_CERT ? "one DER certificate" :
					     "certificates-only PKCS#7");
		if (scep_decode_ca_certs(der, len, &in->certs, &in->n_certs, &in->error) < 0)
			in->kind = SCEP_INPUT_NONE;
		return 0;
	}
	in->kind = SCEP_INPUT_MESSAGE;
	in->msg = scep_decode_pki_message(der, len, keys);
	return in->msg ? 0 : -1;
}

/* Base64 text (cut or whole) to bytes, then classify_bytes. */
static int decode_base64(struct scep_input *in, const uint8_t *p, size_t len, const char *form,
			 const struct scep_keys *keys)
{
	uint8_t *der = NULL;
	size_t dlen = 0;
	char *why = NULL;
	int rc;

	if (set_form(in, form) < 0)
		return -1;
	if (scep_base64_decode(p, len, &der, &dlen, &in->b64_leftover, &why) < 0) {
		in->error = str_printf("%s: %s", form, why ? why : "does not decode");
		free(why);
		return in->error ? 0 : -1;
	}
	rc = classify_bytes(in, der, dlen, keys);
	free(der);
	return rc;
}

/* 1 when the BEGIN line of the armour at p names label. */
static int pem_label_has(const uint8_t *p, size_t len, const char *label)
{
	struct rd r, line;
	size_t n = 0;

	rd_init(&r, p, len);
	while (n < rd_left(&r) && rd_ptr(&r)[n] != '\n')
		n++;
	rd_sub(&r, n, &line);
	return scep_find_ci(&line, label);
}

/* PEM: certificates (one or a chain, CERTIFICATE blocks) are read by
 * OpenSSL's PEM reader; PKCS7/CMS armour is base64 around DER. */
static int decode_pem(struct scep_input *in, const uint8_t *armour, size_t len,
		      const struct scep_keys *keys)
{
	struct rd t;

	rd_init(&t, armour, len);
	if (pem_label_has(armour, len, "PRIVATE KEY") || pem_label_has(armour, len, "CERTIFICATE REQUEST")) {
		/* never decoded further: a key is a secret, a CSR alone is
		 * no pkiMessage */
		if (set_form(in, "PEM") < 0)
			return -1;
		in->len = len;
		in->error = strdup(pem_label_has(armour, len, "PRIVATE KEY") ?
				   "a private key, not a SCEP message (give it with --key)" :
				   "a PKCS#10 request alone, not a pkiMessage");
		return in->error ? 0 : -1;
	}
	if (scep_find_ci(&t, "-----BEGIN CERTIFICATE-----") && rd_ptr(&t) - armour == 27) {
		if (set_form(in, "PEM") < 0)
			return -1;
		in->kind = SCEP_INPUT_CERTS;
		in->len = len;
		in->certs_container = strdup("PEM certificates");
		if (scep_decode_ca_certs(armour, len, &in->certs, &in->n_certs, &in->error) < 0)
			in->kind = SCEP_INPUT_NONE;
		return 0;
	}
	return decode_base64(in, armour, len, "PEM", keys);
}

/* One reading of a message= value, following spaces and line breaks as
 * flags say. */
static int decode_message_value(struct scep_input *in, const uint8_t *p, size_t len,
				unsigned flags, const struct scep_keys *keys)
{
	unsigned repairs = 0;
	size_t tlen = 0;
	int found = 0, rc;
	char *text = scep_message_value(p, len, flags, &repairs, &tlen, &found);

	if (!text)
		return -1;
	if (set_form(in, "URL message=") < 0) {
		free(text);
		return -1;
	}
	if (tlen == 0) {
		free(text);
		in->error = strdup("message= is empty");
		return in->error ? 0 : -1;
	}
	in->repairs = scep_repairs_text(repairs);
	rc = decode_base64(in, (const uint8_t *)text, tlen, "URL message=", keys);
	free(text);
	return rc;
}

static void input_clear(struct scep_input *in);

/* A value a paste wrapped onto the next line is joined only when the
 * message then decodes whole: the next line may as well be the log's
 * own next record. */
static int decode_message_param(struct scep_input *in, const uint8_t *p, size_t len,
				const struct scep_keys *keys)
{
	struct scep_input joined = { .kind = SCEP_INPUT_NONE };

	if (decode_message_value(in, p, len, SCEP_VALUE_SPACES_AS_PLUS, keys) < 0)
		return -1;
	if (in->kind != SCEP_INPUT_MESSAGE || in->msg->decoded)
		return 0;
	if (decode_message_value(&joined, p, len, SCEP_VALUE_SPACES_AS_PLUS | SCEP_VALUE_JOIN_LINES,
				 keys) == 0 && joined.kind == SCEP_INPUT_MESSAGE && joined.msg->decoded) {
		input_clear(in);
		*in = joined;
		return 0;
	}
	input_clear(&joined);
	return 0;
}

static int decode_percent_encoded(struct scep_input *in, const struct rd *r,
				  const struct scep_keys *keys)
{
	size_t tlen = 0;
	char *text = http_percent_decode((const char *)rd_ptr(r), rd_left(r), 0, &tlen);
	int rc;

	if (!text)
		return -1;
	rc = decode_base64(in, (const uint8_t *)text, tlen, "percent-encoded base64", keys);
	free(text);
	return rc;
}

static int decode_caps(struct scep_input *in, const struct rd *r)
{
	if (set_form(in, "text") < 0)
		return -1;
	in->kind = SCEP_INPUT_CAPS;
	in->len = rd_left(r);
	scep_caps_parse(rd_ptr(r), rd_left(r), &in->caps, &in->n_caps, &in->error);
	return 0;
}

/* Which text form the input is, in the order that cannot mistake one for
 * another: binary first (DER may well contain the bytes "message="; but a
 * log line may start with '0', 0x30, too), then message=, PEM armour,
 * percent escapes, S/MIME headers, a caps list (its words are base64
 * letters too), and bare base64 last. */
static int find_bytes(struct scep_input *in, const uint8_t *p, size_t len,
		      const struct scep_keys *keys)
{
	struct rd r, t;
	uint8_t c0 = 0, c1 = 0;

	rd_init(&r, p, p ? len : 0);
	t = r;
	if (rd_u8(&t, &c0) && c0 == 0x30 && has_binary(p, len)) {
		if (set_form(in, rd_u8(&t, &c1) && c1 == 0x80 ? "BER" : "DER") < 0)
			return -1;
		return classify_bytes(in, p, len, keys);
	}
	while (rd_left(&r) > 0 && scep_is_space(*rd_ptr(&r)))
		rd_skip(&r, 1);
	t = r;
	if (scep_find_ci(&t, "message="))
		return decode_message_param(in, rd_ptr(&r), rd_left(&r), keys);
	t = r;
	if (scep_find_ci(&t, "-----BEGIN"))
		/* from the armour on: text before it (a log prefix) is dropped */
		return decode_pem(in, rd_ptr(&t) - 10, rd_left(&t) + 10, keys);
	t = r;
	if (scep_find_ci(&t, "%2B") || (t = r, scep_find_ci(&t, "%2F")) || (t = r, scep_find_ci(&t, "%3D")))
		return decode_percent_encoded(in, &r, keys);
	t = r;
	if (scep_find_ci(&t, "pkcs7-mime") && (t = r, scep_find_ci(&t, "\n\n") || (t = r, scep_find_ci(&t, "\r\n\r\n"))))
		/* S/MIME (openssl smime -outform SMIME, sscep's files): the
		 * body after the headers is base64 DER */
		return decode_base64(in, rd_ptr(&t), rd_left(&t), "S/MIME", keys);
	if (scep_looks_like_caps(rd_ptr(&r), rd_left(&r)))
		return decode_caps(in, &r);
	if (scep_looks_base64(rd_ptr(&r), rd_left(&r)))
		return decode_base64(in, rd_ptr(&r), rd_left(&r), "base64", keys);
	if (set_form(in, "unrecognised") < 0)
		return -1;
	in->error = len == 0 ? strdup("empty input") :
		    str_printf("not a pkiMessage, certificate or capability list: neither DER (starts "
			       "with 0x%02x, not 0x30), PEM, base64, text with message= nor one "
			       "capability per line", c0);
	return in->error ? 0 : -1;
}

struct scep_input *scep_decode_input(const uint8_t *p, size_t len, const struct scep_keys *keys)
{
	struct scep_input *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	if (find_bytes(in, p, len, keys) < 0 || !in->form) {
		scep_input_free(in);
		return NULL;
	}
	return in;
}

static void input_clear(struct scep_input *in)
{
	free(in->form);
	free(in->repairs);
	scep_msg_free(in->msg);
	free(in->certs_container);
	scep_certs_free(in->certs, in->n_certs);
	str_list_free(in->caps, in->n_caps);
	free(in->error);
	memset(in, 0, sizeof(*in));
}

void scep_input_free(struct scep_input *in)
{
	if (!in)
		return;
	input_clear(in);
	free(in);
}

/* What a non-message input was, as the error of the message it is not. */
static char *not_a_message(const struct scep_input *in)
{
	switch (in->kind) {
	case SCEP_INPUT_CERTS:
		return str_printf("not a pkiMessage: %s with %zu certificate%s (a GetCACert answer)",
				  in->certs_container ? in->certs_container : "certificates", in->n_certs,
				  in->n_certs == 1 ? "" : "s");
	case SCEP_INPUT_CAPS:
		return strdup("not a pkiMessage: a capability list (a GetCACaps answer)");
	default:
		return in->error ? strdup(in->error) : strdup("not a SCEP message");
	}
}

struct scep_msg *scep_decode_text(const uint8_t *p, size_t len, const struct scep_keys *keys,
				  char **how)
{
	struct scep_input *in = scep_decode_input(p, len, keys);
	struct scep_msg *m;

	if (how)
		*how = NULL;
	if (!in)
		return NULL;
	m = in->msg;
	in->msg = NULL;
	if (!m && (m = scep_decode_pki_message(NULL, 0, keys)) != NULL) {
		free(m->error);
		m->error = not_a_message(in);
	}
	if (m && how && !(*how = strdup(in->form))) {
		scep_msg_free(m);
		m = NULL;
	}
	scep_input_free(in);
	return m;
}

/* A base64 run this long on one line may be a pkiMessage (the smallest,
 * a CertPoll, is some 1.5 kB: 2000 characters); shorter ones are IDs,
 * nonces, fingerprints. */
#define LOG_B64_RUN_MIN 200

static int is_b64_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '=' || c == '-' || c == '_';
}

/* Something a log line carried that reads as a pkiMessage: whole, or cut
 * by the log after its first bytes. */
static int is_message_hit(const struct scep_input *in)
{
	return in->kind == SCEP_INPUT_MESSAGE && (in->msg->decoded || in->msg->cut);
}

static int add_hit(struct scep_log_hits *h, uint64_t line, struct scep_input *in)
{
	struct scep_log_hit *n;

	if (!is_message_hit(in)) {
		scep_input_free(in);
		return 0;
	}
	if (h->n == SCEP_LOG_HITS_MAX) {
		h->capped++;
		scep_input_free(in);
		return 0;
	}
	n = realloc(h->hit, (h->n + 1) * sizeof(*n));
	if (!n) {
		scep_input_free(in);
		return -1;
	}
	h->hit = n;
	h->hit[h->n].line = line;
	h->hit[h->n++].in = in;
	return 0;
}

/* Each message= of one line, to the end of that line. */
static int scan_message_params(struct scep_log_hits *h, const struct rd *line, uint64_t no,
			       const struct scep_keys *keys)
{
	struct rd r = *line;
	int any = 0;

	while (scep_find_ci(&r, "message=")) {
		const uint8_t *v = rd_ptr(&r) - 8;
		struct scep_input *in = calloc(1, sizeof(*in));

		any = 1;
		if (!in || decode_message_value(in, v, rd_left(&r) + 8, SCEP_VALUE_SPACES_AS_PLUS, keys) < 0) {
			scep_input_free(in);
			return -1;
		}
		if (add_hit(h, no, in) < 0)
			return -1;
	}
	return any;
}

/* Long base64 runs of a line without message= (a POST body, a CertRep
 * a client logged). */
static int scan_base64_runs(struct scep_log_hits *h, const struct rd *line, uint64_t no,
			    const struct scep_keys *keys)
{
	struct rd r = *line;

	while (rd_left(&r) > 0) {
		const uint8_t *start = rd_ptr(&r);
		size_t n = 0;
		struct scep_input *in;

		while (n < rd_left(&r) && is_b64_char(start[n]))
			n++;
		if (n < LOG_B64_RUN_MIN) {
			rd_skip(&r, n ? n : 1);
			continue;
		}
		in = calloc(1, sizeof(*in));
		if (!in || decode_base64(in, start, n, "base64", keys) < 0) {
			scep_input_free(in);
			return -1;
		}
		if (add_hit(h, no, in) < 0)
			return -1;
		rd_skip(&r, n);
	}
	return 0;
}

int scep_decode_log(const uint8_t *p, size_t len, const struct scep_keys *keys,
		    struct scep_log_hits *h)
{
	struct rd r;
	uint64_t no = 0;

	memset(h, 0, sizeof(*h));
	if (!p || has_binary(p, len))
		return 0;
	rd_init(&r, p, len);
	while (rd_left(&r) > 0) {
		const uint8_t *nl = memchr(rd_ptr(&r), '\n', rd_left(&r));
		size_t n = nl ? (size_t)(nl - rd_ptr(&r)) : rd_left(&r);
		struct rd line;
		int rc;

		rd_sub(&r, n, &line);
		rd_skip(&r, nl ? 1 : 0);
		no++;
		h->lines += n > 0;
		rc = scan_message_params(h, &line, no, keys);
		if (rc == 0)
			rc = scan_base64_runs(h, &line, no, keys);
		if (rc < 0) {
			scep_log_hits_free(h);
			return -1;
		}
	}
	return 0;
}

void scep_log_hits_free(struct scep_log_hits *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		scep_input_free(h->hit[i].in);
	free(h->hit);
	memset(h, 0, sizeof(*h));
}
