/* fuzz_scep_exchange.c - SCEP classification and event building
 * (dissectors/scep/scep.c, and through it pkcs7.c) from one HTTP exchange made
 * of the input. Input layout (see make-corpus.py, which writes seeds in it):
 *
 *   byte 0  bits 0-2 operation: 0 GetCACaps, 1 GetCACert, 2 GetNextCACert,
 *                    3 PKIOperation, 4 query taken raw (no operation= added),
 *                    5 PKIOperation with "message=" prefixed to the query,
 *                    6 an unknown operation name, 7 no query at all
 *           bit 3    POST (else GET)
 *           bits 4-5 status: 200, 200, 500, no response
 *           bits 6-7 response Content-Type: none, x-pki-message,
 *                    x-x509-ca-ra-cert, text/html
 *   byte 1  bit 0 request body capped, bit 1 response body capped,
 *           bit 2 damaged, bit 3 no keys, bit 4 request Content-Type
 *           x-pki-message, bit 5 parse error, bit 6 no Host
 *   query   bytes up to the first '\n' (the '\n' is dropped)
 *   2 bytes big-endian request body length (cut to what is left)
 *   request body, then the response body: the rest
 *
 * Each part is copied into its own exact-size buffer so ASan catches reads
 * past any of them. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "http.h"
#include "scep.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Set once, read-only afterwards: the key store is the harness's fixture. */
static struct scep_keys *keys;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	keys = fuzz_load_fixture_keys();
	return 0;
}

static void touch_event(const struct scep_event *ev)
{
	size_t i;

	if (!ev)
		return;
	fuzz_touch_str(ev->op_name);
	fuzz_touch_str(ev->host);
	fuzz_touch_str(ev->method);
	fuzz_touch_str(ev->path);
	fuzz_touch_str(ev->status_text);
	fuzz_touch_str(ev->res_content_type);
	fuzz_touch_str(ev->req_content_type);
	fuzz_touch_str(ev->location);
	fuzz_touch_str(ev->message_param);
	fuzz_touch_msg(ev->request);
	for (i = 0; i < ev->n_caps; i++)
		fuzz_touch_str(ev->caps[i]);
	for (i = 0; i < ev->n_ca_certs; i++)
		fuzz_touch_cert(ev->ca_certs[i]);
	fuzz_touch_msg(ev->reply);
	fuzz_touch_str(ev->error_text);
	fuzz_touch_str(ev->problem);
	fuzz_touch_str(scep_op_name(ev->op));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ops[] = {
		"GetCACaps", "GetCACert", "GetNextCACert", "PKIOperation",
		NULL, "PKIOperation", "GetCRLThing", NULL,
	};
	static const char *const res_types[] = {
		NULL, "application/x-pki-message", "application/x-x509-ca-ra-cert",
		"text/html; charset=utf-8",
	};
	static const int statuses[] = { 200, 200, 500, 0 };
	struct http_exchange x;
	struct scep_event *ev;
	uint8_t sel, flags, *req_body, *res_body;
	const uint8_t *q, *nl;
	size_t qlen, rest, req_len, uri_len;
	char *query = NULL, *uri, *raw;
	const char *op;

	if (size < 2)
		return 0;
	sel = data[0];
	flags = data[1];
	data += 2;
	size -= 2;

	q = data;
	nl = memchr(data, '\n', size);
	qlen = nl ? (size_t)(nl - data) : size;
	rest = nl ? size - qlen - 1 : 0;
	data = nl ? nl + 1 : data + size;
	req_len = 0;
	if (rest >= 2) {
		req_len = ((size_t)data[0] << 8) | data[1];
		data += 2;
		rest -= 2;
	} else {
		rest = 0;
	}
	if (req_len > rest)
		req_len = rest;
	req_body = fuzz_dup(data, req_len);
	res_body = fuzz_dup(data + req_len, rest - req_len);

	/* the query as libhtp hands it over: raw, NUL-terminated */
	raw = fuzz_strdup(q, qlen);
	op = ops[sel & 7];
	if ((sel & 7) == 7) {
		query = NULL;
	} else if ((sel & 7) == 4) {
		query = fuzz_strdup(q, qlen);
	} else {
		size_t n = strlen("operation=&message=") + strlen(op) + qlen + 1;

		query = malloc(n);
		if (!query)
			abort();
		snprintf(query, n, "operation=%s%s%s", op,
			 (sel & 7) == 5 ? "&message=" : (qlen ? "&" : ""), raw);
	}
	uri_len = strlen("/cgi-bin/pkiclient.exe?") + (query ? strlen(query) : 0) + 1;
	uri = malloc(uri_len);
	if (!uri)
		abort();
	snprintf(uri, uri_len, "/cgi-bin/pkiclient.exe%s%s", query ? "?" : "", query ? query : "");

	memset(&x, 0, sizeof(x));
	x.flow_id = 1;
	x.seq = 1;
	x.client.family = 4;
	memcpy(x.client.addr, "\x0a\x00\x00\x02", 4);
	x.client.port = 50000;
	x.server.family = 4;
	memcpy(x.server.addr, "\x0a\x00\x00\x01", 4);
	x.server.port = 80;
	x.version = HTTP_V1;
	x.host = (flags & 0x40) ? NULL : "ca.example";
	x.method = (sel & 0x08) ? "POST" : "GET";
	x.uri = uri;
	x.path = "/cgi-bin/pkiclient.exe";
	x.query = query;
	x.status = statuses[(sel >> 4) & 3];
	x.status_text = x.status == 200 ? "OK" : x.status ? "Internal Server Error" : NULL;
	x.server_header = x.status ? "fuzz" : NULL;
	x.connection = NULL;
	x.location = NULL;
	x.req.present = 1;
	x.req.first_ts_ns = 1000;
	x.req.last_ts_ns = 2000;
	x.req.first_frame = 1;
	x.req.last_frame = 2;
	x.req.body = req_body;
	x.req.body_len = req_len;
	x.req.body_wire_len = req_len + ((flags & 1) ? 100 : 0);
	x.req.body_capped = flags & 1;
	x.req.content_type = (flags & 0x10) ? "application/x-pki-message" : NULL;
	if (x.status) {
		x.res.present = 1;
		x.res.first_ts_ns = 3000;
		x.res.last_ts_ns = 4000;
		x.res.first_frame = 3;
		x.res.last_frame = 4;
		x.res.body = res_body;
		x.res.body_len = rest - req_len;
		x.res.body_wire_len = x.res.body_len + ((flags & 2) ? 100 : 0);
		x.res.body_capped = (flags & 2) >> 1;
		x.res.content_type = res_types[sel >> 6];
	}
	x.damaged = (flags & 4) >> 2;
	x.gap_bytes = x.damaged ? 10 : 0;
	x.parse_error = (flags & 0x20) >> 5;
	x.error_text = x.parse_error ? "invalid request line or headers" : NULL;

	/* the pipeline's contract: only exchanges classified as SCEP */
	if (scep_classify(&x) != SCEP_OP_NONE) {
		ev = scep_event_from_exchange(&x, (flags & 8) ? NULL : keys);
		touch_event(ev);
		scep_event_free(ev);
	}

	free(uri);
	free(query);
	free(raw);
	free(req_body);
	free(res_body);
	return 0;
}
