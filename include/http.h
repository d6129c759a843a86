/* http.h - one HTTP exchange (request + response) as the SCEP layer and the
 * sinks see it, whichever HTTP version or TLS carried it. */
#ifndef SCEPDUMP_HTTP_H
#define SCEPDUMP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"

enum http_version { HTTP_V1 = 1, HTTP_V2 = 2 };

struct http_side {
	int present;                /* this side was seen at all */
	uint64_t first_ts_ns, last_ts_ns;
	uint64_t first_frame, last_frame;
	const uint8_t *body;        /* decoded (de-chunked) body, may be NULL */
	size_t body_len;
	uint64_t body_wire_len;     /* full length even when capped */
	int body_capped;
	int damaged;                /* a TCP gap hit this side */
	uint64_t gap_bytes;         /* bytes known missing from it */
	/* bytes of this side that a TCP retransmission contradicted: which
	 * copy the endpoint took is unknown (reassembly kept the first) */
	uint64_t conflict_bytes;
	/* bytes of this side were not captured because the capture kept only
	 * this many bytes of each packet (a snap length); 0: none were */
	uint32_t snaplen;
	/* this side was not read whole: the HTTP parser failed on it, or a
	 * line of it was too long to keep (error_text says how) */
	int parse_error;
	const char *content_type;   /* NULL when absent */
	const char *content_length;
};

struct http_exchange {
	uint64_t flow_id;
	uint64_t seq;               /* 1-based index within the connection */
	struct endpoint client, server;
	enum http_version version;
	const char *host;
	const char *method;
	const char *uri;            /* as on the wire */
	const char *path;
	const char *query;          /* raw, not decoded; NULL when absent */
	int status;                 /* 0 when no response */
	const char *status_text;
	const char *server_header, *location, *connection;
	struct http_side req, res;
	/* a TCP gap, a contradicting retransmission (a side's conflict_bytes)
	 * or a parse failure (parse_error) hit this exchange */
	int damaged;
	uint64_t gap_bytes;
	/* the parser failed or met something malformed (then damaged too; a
	 * side's parse_error says which side when it is known), or a cap cut
	 * what was kept (--max-h2-header-list); counted in http_parse_errors */
	int parse_error;
	const char *error_text;     /* what went wrong parsing, if anything */
	/* How the exchange was cut short by the protocol rather than by the
	 * capture, for the timeline: HTTP/2 only, e.g. "RST_STREAM CANCEL by
	 * client" or "GOAWAY PROTOCOL_ERROR by server"; NULL otherwise. */
	const char *reset;
};

/* Called once per completed (or abandoned) exchange; borrowed for the call. */
typedef void (*http_exchange_cb)(void *arg, const struct http_exchange *x);

/* Percent-decodes value into a new NUL-terminated buffer. When plus_is_space
 * is 0, '+' stays '+' (base64 in message= is sent unescaped by some
 * clients, e.g. Cisco IOS). Returns NULL on allocation failure. */
char *http_percent_decode(const char *value, size_t len, int plus_is_space,
			  size_t *out_len);
/* Finds parameter name in a raw query string; returns a pointer into query
 * and sets *len, or NULL. Names compare case-insensitively; parameters are
 * separated by '&' only, as for the candidate rule below. */
const char *http_query_param(const char *query, const char *name, size_t *len);

/* The one rule, for HTTP/1 and HTTP/2 alike, that makes a request's query
 * a SCEP candidate: a parameter starting "operation=" (any case), where a
 * parameter starts the query or follows '&' ("xoperation=" does not count).
 * A scan takes the query in pieces (HTTP/1 reads a request line too long
 * to keep byte by byte); http_query_names_operation takes it whole. */
struct http_query_scan {
	int at_param;       /* the next byte starts a parameter */
	size_t matched;     /* bytes of "operation=" matched from there */
	int found;
};
/* Before the first byte after '?'. */
void http_query_scan_init(struct http_query_scan *s);
/* Feeds the next n bytes of the query; returns 1 once the rule matched. */
int http_query_scan(struct http_query_scan *s, const uint8_t *p, size_t n);
/* The rule over a whole raw query (len bytes; query NULL: 0). */
int http_query_names_operation(const char *query, size_t len);

#endif
