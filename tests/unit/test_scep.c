/* test_scep.c - SCEP events from HTTP exchanges: operation, how the
 * pkiMessage travelled (GET message= in its damaged forms, POST DER/base64),
 * GetCACaps/GetCACert responses and error pages; percent-decoding and query
 * parameters (http_query.c). Messages are the recorded micromdm ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "http.h"
#include "scep.h"
#include "testutil.h"

#define TXID_OK "w0jpNA4EPQlTeN+KtR6UBrgcSs8="
#define CLIENT_SUBJECT "CN=scepdump-client,OU=MDM,O=scepdump test,C=US"

static struct scep_keys *test_keys(void)
{
	struct scep_keys *k = scep_keys_new();
	const char *names[] = { "ca.key", "client.key" };
	char err[256];
	size_t i;

	assert_non_null(k);
	for (i = 0; i < 2; i++) {
		char *p = test_data_path(names[i]);

		if (scep_keys_load(k, p, err, sizeof(err)) < 0)
			fail_msg("%s", err);
		free(p);
	}
	return k;
}

static char *b64(const uint8_t *p, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	assert_non_null(out);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

/* Percent-encodes everything but the unreserved set; with raw_b64 the
 * base64 characters '+', '/', '=' go through as they are (Cisco IOS). */
static char *pct(const char *s, int raw_b64)
{
	char *out = malloc(strlen(s) * 3 + 1), *o = out;

	assert_non_null(out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' ||
		    (raw_b64 && (c == '+' || c == '/' || c == '=')))
			*o++ = (char)c;
		else
			o += sprintf(o, "%%%02X", c);
	}
	*o = 0;
	return out;
}

static void exchange_init(struct http_exchange *x, const char *method, const char *query)
{
	memset(x, 0, sizeof(*x));
	x->flow_id = 7;
	x->seq = 3;
	x->version = HTTP_V1;
	x->host = "scep.example";
	x->method = method;
	x->path = "/scep";
	x->uri = "/scep?...";
	x->query = query;
	x->req.present = 1;
	x->req.first_frame = 10;
	x->req.last_frame = 12;
}

static void respond(struct http_exchange *x, int status, const char *ctype, const void *body, size_t len)
{
	x->status = status;
	x->status_text = status == 200 ? "OK" : "Error";
	x->res.present = 1;
	x->res.content_type = ctype;
	x->res.body = body;
	x->res.body_len = len;
	x->res.body_wire_len = len;
	x->res.first_frame = 14;
	x->res.last_frame = 15;
}

/* ---- http_query.c ---- */

static void test_percent_decode(void **state)
{
	static const char in[] = "a%2Bb+c%2f%zz%4";
	size_t n = 0;
	char *s;

	(void)state;
	s = http_percent_decode(in, strlen(in), 0, &n);
	assert_string_equal(s, "a+b+c/%zz%4");
	assert_int_equal(n, strlen("a+b+c/%zz%4"));
	free(s);
	s = http_percent_decode(in, strlen(in), 1, &n);
	assert_string_equal(s, "a+b c/%zz%4");
	free(s);
	s = http_percent_decode("x%00y", 5, 0, &n);
	assert_int_equal(n, 3);
	assert_memory_equal(s, "x\0y", 3);
	free(s);
	/* only len bytes are read */
	s = http_percent_decode("abc%41", 4, 0, &n);
	assert_string_equal(s, "abc%");
	free(s);
}

static void test_query_param(void **state)
{
	const char *q = "Operation=PKIOperation&message=abc%2B+/=&empty&x=";
	size_t n = 99;
	const char *v;

	(void)state;
	v = http_query_param(q, "operation", &n);
	assert_non_null(v);
	assert_int_equal(n, 12);
	assert_memory_equal(v, "PKIOperation", 12);
	v = http_query_param(q, "MESSAGE", &n);
	assert_int_equal(n, strlen("abc%2B+/="));
	assert_memory_equal(v, "abc%2B+/=", n);
	v = http_query_param(q, "empty", &n);
	assert_non_null(v);
	assert_int_equal(n, 0);
	v = http_query_param(q, "x", &n);
	assert_non_null(v);
	assert_int_equal(n, 0);
	assert_null(http_query_param(q, "mess", &n));
	assert_null(http_query_param(q, "operationx", &n));
	v = http_query_param("operationx=1&operation=GetCACert", "operation", &n);
	assert_memory_equal(v, "GetCACert", n);
	assert_null(http_query_param("", "operation", &n));
	assert_null(http_query_param(NULL, "operation", &n));
}

/* ---- classification and names ---- */

static void test_classify(void **state)
{
	struct http_exchange x;

	(void)state;
	exchange_init(&x, "GET", "operation=getcacaps&message=CA");
	assert_int_equal(scep_classify(&x), SCEP_OP_GETCACAPS);
	exchange_init(&x, "GET", "operation=GetCACert");
	assert_int_equal(scep_classify(&x), SCEP_OP_GETCACERT);
	exchange_init(&x, "GET", "operation=GETNEXTCACERT");
	assert_int_equal(scep_classify(&x), SCEP_OP_GETNEXTCACERT);
	exchange_init(&x, "POST", "operation=PKIOperation");
	assert_int_equal(scep_classify(&x), SCEP_OP_PKIOPERATION);
	exchange_init(&x, "GET", "operation=PKI%4Fperation");
	assert_int_equal(scep_classify(&x), SCEP_OP_PKIOPERATION);
	exchange_init(&x, "GET", "operation=GetCRL");
	assert_int_equal(scep_classify(&x), SCEP_OP_OTHER);
	exchange_init(&x, "GET", "q=search");
	assert_int_equal(scep_classify(&x), SCEP_OP_NONE);
	exchange_init(&x, "GET", NULL);
	assert_int_equal(scep_classify(&x), SCEP_OP_NONE);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(scep_op_name(SCEP_OP_PKIOPERATION), "PKIOperation");
	assert_string_equal(scep_msg_type_name(19), "PKCSReq");
	assert_string_equal(scep_msg_type_name(3), "CertRep");
	assert_string_equal(scep_msg_type_name(20), "CertPoll");
	assert_null(scep_msg_type_name(99));
	assert_string_equal(scep_pki_status_name(3), "PENDING");
	assert_null(scep_pki_status_name(1));
	assert_string_equal(scep_fail_info_name(1), "badMessageCheck");
	assert_null(scep_fail_info_name(5));
	assert_non_null(strstr(scep_fail_info_meaning(2), "challenge"));
	assert_string_equal(scep_fail_info_meaning(42), "unknown failInfo value");
}

/* ---- PKIOperation ---- */

static struct scep_event *get_pkioperation(const char *message, const struct scep_keys *k,
					   char **query_out)
{
	static const char prefix[] = "operation=PKIOperation&message=";
	char *query = malloc(sizeof(prefix) + strlen(message));
	struct http_exchange x;
	struct scep_event *ev;

	assert_non_null(query);
	strcpy(query, prefix);
	strcat(query, message);
	exchange_init(&x, "GET", query);
	ev = scep_event_from_exchange(&x, k);
	assert_non_null(ev);
	*query_out = query;
	return ev;
}

static void assert_pkcsreq(const struct scep_event *ev)
{
	assert_null(ev->problem);
	assert_non_null(ev->request);
	assert_int_equal(ev->request->decoded, 1);
	assert_int_equal(ev->request->message_type, SCEP_MT_PKCSREQ);
	assert_string_equal(ev->request->transaction_id, TXID_OK);
	assert_int_equal(ev->request->decrypt_state, SCEP_DECRYPT_OK);
	assert_string_equal(ev->request->csr->subject, CLIENT_SUBJECT);
}

static void test_get_pkioperation_variants(void **state)
{
	struct scep_keys *k = test_keys();
	size_t len, i;
	uint8_t *der = test_load("pkcsreq.der", &len);
	char *text = b64(der, len), *enc, *query;
	struct scep_event *ev;

	(void)state;
	assert_non_null(strchr(text, '+'));   /* the cases below mean something */
	assert_non_null(strchr(text, '/'));

	/* properly percent-encoded */
	enc = pct(text, 0);
	ev = get_pkioperation(enc, k, &query);
	assert_int_equal(ev->op, SCEP_OP_PKIOPERATION);
	assert_string_equal(ev->op_name, "PKIOperation");
	assert_int_equal(ev->request_encoding, SCEP_ENC_GET_BASE64);
	assert_int_equal(ev->plus_as_space_damage, 0);
	assert_pkcsreq(ev);
	assert_int_equal(ev->has_response, 0);
	assert_int_equal(ev->flow_id, 7);
	assert_int_equal(ev->http_seq, 3);
	assert_string_equal(ev->method, "GET");
	assert_string_equal(ev->host, "scep.example");
	scep_event_free(ev);
	free(query);
	free(enc);

	/* raw base64, '+' '/' '=' unescaped: '+' must stay '+' */
	enc = pct(text, 1);
	ev = get_pkioperation(enc, k, &query);
	assert_int_equal(ev->plus_as_space_damage, 0);
	assert_pkcsreq(ev);
	scep_event_free(ev);
	free(query);
	free(enc);

	/* '+' turned into a space by a form-decoding hop (re-encoded as %20) */
	enc = pct(text, 0);
	{
		char *fixed = malloc(strlen(enc) + 1), *o = fixed;
		const char *s = enc;

		assert_non_null(fixed);
		while (*s) {
			if (!strncmp(s, "%2B", 3)) {
				memcpy(o, "%20", 3);
				o += 3;
				s += 3;
			} else {
				*o++ = *s++;
			}
		}
		*o = 0;
		ev = get_pkioperation(fixed, k, &query);
		free(fixed);
	}
	assert_int_equal(ev->plus_as_space_damage, 1);
	assert_pkcsreq(ev);
	scep_event_free(ev);
	free(query);
	free(enc);

	/* URL-safe alphabet, no padding */
	{
		char *u = strdup(text);

		for (i = 0; u[i]; i++) {
			if (u[i] == '+')
				u[i] = '-';
			else if (u[i] == '/')
				u[i] = '_';
			else if (u[i] == '=')
				u[i] = 0;
		}
		assert_null(strchr(u, '='));
		ev = get_pkioperation(u, k, &query);
		assert_pkcsreq(ev);
		scep_event_free(ev);
		free(query);
		free(u);
	}

	/* line breaks every 64 characters (PEM style, CRLF) */
	{
		size_t tl = strlen(text);
		char *lines = malloc(tl + tl / 64 * 2 + 3), *o = lines;

		assert_non_null(lines);
		for (i = 0; i < tl; i++) {
			if (i && i % 64 == 0) {
				*o++ = '\r';
				*o++ = '\n';
			}
			*o++ = text[i];
		}
		*o = 0;
		enc = pct(lines, 0);
		ev = get_pkioperation(enc, k, &query);
		assert_pkcsreq(ev);
		scep_event_free(ev);
		free(query);
		free(enc);
		free(lines);
	}

	/* not base64 at all */
	ev = get_pkioperation("%3Chtml%3E", k, &query);
	assert_null(ev->request);
	assert_string_equal(ev->problem, "message= is not base64: byte 0x3c at offset 0 is not base64");
	scep_event_free(ev);
	free(query);

	free(text);
	free(der);
	scep_keys_free(k);
}

static void test_missing_padding_lengths(void **state)
{
	/* 1 and 2 byte tails: "MA" and "MAE" decode without '=' */
	char *query;
	struct scep_event *ev;

	(void)state;
	ev = get_pkioperation("MAM", NULL, &query);  /* 30 03: a truncated SEQUENCE */
	assert_non_null(ev->request);
	assert_int_equal(ev->request->der_len, 2);
	assert_int_equal(ev->request->decoded, 0);
	assert_non_null(ev->problem);
	assert_non_null(strstr(ev->problem, "request: not a CMS ContentInfo"));
	scep_event_free(ev);
	free(query);
	ev = get_pkioperation("MAMCAQU", NULL, &query); /* 30 03 02 01 05 */
	assert_int_equal(ev->request->der_len, 5);
	scep_event_free(ev);
	free(query);
	ev = get_pkioperation("MAMCA", NULL, &query);   /* 5 chars: one is stray */
	assert_null(ev->request);
	assert_string_equal(ev->problem, "message= is not base64: base64 text has a stray final character (5 characters)");
	scep_event_free(ev);
	free(query);
}

static void test_post_der_and_reply(void **state)
{
	struct scep_keys *k = test_keys();
	size_t rlen, plen;
	uint8_t *req = test_load("pkcsreq.der", &rlen);
	uint8_t *rep = test_load("certrep-success.der", &plen);
	struct http_exchange x;
	struct scep_event *ev;

	(void)state;
	exchange_init(&x, "POST", "operation=PKIOperation");
	x.req.body = req;
	x.req.body_len = rlen;
	x.req.body_wire_len = rlen;
	x.req.content_type = "application/octet-stream";
	respond(&x, 200, "application/x-pki-message", rep, plen);
	ev = scep_event_from_exchange(&x, k);
	assert_int_equal(ev->request_encoding, SCEP_ENC_POST_DER);
	assert_pkcsreq(ev);
	assert_string_equal(ev->req_content_type, "application/octet-stream");
	assert_string_equal(ev->res_content_type, "application/x-pki-message");
	assert_int_equal(ev->req_body_len, rlen);
	assert_int_equal(ev->res_body_len, plen);
	assert_int_equal(ev->has_response, 1);
	assert_int_equal(ev->status, 200);
	assert_non_null(ev->reply);
	assert_int_equal(ev->reply->pki_status, SCEP_STATUS_SUCCESS);
	assert_memory_equal(ev->reply->recipient_nonce, ev->request->sender_nonce, 16);
	assert_string_equal(ev->reply->issued->subject, CLIENT_SUBJECT);
	assert_string_equal(ev->reply->issued->serial, "02");
	assert_null(ev->error_text);
	scep_event_free(ev);
	free(req);
	free(rep);
	scep_keys_free(k);
}

static void test_post_base64(void **state)
{
	struct scep_keys *k = test_keys();
	size_t len, i, tl;
	uint8_t *der = test_load("pkcsreq.der", &len);
	char *text = b64(der, len), *body, *o;
	struct http_exchange x;
	struct scep_event *ev;

	(void)state;
	tl = strlen(text);
	body = malloc(tl + tl / 76 * 2 + 3);
	assert_non_null(body);
	for (i = 0, o = body; i < tl; i++) {
		if (i && i % 76 == 0) {
			*o++ = '\r';
			*o++ = '\n';
		}
		*o++ = text[i];
	}
	*o++ = '\r';
	*o++ = '\n';
	exchange_init(&x, "POST", "operation=PKIOperation");
	x.req.body = (const uint8_t *)body;
	x.req.body_len = (size_t)(o - body);
	ev = scep_event_from_exchange(&x, k);
	assert_int_equal(ev->request_encoding, SCEP_ENC_POST_BASE64);
	assert_pkcsreq(ev);
	scep_event_free(ev);

	/* the same wrapped in PEM armour */
	{
		size_t bl = (size_t)(o - body);
		char *pem = malloc(bl + 64), *q = pem;

		assert_non_null(pem);
		q += sprintf(q, "-----BEGIN PKCS7-----\n");
		memcpy(q, body, bl);
		q += bl;
		q += sprintf(q, "-----END PKCS7-----\n");
		x.req.body = (const uint8_t *)pem;
		x.req.body_len = (size_t)(q - pem);
		ev = scep_event_from_exchange(&x, k);
		assert_int_equal(ev->request_encoding, SCEP_ENC_POST_BASE64);
		assert_pkcsreq(ev);
		scep_event_free(ev);
		free(pem);
	}

	/* binary junk that is neither */
	x.req.body = (const uint8_t *)"\x01\x02\x03";
	x.req.body_len = 3;
	ev = scep_event_from_exchange(&x, k);
	assert_null(ev->request);
	assert_string_equal(ev->problem, "PKIOperation body is neither DER nor base64 (starts with 0x01)");
	scep_event_free(ev);
	free(body);
	free(text);
	free(der);
	scep_keys_free(k);
}

/* ---- GetCACaps / GetCACert ---- */

static void test_caps(void **state)
{
	static const char body[] = "POSTPKIOperation\r\nSHA-256\r\n\r\n  AES \r\nFooBar-Extension\r\n";
	size_t len;
	uint8_t *real = test_load("getcacaps.txt", &len);
	struct http_exchange x;
	struct scep_event *ev;

	(void)state;
	exchange_init(&x, "GET", "operation=GetCACaps&message=MyCA");
	respond(&x, 200, "text/plain", body, strlen(body));
	ev = scep_event_from_exchange(&x, NULL);
	assert_int_equal(ev->op, SCEP_OP_GETCACAPS);
	assert_string_equal(ev->message_param, "MyCA");
	assert_null(ev->problem);
	assert_int_equal(ev->n_caps, 4);
	assert_string_equal(ev->caps[0], "POSTPKIOperation");
	assert_string_equal(ev->caps[1], "SHA-256");
	assert_string_equal(ev->caps[2], "AES");
	assert_string_equal(ev->caps[3], "FooBar-Extension");
	scep_event_free(ev);

	/* micromdm's answer: LF, no final newline */
	respond(&x, 200, "text/plain", real, len);
	ev = scep_event_from_exchange(&x, NULL);
	assert_int_equal(ev->n_caps, 7);
	assert_string_equal(ev->caps[0], "Renewal");
	assert_string_equal(ev->caps[5], "SCEPStandard");
	assert_string_equal(ev->caps[6], "POSTPKIOperation");
	scep_event_free(ev);
	free(real);

	/* a sign-in page answered with 200 (App Proxy pre-authentication) */
	{
		static const char html[] = "<!DOCTYPE html>\n<html><head>\n<title>Sign in to your account</title>"
					   "</head><body>x</body></html>";

		respond(&x, 200, "text/html; charset=utf-8", html, strlen(html));
		ev = scep_event_from_exchange(&x, NULL);
		assert_int_equal(ev->n_caps, 0);
		assert_string_equal(ev->error_text, "Sign in to your account");
		assert_string_equal(ev->problem, "GetCACaps answered with HTML, not capabilities");
		scep_event_free(ev);
	}
}

static void test_cacert_label_lies(void **state)
{
	size_t len, p7len;
	uint8_t *der = test_load("getcacert.der", &len);
	uint8_t *p7 = test_load("ca-ra.p7b", &p7len);
	struct http_exchange x;
	struct scep_event *ev;

	(void)state;
	/* one DER certificate labelled as a CA/RA PKCS#7 */
	exchange_init(&x, "GET", "operation=GetCACert&message=0");
	respond(&x, 200, "application/x-x509-ca-ra-cert", der, len);
	ev = scep_event_from_exchange(&x, NULL);
	assert_int_equal(ev->op, SCEP_OP_GETCACERT);
	assert_string_equal(ev->message_param, "0");
	assert_null(ev->problem);
	assert_int_equal(ev->n_ca_certs, 1);
	assert_string_equal(ev->ca_certs[0]->subject, "CN=scepdump Test CA,O=scepdump test,C=US");
	scep_event_free(ev);

	/* and a PKCS#7 labelled as one certificate */
	respond(&x, 200, "application/x-x509-ca-cert", p7, p7len);
	ev = scep_event_from_exchange(&x, NULL);
	assert_null(ev->problem);
	assert_int_equal(ev->n_ca_certs, 2);
	scep_event_free(ev);
	free(der);
	free(p7);
}

/* ---- error pages ---- */

static void test_error_text(void **state)
{
	static const char iis[] =
		"<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\">\r\n<html>\r\n<head>\r\n"
		"<TITLE>IIS 10.0 Detailed Error - 404.14 - Not Found</TITLE>\r\n</head><body>...</body></html>";
	static const char notitle[] = "<html>\n<body>\n\n<h1>Service   Unavailable</h1>\n<p>later</p></body></html>";
	static const char plain[] = "\r\n\r\n  failed to decode\tPKCS7 \x01\x7f message\nsecond line\n";
	char longline[400];
	struct http_exchange x;
	struct scep_event *ev;

	(void)state;
	exchange_init(&x, "GET", "operation=PKIOperation&message=MAMCAQU");
	respond(&x, 404, "text/html", iis, strlen(iis));
	ev = scep_event_from_exchange(&x, NULL);
	assert_string_equal(ev->error_text, "IIS 10.0 Detailed Error - 404.14 - Not Found");
	assert_null(ev->reply);
	assert_int_equal(ev->status, 404);
	scep_event_free(ev);

	respond(&x, 503, NULL, notitle, strlen(notitle));
	ev = scep_event_from_exchange(&x, NULL);
	assert_string_equal(ev->error_text, "Service Unavailable");
	scep_event_free(ev);

	respond(&x, 500, "text/plain", plain, strlen(plain));
	ev = scep_event_from_exchange(&x, NULL);
	assert_string_equal(ev->error_text, "failed to decode PKCS7 message");
	scep_event_free(ev);

	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = 0;
	respond(&x, 500, "text/plain", longline, strlen(longline));
	ev = scep_event_from_exchange(&x, NULL);
	assert_int_equal(strlen(ev->error_text), 120);
	scep_event_free(ev);

	/* binary error bodies give no text */
	respond(&x, 500, "application/octet-stream", "\x30\x00\x01\x02", 4);
	ev = scep_event_from_exchange(&x, NULL);
	assert_null(ev->error_text);
	scep_event_free(ev);

	/* a redirect without a body */
	x.location = "https://login.example/authorize?x=1";
	respond(&x, 302, NULL, NULL, 0);
	ev = scep_event_from_exchange(&x, NULL);
	assert_string_equal(ev->location, "https://login.example/authorize?x=1");
	assert_null(ev->error_text);
	assert_int_equal(ev->status, 302);
	scep_event_free(ev);
}


/* What the HTTP layer could not read, or read twice differently, is the
 * damage of the side it hit: a parse failure of the response is not "200
 * with an empty body"; a contradicting retransmission is said with its
 * byte count; an exchange with neither is not damaged. */
static void test_http_damage(void **state)
{
	struct http_exchange x;
	struct scep_event *ev;

	(void)state;
	exchange_init(&x, "GET", "operation=PKIOperation&message=MAMCAQU");
	respond(&x, 200, "application/x-pki-message", NULL, 0);
	ev = scep_event_from_exchange(&x, NULL);
	assert_false(ev->damaged);
	assert_null(ev->req_damage);
	assert_null(ev->res_damage);
	assert_non_null(strstr(ev->problem, "answered 200 with an empty body"));
	scep_event_free(ev);

	x.parse_error = 1;
	x.damaged = 1;
	x.res.parse_error = 1;
	x.error_text = "more header fields than libhtp reads (1024)";
	ev = scep_event_from_exchange(&x, NULL);
	assert_true(ev->damaged);
	assert_null(ev->req_damage);
	assert_string_equal(ev->res_damage, "HTTP parse error: more header fields than libhtp reads (1024)");
	assert_string_equal(ev->problem, "the response was not read whole (HTTP parse error)");
	assert_false(ev->res_damaged);      /* no capture gap */
	scep_event_free(ev);

	/* a failure that names no side goes on the response when there is one */
	x.res.parse_error = 0;
	x.error_text = "unparseable header field";
	ev = scep_event_from_exchange(&x, NULL);
	assert_null(ev->req_damage);
	assert_string_equal(ev->res_damage, "HTTP parse error: unparseable header field");
	scep_event_free(ev);

	x.parse_error = 0;
	x.error_text = NULL;
	x.req.conflict_bytes = 12;
	x.res.conflict_bytes = 0;
	ev = scep_event_from_exchange(&x, NULL);
	assert_true(ev->damaged);
	assert_string_equal(ev->req_damage, "TCP retransmission with different bytes (12 bytes)");
	assert_null(ev->res_damage);
	scep_event_free(ev);

	x.req.parse_error = 1;
	x.parse_error = 1;
	x.error_text = "request line of 307268 bytes, over the 262144 read";
	ev = scep_event_from_exchange(&x, NULL);
	assert_string_equal(ev->req_damage, "HTTP parse error: request line of 307268 bytes, over the 262144 read; "
			    "TCP retransmission with different bytes (12 bytes)");
	scep_event_free(ev);
}

/* ---- scep_decode_text: one message as a user pastes it ---- */

static struct scep_msg *text_decode(const char *text, size_t len, const char *want_how)
{
	char *how = NULL;
	struct scep_msg *m = scep_decode_text((const uint8_t *)text, len, NULL, &how);

	assert_non_null(m);
	assert_non_null(how);
	assert_string_equal(how, want_how);
	free(how);
	return m;
}

static void expect_ok(struct scep_msg *m)
{
	if (!m->decoded)
		fail_msg("not decoded: %s", m->error ? m->error : "?");
	assert_int_equal(m->message_type, SCEP_MT_PKCSREQ);
	assert_string_equal(m->transaction_id, TXID_OK);
	scep_msg_free(m);
}

static void test_decode_text_forms(void **state)
{
	size_t len, blen, i;
	uint8_t *der = test_load("pkcsreq.der", &len);
	uint8_t *ber = test_load("pkcsreq-ber.der", &blen);
	char *b = b64(der, len), *text, *enc;
	char *how = NULL;
	struct scep_msg *m;

	(void)state;
	m = scep_decode_text(der, len, NULL, &how);
	assert_string_equal(how, "DER");
	free(how);
	expect_ok(m);
	m = scep_decode_text(ber, blen, NULL, &how);
	assert_string_equal(how, "BER");
	free(how);
	expect_ok(m);

	/* PEM with 64-column lines, after a log prefix */
	text = malloc(strlen(b) + strlen(b) / 64 + 128);
	assert_non_null(text);
	{
		char *o = text + sprintf(text, "2026-03-02 client: -----BEGIN PKCS7-----\n");

		for (i = 0; b[i]; i++) {
			*o++ = b[i];
			if (i % 64 == 63)
				*o++ = '\n';
		}
		strcpy(o, "\n-----END PKCS7-----\n");
	}
	expect_ok(text_decode(text, strlen(text), "PEM"));
	free(text);

	/* bare base64 with CRLF, then unpadded URL-safe */
	expect_ok(text_decode(b, strlen(b), "base64"));
	text = strdup(b);
	for (i = 0; text[i]; i++) {
		if (text[i] == '+')
			text[i] = '-';
		else if (text[i] == '/')
			text[i] = '_';
		else if (text[i] == '=')
			text[i] = '\0';
	}
	expect_ok(text_decode(text, strlen(text), "base64"));
	free(text);

	/* percent-encoded base64 alone */
	enc = pct(b, 0);
	expect_ok(text_decode(enc, strlen(enc), "percent-encoded base64"));

	/* an iOS profiled log line: the URL ends at white space */
	text = malloc(strlen(enc) + 256);
	sprintf(text, "Mar  2 09:14:07 iPhone profiled[231] <Debug>: Performing synchronous URL request: "
		"GET http://ndes.contoso.local/certsrv/mscep/mscep.dll?operation=PKIOperation&message=%s "
		"(timeout 60)", enc);
	expect_ok(text_decode(text, strlen(text), "URL message="));
	/* an Android jscep line, raw base64 with '+' kept, a parameter after it */
	sprintf(text, "03-02 09:14:07.120 I/jscep: transId=%s GET /scep?operation=PKIOperation&message=%s"
		"&foo=1", TXID_OK, b);
	expect_ok(text_decode(text, strlen(text), "URL message="));
	free(text);

	/* the certmonger request line from certmonger-get-enroll.pcap */
	free(der);
	der = test_load("certmonger-get-request.txt", &len);
	m = text_decode((const char *)der, len, "URL message=");
	assert_int_equal(m->decoded, 1);
	assert_int_equal(m->der_len, 2726);
	scep_msg_free(m);

	free(enc);
	free(b);
	free(der);
	free(ber);
}

static void test_decode_text_failures(void **state)
{
	struct scep_msg *m;

	(void)state;
	m = text_decode("hello, world", 12, "unrecognised");
	assert_int_equal(m->decoded, 0);
	assert_non_null(strstr(m->error, "not a pkiMessage"));
	scep_msg_free(m);
	m = text_decode("", 0, "unrecognised");
	assert_string_equal(m->error, "empty input");
	scep_msg_free(m);
	m = scep_decode_text(NULL, 0, NULL, NULL);
	assert_non_null(m);
	assert_int_equal(m->decoded, 0);
	scep_msg_free(m);
	m = text_decode("GET /scep?operation=PKIOperation&message= HTTP/1.1", 51, "URL message=");
	assert_string_equal(m->error, "message= is empty");
	scep_msg_free(m);
	m = text_decode("?message=MII*Bad", 16, "URL message=");
	assert_int_equal(m->decoded, 0);
	assert_non_null(strstr(m->error, "message=: byte 0x2a at offset 3 is not base64"));
	scep_msg_free(m);
	/* base64 of something that is not a pkiMessage */
	m = text_decode("aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ=", 32, "base64");
	assert_int_equal(m->decoded, 0);
	assert_non_null(strstr(m->error, "not a CMS ContentInfo"));
	scep_msg_free(m);
}

/* ---- message= as logs and proxies mangle it, and what else decode takes ---- */

/* The certmonger line (a real GET from certmonger-get-enroll.pcap) with its
 * percent escapes replaced: each form below must give the message back. */
#define CERTMONGER_TXID "5144491690879529360878486159391127810268425020412081902742954422986051904389"

static char *replace_all(const char *s, const char *from, const char *to)
{
	size_t n = 0, fl = strlen(from), tl = strlen(to);
	const char *p;
	char *out, *o;

	for (p = s; (p = strstr(p, from)) != NULL; p += fl)
		n++;
	out = malloc(strlen(s) + n * (tl > fl ? tl - fl : 0) + 1);
	assert_non_null(out);
	for (o = out; *s;) {
		if (!strncmp(s, from, fl)) {
			memcpy(o, to, tl);
			o += tl;
			s += fl;
		} else {
			*o++ = *s++;
		}
	}
	*o = 0;
	return out;
}

static struct scep_input *input_of(const char *text)
{
	struct scep_input *in = scep_decode_input((const uint8_t *)text, strlen(text), NULL);

	assert_non_null(in);
	return in;
}

static void expect_certmonger(struct scep_input *in, const char *repairs)
{
	assert_int_equal(in->kind, SCEP_INPUT_MESSAGE);
	if (!in->msg->decoded)
		fail_msg("not decoded: %s", in->msg->error ? in->msg->error : "?");
	assert_string_equal(in->msg->transaction_id, CERTMONGER_TXID);
	assert_int_equal(in->len, 2726);
	if (repairs)
		assert_string_equal(in->repairs, repairs);
	else
		assert_null(in->repairs);
	scep_input_free(in);
}

static void test_decode_message_repairs(void **state)
{
	size_t len;
	char *line = (char *)test_load("certmonger-get-request.txt", &len);
	char *raw, *twice, *json, *spaced, *t;

	(void)state;
	expect_certmonger(input_of(line), NULL);
	/* percent-encoded twice: %2B became %252B */
	twice = replace_all(line, "%", "%25");
	expect_certmonger(input_of(twice), "double percent-encoding (%252B) undone");
	/* a JSON log: the raw base64 with its slashes escaped, a quote after */
	raw = replace_all(line, "%2B", "+");
	t = replace_all(raw, "%2F", "/");
	free(raw);
	raw = replace_all(t, "%3D", "=");
	free(t);
	t = replace_all(raw, "/", "\\/");
	json = malloc(strlen(t) + 32);
	assert_non_null(json);
	sprintf(json, "{\"url\":\"%s\"}", t);
	free(t);
	expect_certmonger(input_of(json), "JSON-escaped slashes (\\/) undone");
	/* a form-decoding hop made every '+' a space; the log goes on after */
	t = replace_all(raw, "+", " ");
	spaced = malloc(strlen(t) + 32);
	assert_non_null(spaced);
	sprintf(spaced, "%s HTTP/1.1 200", t);
	free(t);
	expect_certmonger(input_of(spaced), "spaces read as '+'");
	free(spaced);
	free(json);
	free(raw);
	free(twice);
	free(line);
}

static void test_decode_base64_cut(void **state)
{
	size_t len;
	char *enc = (char *)test_load("certmonger-get-request.txt", &len);
	char *t1 = replace_all(enc, "%2B", "+"), *t2 = replace_all(t1, "%2F", "/");
	char *line = replace_all(t2, "%3D", "="), *at = strstr(line, "message=");
	struct scep_input *in;
	size_t keep;

	(void)state;
	free(enc);
	free(t1);
	free(t2);
	assert_non_null(at);
	/* cut one character into a 4-character group (what a log's line
	 * limit does one time in four): 1 left over, the rest decodes */
	keep = (size_t)(at - line) + strlen("message=") + 400 * 4 + 1;
	line[keep] = '\0';
	in = input_of(line);
	assert_int_equal(in->b64_leftover, 1);
	assert_int_equal(in->len, 1200);
	assert_int_equal(in->kind, SCEP_INPUT_MESSAGE);
	assert_int_equal(in->msg->decoded, 0);
	assert_int_equal(in->msg->partial, 1);
	assert_int_equal(in->msg->cut, 1);
	assert_non_null(strstr(in->msg->error, "truncated at byte 1200 of 2726"));
	scep_input_free(in);
	free(line);
}

static void test_decode_input_kinds(void **state)
{
	static const struct {
		const char *file;
		enum scep_input_kind kind;
		const char *form, *container;
		size_t n;
	} cases[] = {
		{ "getcacaps.txt", SCEP_INPUT_CAPS, "text", NULL, 7 },
		{ "getcacert.der", SCEP_INPUT_CERTS, "DER", "one DER certificate", 1 },
		{ "ca-ra.p7b", SCEP_INPUT_CERTS, "DER", "certificates-only PKCS#7", 2 },
		{ "ndes-ca-ra.p7b", SCEP_INPUT_CERTS, "DER", "certificates-only PKCS#7", 3 },
		{ "ca.pem", SCEP_INPUT_CERTS, "PEM", "PEM certificates", 1 },
		{ "pkcsreq.der", SCEP_INPUT_MESSAGE, "DER", NULL, 0 },
	};
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *b = test_load(cases[i].file, &len);
		struct scep_input *in = scep_decode_input(b, len, NULL);

		assert_non_null(in);
		assert_int_equal(in->kind, cases[i].kind);
		assert_string_equal(in->form, cases[i].form);
		if (cases[i].kind == SCEP_INPUT_CAPS) {
			assert_int_equal(in->n_caps, cases[i].n);
			assert_string_equal(in->caps[0], "Renewal");
		} else if (cases[i].kind == SCEP_INPUT_CERTS) {
			assert_string_equal(in->certs_container, cases[i].container);
			assert_int_equal(in->n_certs, cases[i].n);
		}
		scep_input_free(in);
		free(b);
	}
	/* the same bytes through scep_decode_text: no pkiMessage, said so */
	{
		uint8_t *b = test_load("getcacert.der", &len);
		struct scep_msg *m = scep_decode_text(b, len, NULL, NULL);

		assert_int_equal(m->decoded, 0);
		assert_string_equal(m->error, "not a pkiMessage: one DER certificate with 1 certificate (a GetCACert answer)");
		scep_msg_free(m);
		free(b);
	}
}

/* ---- NDES CertReps: signers from GetCACert, envelopes that are not there ---- */

#define CA_SUBJECT "CN=scepdump Test CA,O=scepdump test,C=US"

/* A CertRep shaped like NDES's: signed with the RA signing key of
 * ndes-ra.p7b (mk-ndes-ra.sh), sha256, no certificate carried, messageType
 * 3, the pkiStatus given, content the bytes given (NULL: none at all).
 * tamper flips the signature's last bit (the signature ends the DER). */
static uint8_t *ndes_certrep(const char *status, const uint8_t *content, size_t clen, int tamper,
			     size_t *outlen)
{
	char *cp = test_data_path("ndes-ra-sign.pem"), *kp = test_data_path("ndes-ra-sign.key");
	FILE *cf = fopen(cp, "r"), *kf = fopen(kp, "r");
	X509 *cert;
	EVP_PKEY *key;
	CMS_ContentInfo *sd;
	CMS_SignerInfo *si;
	BIO *in;
	unsigned char *out = NULL;
	unsigned flags = CMS_BINARY | (content ? 0 : CMS_DETACHED);
	ASN1_OBJECT *mt = OBJ_txt2obj("2.16.840.1.113733.1.9.2", 1);
	ASN1_OBJECT *st = OBJ_txt2obj("2.16.840.1.113733.1.9.3", 1);
	ASN1_OBJECT *tx = OBJ_txt2obj("2.16.840.1.113733.1.9.7", 1);
	uint8_t *ret;
	int n;

	assert_non_null(cf);
	assert_non_null(kf);
	cert = PEM_read_X509(cf, NULL, NULL, NULL);
	key = PEM_read_PrivateKey(kf, NULL, NULL, NULL);
	fclose(cf);
	fclose(kf);
	free(cp);
	free(kp);
	assert_non_null(cert);
	assert_non_null(key);
	in = content ? BIO_new_mem_buf(content, (int)clen) : BIO_new_mem_buf("", 0);
	sd = CMS_sign(NULL, NULL, NULL, NULL, flags | CMS_PARTIAL);
	assert_non_null(sd);
	si = CMS_add1_signer(sd, cert, key, EVP_sha256(), CMS_BINARY | CMS_NOCERTS);
	assert_non_null(si);
	assert_int_equal(CMS_signed_add1_attr_by_OBJ(si, mt, V_ASN1_PRINTABLESTRING, "3", 1), 1);
	assert_int_equal(CMS_signed_add1_attr_by_OBJ(si, st, V_ASN1_PRINTABLESTRING, status,
						 (int)strlen(status)), 1);
	assert_int_equal(CMS_signed_add1_attr_by_OBJ(si, tx, V_ASN1_PRINTABLESTRING, "ndes-tx", 7), 1);
	assert_int_equal(CMS_final(sd, in, NULL, flags), 1);
	n = i2d_CMS_ContentInfo(sd, &out);
	assert_true(n > 0);
	ret = malloc((size_t)n);
	assert_non_null(ret);
	memcpy(ret, out, (size_t)n);
	if (tamper)
		ret[n - 1] ^= 1;
	*outlen = (size_t)n;
	OPENSSL_free(out);
	ASN1_OBJECT_free(mt);
	ASN1_OBJECT_free(st);
	ASN1_OBJECT_free(tx);
	BIO_free(in);
	CMS_ContentInfo_free(sd);
	X509_free(cert);
	EVP_PKEY_free(key);
	return ret;
}

static void set_server(struct http_exchange *x, uint8_t last_octet)
{
	x->server.family = 4;
	x->server.addr[0] = 192;
	x->server.addr[1] = 0;
	x->server.addr[2] = 2;
	x->server.addr[3] = last_octet;
	x->server.port = 443;
}

/* GetCACert answered by server .last_octet with the body of file. */
static struct scep_event *getcacert_from(const struct scep_keys *k, uint8_t last_octet, const char *file)
{
	size_t len;
	uint8_t *body = test_load(file, &len);
	struct http_exchange x;
	struct scep_event *ev;

	exchange_init(&x, "GET", "operation=GetCACert&message=NDES");
	set_server(&x, last_octet);
	respond(&x, 200, "application/x-x509-ca-ra-cert", body, len);
	ev = scep_event_from_exchange(&x, k);
	assert_non_null(ev);
	free(body);
	return ev;
}

/* A PKIOperation (the recorded PKCSReq) answered by server .last_octet
 * with rep. */
static struct scep_event *certrep_from(const struct scep_keys *k, uint8_t last_octet, const uint8_t *rep,
				       size_t rlen)
{
	size_t qlen;
	uint8_t *req = test_load("pkcsreq.der", &qlen);
	struct http_exchange x;
	struct scep_event *ev;

	exchange_init(&x, "POST", "operation=PKIOperation");
	set_server(&x, last_octet);
	x.req.body = req;
	x.req.body_len = qlen;
	x.req.body_wire_len = qlen;
	respond(&x, 200, "application/x-pki-message", rep, rlen);
	ev = scep_event_from_exchange(&x, k);
	assert_non_null(ev);
	assert_non_null(ev->reply);
	assert_int_equal(ev->reply->decoded, 1);
	free(req);
	return ev;
}

static const uint8_t NDES_NO_ENVELOPE[] = { 0x00 };

/* The RA signing certificate of the server's GetCACert answer names and
 * verifies the CertRep that carries none; another server's CertRep does
 * not find it. */
static void test_ndes_signer_from_getcacert(void **state)
{
	struct scep_keys *k = scep_keys_new();
	struct scep_event *ca, *ev;
	size_t len;
	uint8_t *rep = ndes_certrep("3", NDES_NO_ENVELOPE, 1, 0, &len);

	(void)state;
	assert_non_null(k);
	ca = getcacert_from(k, 10, "ndes-ra.p7b");
	assert_null(ca->problem);
	assert_int_equal(ca->n_ca_certs, 3);
	ev = certrep_from(k, 10, rep, len);
	assert_int_equal(ev->reply->n_other_certs, 0);
	assert_non_null(ev->reply->signer);
	assert_int_equal(ev->reply->signer_from, SCEP_SIGNER_GETCACERT);
	assert_string_equal(ev->reply->signer->role, "RA-signing");
	assert_string_equal(ev->reply->signer->serial, "21");
	assert_string_equal(ev->reply->signer_issuer, CA_SUBJECT);
	assert_string_equal(ev->reply->signer_serial, "21");
	assert_int_equal(ev->reply->signature_ok, 1);
	assert_null(ev->reply->signer_missing);
	assert_string_equal(scep_signer_source_name(ev->reply->signer_from), "GetCACert");
	{
		char *label = scep_signer_label(ev->reply);

		assert_string_equal(label, "signer (RA-signing certificate from GetCACert)");
		free(label);
	}
	scep_event_free(ev);
	/* another server: its GetCACert was not seen */
	ev = certrep_from(k, 11, rep, len);
	assert_null(ev->reply->signer);
	assert_int_equal(ev->reply->signature_ok, -1);
	assert_string_equal(ev->reply->signer_serial, "21");
	assert_non_null(ev->reply->signer_missing);
	scep_event_free(ev);
	scep_event_free(ca);
	free(rep);
	scep_keys_free(k);
}

/* A signature that does not match the known RA certificate is a failed
 * verification, not an unchecked one. */
static void test_ndes_signer_tampered(void **state)
{
	struct scep_keys *k = scep_keys_new();
	struct scep_event *ca, *ev;
	size_t len;
	uint8_t *rep = ndes_certrep("3", NDES_NO_ENVELOPE, 1, 1, &len);

	(void)state;
	assert_non_null(k);
	ca = getcacert_from(k, 10, "ndes-ra.p7b");
	ev = certrep_from(k, 10, rep, len);
	assert_non_null(ev->reply->signer);
	assert_int_equal(ev->reply->signer_from, SCEP_SIGNER_GETCACERT);
	assert_int_equal(ev->reply->signature_ok, 0);
	scep_event_free(ev);
	scep_event_free(ca);
	free(rep);
	scep_keys_free(k);
}

/* Without the GetCACert answer the signer is named by issuer and serial,
 * not verified, with what to do about it. */
static void test_ndes_signer_unknown(void **state)
{
	struct scep_keys *k = scep_keys_new();
	struct scep_event *ca, *ev;
	size_t len;
	uint8_t *rep = ndes_certrep("3", NDES_NO_ENVELOPE, 1, 0, &len);
	char err[256], *p;

	(void)state;
	assert_non_null(k);
	ev = certrep_from(k, 10, rep, len);
	assert_null(ev->reply->signer);
	assert_int_equal(ev->reply->signer_from, SCEP_SIGNER_UNKNOWN);
	assert_int_equal(ev->reply->signature_ok, -1);
	assert_string_equal(ev->reply->signer_issuer, CA_SUBJECT);
	assert_string_equal(ev->reply->signer_serial, "21");
	assert_non_null(ev->reply->signer_missing);
	assert_string_equal(ev->reply->signer_missing,
			    "certificate not in the capture (GetCACert not seen; give --ca-cert)");
	scep_event_free(ev);
	/* a GetCACert answer without it (the CA alone) */
	ca = getcacert_from(k, 10, "getcacert.der");
	ev = certrep_from(k, 10, rep, len);
	assert_null(ev->reply->signer);
	assert_string_equal(ev->reply->signer_missing,
			    "certificate not in the capture (not among the certificates GetCACert returned; "
			    "give --ca-cert)");
	scep_event_free(ev);
	scep_event_free(ca);
	/* --ca-cert names it as before */
	p = test_data_path("ndes-ra-sign.pem");
	assert_int_equal(scep_keys_load_certs(k, p, err, sizeof(err)), 0);
	free(p);
	ev = certrep_from(k, 10, rep, len);
	assert_int_equal(ev->reply->signer_from, SCEP_SIGNER_GIVEN);
	assert_int_equal(ev->reply->signature_ok, 1);
	assert_null(ev->reply->signer_missing);
	scep_event_free(ev);
	free(rep);
	scep_keys_free(k);
}

/* PENDING and FAILURE carry no envelope: NDES's single 0x00, or no
 * content at all, is no error. */
static void test_ndes_no_envelope(void **state)
{
	struct scep_keys *k = scep_keys_new();
	static const char *const statuses[] = { "3", "2" };
	struct scep_event *ev;
	size_t len, i;
	uint8_t *rep;

	(void)state;
	assert_non_null(k);
	for (i = 0; i < 2; i++) {
		rep = ndes_certrep(statuses[i], NDES_NO_ENVELOPE, 1, 0, &len);
		ev = certrep_from(k, 10, rep, len);
		assert_int_equal(ev->reply->pki_status, i ? SCEP_STATUS_FAILURE : SCEP_STATUS_PENDING);
		assert_null(ev->reply->error);
		assert_int_equal(ev->reply->envelope_broken, 0);
		assert_int_equal(ev->reply->enveloped, 0);
		assert_null(ev->problem);
		scep_event_free(ev);
		free(rep);
		rep = ndes_certrep(statuses[i], NULL, 0, 0, &len);
		ev = certrep_from(k, 10, rep, len);
		assert_null(ev->reply->error);
		assert_int_equal(ev->reply->envelope_broken, 0);
		assert_null(ev->problem);
		scep_event_free(ev);
		free(rep);
	}
	scep_keys_free(k);
}

/* Content that should be an envelope and is none is a decode error of the
 * exchange (what scep_decode_errors counts), for SUCCESS, and for PENDING
 * when it is more than the 0x00. */
static void test_broken_envelope_counted(void **state)
{
	static const uint8_t garbage[] = { 0x30, 0x03, 0x02, 0x01, 0x05, 0xff };
	static const uint8_t not_der[] = { 0x05, 0x00, 0x41 };
	struct scep_keys *k = scep_keys_new();
	struct scep_event *ev;
	size_t len;
	uint8_t *rep;

	(void)state;
	assert_non_null(k);
	rep = ndes_certrep("0", garbage, sizeof(garbage), 0, &len);
	ev = certrep_from(k, 10, rep, len);
	assert_int_equal(ev->reply->pki_status, SCEP_STATUS_SUCCESS);
	assert_int_equal(ev->reply->envelope_broken, 1);
	assert_non_null(ev->reply->error);
	assert_non_null(strstr(ev->reply->error, "pkcsPKIEnvelope"));
	assert_non_null(ev->problem);
	assert_non_null(strstr(ev->problem, "reply: pkcsPKIEnvelope"));
	scep_event_free(ev);
	free(rep);
	rep = ndes_certrep("3", not_der, sizeof(not_der), 0, &len);
	ev = certrep_from(k, 10, rep, len);
	assert_int_equal(ev->reply->envelope_broken, 1);
	assert_non_null(ev->problem);
	scep_event_free(ev);
	free(rep);
	scep_keys_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percent_decode),
		cmocka_unit_test(test_query_param),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_get_pkioperation_variants),
		cmocka_unit_test(test_missing_padding_lengths),
		cmocka_unit_test(test_post_der_and_reply),
		cmocka_unit_test(test_post_base64),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_cacert_label_lies),
		cmocka_unit_test(test_error_text),
		cmocka_unit_test(test_http_damage),
		cmocka_unit_test(test_decode_text_forms),
		cmocka_unit_test(test_decode_text_failures),
		cmocka_unit_test(test_decode_message_repairs),
		cmocka_unit_test(test_decode_base64_cut),
		cmocka_unit_test(test_decode_input_kinds),
		cmocka_unit_test(test_ndes_signer_from_getcacert),
		cmocka_unit_test(test_ndes_signer_tampered),
		cmocka_unit_test(test_ndes_signer_unknown),
		cmocka_unit_test(test_ndes_no_envelope),
		cmocka_unit_test(test_broken_envelope_counted),
	};

	return cmocka_run_group_tests_name("scep", tests, NULL, NULL);
}
