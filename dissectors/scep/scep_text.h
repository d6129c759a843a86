/* scep_text.h - private to the SCEP dissectors (scep.c, scep_input.c):
 * the text forms SCEP data travels in, base64 as clients really write it,
 * GetCACaps lists, and message= values as logs and proxies mangle them. */
#ifndef SCEPDUMP_SCEP_TEXT_H
#define SCEPDUMP_SCEP_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "reader.h"

#define SCEP_CAPS_MAX 64        /* GetCACaps lines kept */
#define SCEP_CAP_LEN_MAX 64     /* longest capability word kept */

/* White space as logs and PEM put it between and around base64 lines. */
int scep_is_space(uint8_t c);

/* Case-insensitive search; on success r is left just past the needle. */
int scep_find_ci(struct rd *r, const char *needle);

/* Base64 as clients really send it: line breaks (PEM-style, CRLF), no
 * padding, the URL-safe alphabet, PEM armour around it. A text cut in the
 * middle of a 4-character group decodes as far as whole bytes go; the one
 * character that cannot make a byte (length 1 mod 4) is counted in
 * *leftover (NULL: refused instead). Returns 0 and a malloc'ed buffer, or
 * -1 with *why set (malloc'ed). */
int scep_base64_decode(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen,
		       size_t *leftover, char **why);

/* Only the base64 alphabet and white space, and long enough to be a
 * message (or PEM armour). */
int scep_looks_base64(const uint8_t *p, size_t len);

/* A GetCACaps body: one capability per line (LF or CRLF), cut at
 * SCEP_CAPS_MAX lines of SCEP_CAP_LEN_MAX characters. Appends to *caps
 * (malloc'ed strings); *problem (malloc'ed) says what was cut, if any. */
void scep_caps_parse(const uint8_t *p, size_t len, char ***caps, size_t *n, char **problem);

/* 1 when p reads as a capability list rather than base64 or prose: every
 * non-empty line one word of letters, digits, '-', '_' or '.', at least
 * one of them a capability RFC 8894 or its drafts name. */
int scep_looks_like_caps(const uint8_t *p, size_t len);

/* What was undone to a message= value to get base64 back. */
enum scep_repair {
	SCEP_REPAIR_DOUBLE_PERCENT = 1 << 0,    /* %252B: percent-encoded twice */
	SCEP_REPAIR_JSON_SLASH = 1 << 1,        /* \/: a JSON writer's escape */
	SCEP_REPAIR_SPACE_PLUS = 1 << 2,        /* ' ' where base64 had '+' */
	SCEP_REPAIR_LINE_BREAK = 1 << 3         /* a paste's line wrap inside */
};

/* How far scep_message_value follows a value. */
enum {
	/* words after a space that are base64 too: the rest of a value
	 * whose '+' became ' ' on the way */
	SCEP_VALUE_SPACES_AS_PLUS = 1 << 0,
	/* the next line when it goes on with base64 at once: a line break
	 * a paste or a log's wrap put inside the value (a guess the caller
	 * keeps only when the message then decodes) */
	SCEP_VALUE_JOIN_LINES = 1 << 1
};

/* The value of the first message= in p (a URL or a log line), up to the
 * next parameter or the end of the URL, percent-decoded ('+' kept), with
 * JSON-escaped slashes and double percent-encoding undone, and spaces or
 * line breaks followed as flags say. Returns the malloc'ed text
 * (NUL-terminated, *out_len bytes) and ORs the repairs made into
 * *repairs; NULL when p has no message= or memory ran out (*found says
 * which). */
char *scep_message_value(const uint8_t *p, size_t len, unsigned flags, unsigned *repairs,
			 size_t *out_len, int *found);

/* "double percent-encoding (%252B) undone, ..." for the repairs made;
 * NULL when none (malloc'ed). */
char *scep_repairs_text(unsigned repairs);

#endif
