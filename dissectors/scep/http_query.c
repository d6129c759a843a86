/* http_query.c - query-string parameters and percent-decoding for the SCEP
 * layer (operation=, message=), and the one rule that makes a query a SCEP
 * candidate for both HTTP layers. The query is raw wire text: it is read
 * through struct rd and never trusted to be well-formed. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "reader.h"
#include "strutil.h"

char *http_percent_decode(const char *value, size_t len, int plus_is_space,
			  size_t *out_len)
{
	struct rd r;
	char *out, *o;
	uint8_t c;

	if (!value)
		len = 0;
	out = malloc(len + 1);
	if (!out)
		return NULL;
	o = out;
	rd_init(&r, value, len);
	while (rd_u8(&r, &c)) {
		if (c == '%') {
			/* Peek two bytes; a bad escape is kept literally, as
			 * IIS and most servers do. */
			struct rd t = r;
			uint8_t h, l;

			if (rd_u8(&t, &h) && rd_u8(&t, &l) && str_hex_digit(h) >= 0 && str_hex_digit(l) >= 0) {
				*o++ = (char)(str_hex_digit(h) << 4 | str_hex_digit(l));
				r = t;
				continue;
			}
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		*o++ = (char)c;
	}
	*o = '\0';
	if (out_len)
		*out_len = (size_t)(o - out);
	return out;
}

/* Compares the raw parameter name in r to name, ignoring case. */
static int name_matches(struct rd r, const char *name)
{
	size_t n = strlen(name), i;
	uint8_t c;

	if (rd_left(&r) != n)
		return 0;
	for (i = 0; i < n; i++) {
		if (!rd_u8(&r, &c) || tolower(c) != tolower((unsigned char)name[i]))
			return 0;
	}
	return 1;
}

const char *http_query_param(const char *query, const char *name, size_t *len)
{
	struct rd q;

	if (!query || !name)
		return NULL;
	rd_init(&q, query, strlen(query));
	while (rd_left(&q) > 0) {
		struct rd field, key, start = q;
		size_t flen = 0, klen = 0;
		uint8_t c;

		/* one field: up to '&' (';' does not separate: see
		 * http_query_scan) */
		while (rd_u8(&q, &c) && c != '&')
			flen++;
		rd_sub(&start, flen, &field);
		key = field;
		{
			struct rd t = field;

			while (rd_u8(&t, &c) && c != '=')
				klen++;
		}
		rd_sub(&field, klen, &key);
		if (name_matches(key, name)) {
			/* skip the '=' if there is one */
			rd_skip(&field, rd_left(&field) > 0 ? 1 : 0);
			if (len)
				*len = rd_left(&field);
			return (const char *)rd_ptr(&field);
		}
	}
	return NULL;
}

/* Only '&' separates parameters. RFC 8894 section 4.1 gives the query as
 * "operation=OPERATION&message=MESSAGE"; clients build it that way (sscep
 * and strongSwan's scepclient format "%s?operation=%s&message=%s"), and
 * servers split it at '&' alone: micromdm's scepserver reads Go's
 * URL.Query(), which stopped splitting at ';' in Go 1.17; NDES reads
 * IIS/ASP.NET's QueryString, which never did. A request whose operation
 * follows ';' is therefore no SCEP request to the server either, and the
 * SCEP decoder (http_query_param) would not find its operation. */
static const char operation_param[] = "operation=";

void http_query_scan_init(struct http_query_scan *s)
{
	s->at_param = 1;
	s->matched = 0;
	s->found = 0;
}

int http_query_scan(struct http_query_scan *s, const uint8_t *p, size_t n)
{
	struct rd r;
	uint8_t b;

	rd_init(&r, p, n);
	while (!s->found && rd_u8(&r, &b)) {
		if (s->at_param && str_ascii_lower(b) == operation_param[s->matched]) {
			s->found = ++s->matched == sizeof(operation_param) - 1;
			continue;
		}
		s->at_param = b == '&';
		s->matched = 0;
	}
	return s->found;
}

int http_query_names_operation(const char *query, size_t len)
{
	struct http_query_scan s;

	if (!query)
		return 0;
	http_query_scan_init(&s);
	return http_query_scan(&s, (const uint8_t *)query, len);
}
