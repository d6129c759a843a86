/* devlog_ios.c - iOS/iPadOS profiled lines, in the shapes people hand
 * over: `log show` (unified log, with date and UTC offset), syslog /
 * idevicesyslog ("Nov 25 16:30:08 iPhone profiled[123] <Notice>: ...", no
 * year), a Console.app copy ("Debug 18:30:53.691033 -0500 profiled ...",
 * no date; the Intune troubleshooting page shows these, with RTF residue:
 * a trailing "\" and \'93 \'94 for curly quotes) and the older Console
 * device view ("1/27/17, 3:33:18 PM profiled[388]: ...", US date, no
 * offset). profiled dumps an NSError over the indented lines that follow
 * ("    Domain : MCSCEPErrorDomain", "    Code   : 22003"); those belong
 * to the line before. Untrusted text, read through struct rd only.
 * PKIOperation URLs are often cut where the line was; scep_decode_text
 * recovers what it can from the start. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devlog_reader.h"
#include "scep.h"
#include "strutil.h"

static const char SRC[] = "ios";

struct ios_head {
	int64_t local_s, frac, off;
	int has_off, date_assumed, no_date;
	struct rd level, process, msg;
};

static int is_level_word(const struct rd *t)
{
	static const char *const w[] = { "Default", "Info", "Debug", "Error", "Fault",
					 "Notice", "Warning", "Critical", "Alert", "Emergency" };
	size_t i;

	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		struct rd x = *t;

		if (rd_left(&x) == strlen(w[i]) && devlog_rd_lit_ci(&x, w[i]))
			return 1;
	}
	return 0;
}

static int parse_hms(struct rd *t, int *h, int *mi, int *s, int64_t *frac)
{
	*frac = 0;
	if (!devlog_rd_digits(t, 2, h) || !devlog_rd_lit(t, ":") || !devlog_rd_digits(t, 2, mi) ||
	    !devlog_rd_lit(t, ":") || !devlog_rd_digits(t, 2, s) || *h > 23 || *mi > 59 || *s > 60)
		return 0;
	if (devlog_rd_lit(t, ".") && !devlog_rd_frac(t, 12, frac))
		return 0;
	return 1;
}

/* process token "profiled[123]:" or "profiled:" -> "profiled" */
static void process_name(struct rd tok, struct rd *out)
{
	size_t n = 0;

	while (n < rd_left(&tok) && rd_ptr(&tok)[n] != '[' && rd_ptr(&tok)[n] != ':' &&
	       rd_ptr(&tok)[n] != '(')
		n++;
	tok.len = n;
	*out = tok;
}

/* After the time: up to 8 columns (thread, type, activity, pid, ttl,
 * host, process[pid], <Level>) then "process: message"; the first token
 * ending in ':' closes the head. */
static int head_rest(struct rd *r, struct ios_head *h)
{
	struct rd tok, prev;
	int i;

	rd_init(&prev, NULL, 0);
	for (i = 0; i < 9; i++) {
		int angle, colon;

		devlog_rd_ws(r);
		if (!devlog_rd_token(r, &tok))
			return 0;
		angle = rd_ptr(&tok)[0] == '<';
		colon = rd_ptr(&tok)[rd_left(&tok) - 1] == ':';
		if (angle) {
			/* syslog "<Notice>:" */
			struct rd l = tok;

			rd_skip(&l, 1);
			while (rd_left(&l) > 0 && (rd_ptr(&l)[rd_left(&l) - 1] == ':' ||
						   rd_ptr(&l)[rd_left(&l) - 1] == '>'))
				l.len--;
			h->level = l;
		} else if (is_level_word(&tok)) {
			h->level = tok;
		} else {
			prev = tok;
		}
		if (colon) {
			process_name(prev, &h->process);
			devlog_rd_ws(r);
			h->msg = *r;
			return 1;
		}
	}
	return 0;
}

static int month_of(const struct rd *r)
{
	static const char m[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	size_t i;

	if (rd_left(r) < 3)
		return 0;
	for (i = 0; i < 12; i++)
		if (!memcmp(rd_ptr(r), m + 3 * i, 3))
			return (int)i + 1;
	return 0;
}

/* A syslog line has month and day but no year: the given year, else the
 * capture's (in offset off_s), moved by one when the line's month is more
 * than half a year from the capture's (a log from December merged with a
 * capture of January), else none. */
static void syslog_year(struct devlog_ctx *c, int mo, int64_t off_s)
{
	int ry, rm, rd;
	int64_t local;

	c->date_set = 1;
	if (!c->o->ref_ts_ns) {
		c->no_date = 1;
		c->year = DEVLOG_NO_DATE_YEAR;
		return;
	}
	local = (int64_t)(c->o->ref_ts_ns / 1000000000ull) + off_s;
	devlog_civil_from_days(local >= 0 ? local / 86400 : (local - 86399) / 86400, &ry, &rm, &rd);
	c->year = ry - (mo - rm > 6) + (rm - mo > 6);
}

/* Older Console.app device view: "1/27/17, 3:33:18 PM" (US short date,
 * 12-hour clock, no offset), then "process[pid]: message". */
static int parse_us_short(struct rd *t, int *y, int *mo, int *d, int *hh, int *mi, int *s, int64_t *frac)
{
	struct rd tok;
	int pm;

	if (!devlog_rd_token(t, &tok) || rd_left(&tok) < 7 || rd_ptr(&tok)[rd_left(&tok) - 1] != ',')
		return 0;
	tok.len--;
	/* M/D/YY or M/D/YYYY, one or two digits for month and day */
	{
		struct rd u = tok;
		size_t n;

		for (n = 0; n < rd_left(&u) && rd_ptr(&u)[n] != '/'; n++)
			;
		if (n < 1 || n > 2 || !devlog_rd_digits(&u, n, mo) || !devlog_rd_lit(&u, "/"))
			return 0;
		for (n = 0; n < rd_left(&u) && rd_ptr(&u)[n] != '/'; n++)
			;
		if (n < 1 || n > 2 || !devlog_rd_digits(&u, n, d) || !devlog_rd_lit(&u, "/"))
			return 0;
		n = rd_left(&u);
		if ((n != 2 && n != 4) || !devlog_rd_digits(&u, n, y))
			return 0;
		if (n == 2)
			*y += 2000;
	}
	if (!devlog_rd_ws(t) || !devlog_rd_token(t, &tok))
		return 0;
	{
		struct rd u = tok;
		size_t n;

		for (n = 0; n < rd_left(&u) && rd_ptr(&u)[n] != ':'; n++)
			;
		if (n < 1 || n > 2 || !devlog_rd_digits(&u, n, hh) || !devlog_rd_lit(&u, ":") ||
		    !devlog_rd_digits(&u, 2, mi) || !devlog_rd_lit(&u, ":") || !devlog_rd_digits(&u, 2, s))
			return 0;
		*frac = 0;
		if (devlog_rd_lit(&u, ".") && !devlog_rd_frac(&u, 12, frac))
			return 0;
		if (rd_left(&u) != 0)
			return 0;
	}
	if (!devlog_rd_ws(t))
		return 0;
	if (devlog_rd_lit(t, "PM"))
		pm = 1;
	else if (devlog_rd_lit(t, "AM"))
		pm = 0;
	else
		return 0;
	if (*hh < 1 || *hh > 12 || *mi > 59 || *s > 60)
		return 0;
	*hh = *hh % 12 + (pm ? 12 : 0);
	return 1;
}

static int parse_head(struct devlog_ctx *c, struct rd line, struct ios_head *h)
{
	struct rd t = line, tok;
	int y, mo, d, hh, mi, s;

	memset(h, 0, sizeof(*h));
	/* unified log: 2026-11-25 16:30:08.123456+0100 */
	if (devlog_rd_digits(&t, 4, &y) && devlog_rd_lit(&t, "-") && devlog_rd_digits(&t, 2, &mo) &&
	    devlog_rd_lit(&t, "-") && devlog_rd_digits(&t, 2, &d) && devlog_rd_ws(&t) &&
	    parse_hms(&t, &hh, &mi, &s, &h->frac)) {
		h->has_off = devlog_rd_offset(&t, &h->off);
		h->local_s = devlog_civil_s(y, mo, d, hh, mi, s);
		return h->local_s >= 0 && head_rest(&t, h);
	}
	t = line;
	if (parse_us_short(&t, &y, &mo, &d, &hh, &mi, &s, &h->frac)) {
		h->local_s = devlog_civil_s(y, mo, d, hh, mi, s);
		return h->local_s >= 0 && head_rest(&t, h);
	}
	/* syslog: Nov 25 16:30:08 (day may be space-padded) */
	t = line;
	if ((mo = month_of(&t)) != 0 && rd_skip(&t, 3) && devlog_rd_ws(&t) &&
	    devlog_rd_token(&t, &tok) && rd_left(&tok) <= 2 && devlog_rd_digits(&tok, rd_left(&tok), &d) &&
	    devlog_rd_ws(&t) && parse_hms(&t, &hh, &mi, &s, &h->frac)) {
		/* no year in the line: the assumed one, plus one each time the
		 * month goes back (a log running over New Year) */
		h->has_off = devlog_rd_offset(&t, &h->off);
		if (!c->date_set)
			syslog_year(c, mo, h->has_off ? h->off : c->o->default_tz_offset_s);
		if (c->last_month && mo < c->last_month && c->year < 9999)
			c->year++;
		c->last_month = mo;
		h->local_s = devlog_civil_s(c->year, mo, d, hh, mi, s);
		h->date_assumed = 1;
		h->no_date = c->no_date;
		return h->local_s >= 0 && head_rest(&t, h);
	}
	/* Console.app copy: Type HH:MM:SS.ffffff -0500 process message */
	t = line;
	if (devlog_rd_token(&t, &tok) && is_level_word(&tok) && devlog_rd_ws(&t) &&
	    parse_hms(&t, &hh, &mi, &s, &h->frac)) {
		int64_t tod = ((int64_t)hh * 3600 + mi * 60 + s) * 1000000000 + h->frac;
		int64_t base;
		struct rd proc;

		h->level = tok;
		devlog_rd_ws(&t);
		h->has_off = devlog_rd_offset(&t, &h->off);
		devlog_rd_ws(&t);
		if (!devlog_rd_token(&t, &proc))
			return 0;
		process_name(proc, &h->process);
		devlog_rd_ws(&t);
		h->msg = t;
		/* no date at all: the assumed day, moved on when the clock
		 * goes back by more than half a day (past midnight) */
		if (!c->date_set)
			devlog_pick_date(c, hh * 3600 + mi * 60 + s, h->has_off ? h->off : c->o->default_tz_offset_s);
		if (c->last_tod_ns >= 0 && tod + 43200LL * 1000000000 < c->last_tod_ns &&
		    c->day_shift < 1000000)
			c->day_shift++;
		c->last_tod_ns = tod;
		base = devlog_civil_s(c->year, c->month, c->day, 0, 0, 0);
		if (base < 0)
			return 0;
		h->local_s = base + c->day_shift * 86400 + hh * 3600 + mi * 60 + s;
		h->date_assumed = 1;
		h->no_date = c->no_date;
		return 1;
	}
	return 0;
}

int devlog_ios_probe(struct rd line)
{
	struct devlog_opts o;
	struct devlog_list l;
	struct devlog_ctx c;
	struct ios_head h;

	devlog_opts_init(&o);
	memset(&l, 0, sizeof(l));
	devlog_ctx_init(&c, &o, &l);
	c.year = DEVLOG_NO_DATE_YEAR;
	c.month = 1;
	c.day = 1;
	c.date_set = 1;
	return parse_head(&c, line, &h);
}

/* Strips the RTF line continuation a Console copy pasted into a rich
 * text file leaves: a trailing backslash. */
static void strip_rtf_tail(struct rd *r)
{
	devlog_rd_rtrim(r);
	while (rd_left(r) > 0 && rd_ptr(r)[rd_left(r) - 1] == '\\') {
		r->len--;
		devlog_rd_rtrim(r);
	}
}

/* The quoted name in `Profile “NAME” installed.`: curly quotes in UTF-8,
 * RTF \'93..\'94, or plain quotes. */
static int quoted_name(const struct rd *msg, struct rd *name)
{
	static const char *const open[] = { "\xe2\x80\x9c", "\\'93", "\"", "'" };
	static const char *const close[] = { "\xe2\x80\x9d", "\\'94", "\"", "'" };
	size_t i;

	for (i = 0; i < 4; i++) {
		struct rd t = *msg;
		size_t a = devlog_rd_find(&t, open[i]), b;

		if (a == SIZE_MAX)
			continue;
		rd_skip(&t, a + strlen(open[i]));
		b = devlog_rd_find(&t, close[i]);
		if (b == SIZE_MAX)
			continue;
		/* the last closing quote: names hold quotes too */
		{
			struct rd u = t;
			size_t nb;

			rd_skip(&u, b + strlen(close[i]));
			while ((nb = devlog_rd_find(&u, close[i])) != SIZE_MAX) {
				b += strlen(close[i]) + nb;
				rd_skip(&u, nb + strlen(close[i]));
			}
		}
		*name = t;
		name->len = b;
		return 1;
	}
	return 0;
}

static int ends_with(const struct rd *r, const char *lit)
{
	size_t n = strlen(lit);
	struct rd t = *r;

	if (n > rd_left(r))
		return 0;
	rd_skip(&t, rd_left(r) - n);
	return devlog_rd_lit(&t, lit);
}

static int is_word_char(uint8_t ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

/* The value after key in an NSError as profiled prints it, either way it
 * does: "Error Domain=MCSCEPErrorDomain Code=22013" (description) or
 * "Domain : MCSCEPErrorDomain ... Code   : 22013" (MCError dump, one
 * field a line or all run together). The key must start a word; of
 * several (an underlying error's), the last: the innermost, the cause.
 * val gets the token after the separator, key_at (when not NULL) where in
 * msg that key starts. */
static int ns_field(const struct rd *msg, const char *key, struct rd *val, size_t *key_at)
{
	struct rd t = *msg;
	size_t at, base = 0;
	int found = 0;

	while ((at = devlog_rd_find(&t, key)) != SIZE_MAX) {
		struct rd u = t, v;

		rd_skip(&u, at + strlen(key));
		rd_skip(&t, at + strlen(key));
		if (base + at > 0 && is_word_char(rd_ptr(msg)[base + at - 1])) {
			base += at + strlen(key);
			continue;
		}
		devlog_rd_ws(&u);
		if (devlog_rd_lit(&u, "=") || devlog_rd_lit(&u, ":")) {
			devlog_rd_ws(&u);
			if (devlog_rd_token(&u, &v)) {
				*val = v;
				if (key_at)
					*key_at = base + at;
				found = 1;
			}
		}
		base += at + strlen(key);
	}
	return found;
}

/* NSError code (MCSCEPErrorDomain and friends), may be negative */
static int ns_error_code(const struct rd *msg, int64_t *code)
{
	struct rd t;
	int neg = 0, d;
	int64_t v = 0;
	size_t n = 0;

	if (!ns_field(msg, "Code", &t, NULL))
		return 0;
	if (devlog_rd_lit(&t, "-"))
		neg = 1;
	while (n < 12 && devlog_rd_digits(&t, 1, &d)) {
		v = v * 10 + d;
		n++;
	}
	if (n == 0)
		return 0;
	*code = neg ? -v : v;
	return 1;
}

/* The domain that goes with the code ns_error_code found: the last
 * "Domain" before that code, so a chain cut after an inner Domain line
 * and before its Code keeps the outer pair. */
static char *ns_error_domain(const struct rd *msg)
{
	struct rd t = *msg, dom, code;
	size_t code_at;

	if (!ns_field(msg, "Code", &code, &code_at))
		return NULL;
	t.len = code_at;
	if (!ns_field(&t, "Domain", &dom, NULL))
		return NULL;
	return devlog_strdup(&dom, 64);
}

static int relevant(const struct ios_head *h, const struct rd *msg)
{
	return devlog_rd_find_ci(msg, "scep") != SIZE_MAX ||
	       devlog_rd_find_ci(msg, "certificate") != SIZE_MAX ||
	       devlog_rd_find_ci(msg, "profile") != SIZE_MAX ||
	       devlog_rd_find_ci(msg, "enroll") != SIZE_MAX ||
	       devlog_eq(&h->process, "profiled");
}

/* The field name an MCError dump line starts with, or NULL. */
static const char *nserror_key(const struct rd *t)
{
	static const char *const keys[] = { "US Desc", "US Sugg", "Desc", "Sugg", "Domain", "Code",
					    "Type", "Params", "...Underlying error", "NSError:" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct rd u = *t;

		if (devlog_rd_lit(&u, keys[i]) &&
		    (rd_left(&u) == 0 || rd_ptr(&u)[0] == ' ' || rd_ptr(&u)[0] == '\t' || rd_ptr(&u)[0] == ':'))
			return keys[i];
	}
	return NULL;
}

/* A line of the MCError dump under an event line that ended "NSError:":
 * its Domain and Code go to that event (each Code with the Domain read
 * before it, so the innermost complete pair wins), its first Desc to the
 * event's text. 1 when the line was one; indented lines that are no field
 * (the values of Params) belong to it too. */
static int nserror_continuation(struct devlog_ctx *c, struct rd line)
{
	struct devlog_event *e;
	struct rd t = line, v;
	const char *key;
	int indented;

	if (!c->nserror_open || c->out->n == 0)
		return 0;
	indented = devlog_rd_ws(&t) > 0;
	key = nserror_key(&t);
	if (!key && !indented)
		return 0;
	e = &c->out->ev[c->out->n - 1];
	if (!key)
		return 1;
	rd_skip(&t, strlen(key));
	devlog_rd_ws(&t);
	if (!devlog_rd_lit(&t, ":"))
		return 1;
	devlog_rd_ws(&t);
	if (!strcmp(key, "Domain") && devlog_rd_token(&t, &v)) {
		snprintf(c->nserror_domain, sizeof(c->nserror_domain), "%.*s",
			 (int)(rd_left(&v) < 63 ? rd_left(&v) : 63), (const char *)rd_ptr(&v));
	} else if (!strcmp(key, "Code")) {
		int64_t code;

		if (ns_error_code(&line, &code)) {
			e->error_code = code;
			e->has_error_code = 1;
			free(e->error_domain);
			e->error_domain = NULL;
			if (c->nserror_domain[0]) {
				struct rd d;

				rd_init(&d, c->nserror_domain, strlen(c->nserror_domain));
				e->error_domain = devlog_strdup(&d, 64);
			}
		}
	} else if (!strcmp(key, "Desc") && !c->nserror_desc && rd_left(&t) > 0) {
		char *desc = devlog_strdup(&t, DEVLOG_TEXT_MAX), *both;

		c->nserror_desc = 1;
		if (desc && e->text) {
			both = str_printf("%s %s", e->text, desc);
			if (both) {
				devlog_text_cut(both, DEVLOG_TEXT_MAX);
				free(e->text);
				e->text = both;
			}
		}
		free(desc);
	}
	return 1;
}

int devlog_ios_line(struct devlog_ctx *c, struct rd line)
{
	struct devlog_event e;
	struct ios_head h;
	struct rd msg, name, whole = line;
	size_t at, before;
	int err_level;

	devlog_rd_ws(&line);
	if (!parse_head(c, line, &h)) {
		if (nserror_continuation(c, whole))
			return 1;
		c->nserror_open = 0;
		return 0;
	}
	c->nserror_open = 0;
	msg = h.msg;
	strip_rtf_tail(&msg);
	devlog_event_init(&e, DEVLOG_OTHER, SRC);
	e.ts_ns = devlog_ts(c, h.local_s, h.frac, h.has_off ? h.off : c->o->default_tz_offset_s);
	e.ts_has_offset = h.has_off;
	e.ts_date_assumed = h.date_assumed;
	e.ts_no_date = h.no_date;
	err_level = devlog_eq_ci(&h.level, "Error") || devlog_eq_ci(&h.level, "Fault") ||
		    devlog_eq_ci(&h.level, "Critical") || devlog_eq_ci(&h.level, "Alert") ||
		    devlog_eq_ci(&h.level, "Emergency");

	if ((at = devlog_rd_find(&msg, "URL request: ")) != SIZE_MAX) {
		struct rd t = msg, url;

		rd_skip(&t, at + strlen("URL request: "));
		if (devlog_rd_token(&t, &url)) {
			strip_rtf_tail(&url);
			e.kind = DEVLOG_REQUEST_SENT;
			e.url = devlog_strdup(&url, DEVLOG_LINE_MAX);
			e.op = devlog_url_op(&url);
			if (e.op && !strcmp(e.op, "PKIOperation"))
				devlog_decode_message(c, &url, &e);
		}
	} else if (ends_with(&msg, "installed.") &&
		   devlog_rd_find_ci(&msg, "not installed") == SIZE_MAX &&
		   devlog_rd_find_ci(&msg, "fail") == SIZE_MAX) {
		e.kind = DEVLOG_INSTALLED;
		if (quoted_name(&msg, &name))
			e.cert_name = devlog_strdup(&name, 512);
	} else if ((err_level || devlog_rd_find_ci(&msg, "error") != SIZE_MAX ||
		    devlog_rd_find_ci(&msg, "not installed") != SIZE_MAX ||
		    devlog_rd_find_ci(&msg, "not be installed") != SIZE_MAX ||
		    devlog_rd_find_ci(&msg, "fail") != SIZE_MAX) && relevant(&h, &msg)) {
		e.kind = DEVLOG_ERROR;
		e.has_error_code = ns_error_code(&msg, &e.error_code);
		if (e.has_error_code)
			e.error_domain = ns_error_domain(&msg);
	} else if (devlog_rd_find_ci(&msg, "scep") == SIZE_MAX) {
		c->out->ignored_lines++;
		devlog_event_clear(&e);
		return 1;
	}
	if (rd_left(&h.process) > 0)
		e.component = devlog_strdup(&h.process, 64);
	if (rd_left(&h.level) > 0)
		e.level = devlog_strdup(&h.level, 16);
	e.text = devlog_strdup(&msg, DEVLOG_TEXT_MAX);
	before = c->out->n;
	/* "...: NSError:" ends the line; its fields follow, one a line */
	if (e.kind == DEVLOG_ERROR && ends_with(&msg, "NSError:")) {
		c->nserror_desc = 0;
		c->nserror_domain[0] = '\0';
		devlog_emit(c, &e);
		c->nserror_open = c->out->n > before;
		return 1;
	}
	devlog_emit(c, &e);
	return 1;
}
