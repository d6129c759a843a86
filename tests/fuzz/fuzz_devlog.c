/* fuzz_devlog.c - the device-log readers (dissectors/devlog*.c) over a
 * buffer: devlog_read_buf with options taken from the first bytes, then
 * every string of every event read back (and checked printable ASCII, as
 * devlog.h promises). Input layout (make-corpus.py
 * writes seeds in it):
 *
 *   byte 0  bits 0-1 format: auto, android, ios, windows-xml (forced)
 *           bits 2-3 limits: defaults, max_events 3, max_lines 5,
 *                    max_bytes 256 (the capped and counted paths)
 *   byte 1  device UTC offset: (b % 59 - 29) * 30 min, -14:30 to +14:00
 *   byte 2-3 skew: signed 16 bits big-endian * 30518 s, about +-1e9 s
 *           (the range --device-skew accepts)
 *   byte 4  assumed year (--device-date): 0 none, else 1969 + b
 *   byte 5  assumed month 1 + b % 12 (when a year is given)
 *   byte 6  assumed day 1 + b % 31, cut to the month's length (the
 *           option accepts real days only)
 *           with no year, bytes 5-6 big-endian: 0 no capture (undated
 *           lines keep their time of day), else the capture's first
 *           packet that many weeks and 12345 s after 1970
 *   then the log file's bytes, as an exact-size heap copy.
 */
#include <stddef.h>
#include <stdint.h>

#include "devlog.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR 7

/* devlog.h: every string is printable: ASCII 0x20-0x7e, or well-formed
 * UTF-8 (shortest form) of a character that is no C1 control, surrogate
 * or bidirectional override/isolate (U+202A-202E, U+2066-2069); any
 * other byte as \xHH. Checked here from RFC 3629, not with the
 * dissector's own decoder. */
static void touch_printable(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (p && *p) {
		unsigned c = *p, need, cp, min;
		size_t i;

		if (c >= 0x20 && c <= 0x7e) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f, min = 0x80;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07, min = 0x10000;
		else
			abort();
		for (i = 1; i <= need; i++) {
			if ((p[i] & 0xc0) != 0x80)
				abort();
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if (cp < min || cp < 0xa0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
			abort();
		p += need + 1;
	}
}

static void touch_event(const struct devlog_event *e)
{
	fuzz_sink += (size_t)e->kind + e->ts_ns + (size_t)e->ts_has_offset +
		     (size_t)e->ts_date_assumed + e->line_no + (size_t)e->message_type +
		     (size_t)e->message_cut + (size_t)e->http_status + (size_t)e->pki_status +
		     (size_t)e->fail_info + (size_t)e->event_id + (size_t)e->has_error_code +
		     (size_t)e->error_code;
	fuzz_touch_str(e->source);
	fuzz_touch_str(e->component);
	touch_printable(e->component);
	fuzz_touch_str(e->level);
	touch_printable(e->level);
	fuzz_touch_str(e->op);
	touch_printable(e->op);
	fuzz_touch_str(e->url);
	touch_printable(e->url);
	fuzz_touch_str(e->transaction_id);
	touch_printable(e->transaction_id);
	fuzz_touch_str(e->decode_note);
	touch_printable(e->decode_note);
	fuzz_touch_str(e->sender_nonce);
	touch_printable(e->sender_nonce);
	fuzz_touch_str(e->recipient_nonce);
	touch_printable(e->recipient_nonce);
	fuzz_touch_str(e->state_from);
	touch_printable(e->state_from);
	fuzz_touch_str(e->state_to);
	touch_printable(e->state_to);
	fuzz_touch_str(e->cert_name);
	touch_printable(e->cert_name);
	fuzz_touch_str(e->text);
	touch_printable(e->text);
	if (e->text && strlen(e->text) > DEVLOG_TEXT_MAX * 4)
		abort(); /* text is cut at DEVLOG_TEXT_MAX (escapes may grow it 4x) */
	fuzz_touch_str(devlog_kind_name(e->kind));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum devlog_format forced[] = {
		DEVLOG_AUTO, DEVLOG_ANDROID, DEVLOG_IOS, DEVLOG_WINDOWS_XML
	};
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	struct devlog_opts o;
	struct devlog_list l;
	char err[512];
	uint8_t *buf;
	size_t len, i;
	int rc;

	if (size < HDR)
		return 0;
	devlog_opts_init(&o);
	o.force = forced[data[0] & 3];
	switch ((data[0] >> 2) & 3) {
	case 1: o.max_events = 3; break;
	case 2: o.max_lines = 5; break;
	case 3: o.max_bytes = 256; break;
	default: break;
	}
	o.default_tz_offset_s = ((int64_t)(data[1] % 59) - 29) * 1800;
	o.skew_ns = (int64_t)(int16_t)(((unsigned)data[2] << 8) | data[3]) * 30518 * 1000000000ll;
	if (data[4]) {
		o.year = 1969 + data[4];
		o.month = 1 + data[5] % 12;
		o.day = 1 + data[6] % 31;
		if (o.day > mdays[o.month - 1])
			o.day = mdays[o.month - 1];
		if (o.month == 2 && o.day == 29 &&
		    !((o.year % 4 == 0 && o.year % 100 != 0) || o.year % 400 == 0))
			o.day = 28;
	} else if (data[5] | data[6]) {
		o.ref_ts_ns = ((uint64_t)(((unsigned)data[5] << 8) | data[6]) * 7 * 86400 + 12345) * 1000000000ull;
	}
	len = size - HDR;
	buf = fuzz_dup(data + HDR, len);

	memset(&l, 0, sizeof(l));
	err[0] = '\0';
	rc = devlog_read_buf(buf, len, &o, &l, err, sizeof(err));
	fuzz_sink += (size_t)rc + strlen(err) + l.lines + l.unparsed_lines + l.ignored_lines +
		     l.capped + l.lines_capped + l.long_lines + l.bytes_capped + l.decode_failed +
		     (size_t)l.format;
	fuzz_touch_str(devlog_format_name(l.format));
	if (l.n && !l.ev)
		abort();
	if (l.n > l.cap_alloc)
		abort();
	if (o.max_events && l.n > o.max_events)
		abort();
	for (i = 0; i < l.n; i++)
		touch_event(&l.ev[i]);
	devlog_list_free(&l);
	free(buf);
	return 0;
}
