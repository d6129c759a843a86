/* devlog.c - device-log reading common to all formats: the file (capped),
 * its encoding, lines (capped), format detection, the event list and the
 * bounded text helpers the per-format readers parse with. Trusts nothing
 * in the file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devlog.h"
#include "membudget.h"
#include "scep.h"
#include "strutil.h"

void devlog_opts_init(struct devlog_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->force = DEVLOG_AUTO;
}

const char *devlog_kind_name(enum devlog_kind k)
{
	switch (k) {
	case DEVLOG_REQUEST_SENT: return "REQUEST_SENT";
	case DEVLOG_RESPONSE: return "RESPONSE";
	case DEVLOG_CERT_STATE: return "CERT_STATE";
	case DEVLOG_INSTALLED: return "INSTALLED";
	case DEVLOG_ACCESS_GRANTED: return "ACCESS_GRANTED";
	case DEVLOG_ERROR: return "ERROR";
	case DEVLOG_OTHER: return "OTHER";
	}
	return "?";
}

const char *devlog_format_name(enum devlog_format f)
{
	switch (f) {
	case DEVLOG_AUTO: return "auto";
	case DEVLOG_ANDROID: return "android";
	case DEVLOG_IOS: return "ios";
	case DEVLOG_WINDOWS_XML: return "windows";
	case DEVLOG_WINDOWS_EVTX: return "windows-evtx";
	case DEVLOG_UNKNOWN: break;
	}
	return "unknown";
}

enum devlog_format devlog_format_from_name(const char *name)
{
	if (!name)
		return DEVLOG_UNKNOWN;
	if (!strcmp(name, "auto"))
		return DEVLOG_AUTO;
	if (!strcmp(name, "android"))
		return DEVLOG_ANDROID;
	if (!strcmp(name, "ios"))
		return DEVLOG_IOS;
	if (!strcmp(name, "windows") || !strcmp(name, "windows-xml"))
		return DEVLOG_WINDOWS_XML;
	if (!strcmp(name, "windows-evtx"))
		return DEVLOG_WINDOWS_EVTX;
	return DEVLOG_UNKNOWN;
}

/* ---- events --------------------------------------------------------- */

void devlog_event_init(struct devlog_event *e, enum devlog_kind k, const char *source)
{
	memset(e, 0, sizeof(*e));
	e->kind = k;
	e->source = source;
	e->message_type = -1;
	e->pki_status = -1;
	e->fail_info = -1;
	e->event_id = -1;
}

void devlog_event_clear(struct devlog_event *e)
{
	free(e->component);
	free(e->level);
	free(e->op);
	free(e->url);
	free(e->transaction_id);
	free(e->sender_nonce);
	free(e->recipient_nonce);
	free(e->state_from);
	free(e->state_to);
	free(e->cert_name);
	free(e->text);
	free(e->decode_note);
	free(e->error_domain);
	memset(e, 0, sizeof(*e));
}

static size_t str_bytes(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* What one kept event holds: its slot and its strings. */
static size_t event_bytes(const struct devlog_event *e)
{
	return sizeof(*e) + str_bytes(e->component) + str_bytes(e->level) + str_bytes(e->op) +
	       str_bytes(e->url) + str_bytes(e->transaction_id) + str_bytes(e->sender_nonce) +
	       str_bytes(e->recipient_nonce) + str_bytes(e->state_from) + str_bytes(e->state_to) +
	       str_bytes(e->cert_name) + str_bytes(e->text) + str_bytes(e->decode_note) +
	       str_bytes(e->error_domain);
}

void devlog_emit(struct devlog_ctx *c, struct devlog_event *e)
{
	struct devlog_list *l = c->out;
	size_t max = c->o->max_events ? c->o->max_events : DEVLOG_EVENTS_MAX, cost;

	e->line_no = c->line_no;
	if (l->n >= max) {
		l->capped++;
		devlog_event_clear(e);
		return;
	}
	cost = event_bytes(e);
	l->mem = c->o->mem;
	if (mem_charge(l->mem, MEM_devlog, cost) < 0) {
		l->capped++;
		l->budget_capped = 1;
		devlog_event_clear(e);
		return;
	}
	l->charged += cost;
	if (l->n == l->cap_alloc) {
		size_t nc = l->cap_alloc ? l->cap_alloc * 2 : 32;
		struct devlog_event *ne;

		if (nc > max)
			nc = max;
		ne = realloc(l->ev, nc * sizeof(*ne));
		if (!ne) {
			c->nomem = 1;
			l->capped++;
			devlog_event_clear(e);
			return;
		}
		l->ev = ne;
		l->cap_alloc = nc;
	}
	l->ev[l->n++] = *e;
	memset(e, 0, sizeof(*e));
}

void devlog_list_free(struct devlog_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++)
		devlog_event_clear(&l->ev[i]);
	free(l->ev);
	mem_release(l->mem, MEM_devlog, l->charged);
	memset(l, 0, sizeof(*l));
}

/* ---- bounded text helpers ------------------------------------------- */

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

char *devlog_strdup(const struct rd *r, size_t max)
{
	return str_printable(rd_ptr(r), rd_left(r), max);
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

/* ---- input: file, encoding, lines ----------------------------------- */

/* wevtutil output redirected by PowerShell 5 is UTF-16LE with a BOM; the
 * grammar is ASCII, so code units become UTF-8 and the rest reads as
 * usual. Unpaired surrogates become U+FFFD. */
static uint8_t *utf16le_to_utf8(const uint8_t *in, size_t len, size_t *out_len)
{
	uint8_t *out = malloc((len / 2) * 3 + 1), *o;
	size_t i;

	if (!out)
		return NULL;
	o = out;
	for (i = 0; i + 1 < len; i += 2) {
		uint32_t u = (uint32_t)in[i] | (uint32_t)in[i + 1] << 8;

		if (u >= 0xd800 && u <= 0xdbff && i + 3 < len) {
			uint32_t lo = (uint32_t)in[i + 2] | (uint32_t)in[i + 3] << 8;

			if (lo >= 0xdc00 && lo <= 0xdfff) {
				/* 4 UTF-8 bytes for 4 input bytes: fits */
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
				i += 2;
			} else {
				u = 0xfffd;
			}
		} else if (u >= 0xd800 && u <= 0xdfff) {
			u = 0xfffd;
		}
		if (u < 0x80) {
			*o++ = (uint8_t)u;
		} else if (u < 0x800) {
			*o++ = (uint8_t)(0xc0 | u >> 6);
			*o++ = (uint8_t)(0x80 | (u & 0x3f));
		} else if (u < 0x10000) {
			*o++ = (uint8_t)(0xe0 | u >> 12);
			*o++ = (uint8_t)(0x80 | ((u >> 6) & 0x3f));
			*o++ = (uint8_t)(0x80 | (u & 0x3f));
		} else {
			*o++ = (uint8_t)(0xf0 | u >> 18);
			*o++ = (uint8_t)(0x80 | ((u >> 12) & 0x3f));
			*o++ = (uint8_t)(0x80 | ((u >> 6) & 0x3f));
			*o++ = (uint8_t)(0x80 | (u & 0x3f));
		}
	}
	*out_len = (size_t)(o - out);
	return out;
}

static int looks_utf16le(const uint8_t *b, size_t len)
{
	if (len >= 2 && b[0] == 0xff && b[1] == 0xfe)
		return 1;
	/* no BOM: "<\0E\0" or ASCII text with every other byte NUL */
	return len >= 4 && b[0] != 0 && b[1] == 0 && b[2] != 0 && b[3] == 0;
}

/* Next line of r into line (without its end); 0 at the end. */
static int next_line(struct rd *r, struct rd *line)
{
	const uint8_t *p = rd_ptr(r);
	size_t n = 0;

	if (rd_left(r) == 0)
		return 0;
	while (n < rd_left(r) && p[n] != '\n')
		n++;
	rd_sub(r, n, line);
	rd_skip(r, 1);
	return 1;
}

enum devlog_format devlog_detect(const uint8_t *buf, size_t len)
{
	struct rd r, line;
	int android = 0, ios = 0, seen = 0;

	if (devlog_evtx_probe(buf, len))
		return DEVLOG_WINDOWS_EVTX;
	if (devlog_windows_probe(buf, len))
		return DEVLOG_WINDOWS_XML;
	rd_init(&r, buf, len);
	devlog_rd_lit(&r, "\xef\xbb\xbf");
	/* Twenty non-empty lines is enough: both logs write a timestamp on
	 * every line, but a log may start with a banner or a stack trace. */
	while (seen < 20 && next_line(&r, &line)) {
		devlog_rd_rtrim(&line);
		devlog_rd_ws(&line);
		if (rd_left(&line) == 0)
			continue;
		seen++;
		if (rd_left(&line) > 512)
			line.len = 512;
		android += devlog_android_probe(line);
		ios += devlog_ios_probe(line);
	}
	if (android == 0 && ios == 0)
		return DEVLOG_UNKNOWN;
	return android >= ios ? DEVLOG_ANDROID : DEVLOG_IOS;
}

static void read_lines(struct devlog_ctx *c, const uint8_t *buf, size_t len, enum devlog_format f)
{
	uint64_t max_lines = c->o->max_lines ? c->o->max_lines : DEVLOG_LINES_MAX;
	struct rd r, line;

	rd_init(&r, buf, len);
	devlog_rd_lit(&r, "\xef\xbb\xbf");
	while (next_line(&r, &line)) {
		int ok;

		if (c->out->lines >= max_lines) {
			c->out->lines_capped++;
			continue;
		}
		c->line_no++;
		c->out->lines++;
		devlog_rd_rtrim(&line);
		if (rd_left(&line) == 0)
			continue;
		if (rd_left(&line) > DEVLOG_LINE_MAX) {
			/* parse the start: a cut message= still decodes */
			line.len = DEVLOG_LINE_MAX;
			c->out->long_lines++;
		}
		ok = f == DEVLOG_ANDROID ? devlog_android_line(c, line) : devlog_ios_line(c, line);
		if (!ok)
			c->out->unparsed_lines++;
	}
}

static void ctx_init(struct devlog_ctx *c, const struct devlog_opts *o, struct devlog_list *out)
{
	memset(c, 0, sizeof(*c));
	c->o = o;
	c->out = out;
	if (o->year) {
		c->year = o->year;
		c->month = o->month ? o->month : 1;
		c->day = o->day ? o->day : 1;
		c->date_set = 1;
	}
	c->last_tod_ns = -1;
}

/* An .evtx is binary: its signature decides before any text decoding, and
 * "windows" (XML) forced on one reads it as what it is rather than
 * scanning binary for "<Event". */
static int read_evtx(const uint8_t *buf, size_t len, const struct devlog_opts *o,
		     struct devlog_list *out, char *err, size_t errlen)
{
	struct devlog_ctx c;
	int rc;

	out->format = DEVLOG_WINDOWS_EVTX;
	if (!devlog_evtx_probe(buf, len)) {
		snprintf(err, errlen, "not an .evtx file (no \"ElfFile\" signature at its start)");
		return DEVLOG_E_FORMAT;
	}
	ctx_init(&c, o, out);
	rc = devlog_evtx_read(&c, buf, len, err, errlen);
	if (rc == 0 && c.nomem) {
		snprintf(err, errlen, "out of memory reading device log (%zu events kept)", out->n);
		return DEVLOG_E_NOMEM;
	}
	return rc;
}

int devlog_read_buf(const uint8_t *buf, size_t len, const struct devlog_opts *o,
		    struct devlog_list *out, char *err, size_t errlen)
{
	struct devlog_opts def;
	struct devlog_ctx c;
	uint8_t *conv = NULL;
	enum devlog_format f;

	if (!o) {
		devlog_opts_init(&def);
		o = &def;
	}
	if (!buf)
		len = 0;
	if (o->force == DEVLOG_WINDOWS_EVTX ||
	    ((o->force == DEVLOG_AUTO || o->force == DEVLOG_WINDOWS_XML) && devlog_evtx_probe(buf, len)))
		return read_evtx(buf, len, o, out, err, errlen);
	if (looks_utf16le(buf, len)) {
		size_t n;

		conv = utf16le_to_utf8(buf, len, &n);
		if (!conv) {
			snprintf(err, errlen, "out of memory converting UTF-16 log");
			return DEVLOG_E_NOMEM;
		}
		buf = conv;
		len = n;
	}
	f = o->force != DEVLOG_AUTO ? o->force : devlog_detect(buf, len);
	out->format = f;
	if (f != DEVLOG_ANDROID && f != DEVLOG_IOS && f != DEVLOG_WINDOWS_XML) {
		free(conv);
		snprintf(err, errlen,
			 "not a device log scepdump reads (Android OMADM, iOS profiled console, "
			 "Windows event XML or .evtx); name the format if it is one of them");
		return DEVLOG_E_FORMAT;
	}
	ctx_init(&c, o, out);
	if (f == DEVLOG_WINDOWS_XML)
		devlog_windows_read(&c, buf, len);
	else
		read_lines(&c, buf, len, f);
	free(conv);
	if (c.nomem) {
		snprintf(err, errlen, "out of memory reading device log (%zu events kept)", out->n);
		return DEVLOG_E_NOMEM;
	}
	return 0;
}

int devlog_read_file_opts(const char *path, const struct devlog_opts *o,
			  struct devlog_list *out, char *err, size_t errlen)
{
	size_t max = o && o->max_bytes ? o->max_bytes : DEVLOG_BYTES_MAX;
	size_t n = 0, cap = 0;
	uint8_t *buf = NULL, tmp[65536];
	FILE *f;
	int rc, is_stdin = !strcmp(path, "-");

	f = is_stdin ? stdin : fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return DEVLOG_E_IO;
	}
	for (;;) {
		size_t want = sizeof(tmp), got;

		got = fread(tmp, 1, want, f);
		if (got == 0)
			break;
		if (n + got > max) {
			/* counted, not read: the start of a log is what the
			 * enrollment needs, and memory stays bounded */
			size_t keep = max - n;

			out->bytes_capped += got - keep;
			got = keep;
		}
		if (got && n + got > cap) {
			size_t nc = cap ? cap * 2 : 65536;
			uint8_t *nb;

			while (nc < n + got)
				nc *= 2;
			if (nc > max)
				nc = max;
			if (mem_resize(o ? o->mem : NULL, MEM_devlog, cap, nc) < 0) {
				/* the rest is counted like the rest past max_bytes */
				out->bytes_capped += got;
				out->budget_capped = 1;
				max = n;
				continue;
			}
			nb = realloc(buf, nc);
			if (!nb) {
				mem_release(o ? o->mem : NULL, MEM_devlog, nc);
				free(buf);
				if (!is_stdin)
					fclose(f);
				snprintf(err, errlen, "%s: out of memory", path);
				return DEVLOG_E_NOMEM;
			}
			buf = nb;
			cap = nc;
		}
		if (got)
			memcpy(buf + n, tmp, got);
		n += got;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		mem_release(o ? o->mem : NULL, MEM_devlog, cap);
		free(buf);
		if (!is_stdin)
			fclose(f);
		return DEVLOG_E_IO;
	}
	if (!is_stdin)
		fclose(f);
	rc = devlog_read_buf(buf, n, o, out, err, errlen);
	if (rc == DEVLOG_E_FORMAT && errlen) {
		char tail[512];

		snprintf(tail, sizeof(tail), "%s", err);
		snprintf(err, errlen, "%s: %s", path, tail);
	}
	mem_release(o ? o->mem : NULL, MEM_devlog, cap);
	free(buf);
	return rc;
}

int devlog_read_file(const char *path, enum devlog_format force, int64_t default_tz_offset_s,
		     int64_t skew_ns, struct devlog_list *out, char *err, size_t errlen)
{
	struct devlog_opts o;

	devlog_opts_init(&o);
	o.force = force;
	o.default_tz_offset_s = default_tz_offset_s;
	o.skew_ns = skew_ns;
	return devlog_read_file_opts(path, &o, out, err, errlen);
}
