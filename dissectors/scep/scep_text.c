/* scep_text.c - the text forms SCEP data travels in: base64 (as clients,
 * logs and proxies really write it), GetCACaps lists, and message= values.
 * Trusts none of its input; every byte is read through struct rd. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "http.h"
#include "scep_text.h"
#include "strutil.h"

int scep_find_ci(struct rd *r, const char *needle)
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

/* ---- base64 ---- */

static int b64_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

int scep_is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* The base64 characters of in, armour and white space dropped, the URL-safe
 * alphabet mapped to the standard one. Returns the count, or -1 with *why. */
static long b64_clean(const uint8_t *in, size_t len, uint8_t *clean, char **why)
{
	struct rd r;
	uint8_t c;
	size_t n = 0, pos = 0;
	int seen_eq = 0, armoured = 0;

	rd_init(&r, in, len);
	{
		struct rd t = r;

		/* PEM armour: drop the BEGIN line; the END line stops us */
		if (scep_find_ci(&t, "-----BEGIN") && rd_left(&t) + 10 == len) {
			while (rd_u8(&t, &c) && c != '\n')
				;
			pos = len - rd_left(&t);
			r = t;
			armoured = 1;
		}
	}
	while (rd_u8(&r, &c)) {
		pos++;
		if (scep_is_space(c))
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
			return -1;
		}
		if (seen_eq) {
			*why = str_printf("'=' padding in the middle of the base64 text (offset %zu)", pos - 1);
			return -1;
		}
		clean[n++] = c;
	}
	return (long)n;
}

int scep_base64_decode(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen,
		       size_t *leftover, char **why)
{
	uint8_t *clean;
	size_t n, pad = 0;
	long got;
	int dec;

	*out = NULL;
	*outlen = 0;
	if (leftover)
		*leftover = 0;
	clean = malloc(len + 4);
	if (!clean)
		return -1;
	got = b64_clean(in, len, clean, why);
	if (got < 0) {
		free(clean);
		return -1;
	}
	n = (size_t)got;
	/* One character alone cannot make a byte: the text was cut (a log
	 * line's limit) one character into a group. What came before is
	 * still the message's start. */
	if (n % 4 == 1 && leftover && n > 1) {
		n--;
		*leftover = 1;
	} else if (n % 4 == 1) {
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

int scep_looks_base64(const uint8_t *p, size_t len)
{
	struct rd r;
	uint8_t c;
	size_t alpha = 0;

	rd_init(&r, p, len);
	if (len >= 10 && scep_find_ci(&r, "-----BEGIN") && rd_left(&r) == len - 10)
		return 1;
	rd_init(&r, p, len);
	while (rd_u8(&r, &c)) {
		if (b64_char(c) || c == '-' || c == '_')
			alpha++;
		else if (c != '=' && !scep_is_space(c))
			return 0;
	}
	return alpha >= 16;
}

/* ---- GetCACaps ---- */

/* One line of a caps body, trimmed and made printable, into word (at
 * most SCEP_CAP_LEN_MAX characters); *full counts what the line held. */
static size_t caps_line(struct rd *r, char *word, size_t *full)
{
	size_t n = 0;
	uint8_t c;

	*full = 0;
	while (rd_u8(r, &c) && c != '\n') {
		if ((c == ' ' || c == '\t' || c == '\r') && n == 0)
			continue;
		(*full)++;
		if (c == '\r' || c == '\t')
			c = ' ';
		if (n < SCEP_CAP_LEN_MAX)
			word[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	while (n > 0 && word[n - 1] == ' ')
		n--;
	word[n] = '\0';
	return n;
}

void scep_caps_parse(const uint8_t *p, size_t len, char ***caps, size_t *n, char **problem)
{
	struct rd r;
	size_t lines = 0, too_long = 0;

	rd_init(&r, p, len);
	while (rd_left(&r) > 0) {
		char word[SCEP_CAP_LEN_MAX + 1];
		size_t full;

		if (caps_line(&r, word, &full) == 0)
			continue;
		lines++;
		if (full > SCEP_CAP_LEN_MAX)
			too_long++;
		if (*n < SCEP_CAPS_MAX)
			str_list_add(caps, n, strdup(word));
	}
	if (lines > SCEP_CAPS_MAX)
		*problem = str_printf("GetCACaps: %zu capabilities, only the first %d kept",
				      lines, SCEP_CAPS_MAX);
	else if (too_long)
		*problem = str_printf("GetCACaps: %zu capabilities longer than %d characters cut",
				      too_long, SCEP_CAP_LEN_MAX);
}

/* RFC 8894 section 3.5.2 and the drafts before it. */
static int is_known_cap(const char *w)
{
	static const char *const known[] = {
		"AES", "DES3", "GetNextCACert", "POSTPKIOperation", "Renewal", "SHA-1",
		"SHA-256", "SHA-512", "SCEPStandard", "Update",
	};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcasecmp(w, known[i]))
			return 1;
	return 0;
}

static int cap_word_char(uint8_t c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.';
}

int scep_looks_like_caps(const uint8_t *p, size_t len)
{
	struct rd r;
	int known = 0;

	rd_init(&r, p, len);
	while (rd_left(&r) > 0) {
		char word[SCEP_CAP_LEN_MAX + 1];
		size_t full, i, n = caps_line(&r, word, &full);

		if (n == 0)
			continue;
		if (full > SCEP_CAP_LEN_MAX)
			return 0;
		for (i = 0; i < n; i++)
			if (!cap_word_char((uint8_t)word[i]))
				return 0;
		known |= is_known_cap(word);
	}
	return known;
}

/* ---- message= ---- */

/* Ends a message= value in a log line or URL: the next parameter, the
 * quote or bracket a log put around the URL, a line end. None of these is
 * in base64 or its percent-encoding. A space ends it too, unless the value
 * goes on after it (see take_words). */
static int ends_param(uint8_t c)
{
	return c == '&' || c == '"' || c == '\'' || c == '<' || c == '>' || c == ')' || c == ']' ||
	       c == ';' || c == ',' || c == '\r' || c == '\n' || c == '\t' || c == '\f' || c == '\v';
}

/* One word of the value up to a space or the end of the value, JSON "\/"
 * unescaped; a backslash before anything else ends the value: the "\" a
 * Console copy puts at the end of each line. Other bytes are kept for the
 * base64 decoder to name. Returns 1 when the word ended at a space or the
 * value's end, 0 when a backslash ended the value. */
static int take_word(struct rd *r, char *out, size_t *o, unsigned *repairs)
{
	uint8_t c;
	int any = 0;

	while (rd_left(r) > 0) {
		c = *rd_ptr(r);
		if (c == ' ' || ends_param(c))
			return any;
		if (c == '\\') {
			struct rd t = *r;
			uint8_t next = 0;

			rd_skip(&t, 1);
			if (!rd_u8(&t, &next) || next != '/')
				return 0;       /* the value ends here */
			*r = t;
			out[(*o)++] = '/';
			*repairs |= SCEP_REPAIR_JSON_SLASH;
			any = 1;
			continue;
		}
		rd_skip(r, 1);
		out[(*o)++] = (char)c;
		any = 1;
	}
	return any;
}

/* 1 when the word at r is base64 (or its percent-encoding) up to the next
 * space or the end of the value. */
static int word_is_base64(const struct rd *r)
{
	struct rd w = *r;
	size_t n = 0;
	uint8_t c;

	while (rd_u8(&w, &c) && c != ' ' && !ends_param(c)) {
		if (c == '\\') {
			if (!rd_u8(&w, &c) || c != '/')
				return 0;
			n++;
			continue;
		}
		if (!b64_char(c) && c != '%' && c != '=' && c != '-' && c != '_')
			return 0;
		n++;
	}
	return n > 0;
}

/* Percent-decodes until no escape of a base64 character is left: a value
 * encoded twice (%252B) reads as %2B after the first pass. */
static char *percent_decode_all(const char *s, size_t n, unsigned *repairs, size_t *out_len)
{
	char *text = http_percent_decode(s, n, 0, out_len);
	int pass;

	for (pass = 0; text && pass < 2; pass++) {
		struct rd r, t;
		char *again;

		rd_init(&r, text, *out_len);
		t = r;
		if (!scep_find_ci(&t, "%2B") && (t = r, !scep_find_ci(&t, "%2F")) &&
		    (t = r, !scep_find_ci(&t, "%3D")))
			break;
		again = http_percent_decode(text, *out_len, 0, out_len);
		free(text);
		text = again;
		*repairs |= SCEP_REPAIR_DOUBLE_PERCENT;
	}
	return text;
}

/* After a word that ended at r: a line break a paste or a log's wrap put
 * inside the value, skipped when the value goes on right after it. */
static int skip_line_break(struct rd *r)
{
	struct rd t = *r;
	uint8_t c = 0;

	if (rd_u8(&t, &c) && c == '\r' && rd_left(&t) && *rd_ptr(&t) == '\n')
		rd_skip(&t, 1);
	else if (c != '\n' && c != '\r')
		return 0;
	if (!word_is_base64(&t))
		return 0;
	*r = t;
	return 1;
}

char *scep_message_value(const uint8_t *p, size_t len, unsigned flags, unsigned *repairs,
			 size_t *out_len, int *found)
{
	struct rd r;
	char *raw, *text;
	size_t o = 0;

	*found = 0;
	*out_len = 0;
	rd_init(&r, p, len);
	if (!scep_find_ci(&r, "message="))
		return NULL;
	*found = 1;
	raw = malloc(rd_left(&r) + 1);
	if (!raw)
		return NULL;
	/* words after a space go on only while they are base64 too: a log's
	 * own words after the URL ("HTTP/1.1", "installed.") are not */
	while (take_word(&r, raw, &o, repairs) && rd_left(&r) > 1) {
		struct rd next = r;

		if ((flags & SCEP_VALUE_JOIN_LINES) && skip_line_break(&r)) {
			*repairs |= SCEP_REPAIR_LINE_BREAK;
			continue;
		}
		rd_skip(&next, 1);
		if (!(flags & SCEP_VALUE_SPACES_AS_PLUS) || *rd_ptr(&r) != ' ' || !word_is_base64(&next))
			break;
		raw[o++] = '+';
		*repairs |= SCEP_REPAIR_SPACE_PLUS;
		r = next;
	}
	text = percent_decode_all(raw, o, repairs, out_len);
	free(raw);
	return text;
}

char *scep_repairs_text(unsigned repairs)
{
	char buf[256] = "";

	if (repairs & SCEP_REPAIR_DOUBLE_PERCENT)
		strcat(buf, "double percent-encoding (%252B) undone");
	if (repairs & SCEP_REPAIR_JSON_SLASH)
		strcat(buf, buf[0] ? ", JSON-escaped slashes (\\/) undone" : "JSON-escaped slashes (\\/) undone");
	if (repairs & SCEP_REPAIR_SPACE_PLUS)
		strcat(buf, buf[0] ? ", spaces read as '+'" : "spaces read as '+'");
	if (repairs & SCEP_REPAIR_LINE_BREAK)
		strcat(buf, buf[0] ? ", a line break inside the value joined" : "a line break inside the value joined");
	return buf[0] ? strdup(buf) : NULL;
}
