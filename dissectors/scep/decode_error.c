/* decode_error.c - what the decoders say when something does not decode:
 * the first error of a message and its notes, OpenSSL's own reason, and
 * the ASN.1 error locator that walks a refused encoding's TLV headers to
 * say where it breaks. Walks untrusted bytes through struct rd with a
 * depth budget. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>

#include "reader.h"
#include "strutil.h"
#include "scep.h"
#include "pkcs7_internal.h"

/* The first error (or algorithm, of the first signer) is the one shown;
 * a later one is freed. */
void p7_set_first(char **slot, char *msg)
{
	if (*slot) {
		free(msg);
		return;
	}
	*slot = msg;
}

/* One line for m->notes, taken over (NULL is out of memory: nothing). */
void p7_msg_note(struct scep_msg *m, char *note)
{
	str_list_add(&m->notes, &m->n_notes, note);
}

/* The innermost OpenSSL reason, for messages like "wrong tag". */
const char *p7_ossl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : "unknown error";
}

struct asn1_loc {
	const unsigned char *base;
	size_t off;
	char why[96];
};

/* Why the header at the reader's position fails. OpenSSL versions differ
 * in what ASN1_get_object leaves behind on its error path (3.0.20 does not
 * advance past a header whose content is cut, 3.0.22 does), so the header
 * is read again on its success path: from a zero-padded copy of its first
 * bytes, with no length limit, and the lengths are compared here. */
#define HEAD_COPY 16
static void locate_bad_header(const struct rd *r, struct asn1_loc *loc)
{
	/* LONG_MAX below means no "too long" error path, so nothing bounds the
	 * read but the bytes themselves: the tag loop stops at the first zero
	 * after the copy, but the length's leading-zero skip may run 127 bytes
	 * (0x30 0xff 00 00 ...), so the zero padding must cover that too. */
	unsigned char head[HEAD_COPY + 1 + 127 + 16] = { 0 };
	const unsigned char *q = head;
	size_t left = rd_left(r), n = left < HEAD_COPY ? left : HEAD_COPY, hl;
	long plen = 0;
	int tag, cls, ret;

	memcpy(head, rd_ptr(r), n);
	ret = ASN1_get_object(&q, &plen, &tag, &cls, LONG_MAX);
	hl = (size_t)(q - head);
	if ((ret & 0x80 && plen <= 0) || hl == 0 || hl > n)
		snprintf(loc->why, sizeof(loc->why), "bad ASN.1 header at byte %zu", loc->off);
	else
		snprintf(loc->why, sizeof(loc->why),
			 "truncated at byte %zu: element needs %ld bytes, %zu left",
			 loc->off, plen, left - hl);
}

/* Walks TLV headers to say where an encoding breaks, which OpenSSL's d2i
 * errors do not tell. Returns 0 when the structure holds together. */
static int asn1_walk(struct rd *r, int depth, int indef, struct asn1_loc *loc)
{
	while (rd_left(r) > 0) {
		const unsigned char *hdr = rd_ptr(r), *q = hdr;
		long plen = 0, avail;
		int tag = 0, cls = 0, ret;
		size_t hl;

		avail = rd_left(r) > LONG_MAX ? LONG_MAX : (long)rd_left(r);
		ret = ASN1_get_object(&q, &plen, &tag, &cls, avail);
		hl = (size_t)(q - hdr);
		loc->off = (size_t)(hdr - loc->base);
		if (ret & 0x80) {
			locate_bad_header(r, loc);
			return -1;
		}
		rd_skip(r, hl);
		if (!(ret & V_ASN1_CONSTRUCTED)) {
			if (plen < 0 || !rd_skip(r, (size_t)plen)) {
				snprintf(loc->why, sizeof(loc->why), "truncated at byte %zu", loc->off);
				return -1;
			}
			if (indef && tag == 0 && cls == 0 && plen == 0)
				return 0;
			continue;
		}
		if (depth == 0) {
			snprintf(loc->why, sizeof(loc->why), "nested deeper than %d at byte %zu",
				 ASN1_DEPTH_MAX, loc->off);
			return -1;
		}
		if (ret & 1) {
			if (asn1_walk(r, depth - 1, 1, loc) < 0)
				return -1;
		} else {
			struct rd sub;

			if (plen < 0 || !rd_sub(r, (size_t)plen, &sub))
				return -1;
			if (asn1_walk(&sub, depth - 1, 0, loc) < 0)
				return -1;
		}
	}
	if (indef) {
		loc->off = (size_t)(rd_ptr(r) - loc->base);
		snprintf(loc->why, sizeof(loc->why),
			 "truncated at byte %zu: indefinite length without end-of-contents", loc->off);
		return -1;
	}
	return 0;
}

/* The TLVs hold together but the structure is wrong: the oldest queued
 * error is the innermost reason ("wrong tag"), and the first one carrying
 * text names the field ("Field=d.signedData, Type=CMS_ContentInfo"). */
static char *asn1_reason(const char *what)
{
	const char *reason = NULL, *field = NULL, *data = NULL;
	char fieldbuf[128] = "";
	unsigned long e;
	int flags = 0;

	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		if (!reason)
			reason = ERR_reason_error_string(e);
		if (!field && data && (flags & ERR_TXT_STRING) && *data) {
			snprintf(fieldbuf, sizeof(fieldbuf), "%s", data);
			field = fieldbuf;
		}
	}
	if (field)
		return str_printf("%s: ASN.1 error (%s; %s)", what, reason ? reason : "?", field);
	return str_printf("%s: ASN.1 error (%s)", what, reason ? reason : "unknown");
}

/* "not a CMS ContentInfo: truncated at byte 1200: ..." or OpenSSL's reason. */
char *p7_parse_error(const char *what, const uint8_t *p, size_t len)
{
	struct asn1_loc loc = { .base = p };
	struct rd r;

	rd_init(&r, p, len);
	/* Only the first element matters: trailing bytes do not stop d2i. */
	{
		const unsigned char *q = p;
		long plen;
		int tag, cls, ret;
		long avail = len > LONG_MAX ? LONG_MAX : (long)len;

		ret = ASN1_get_object(&q, &plen, &tag, &cls, avail);
		if (!(ret & 0x80) && !(ret & 1)) {
			size_t total = (size_t)(q - p) + (size_t)plen;
			struct rd first;

			if (rd_sub(&r, total, &first))
				r = first;
		}
	}
	if (asn1_walk(&r, ASN1_DEPTH_MAX, 0, &loc) < 0)
		return str_printf("%s: %s", what, loc.why);
	return asn1_reason(what);
}
