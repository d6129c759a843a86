/* devlog_text.c - what the per-format readers parse with: bounded text
 * helpers over struct rd, civil dates and the dating of undated lines,
 * and the decoding of a logged message= URL. Trusts nothing in the line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devlog_reader.h"
#include "scep.h"
#include "strutil.h"

static int is_blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static int lit_at(const struct rd *r, size_t off, const char *lit, int ci)
{
	size_t n = strlen(lit), i;
	const uint8_t *p = rd_ptr(r);

	if (off > rd_left(r) || n > rd_left(r) - off)
		return 0;
	for (i = 0; i < n; i++) {
		int a = p[off + i], b = (uint8_t)lit[i];

		if (ci ? str_ascii_lower(a) != str_ascii_lower(b) : a != b)
			return 0;
	}
	return 1;
}

int devlog_rd_lit(struct rd *r, const char *lit)
{
	if (!lit_at(r, 0, lit, 0))
		return 0;
	return rd_skip(r, strlen(lit));
}

int devlog_rd_lit_ci(struct rd *r, const char *lit)
{
	if (!lit_at(r, 0, lit, 1))
		return 0;
	return rd_skip(r, strlen(lit));
}

static size_t find(const struct rd *r, const char *lit, int ci)
{
	size_t n = strlen(lit), i;

	if (n == 0 || n > rd_left(r))
		return n == 0 ? 0 : SIZE_MAX;
	for (i = 0; i + n <= rd_left(r); i++)
		if (lit_at(r, i, lit, ci))
			return i;
	return SIZE_MAX;
}

size_t devlog_rd_find(const struct rd *r, const char *lit)
{
	return find(r, lit, 0);
}

size_t devlog_rd_find_ci(const struct rd *r, const char *lit)
{
	return find(r, lit, 1);
}

size_t devlog_rd_ws(struct rd *r)
{
	size_t n = 0;

	while (rd_left(r) > 0 && is_blank(*rd_ptr(r))) {
		rd_skip(r, 1);
		n++;
	}
	return n;
}

int devlog_rd_token(struct rd *r, struct rd *tok)
{
	size_t n = 0;
	const uint8_t *p = rd_ptr(r);

	while (n < rd_left(r) && !is_blank(p[n]))
		n++;
	if (n == 0)
		return 0;
	return rd_sub(r, n, tok);
}

int devlog_rd_digits(struct rd *r, size_t n, int *v)
{
	const uint8_t *p = rd_ptr(r);
	size_t i;
	int x = 0;

	if (n > rd_left(r) || n > 9)
		return 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		x = x * 10 + (p[i] - '0');
	}
	*v = x;
	return rd_skip(r, n);
}

int devlog_rd_frac(struct rd *r, size_t max, int64_t *ns)
{
	const uint8_t *p = rd_ptr(r);
	size_t i = 0;
	int64_t x = 0, scale = 100000000;

	while (i < max && i < rd_left(r) && p[i] >= '0' && p[i] <= '9') {
		/* digits past nanoseconds are read and dropped */
		if (scale > 0) {
			x += (int64_t)(p[i] - '0') * scale;
			scale /= 10;
		}
		i++;
	}
	if (i == 0)
		return 0;
	*ns = x;
	return rd_skip(r, i);
}

int devlog_rd_offset(struct rd *r, int64_t *off_s)
{
	struct rd t = *r;
	int sign, h, m;

	if (devlog_rd_lit(&t, "Z")) {
		*off_s = 0;
		*r = t;
		return 1;
	}
	if (devlog_rd_lit(&t, "+"))
		sign = 1;
	else if (devlog_rd_lit(&t, "-"))
		sign = -1;
	else
		return 0;
	if (!devlog_rd_digits(&t, 2, &h))
		return 0;
	devlog_rd_lit(&t, ":");
	if (!devlog_rd_digits(&t, 2, &m) || h > 14 || m > 59)
		return 0;
	*off_s = sign * (h * 3600 + m * 60);
	*r = t;
	return 1;
}

int devlog_rd_iso8601(struct rd *r, int64_t *local_s, int64_t *frac, int64_t *off, int *has_off)
{
	struct rd t = *r;
	int y, mo, d, h, mi, s;

	*frac = 0;
	*off = 0;
	if (!devlog_rd_digits(&t, 4, &y) || !devlog_rd_lit(&t, "-") ||
	    !devlog_rd_digits(&t, 2, &mo) || !devlog_rd_lit(&t, "-") ||
	    !devlog_rd_digits(&t, 2, &d) || !devlog_rd_lit(&t, "T") ||
	    !devlog_rd_digits(&t, 2, &h) || !devlog_rd_lit(&t, ":") ||
	    !devlog_rd_digits(&t, 2, &mi) || !devlog_rd_lit(&t, ":") ||
	    !devlog_rd_digits(&t, 2, &s))
		return 0;
	/* .NET writes 7 digits (100 ns ticks); more than 9 are read, dropped */
	if (devlog_rd_lit(&t, ".") && !devlog_rd_frac(&t, 12, frac))
		return 0;
	*has_off = devlog_rd_offset(&t, off);
	*local_s = devlog_civil_s(y, mo, d, h, mi, s);
	if (*local_s < 0)
		return 0;
	*r = t;
	return 1;
}

void devlog_rd_rtrim(struct rd *r)
{
	while (rd_left(r) > 0 && is_blank(rd_ptr(r)[rd_left(r) - 1]))
		r->len--;
}

/* A character shown as itself: no C0/C1 control, no surrogate, and no
 * bidirectional override or isolate (U+202A-202E, U+2066-2069) that
 * would reorder the rest of a terminal line. */
static int printable_cp(uint32_t cp)
{
	return cp >= 0xa0 && !(cp >= 0xd800 && cp <= 0xdfff) && !(cp >= 0x202a && cp <= 0x202e) &&
	       !(cp >= 0x2066 && cp <= 0x2069) && cp <= 0x10ffff;
}

/* The length of the well-formed UTF-8 sequence (2 to 4 bytes, shortest
 * form) at the reader's position, with its code point; 0: none. */
static size_t utf8_seq(const struct rd *r, uint32_t *cp)
{
	const uint8_t *p = rd_ptr(r);
	size_t n, i;
	uint32_t v, min;

	if (rd_left(r) == 0 || p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;
	if (n > rd_left(r))
		return 0;
	v = p[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
	if (v < min)
		return 0;
	*cp = v;
	return n;
}

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (uint8_t)str_ascii_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "\u201c" (an NSString's or JSON's escape): its UTF-8 bytes in out. */
static size_t unescape_u(const uint8_t *p, size_t n, uint8_t *out, size_t *used)
{
	uint32_t cp = 0;
	size_t i;

	if (n < 6 || p[0] != '\\' || (p[1] != 'u' && p[1] != 'U'))
		return 0;
	for (i = 2; i < 6; i++) {
		int h = hex_value(p[i]);

		if (h < 0)
			return 0;
		cp = (cp << 4) | (uint32_t)h;
	}
	if (!printable_cp(cp))
		return 0;
	*used = 6;
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | (cp >> 6));
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	out[0] = (uint8_t)(0xe0 | (cp >> 12));
	out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	out[2] = (uint8_t)(0x80 | (cp & 0x3f));
	return 3;
}

/* vis(3), as syslog writes a byte with the high bit set: "\M-b" is
 * 'b' | 0x80, "\M-^@" is control-@ | 0x80 (U+201C reads
 * "\M-b\M-^@\M-^\"). */
static size_t unescape_meta(const uint8_t *p, size_t n, uint8_t *out, size_t *used)
{
	if (n < 4 || p[0] != '\\' || p[1] != 'M' || p[2] != '-')
		return 0;
	if (p[3] == '^' && n >= 5) {
		*out = (uint8_t)(((p[4] == '?') ? 0x7f : (p[4] & 0x1f)) | 0x80);
		*used = 5;
		return 1;
	}
	if (p[3] < 0x20 || p[3] >= 0x7f)
		return 0;
	*out = (uint8_t)(p[3] | 0x80);
	*used = 4;
	return 1;
}

/* The line's escapes of non-ASCII characters undone: at most n bytes. */
static size_t unescape_text(const uint8_t *p, size_t n, uint8_t *out)
{
	size_t i = 0, o = 0, used = 0, k;

	while (i < n) {
		if ((k = unescape_meta(p + i, n - i, out + o, &used)) != 0 ||
		    (k = unescape_u(p + i, n - i, out + o, &used)) != 0) {
			o += k;
			i += used;
		} else {
			out[o++] = p[i++];
		}
	}
	return o;
}

/* A copy safe to print: ASCII as it is, well-formed UTF-8 of printable
 * characters as it is (an NSError's curly quotes are characters, not
 * "\xe2\x80\x9c"), with the escapes syslog and NSString made of them
 * undone; anything else (controls, broken UTF-8, '\') as \xNN. */
char *devlog_strdup(const struct rd *r, size_t max)
{
	size_t n = rd_left(r) > max ? max : rd_left(r), len, k;
	uint8_t *raw = malloc(n + 1);
	char *out, *o;
	struct rd t;
	uint32_t cp;
	uint8_t c;

	if (!raw)
		return NULL;
	len = unescape_text(rd_ptr(r), n, raw);
	out = malloc(len * 4 + 1);
	if (!out) {
		free(raw);
		return NULL;
	}
	o = out;
	rd_init(&t, raw, len);
	while (rd_left(&t) > 0) {
		if ((k = utf8_seq(&t, &cp)) != 0 && printable_cp(cp)) {
			memcpy(o, rd_ptr(&t), k);
			o += k;
			rd_skip(&t, k);
			continue;
		}
		rd_u8(&t, &c);
		if (c >= 0x20 && c < 0x7f && c != '\\')
			*o++ = (char)c;
		else
			o += snprintf(o, 5, "\\x%02x", c);
	}
	*o = '\0';
	free(raw);
	return out;
}

int devlog_eq(const struct rd *r, const char *lit)
{
	return rd_left(r) == strlen(lit) && lit_at(r, 0, lit, 0);
}

int devlog_eq_ci(const struct rd *r, const char *lit)
{
	return rd_left(r) == strlen(lit) && lit_at(r, 0, lit, 1);
}

/* Days from 1970-01-01 of a proleptic Gregorian date (Hinnant's
 * days_from_civil), so no timegm() and no dependence on the local TZ. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Hinnant's civil_from_days, the inverse of days_from_civil. */
void devlog_civil_from_days(int64_t days, int *y, int *mon, int *d)
{
	int64_t z = days + 719468, era, doe, yoe, doy, mp, yy;

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*mon = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*mon <= 2));
}

void devlog_pick_date(struct devlog_ctx *c, int64_t tod_s, int64_t off_s)
{
	int64_t ref_local, day, diff;

	c->date_set = 1;
	if (!c->o->ref_ts_ns) {
		c->no_date = 1;
		c->year = DEVLOG_NO_DATE_YEAR;
		c->month = c->day = 1;
		return;
	}
	/* the capture's instant as a wall clock in the line's offset; the
	 * line's day is the one that puts it nearest that instant, so a log
	 * copied just past midnight of a capture begun before it (or the
	 * other way round) is not a day off */
	ref_local = (int64_t)(c->o->ref_ts_ns / 1000000000ull) + off_s;
	day = ref_local >= 0 ? ref_local / 86400 : (ref_local - 86399) / 86400;
	diff = day * 86400 + tod_s - ref_local;
	if (diff > 43200)
		day--;
	else if (diff < -43200)
		day++;
	devlog_civil_from_days(day, &c->year, &c->month, &c->day);
}

int64_t devlog_civil_s(int y, int mon, int d, int h, int mi, int s)
{
	if (y < 1970 || y > 9999 || mon < 1 || mon > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || s > 60 || h < 0 || mi < 0 || s < 0)
		return -1;
	return days_from_civil(y, mon, d) * 86400 + h * 3600 + mi * 60 + s;
}

uint64_t devlog_ts(const struct devlog_ctx *c, int64_t local_s, int64_t frac_ns, int64_t off_s)
{
	int64_t s, ns;

	/* hostile years and day roll-overs must not overflow: saturate */
	if (__builtin_sub_overflow(local_s, off_s, &s) ||
	    __builtin_mul_overflow(s, (int64_t)1000000000, &ns) ||
	    __builtin_add_overflow(ns, frac_ns, &ns) ||
	    __builtin_add_overflow(ns, c->o->skew_ns, &ns))
		return s < 0 ? 0 : INT64_MAX;
	return ns < 0 ? 0 : (uint64_t)ns;
}

char *devlog_url_op(const struct rd *url)
{
	struct rd t = *url, v;
	size_t at = devlog_rd_find_ci(&t, "operation="), n = 0;

	if (at == SIZE_MAX)
		return NULL;
	rd_skip(&t, at + strlen("operation="));
	while (n < rd_left(&t) && rd_ptr(&t)[n] != '&' && !is_blank(rd_ptr(&t)[n]) &&
	       rd_ptr(&t)[n] != '\\')
		n++;
	if (n == 0 || !rd_sub(&t, n, &v))
		return NULL;
	return devlog_strdup(&v, 64);
}

int devlog_find_hex_code(const struct rd *r, int64_t *code)
{
	struct rd t = *r;
	size_t at;

	while ((at = devlog_rd_find_ci(&t, "0x")) != SIZE_MAX) {
		const uint8_t *p;
		size_t i = 0;
		int64_t v = 0;

		rd_skip(&t, at + 2);
		p = rd_ptr(&t);
		while (i < rd_left(&t) && i < 9 && str_hex_digit(p[i]) >= 0)
			v = v * 16 + str_hex_digit(p[i++]);
		/* 9+ digits is not an HRESULT (an address, a hash): skip it */
		if (i >= 1 && i <= 8) {
			*code = v;
			return 1;
		}
		rd_skip(&t, i);
	}
	return 0;
}

static char *hex_of(const uint8_t *p, size_t n)
{
	char *s = malloc(n * 2 + 1);
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02X", p[i]);
	s[2 * n] = '\0';
	return s;
}

void devlog_decode_message(struct devlog_ctx *c, const struct rd *url, struct devlog_event *e)
{
	struct scep_msg *m;

	if (devlog_rd_find_ci(url, "message=") == SIZE_MAX)
		return;
	/* The URL only: scep_decode_text takes message= up to '&' or a blank,
	 * which is where a cut log line or a Console "\" ends it. */
	m = scep_decode_text(rd_ptr(url), rd_left(url), NULL, NULL);
	if (!m) {
		c->nomem = 1;
		return;
	}
	if (m->transaction_id && !e->transaction_id)
		e->transaction_id = strdup(m->transaction_id);
	if (m->message_type >= 0)
		e->message_type = m->message_type;
	if (m->sender_nonce_len && !e->sender_nonce)
		e->sender_nonce = hex_of(m->sender_nonce, m->sender_nonce_len);
	e->message_cut = !m->decoded;
	c->out->messages_cut += !m->decoded;
	if (!m->decoded && m->error && !e->decode_note)
		e->decode_note = strdup(m->error);
	if (!m->decoded && !m->partial)
		c->out->decode_failed++;
	scep_msg_free(m);
}

void devlog_text_cut(char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n <= max)
		return;
	n = max;
	/* back over a character's continuation bytes, then its lead byte */
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	/* an escape is "\xHH": a backslash in the last 3 bytes starts one */
	for (i = n > 3 ? n - 3 : 0; i < n; i++)
		if (s[i] == '\\') {
			n = i;
			break;
		}
	s[n] = '\0';
}
