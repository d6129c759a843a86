/* devlog_windows.c - Windows MDM client events
 * (Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin)
 * exported with `wevtutil qe <log> /f:xml` (or /f:RenderedXml, or
 * Get-WinEvent ... ToXml()), or copied from Event Viewer's XML view (each
 * foldable element behind "- "). A small bounded scanner, not an XML
 * parser: it finds each <Event>...</Event> and reads the few elements SCEP
 * needs; anything malformed counts as an unparsed event. Untrusted text,
 * read through struct rd only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devlog_reader.h"
#include "strutil.h"

static const char SRC[] = "windows";

/* The SCEP events, with the start of their message as published (see
 * tests/devlogs/README.md for where): the MDM provider's 36 (request
 * generated, Information), 39 (installed, the one the Intune
 * troubleshooting page names), 306 ("CspExecute", Information: the
 * profile arrived; its Result 0x2ab0003 is DM_S_ACCEPTED_FOR_PROCESSING,
 * no error), 32 ("Certificate enroll failed", Error) and 307 ("Failed
 * LogError Message", Error); and CertEnroll's 86/87 (Application log: the
 * SCEP client's own GetCACaps/enrollment failures). An event the table
 * calls harmless is an error still when its Level is Error or Critical;
 * an unlisted Error-level event that mentions SCEP is one too, so an
 * unknown ID is not lost. Matched on provider and ID: IDs are per
 * provider. */
static const struct {
	const char *provider;       /* a part of the Provider Name */
	int id;
	enum devlog_kind kind;
	const char *what;
} KNOWN[] = {
	{ "DeviceManagement-Enterprise-Diagnostics-Provider", 32, DEVLOG_ERROR, "SCEP: Certificate enroll failed." },
	{ "DeviceManagement-Enterprise-Diagnostics-Provider", 36, DEVLOG_OTHER, "SCEP: Certificate request generated successfully." },
	{ "DeviceManagement-Enterprise-Diagnostics-Provider", 39, DEVLOG_INSTALLED, "SCEP: Certificate installed successfully." },
	{ "DeviceManagement-Enterprise-Diagnostics-Provider", 306, DEVLOG_OTHER, "SCEP: CspExecute." },
	{ "DeviceManagement-Enterprise-Diagnostics-Provider", 307, DEVLOG_ERROR, "SCEP: Failed LogError Message." },
	{ "CertificateServicesClient-CertEnroll", 86, DEVLOG_ERROR, "SCEP Certificate enrollment initialization failed." },
	{ "CertificateServicesClient-CertEnroll", 87, DEVLOG_ERROR, "SCEP Certificate enrollment failed." },
};

int devlog_windows_probe(const uint8_t *buf, size_t len)
{
	struct rd r;

	rd_init(&r, buf, len > 4096 ? 4096 : len);
	devlog_rd_lit(&r, "\xef\xbb\xbf");
	devlog_rd_ws(&r);
	/* Event Viewer's XML view, copied: "- <Event xmlns=...>" */
	if (devlog_rd_lit(&r, "- "))
		devlog_rd_ws(&r);
	if (rd_left(&r) == 0 || rd_ptr(&r)[0] != '<')
		return 0;
	return devlog_rd_find(&r, "<Event ") != SIZE_MAX || devlog_rd_find(&r, "<Event>") != SIZE_MAX ||
	       devlog_rd_find(&r, "<Events") != SIZE_MAX;
}

/* Start of an element named name ("<name" then '>', '/' or a blank), at
 * or after the reader's position; SIZE_MAX when absent. */
static size_t find_elem(const struct rd *r, const char *name)
{
	struct rd t = *r;
	size_t base = 0, at;

	while ((at = devlog_rd_find(&t, "<")) != SIZE_MAX) {
		struct rd u = t;

		rd_skip(&u, at + 1);
		if (devlog_rd_lit(&u, name) && rd_left(&u) > 0) {
			uint8_t c = rd_ptr(&u)[0];

			if (c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\r' || c == '\n')
				return base + at;
		}
		rd_skip(&t, at + 1);
		base += at + 1;
	}
	return SIZE_MAX;
}

/* The start tag of name inside r: tag gets its attributes, content the
 * text up to the next '<' (empty for <x/>). */
static int elem(const struct rd *r, const char *name, struct rd *tag, struct rd *content)
{
	struct rd t = *r;
	size_t at = find_elem(r, name), gt, lt;
	int empty;

	if (at == SIZE_MAX)
		return 0;
	rd_skip(&t, at + 1 + strlen(name));
	gt = devlog_rd_find(&t, ">");
	if (gt == SIZE_MAX)
		return 0;
	empty = gt > 0 && rd_ptr(&t)[gt - 1] == '/';
	if (tag) {
		*tag = t;
		tag->len = gt;
	}
	rd_skip(&t, gt + 1);
	if (empty) {
		rd_init(content, NULL, 0);
		return 1;
	}
	lt = devlog_rd_find(&t, "<");
	if (lt == SIZE_MAX)
		return 0;
	*content = t;
	content->len = lt;
	return 1;
}

/* attr='v' or attr="v" inside a start tag */
static int attr(const struct rd *tag, const char *name, struct rd *val)
{
	struct rd t = *tag;
	size_t at;
	char pat[32];

	snprintf(pat, sizeof(pat), "%s=", name);
	while ((at = devlog_rd_find(&t, pat)) != SIZE_MAX) {
		uint8_t q;
		size_t end;
		int word_start = at == 0 || rd_ptr(&t)[at - 1] == ' ' || rd_ptr(&t)[at - 1] == '\t' ||
				 rd_ptr(&t)[at - 1] == '\n' || rd_ptr(&t)[at - 1] == '\r';

		rd_skip(&t, at + strlen(pat));
		if (!word_start || !rd_u8(&t, &q) || (q != '"' && q != '\''))
			continue;
		end = devlog_rd_find(&t, q == '"' ? "\"" : "'");
		if (end == SIZE_MAX)
			return 0;
		*val = t;
		val->len = end;
		return 1;
	}
	return 0;
}

/* XML character data to printable text: the five entities and numeric
 * references (ASCII only; others become '?'), at most max bytes out. */
static size_t xml_unescape(const struct rd *in, char *out, size_t max)
{
	struct rd t = *in;
	size_t n = 0;
	uint8_t c;

	while (n + 1 < max && rd_u8(&t, &c)) {
		if (c == '&') {
			static const char *const ent[] = { "lt;", "gt;", "amp;", "quot;", "apos;" };
			static const char rep[] = "<>&\"'";
			size_t i;
			int done = 0;

			for (i = 0; i < 5 && !done; i++)
				if (devlog_rd_lit(&t, ent[i])) {
					out[n++] = rep[i];
					done = 1;
				}
			if (!done && devlog_rd_lit(&t, "#")) {
				int hex = devlog_rd_lit_ci(&t, "x"), d;
				uint32_t v = 0;
				size_t k = 0;

				while (k < 8 && rd_left(&t) > 0 && rd_ptr(&t)[0] != ';') {
					uint8_t h = rd_ptr(&t)[0];

					if (h >= '0' && h <= '9')
						d = h - '0';
					else if (hex && (h | 0x20) >= 'a' && (h | 0x20) <= 'f')
						d = (h | 0x20) - 'a' + 10;
					else
						break;
					v = v * (hex ? 16 : 10) + (uint32_t)d;
					rd_skip(&t, 1);
					k++;
				}
				devlog_rd_lit(&t, ";");
				out[n++] = v >= 0x20 && v < 0x7f ? (char)v : v == '\n' || v == '\t' ? ' ' : '?';
				done = 1;
			}
			if (!done)
				out[n++] = '&';
		} else {
			out[n++] = c == '\r' || c == '\n' || c == '\t' ? ' ' : (char)c;
		}
	}
	out[n] = '\0';
	return n;
}

static char *level_name(int level)
{
	static const char *const names[] = { "LogAlways", "Critical", "Error", "Warning",
					     "Information", "Verbose" };

	if (level >= 0 && level <= 5)
		return strdup(names[level]);
	return str_printf("%d", level);
}

static int rd_int(const struct rd *r, int *v)
{
	struct rd t = *r;

	devlog_rd_ws(&t);
	devlog_rd_rtrim(&t);
	return rd_left(&t) > 0 && rd_left(&t) <= 9 && devlog_rd_digits(&t, rd_left(&t), v);
}

/* EventData as "Name=value; value; ..." (unescaped) into buf. */
static void event_data(const struct rd *ev, char *buf, size_t max)
{
	struct rd t = *ev, tag, content;
	size_t n = 0, at;
	int count = 0;

	buf[0] = '\0';
	at = find_elem(&t, "EventData");
	if (at == SIZE_MAX)
		return;
	rd_skip(&t, at);
	/* bounded: Data elements within this event only, at most 64 */
	while (count < 64 && elem(&t, "Data", &tag, &content)) {
		struct rd name;
		char val[512];
		int w;

		xml_unescape(&content, val, sizeof(val));
		if (attr(&tag, "Name", &name))
			w = snprintf(buf + n, max - n, "%s%.*s=%s", n ? "; " : "", (int)(rd_left(&name) > 64 ? 64 : rd_left(&name)),
				     (const char *)rd_ptr(&name), val);
		else
			w = snprintf(buf + n, max - n, "%s%s", n ? "; " : "", val);
		if (w < 0 || (size_t)w >= max - n)
			break;
		n += (size_t)w;
		count++;
		at = find_elem(&t, "Data");
		if (at == SIZE_MAX)
			break;
		rd_skip(&t, at + 5);
	}
}

static void one_event(struct devlog_ctx *c, struct rd ev)
{
	struct devlog_event e;
	struct rd tag, content, v;
	int id = -1, level = -1, lv;
	int64_t local_s, frac, off;
	int has_off = 0;
	char data[1024], msg[1024], text[DEVLOG_TEXT_MAX + 1];
	size_t i;
	const char *what = NULL;
	enum devlog_kind kind = DEVLOG_OTHER;
	int known = 0, scep;
	struct rd tr, provider;

	if (!elem(&ev, "EventID", NULL, &content) || !rd_int(&content, &id) ||
	    !elem(&ev, "TimeCreated", &tag, &content) || !attr(&tag, "SystemTime", &v) ||
	    !devlog_rd_iso8601(&v, &local_s, &frac, &off, &has_off)) {
		c->out->unparsed_lines++;
		return;
	}
	if (elem(&ev, "Level", NULL, &content) && rd_int(&content, &lv))
		level = lv;
	event_data(&ev, data, sizeof(data));
	msg[0] = '\0';
	if (elem(&ev, "Message", NULL, &content))
		xml_unescape(&content, msg, sizeof(msg));
	rd_init(&provider, NULL, 0);
	if (elem(&ev, "Provider", &tag, &content))
		attr(&tag, "Name", &provider);
	for (i = 0; i < sizeof(KNOWN) / sizeof(KNOWN[0]); i++)
		if (KNOWN[i].id == id && devlog_rd_find(&provider, KNOWN[i].provider) != SIZE_MAX) {
			kind = KNOWN[i].kind;
			what = KNOWN[i].what;
			known = 1;
		}
	/* Level 1 critical, 2 error */
	if (known && kind == DEVLOG_OTHER && level >= 1 && level <= 2)
		kind = DEVLOG_ERROR;
	rd_init(&tr, msg, strlen(msg));
	scep = devlog_rd_find_ci(&tr, "scep") != SIZE_MAX;
	rd_init(&tr, data, strlen(data));
	scep = scep || devlog_rd_find_ci(&tr, "scep") != SIZE_MAX;
	if (!known) {
		/* Level 1 critical, 2 error */
		if (scep && level >= 1 && level <= 2)
			kind = DEVLOG_ERROR;
		else if (!scep) {
			c->out->ignored_lines++;
			return;
		}
	}
	devlog_event_init(&e, kind, SRC);
	e.event_id = id;
	/* SystemTime is UTC ("Z"); a missing designator gets the default */
	e.ts_ns = devlog_ts(c, local_s, frac, has_off ? off : c->o->default_tz_offset_s);
	e.ts_has_offset = has_off;
	if (level >= 0)
		e.level = level_name(level);
	if (rd_left(&provider) > 0)
		e.component = devlog_strdup(&provider, 128);
	/* rendered message first; else the known description and the data */
	if (msg[0])
		snprintf(text, sizeof(text), "%s", msg);
	else
		snprintf(text, sizeof(text), "%s%s%s", what ? what : "", what && data[0] ? " " : "", data);
	rd_init(&tr, text, strlen(text));
	e.text = devlog_strdup(&tr, DEVLOG_TEXT_MAX);
	if (kind == DEVLOG_ERROR) {
		rd_init(&tr, data, strlen(data));
		e.has_error_code = devlog_find_hex_code(&tr, &e.error_code);
		if (!e.has_error_code) {
			rd_init(&tr, msg, strlen(msg));
			e.has_error_code = devlog_find_hex_code(&tr, &e.error_code);
		}
	}
	devlog_emit(c, &e);
}

int devlog_windows_event(struct devlog_ctx *c, const uint8_t *xml, size_t len)
{
	struct rd r;
	size_t at, end;

	rd_init(&r, xml, len);
	at = find_elem(&r, "Event");
	if (at == SIZE_MAX)
		return 0;
	rd_skip(&r, at);
	end = devlog_rd_find(&r, "</Event>");
	if (end == SIZE_MAX)
		return 0;
	r.len = end;
	one_event(c, r);
	return 1;
}

void devlog_windows_read(struct devlog_ctx *c, const uint8_t *buf, size_t len)
{
	uint64_t max = c->o->max_lines ? c->o->max_lines : DEVLOG_LINES_MAX;
	struct rd r;
	size_t at, pos = 0, counted = 0;

	rd_init(&r, buf, len);
	c->line_no = 1;
	while ((at = find_elem(&r, "Event")) != SIZE_MAX) {
		struct rd ev, span;
		size_t end;
		uint8_t ch;

		/* line of the <Event: newlines since the last one counted */
		rd_init(&span, buf, len);
		rd_skip(&span, counted);
		span.len = pos + at - counted;
		while (rd_u8(&span, &ch))
			if (ch == '\n')
				c->line_no++;
		rd_skip(&r, at);
		pos += at;
		counted = pos;
		if (c->out->lines >= max) {
			c->out->lines_capped++;
			rd_skip(&r, 1);
			pos++;
			continue;
		}
		c->out->lines++;
		ev = r;
		end = devlog_rd_find(&ev, "</Event>");
		if (end == SIZE_MAX) {
			/* a cut export: the last event has no end */
			c->out->unparsed_lines++;
			break;
		}
		ev.len = end;
		one_event(c, ev);
		rd_skip(&r, end + strlen("</Event>"));
		pos += end + strlen("</Event>");
	}
}
