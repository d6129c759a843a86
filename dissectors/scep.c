/* scep.c - turns one HTTP exchange into a SCEP event: which operation,
 * how the pkiMessage travelled (GET message=, POST DER or base64), what the
 * server answered (caps, CA certs, CertRep, or an error page). Trusts
 * nothing in the exchange; every byte of query or body is read through
 * struct rd, and the exchange itself is borrowed and copied from. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "http.h"
#include "reader.h"
#include "strutil.h"
#include "scep.h"

#define CAPS_MAX 64           /* GetCACaps lines kept */
#define CAP_LEN_MAX 64        /* longest capability word kept */
#define ERROR_TEXT_MAX 120    /* first line of an error page */
#define PARAM_SHOW_MAX 256    /* CA name from message= */

/* ---- names ---- */

const char *scep_op_name(enum scep_op op)
{
	switch (op) {
	case SCEP_OP_GETCACAPS: return "GetCACaps";
	case SCEP_OP_GETCACERT: return "GetCACert";
	case SCEP_OP_GETNEXTCACERT: return "GetNextCACert";
	case SCEP_OP_PKIOPERATION: return "PKIOperation";
	case SCEP_OP_OTHER: return "other";
	case SCEP_OP_TLS: return "TLS";
	case SCEP_OP_NONE: break;
	}
	return "none";
}

const char *scep_msg_type_name(int mt)
{
	switch (mt) {
	case SCEP_MT_CERTREP: return "CertRep";
	case SCEP_MT_RENEWALREQ: return "RenewalReq";
	case SCEP_MT_UPDATEREQ: return "UpdateReq";
	case SCEP_MT_PKCSREQ: return "PKCSReq";
	case SCEP_MT_CERTPOLL: return "CertPoll";
	case SCEP_MT_GETCERT: return "GetCert";
	case SCEP_MT_GETCRL: return "GetCRL";
	default: return NULL;
	}
}

const char *scep_pki_status_name(int st)
{
	switch (st) {
	case SCEP_STATUS_SUCCESS: return "SUCCESS";
	case SCEP_STATUS_FAILURE: return "FAILURE";
	case SCEP_STATUS_PENDING: return "PENDING";
	default: return NULL;
	}
}

const char *scep_fail_info_name(int fi)
{
	switch (fi) {
	case SCEP_FAIL_BADALG: return "badAlg";
	case SCEP_FAIL_BADMESSAGECHECK: return "badMessageCheck";
	case SCEP_FAIL_BADREQUEST: return "badRequest";
	case SCEP_FAIL_BADTIME: return "badTime";
	case SCEP_FAIL_BADCERTID: return "badCertId";
	default: return NULL;
	}
}

/* RFC 8894 section 3.2.1.4.4, with what each usually means in practice. */
const char *scep_fail_info_meaning(int fi)
{
	switch (fi) {
	case SCEP_FAIL_BADALG:
		return "unrecognized or unsupported algorithm (digest, signature or cipher the server will not take)";
	case SCEP_FAIL_BADMESSAGECHECK:
		return "integrity check failed: the signature did not verify or the envelope could not be opened";
	case SCEP_FAIL_BADREQUEST:
		return "transaction not permitted or supported (often a wrong, expired or reused challenge password)";
	case SCEP_FAIL_BADTIME:
		return "signingTime too far from the server's clock";
	case SCEP_FAIL_BADCERTID:
		return "no certificate matches the identification in the request";
	default:
		return "unknown failInfo value";
	}
}

/* ---- small helpers ---- */



static void set_problem(struct scep_event *ev, char *msg)
{
	if (ev->problem) {
		free(msg);
		return;
	}
	ev->problem = msg;
}

static int first_byte(const uint8_t *p, size_t len, uint8_t *c)
{
	struct rd r;

	rd_init(&r, p, len);
	return rd_u8(&r, c);
}

/* Case-insensitive search; on success r is left just past the needle. */
static int rd_find_ci(struct rd *r, const char *needle)
{
	size_t n = strlen(needle);

	while (rd_left(r) >= n) {
		struct rd t = *r;
		size_t i;
		uint8_t c;

		for (i = 0; i < n; i++) {
			if (!rd_u8(&t, &c) || tolower(c) != tolower((unsigned char)needle[i]))
				break;
		}
		if (i == n) {
			*r = t;
			return 1;
		}
		rd_skip(r, 1);
	}
	return 0;
}

/* ---- classification ---- */

static enum scep_op op_from_name(const char *s)
{
	if (!strcasecmp(s, "GetCACaps"))
		return SCEP_OP_GETCACAPS;
	if (!strcasecmp(s, "GetCACert"))
		return SCEP_OP_GETCACERT;
	if (!strcasecmp(s, "GetNextCACert"))
		return SCEP_OP_GETNEXTCACERT;
	if (!strcasecmp(s, "PKIOperation"))
		return SCEP_OP_PKIOPERATION;
	return SCEP_OP_OTHER;
}

/* A response whose request the capture missed (it started mid-connection)
 * still says by its media type which operation it answers. */
static enum scep_op op_from_response_type(const char *ct)
{
	static const struct { const char *type; enum scep_op op; } types[] = {
		{ "application/x-pki-message", SCEP_OP_PKIOPERATION },
		{ "application/x-x509-ca-cert", SCEP_OP_GETCACERT },
		{ "application/x-x509-ca-ra-cert", SCEP_OP_GETCACERT },
		{ "application/x-x509-next-ca-cert", SCEP_OP_GETNEXTCACERT },
	};
	size_t i, n;

	if (!ct)
		return SCEP_OP_NONE;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		n = strlen(types[i].type);
		if (!strncasecmp(ct, types[i].type, n) &&
		    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
			return types[i].op;
	}
	return SCEP_OP_NONE;
}

enum scep_op scep_classify(const struct http_exchange *x)
{
	const char *v;
	size_t vlen = 0;
	char *name;
	enum scep_op op;

	if (!x)
		return SCEP_OP_NONE;
	v = x->query ? http_query_param(x->query, "operation", &vlen) : NULL;
	if (!v)
		return x->req.present ? SCEP_OP_NONE : op_from_response_type(x->res.content_type);
	name = http_percent_decode(v, vlen, 1, NULL);
	if (!name)
		return SCEP_OP_NONE;
	op = op_from_name(name);
	free(name);
	return op;
}

/* ---- base64 ---- */

static int b64_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* Base64 as clients really send it: line breaks (PEM-style, CRLF), no
 * padding, the URL-safe alphabet, PEM armour around it. Returns 0 and a
 * malloc'ed buffer, or -1 with *why set. */
static int b64_decode(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen, char **why)
{
	struct rd r;
	uint8_t *clean, c;
	size_t n = 0, pad = 0, pos = 0;
	int seen_eq = 0, armoured = 0, dec;

	*out = NULL;
	*outlen = 0;
	clean = malloc(len + 4);
	if (!clean)
		return -1;
	rd_init(&r, in, len);
	{
		struct rd t = r;

		/* PEM armour: drop the BEGIN line; the END line stops us */
		if (rd_find_ci(&t, "-----BEGIN") && rd_left(&t) + 10 == len) {
			while (rd_u8(&t, &c) && c != '\n')
				;
			pos = len - rd_left(&t);
			r = t;
			armoured = 1;
		}
	}
	while (rd_u8(&r, &c)) {
		pos++;
		if (c == '\r' || c == '\n' || c == ' ' || c == '\t')
			continue;
		if (c == '=') {
			seen_eq = 1;
			continue;
		}
		if (c == '-' && armoured)
			break;
		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		if (!b64_char(c)) {
			*why = str_printf("byte 0x%02x at offset %zu is not base64", c, pos - 1);
			free(clean);
			return -1;
		}
		if (seen_eq) {
			*why = str_printf("'=' padding in the middle of the base64 text (offset %zu)", pos - 1);
			free(clean);
			return -1;
		}
		clean[n++] = c;
	}
	if (n % 4 == 1) {
		*why = str_printf("base64 text has a stray final character (%zu characters)", n);
		free(clean);
		return -1;
	}
	if (n == 0) {
		*why = strdup("empty base64 text");
		free(clean);
		return -1;
	}
	/* The sender's '=' were dropped above and padding is rebuilt here:
	 * missing padding is common (URL-safe encoders drop it). */
	while (n % 4) {
		clean[n++] = '=';
		pad++;
	}
	*out = malloc(n / 4 * 3 + 1);
	if (!*out) {
		free(clean);
		return -1;
	}
	dec = EVP_DecodeBlock(*out, clean, (int)n);
	free(clean);
	/* EVP_DecodeBlock counts each '=' as a zero byte */
	if (dec < 0 || (size_t)dec < pad) {
		*why = strdup("base64 does not decode");
		free(*out);
		*out = NULL;
		return -1;
	}
	*outlen = (size_t)dec - pad;
	return 0;
}

/* Body looks like base64 text: only the alphabet and whitespace, and long
 * enough to be a message. */
static int looks_base64(const uint8_t *p, size_t len)
{
	struct rd r;
	uint8_t c;
	size_t alpha = 0;

	rd_init(&r, p, len);
	if (len >= 10 && rd_find_ci(&r, "-----BEGIN") && rd_left(&r) == len - 10)
		return 1;
	rd_init(&r, p, len);
	while (rd_u8(&r, &c)) {
		if (b64_char(c) || c == '-' || c == '_')
			alpha++;
		else if (c != '=' && c != '\r' && c != '\n' && c != ' ' && c != '\t')
			return 0;
	}
	return alpha >= 16;
}

/* ---- error pages ---- */

static int is_html(const uint8_t *p, size_t len, const char *ctype)
{
	struct rd r;
	uint8_t c;

	if (ctype && strcasestr(ctype, "html"))
		return 1;
	rd_init(&r, p, len);
	while (rd_u8(&r, &c)) {
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		return c == '<';
	}
	return 0;
}

/* Text, not binary: no NUL and few control bytes in the first 512. A stray
 * control byte in an error message does not make it binary. */
static int looks_text(const uint8_t *p, size_t len)
{
	struct rd r;
	uint8_t c;
	size_t i = 0, ctl = 0;

	rd_init(&r, p, len);
	while (i < 512 && rd_u8(&r, &c)) {
		i++;
		if (c == 0)
			return 0;
		if (c < 0x20 && c != '\t' && c != '\r' && c != '\n')
			ctl++;
	}
	return i > 0 && ctl * 8 <= i;
}

/* Appends printable text from r to buf, tags stripped when html, runs of
 * whitespace collapsed. Stops at the end of the first non-empty line, or at
 * stop_tag ("</title") when given. */
static void text_line(struct rd *r, int html, const char *stop_tag, char *buf, size_t cap)
{
	size_t n = 0;
	int in_tag = 0, space = 0;
	uint8_t c;

	while (n + 1 < cap) {
		if (stop_tag) {
			struct rd t = *r;

			if (rd_find_ci(&t, stop_tag) && rd_left(r) - rd_left(&t) == strlen(stop_tag))
				break;
		}
		if (!rd_u8(r, &c))
			break;
		if (html && c == '<') {
			in_tag = 1;
			space = 1;
			continue;
		}
		if (in_tag) {
			if (c == '>')
				in_tag = 0;
			continue;
		}
		if (c == '\n' || c == '\r') {
			if (n > 0 && !stop_tag)
				break;
			space = 1;
			continue;
		}
		if (c == ' ' || c == '\t') {
			space = 1;
			continue;
		}
		if (c < 0x20 || c >= 0x7f)
			continue;
		if (space && n > 0 && n + 2 < cap)
			buf[n++] = ' ';
		space = 0;
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
}

/* First non-empty line of a non-SCEP body; for HTML the <title>. */
static char *error_text(const uint8_t *p, size_t len, const char *ctype)
{
	char buf[ERROR_TEXT_MAX + 1];
	int html;
	struct rd r;

	if (!p || !looks_text(p, len))
		return NULL;
	html = is_html(p, len, ctype);
	buf[0] = '\0';
	if (html) {
		rd_init(&r, p, len);
		if (rd_find_ci(&r, "<title") && rd_find_ci(&r, ">"))
			text_line(&r, 1, "</title", buf, sizeof(buf));
	}
	rd_init(&r, p, len);
	while (!buf[0] && rd_left(&r) > 0)
		text_line(&r, html, NULL, buf, sizeof(buf));
	return buf[0] ? strdup(buf) : NULL;
}

/* ---- GetCACaps ---- */

static void parse_caps(struct scep_event *ev, const uint8_t *p, size_t len)
{
	struct rd r;
	size_t lines = 0, too_long = 0;

	rd_init(&r, p, len);
	while (rd_left(&r) > 0) {
		char word[CAP_LEN_MAX + 1];
		size_t n = 0, full = 0;
		uint8_t c;

		while (rd_u8(&r, &c) && c != '\n') {
			if ((c == ' ' || c == '\t' || c == '\r') && n == 0)
				continue;
			full++;
			if (c == '\r' || c == '\t')
				c = ' ';
			if (n < CAP_LEN_MAX)
				word[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
		}
		while (n > 0 && (word[n - 1] == ' ' || word[n - 1] == '\t' || word[n - 1] == '\r'))
			n--;
		if (n == 0)
			continue;
		word[n] = '\0';
		lines++;
		if (full > CAP_LEN_MAX)
			too_long++;
		if (ev->n_caps < CAPS_MAX) {
			char **grown = realloc(ev->caps, (ev->n_caps + 1) * sizeof(*ev->caps));

			if (!grown)
				return;
			ev->caps = grown;
			ev->caps[ev->n_caps] = strdup(word);
			if (ev->caps[ev->n_caps])
				ev->n_caps++;
		}
	}
	if (lines > CAPS_MAX)
		set_problem(ev, str_printf("GetCACaps: %zu capabilities, only the first %d kept",
					  lines, CAPS_MAX));
	else if (too_long)
		set_problem(ev, str_printf("GetCACaps: %zu capabilities longer than %d characters cut",
					  too_long, CAP_LEN_MAX));
}

/* ---- the exchange ---- */

static void decode_request(struct scep_event *ev, const struct http_exchange *x,
			   const struct scep_keys *keys)
{
	const uint8_t *body = x->req.body;
	size_t blen = x->req.body_len;
	const char *mv = NULL;
	size_t mlen = 0;
	uint8_t c0 = 0;

	if (x->query)
		mv = http_query_param(x->query, "message", &mlen);
	if (x->req.body_capped && blen > 0) {
		set_problem(ev, str_printf("request body capped at %zu of %llu bytes; pkiMessage not decoded",
					  blen, (unsigned long long)x->req.body_wire_len));
		return;
	}
	if (blen > 0 && first_byte(body, blen, &c0)) {
		uint8_t *der = NULL;
		size_t dlen = 0;
		char *why = NULL;

		if (c0 == 0x30) {
			ev->request_encoding = SCEP_ENC_POST_DER;
			ev->request = scep_decode_pki_message(body, blen, keys);
			return;
		}
		if (!looks_base64(body, blen)) {
			set_problem(ev, str_printf("PKIOperation body is neither DER nor base64 (starts with 0x%02x)",
						  c0));
			return;
		}
		ev->request_encoding = SCEP_ENC_POST_BASE64;
		if (b64_decode(body, blen, &der, &dlen, &why) < 0) {
			set_problem(ev, str_printf("PKIOperation body: %s", why ? why : "bad base64"));
			free(why);
			return;
		}
		ev->request = scep_decode_pki_message(der, dlen, keys);
		free(der);
		return;
	}
	if (mv) {
		size_t tlen = 0, i;
		char *text = http_percent_decode(mv, mlen, 0, &tlen);
		uint8_t *der = NULL;
		size_t dlen = 0;
		char *why = NULL;

		if (!text)
			return;
		ev->request_encoding = SCEP_ENC_GET_BASE64;
		/* A form-decoding hop turned '+' into ' ' on the way here: the
		 * server probably failed on this very message (Cisco IOS sends
		 * raw base64), but we can still read it. */
		for (i = 0; i < tlen; i++) {
			if (text[i] == ' ') {
				text[i] = '+';
				ev->plus_as_space_damage = 1;
			}
		}
		if (b64_decode((const uint8_t *)text, tlen, &der, &dlen, &why) < 0) {
			set_problem(ev, str_printf("message= is not base64: %s", why ? why : "?"));
			free(why);
			free(text);
			return;
		}
		free(text);
		ev->request = scep_decode_pki_message(der, dlen, keys);
		free(der);
		return;
	}
	set_problem(ev, strdup("PKIOperation without a message (no body, no message=)"));
}

static void decode_response(struct scep_event *ev, const struct http_exchange *x,
			    const struct scep_keys *keys)
{
	const uint8_t *body = x->res.body;
	size_t blen = x->res.body_len;
	const char *ct = x->res.content_type;
	uint8_t c0 = 0;

	if (!x->res.present)
		return;
	if (x->status != 200) {
		ev->error_text = error_text(body, blen, ct);
		return;
	}
	if (x->res.body_capped && blen > 0) {
		set_problem(ev, str_printf("response body capped at %zu of %llu bytes; not decoded",
					  blen, (unsigned long long)x->res.body_wire_len));
		return;
	}
	if (!first_byte(body, blen, &c0)) {
		set_problem(ev, str_printf("%s answered 200 with an empty body", scep_op_name(ev->op)));
		return;
	}
	switch (ev->op) {
	case SCEP_OP_PKIOPERATION:
		if (c0 == 0x30) {
			ev->reply = scep_decode_pki_message(body, blen, keys);
		} else if (looks_base64(body, blen)) {
			uint8_t *der = NULL;
			size_t dlen = 0;
			char *why = NULL;

			if (b64_decode(body, blen, &der, &dlen, &why) == 0)
				ev->reply = scep_decode_pki_message(der, dlen, keys);
			else
				set_problem(ev, str_printf("CertRep body: %s", why ? why : "bad base64"));
			free(why);
			free(der);
		} else {
			ev->error_text = error_text(body, blen, ct);
			set_problem(ev, strdup("PKIOperation answered 200 without a pkiMessage"));
		}
		break;
	case SCEP_OP_GETCACAPS:
		if (!looks_text(body, blen) || is_html(body, blen, ct)) {
			ev->error_text = error_text(body, blen, ct);
			set_problem(ev, str_printf("GetCACaps answered with %s, not capabilities",
						  is_html(body, blen, ct) ? "HTML" : "binary data"));
			break;
		}
		parse_caps(ev, body, blen);
		break;
	case SCEP_OP_GETCACERT:
	case SCEP_OP_GETNEXTCACERT: {
		char *why = NULL;

		if (c0 != 0x30 && c0 != '-') {
			ev->error_text = error_text(body, blen, ct);
			set_problem(ev, str_printf("%s answered 200 without certificates", scep_op_name(ev->op)));
			break;
		}
		if (scep_decode_ca_certs_cached(keys, body, blen, &ev->ca_certs, &ev->n_ca_certs, &why) < 0)
			set_problem(ev, why ? why : strdup("no certificate decoded"));
		else if (why)
			set_problem(ev, why);
		break;
	}
	default:
		ev->error_text = error_text(body, blen, ct);
		break;
	}
}

void scep_tls_free(struct scep_tls *t)
{
	if (!t)
		return;
	free(t->version);
	free(t->cipher);
	free(t->sni);
	free(t->alpn);
	free(t->alert);
	free(t->note);
	free(t->offered);
	free(t->resumed);
	free(t->server_cert);
	free(t);
}

void scep_event_free(struct scep_event *ev)
{
	size_t i;

	if (!ev)
		return;
	scep_tls_free(ev->tls);
	free(ev->op_name);
	free(ev->host);
	free(ev->method);
	free(ev->path);
	free(ev->status_text);
	free(ev->res_content_type);
	free(ev->req_content_type);
	free(ev->location);
	free(ev->server_header);
	free(ev->reset);
	free(ev->connection);
	free(ev->message_param);
	scep_msg_free(ev->request);
	for (i = 0; i < ev->n_caps; i++)
		free(ev->caps[i]);
	free(ev->caps);
	for (i = 0; i < ev->n_ca_certs; i++)
		scep_cert_free(ev->ca_certs[i]);
	free(ev->ca_certs);
	scep_msg_free(ev->reply);
	free(ev->error_text);
	free(ev->problem);
	free(ev);
}

static char *copy_str(const char *s)
{
	return s ? str_printable((const uint8_t *)s, strlen(s), 4096) : NULL;
}

struct scep_event *scep_event_from_exchange(const struct http_exchange *x,
					    const struct scep_keys *keys)
{
	struct scep_event *ev;
	const char *v;
	size_t vlen = 0;

	if (!x)
		return NULL;
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return NULL;
	ev->op = scep_classify(x);
	if (x->query && (v = http_query_param(x->query, "operation", &vlen)) != NULL) {
		char *name = http_percent_decode(v, vlen, 1, NULL);

		if (name) {
			ev->op_name = str_printable((const uint8_t *)name, strlen(name), 64);
			free(name);
		}
	}
	ev->flow_id = x->flow_id;
	ev->http_seq = x->seq;
	ev->client = x->client;
	ev->server = x->server;
	ev->http_version = (int)x->version;
	ev->host = copy_str(x->host);
	ev->method = copy_str(x->method);
	ev->path = copy_str(x->path);
	ev->uri_len = x->uri ? strlen(x->uri) : 0;
	ev->status = x->status;
	ev->status_text = copy_str(x->status_text);
	ev->res_content_type = copy_str(x->res.content_type);
	ev->req_content_type = copy_str(x->req.content_type);
	ev->location = copy_str(x->location);
	ev->server_header = copy_str(x->server_header);
	ev->reset = copy_str(x->reset);
	ev->connection = copy_str(x->connection);
	ev->req_first_ts_ns = x->req.first_ts_ns;
	ev->req_last_ts_ns = x->req.last_ts_ns;
	ev->res_first_ts_ns = x->res.first_ts_ns;
	ev->res_last_ts_ns = x->res.last_ts_ns;
	ev->req_first_frame = x->req.first_frame;
	ev->req_last_frame = x->req.last_frame;
	ev->res_first_frame = x->res.first_frame;
	ev->res_last_frame = x->res.last_frame;
	/* the length on the wire, also when the kept body was capped */
	ev->req_body_len = x->req.body_wire_len > x->req.body_len ? (size_t)x->req.body_wire_len : x->req.body_len;
	ev->res_body_len = x->res.body_wire_len > x->res.body_len ? (size_t)x->res.body_wire_len : x->res.body_len;
	ev->damaged = x->damaged;
	ev->gap_bytes = x->gap_bytes;
	ev->req_gap_bytes = x->req.damaged ? x->req.gap_bytes : 0;
	ev->res_gap_bytes = x->res.damaged ? x->res.gap_bytes : 0;
	ev->req_damaged = x->req.damaged;
	ev->res_damaged = x->res.damaged;
	ev->has_response = x->res.present;
	ev->request_missing = !x->req.present;

	if (ev->op == SCEP_OP_PKIOPERATION) {
		decode_request(ev, x, keys);
	} else if (x->query && (v = http_query_param(x->query, "message", &vlen)) != NULL) {
		/* GetCACert/GetCACaps message= names the CA (certmonger: 0, 1) */
		char *name = http_percent_decode(v, vlen, 1, NULL);

		if (name) {
			ev->message_param = str_printable((const uint8_t *)name, strlen(name), PARAM_SHOW_MAX);
			free(name);
		}
	}
	decode_response(ev, x, keys);
	if (ev->request && !ev->request->decoded && ev->request->error)
		set_problem(ev, str_printf("request: %s", ev->request->error));
	if (ev->reply && !ev->reply->decoded && ev->reply->error)
		set_problem(ev, str_printf("reply: %s", ev->reply->error));
	return ev;
}

/* ---- one message as a user pastes it (scepdump decode) ---- */

/* A message that could not be found in the text: decoded=0, error set. */
static struct scep_msg *undecodable(const struct scep_keys *keys, char *why)
{
	struct scep_msg *m = scep_decode_pki_message(NULL, 0, keys);

	if (!m) {
		free(why);
		return NULL;
	}
	if (why) {
		free(m->error);
		m->error = why;
	}
	return m;
}

static int is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Ends a message= value in a log line or URL: the next parameter, white
 * space, or the quote/bracket a log put around the URL. None of these is
 * in base64 or its percent-encoding. */
static int ends_param(uint8_t c)
{
	return c == '&' || is_space(c) || c == '"' || c == '\'' || c == '<' || c == '>' ||
	       c == ')' || c == ']' || c == ';' || c == ',';
}

/* A byte no text holds, in the first 64: DER always has one there (the
 * long-form length of the outer SEQUENCE, the OID's 0x86 0xf7). */
static int has_binary(const uint8_t *p, size_t len)
{
	struct rd r;
	uint8_t c;
	size_t i = 0;

	rd_init(&r, p, len);
	while (i++ < 64 && rd_u8(&r, &c)) {
		if (c >= 0x7f || (c < 0x20 && !is_space(c)))
			return 1;
	}
	return 0;
}

static struct scep_msg *decode_b64_text(const uint8_t *p, size_t len, const struct scep_keys *keys,
					const char *form)
{
	uint8_t *der = NULL;
	size_t dlen = 0;
	char *why = NULL;
	struct scep_msg *m;

	if (b64_decode(p, len, &der, &dlen, &why) < 0) {
		char *e = str_printf("%s: %s", form, why ? why : "does not decode");

		free(why);
		return undecodable(keys, e);
	}
	m = scep_decode_pki_message(der, dlen, keys);
	free(der);
	return m;
}

struct scep_msg *scep_decode_text(const uint8_t *in, size_t len, const struct scep_keys *keys,
				  char **how)
{
	struct rd r, t;
	uint8_t c0 = 0, c1 = 0;
	const char *form;
	struct scep_msg *m;

	if (how)
		*how = NULL;
	rd_init(&r, in, in ? len : 0);
	/* binary first: a DER message may well contain the bytes "message=";
	 * but a log line may start with '0' (0x30) too */
	t = r;
	if (rd_u8(&t, &c0) && c0 == 0x30 && has_binary(in, len)) {
		form = rd_u8(&t, &c1) && c1 == 0x80 ? "BER" : "DER";
		m = scep_decode_pki_message(in, len, keys);
		goto out;
	}
	while (rd_left(&r) > 0 && is_space(*rd_ptr(&r)))
		rd_skip(&r, 1);
	t = r;
	if (rd_find_ci(&t, "message=")) {
		struct rd v = t;
		size_t n = 0, tlen = 0;
		uint8_t c;
		char *text;

		while (rd_u8(&t, &c) && !ends_param(c))
			n++;
		form = "URL message=";
		if (n == 0) {
			m = undecodable(keys, strdup("message= is empty"));
			goto out;
		}
		/* '+' stays '+': log lines hold the URL as the client sent it */
		text = http_percent_decode((const char *)rd_ptr(&v), n, 0, &tlen);
		if (!text) {
			m = NULL;
			goto out;
		}
		m = decode_b64_text((const uint8_t *)text, tlen, keys, "message=");
		free(text);
		goto out;
	}
	t = r;
	if (rd_find_ci(&t, "-----BEGIN")) {
		form = "PEM";
		/* from the armour on: text before it (a log prefix) is dropped */
		m = decode_b64_text(rd_ptr(&t) - 10, rd_left(&t) + 10, keys, "PEM");
		goto out;
	}
	t = r;
	if (rd_find_ci(&t, "%2B") || (t = r, rd_find_ci(&t, "%2F")) || (t = r, rd_find_ci(&t, "%3D"))) {
		size_t tlen = 0;
		char *text = http_percent_decode((const char *)rd_ptr(&r), rd_left(&r), 0, &tlen);

		form = "percent-encoded base64";
		if (!text) {
			m = NULL;
			goto out;
		}
		m = decode_b64_text((const uint8_t *)text, tlen, keys, "percent-encoded base64");
		free(text);
		goto out;
	}
	if (looks_base64(rd_ptr(&r), rd_left(&r))) {
		form = "base64";
		m = decode_b64_text(rd_ptr(&r), rd_left(&r), keys, "base64");
		goto out;
	}
	form = "unrecognised";
	if (len == 0)
		m = undecodable(keys, strdup("empty input"));
	else
		m = undecodable(keys, str_printf("not a pkiMessage: neither DER (starts with 0x%02x, not 0x30), "
						"PEM, base64 nor text with message=", c0));
out:
	if (how && m) {
		*how = strdup(form);
		if (!*how) {
			scep_msg_free(m);
			return NULL;
		}
	}
	return m;
}
