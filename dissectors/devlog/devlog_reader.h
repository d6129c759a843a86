/* devlog_reader.h - what the device-log readers share (private to
 * dissectors/devlog/): the state of one read, event building, the bounded
 * text helpers, and each format's entry points the dispatcher calls. */
#ifndef SCEPDUMP_DEVLOG_READER_H
#define SCEPDUMP_DEVLOG_READER_H

#include "devlog.h"
#include "reader.h"

/* One read in progress: the options, the output and the rolling state
 * that dates lines which lack a date. */
struct devlog_ctx {
	const struct devlog_opts *o;
	struct devlog_list *out;
	uint64_t line_no;
	int year, month, day;       /* assumed date, advanced on roll-over */
	int date_set;               /* year/month/day chosen (given, or at the first undated line) */
	int no_date;                /* none could be: placeholder date, events get ts_no_date */
	int last_month;             /* syslog: month of the previous line */
	int64_t last_tod_ns;        /* copy format: time of day of the previous line */
	int64_t day_shift;          /* copy format: days past the assumed date */
	/* iOS: the last event may take the indented lines of an NSError
	 * dump that follow it ("    Code   : 22003") */
	int nserror_open;
	int nserror_desc;           /* its first Desc is in the event's text */
	char nserror_domain[64];    /* last Domain read, waiting for its Code */
	int nomem;
};

/* A fresh read of o into out: the date assumed from o (--device-date),
 * the time of day of no line seen yet. */
void devlog_ctx_init(struct devlog_ctx *c, const struct devlog_opts *o, struct devlog_list *out);
/* A fresh event with every "absent" marker set. */
void devlog_event_init(struct devlog_event *e, enum devlog_kind k, const char *source);
/* Appends e (taking its strings) unless max_events is reached, in which
 * case the strings are freed and out->capped counts it. */
void devlog_emit(struct devlog_ctx *c, struct devlog_event *e);
void devlog_event_clear(struct devlog_event *e);

/* Text helpers over struct rd (all bounded; none reads past rd_left). */
int devlog_rd_lit(struct rd *r, const char *lit);            /* consume lit if next */
int devlog_rd_lit_ci(struct rd *r, const char *lit);
size_t devlog_rd_find(const struct rd *r, const char *lit);  /* offset or SIZE_MAX */
size_t devlog_rd_find_ci(const struct rd *r, const char *lit);
size_t devlog_rd_ws(struct rd *r);                           /* skip blanks, count */
int devlog_rd_token(struct rd *r, struct rd *tok);           /* up to a blank; 0 if empty */
int devlog_rd_digits(struct rd *r, size_t n, int *v);        /* exactly n digits */
/* Up to max digits (at least one) as a fraction: ns gets nanoseconds. */
int devlog_rd_frac(struct rd *r, size_t max, int64_t *ns);
/* "+0100", "-05:00", "Z": offset east of UTC in seconds. */
int devlog_rd_offset(struct rd *r, int64_t *off_s);
/* YYYY-MM-DDTHH:MM:SS[.fraction][Z|+HH:MM|+HHMM]: local seconds since the
 * epoch, fraction in ns, offset east of UTC (has_off 0 when none). */
int devlog_rd_iso8601(struct rd *r, int64_t *local_s, int64_t *frac, int64_t *off, int *has_off);
void devlog_rd_rtrim(struct rd *r);                          /* drop trailing blanks/CR */
char *devlog_strdup(const struct rd *r, size_t max);         /* printable copy */
/* Cuts a printable copy to at most max bytes, never inside a UTF-8
 * character or a \xHH escape. */
void devlog_text_cut(char *s, size_t max);
int devlog_eq(const struct rd *r, const char *lit);          /* whole span equals */
int devlog_eq_ci(const struct rd *r, const char *lit);       /* the same, ASCII case ignored */
/* Chooses the date of a read's first undated line, whose time of day is
 * tod_s seconds in UTC offset off_s (see devlog_opts); sets c->year,
 * c->month, c->day and c->date_set, or c->no_date when there is nothing
 * to take a date from. */
void devlog_pick_date(struct devlog_ctx *c, int64_t tod_s, int64_t off_s);
/* Placeholder year of a read without any date: a leap year (a syslog
 * "Feb 29" still parses) after 1970 (offsets east of UTC stay positive). */
#define DEVLOG_NO_DATE_YEAR 1972
/* local time + fraction - offset + skew, clamped at 0. */
uint64_t devlog_ts(const struct devlog_ctx *c, int64_t local_s, int64_t frac_ns, int64_t off_s);
/* operation= from a URL, NULL when absent. */
char *devlog_url_op(const struct rd *url);
/* First 0x<hex> (1 to 8 digits) in r, 1 when found. */
int devlog_find_hex_code(const struct rd *r, int64_t *code);
/* Decodes the message= of url (may be cut) into e: transaction_id,
 * message_type, sender_nonce, message_cut; counts failures. */
void devlog_decode_message(struct devlog_ctx *c, const struct rd *url, struct devlog_event *e);

int devlog_android_probe(struct rd line);
int devlog_android_line(struct devlog_ctx *c, struct rd line);   /* 0: not in the grammar */
int devlog_ios_probe(struct rd line);
int devlog_ios_line(struct devlog_ctx *c, struct rd line);
int devlog_windows_probe(const uint8_t *buf, size_t len);
void devlog_windows_read(struct devlog_ctx *c, const uint8_t *buf, size_t len);
/* The first <Event>...</Event> of xml as one event (line_no is the
 * caller's); 0 when xml holds no whole Event element. */
int devlog_windows_event(struct devlog_ctx *c, const uint8_t *xml, size_t len);
/* 1 when buf starts with the .evtx file signature "ElfFile\0". */
int devlog_evtx_probe(const uint8_t *buf, size_t len);
/* Every record of an .evtx file through libevtx, each record's XML to
 * devlog_windows_event. Returns 0, or DEVLOG_E_FORMAT / DEVLOG_E_NOMEM
 * with a one-line reason in err (the file unreadable as a whole, or this
 * build has no libevtx). Damaged chunks and records are counted in
 * c->out and described in c->out->note, never an error. */
int devlog_evtx_read(struct devlog_ctx *c, const uint8_t *buf, size_t len, char *err, size_t errlen);
/* 1 when this build reads .evtx files (built with libevtx). */
int devlog_evtx_supported(void);

#endif
