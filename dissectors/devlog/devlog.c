/* devlog.c - reading one device log: the file (capped), its encoding,
 * its lines (capped), which format it is, and handing each line or record
 * to that format's reader (devlog_android.c, devlog_ios.c,
 * devlog_windows.c, devlog_evtx.c). The readers never call back here:
 * what they share is in devlog_text.c and devlog_event.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devlog_reader.h"
#include "membudget.h"

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
	devlog_ctx_init(&c, o, out);
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
	devlog_ctx_init(&c, o, out);
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
