/* scep.c - turns one HTTP exchange into a SCEP event: which operation,
 * how the pkiMessage travelled (GET message=, POST DER or base64), what the
 * server answered (caps, CA certs, CertRep, or an error page). Trusts
 * nothing in the exchange; every byte of query or body is read through
 * struct rd, and the exchange itself is borrowed and copied from. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "reader.h"
#include "strutil.h"
#include "scep.h"
#include "scep_text.h"
#include "pkcs7_internal.h"

#define ERROR_TEXT_MAX 120    /* first line of an error page */
#define PARAM_SHOW_MAX 256    /* CA name from message= */

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

			if (scep_find_ci(&t, stop_tag) && rd_left(r) - rd_left(&t) == strlen(stop_tag))
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
		if (scep_find_ci(&r, "<title") && scep_find_ci(&r, ">"))
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
	char *problem = NULL;

	scep_caps_parse(p, len, &ev->caps, &ev->n_caps, &problem);
	if (problem)
		set_problem(ev, problem);
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
		if (!scep_looks_base64(body, blen)) {
			set_problem(ev, str_printf("PKIOperation body is neither DER nor base64 (starts with 0x%02x)",
						  c0));
			return;
		}
		ev->request_encoding = SCEP_ENC_POST_BASE64;
		if (scep_base64_decode(body, blen, &der, &dlen, NULL, &why) < 0) {
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
		if (scep_base64_decode((const uint8_t *)text, tlen, &der, &dlen, NULL, &why) < 0) {
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
	if (x->req.snaplen)
		set_problem(ev, str_printf("PKIOperation message not captured: capture cut at %u bytes per packet",
					   x->req.snaplen));
	else
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
			ev->reply = p7_decode_pki_message_from(body, blen, keys, &ev->server);
		} else if (scep_looks_base64(body, blen)) {
			uint8_t *der = NULL;
			size_t dlen = 0;
			char *why = NULL;

			if (scep_base64_decode(body, blen, &der, &dlen, NULL, &why) == 0)
				ev->reply = p7_decode_pki_message_from(der, dlen, keys, &ev->server);
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
		if (p7_decode_ca_certs_seen(keys, &ev->server, body, blen, &ev->ca_certs, &ev->n_ca_certs, &why) < 0)
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
	str_list_free(ev->caps, ev->n_caps);
	scep_certs_free(ev->ca_certs, ev->n_ca_certs);
	scep_msg_free(ev->reply);
	free(ev->error_text);
	free(ev->problem);
	free(ev->req_damage);
	free(ev->res_damage);
	free(ev);
}

/* Why side s of x is damaged other than by a gap, or NULL: the HTTP
 * layer's parse failure when it hit this side (failed), bytes a TCP
 * retransmission contradicted. */
static char *side_damage(const struct http_exchange *x, const struct http_side *s, int failed)
{
	char *err = NULL, *out;

	if (failed) {
		char *t = x->error_text ? str_printable((const uint8_t *)x->error_text,
							strlen(x->error_text), 200) : NULL;

		err = str_printf("HTTP parse error: %s", t ? t : "?");
		free(t);
	}
	if (!s->conflict_bytes)
		return err;
	out = str_printf("%s%sTCP retransmission with different bytes (%llu bytes)",
			 err ? err : "", err ? "; " : "", (unsigned long long)s->conflict_bytes);
	free(err);
	return out;
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
	ev->req_snaplen = x->req.snaplen;
	ev->res_snaplen = x->res.snaplen;
	ev->req_damaged = x->req.damaged;
	ev->res_damaged = x->res.damaged;
	ev->has_response = x->res.present;
	ev->request_missing = !x->req.present;
	{
		/* a failure that names no side is shown on the last one seen */
		int unsided = x->parse_error && x->damaged && !x->req.parse_error && !x->res.parse_error;

		ev->req_damage = side_damage(x, &x->req, x->req.parse_error || (unsided && !x->res.present));
		ev->res_damage = side_damage(x, &x->res, x->res.parse_error || (unsided && x->res.present));
		if (ev->req_damage || ev->res_damage)
			ev->damaged = 1;
	}

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
	/* what the parser did not read is not an empty body */
	if (x->res.present && x->res.parse_error && !x->res.body_len)
		set_problem(ev, strdup("the response was not read whole (HTTP parse error)"));
	decode_response(ev, x, keys);
	if (ev->request && !ev->request->decoded && ev->request->error)
		set_problem(ev, str_printf("request: %s", ev->request->error));
	if (ev->reply && !ev->reply->decoded && ev->reply->error)
		set_problem(ev, str_printf("reply: %s", ev->reply->error));
	/* decoded, but what should be its envelope is none */
	if (ev->request && ev->request->envelope_broken && ev->request->error)
		set_problem(ev, str_printf("request: %s", ev->request->error));
	if (ev->reply && ev->reply->envelope_broken && ev->reply->error)
		set_problem(ev, str_printf("reply: %s", ev->reply->error));
	return ev;
}
