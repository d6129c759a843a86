/* devlog.h - device-side SCEP logs (Android Company Portal/OMADM + jscep,
 * iOS profiled console lines, Windows DeviceManagement-Enterprise-
 * Diagnostics-Provider events exported as XML or kept in an .evtx file)
 * read into typed events that
 * the transaction table merges with what the wire showed. Log text is as
 * hostile as packet bytes: every read is length-checked, every list capped
 * and every skipped line counted. The readers fill these structs only;
 * sinks print them. */
#ifndef SCEPDUMP_DEVLOG_H
#define SCEPDUMP_DEVLOG_H

#include <stddef.h>
#include <stdint.h>

#include "reader.h"

enum devlog_format {
	DEVLOG_AUTO = 0,            /* detect from content */
	DEVLOG_ANDROID,             /* OMADM / Company Portal log with jscep lines */
	DEVLOG_IOS,                 /* profiled: unified log, syslog, Console.app copy or device view */
	/* Windows events: wevtutil qe ... /f:xml (or /f:RenderedXml); forced
	 * on an .evtx file (its "ElfFile" signature) it reads that instead */
	DEVLOG_WINDOWS_XML,
	DEVLOG_WINDOWS_EVTX,        /* the .evtx file itself, through libevtx */
	DEVLOG_UNKNOWN              /* what detection says when nothing matched */
};

enum devlog_kind {
	DEVLOG_REQUEST_SENT,        /* a SCEP request the device sent: op, url, transaction_id if known */
	DEVLOG_RESPONSE,            /* HTTP status received, or a CertRep summary */
	DEVLOG_CERT_STATE,          /* certificate state machine transition */
	DEVLOG_INSTALLED,           /* certificate (or profile holding it) installed */
	DEVLOG_ACCESS_GRANTED,      /* Android: app granted access to the key */
	DEVLOG_ERROR,               /* device-side failure with text and/or code */
	DEVLOG_OTHER                /* SCEP-related line with nothing more to type */
};

/* One event. Absent strings are NULL, absent numbers -1 (http_status 0,
 * has_error_code 0). All strings are owned by the event, printable ASCII
 * (other bytes as \xHH, see str_printable) and freed by devlog_list_free. */
struct devlog_event {
	enum devlog_kind kind;
	/* UTC nanoseconds: the line's time minus its own UTC offset (or minus
	 * default_tz_offset_s when it has none), plus skew_ns. */
	uint64_t ts_ns;
	int ts_has_offset;          /* 1 when the line carried its own UTC offset */
	/* 1 when the line lacked its year (syslog "Nov 25 ...") or its whole
	 * date (Console.app copy "Debug 18:30:53.691033 -0500 ..."), so the
	 * date part comes from devlog_opts (see there) */
	int ts_date_assumed;
	/* 1 when no date could be assumed either (no --device-date, no
	 * capture): ts_ns then counts from a placeholder day, so only its time
	 * of day (and its distance to other such lines) means anything; sinks
	 * print the time of day and say the date is unknown */
	int ts_no_date;
	const char *source;         /* "android", "ios", "windows" (static) */
	/* 1-based line of the file (Windows XML: line where <Event starts;
	 * .evtx: the record number, EventRecordID, as Event Viewer and
	 * evtxexport show it) */
	uint64_t line_no;
	char *component;            /* Android class, iOS process, Windows provider */
	char *level;                /* "INFO", "Error", "2" (Windows Level) ... as logged */
	char *op;                   /* "GetCACert", "PKIOperation", ... */
	char *url;
	char *transaction_id;
	int message_type;           /* enum scep_msg_type values, -1 absent */
	/* message= did not decode whole (a cut log line): what a partial
	 * decode recovered is filled in, and decode_note says where it stopped
	 * ("truncated at byte 1060 of 2726 (inside encryptedContent): ...").
	 * SCEP puts transactionID in the signerInfo, after the envelope, so a
	 * line cut early has no ID: match its url as a prefix of the wire's
	 * GET URL instead. */
	int message_cut;
	char *decode_note;
	int http_status;            /* "Received '200 OK'": 200; 0 absent */
	int pki_status;             /* enum scep_pki_status values, -1 absent */
	int fail_info;              /* enum scep_fail_info values, -1 absent */
	char *sender_nonce, *recipient_nonce; /* as the log wrote them */
	char *state_from, *state_to, *cert_name;
	/* Android NativeRootCertInstallStateMachine ("Root cert '...'"): the
	 * trusted root a profile pushes, not the enrolled certificate, so its
	 * CERT_INSTALL_SUCCESS says nothing about the SCEP certificate */
	int root_cert;
	int event_id;               /* Windows EventID, -1 elsewhere */
	char *text;                 /* the message, cut at DEVLOG_TEXT_MAX */
	int has_error_code;
	/* Windows: the HRESULT as unsigned 32 bits (0x80090016), iOS: the
	 * NSError Code= (may be negative), Android: a 0x... code in the line */
	int64_t error_code;
	/* iOS: the NSError domain the code belongs to ("MCSCEPErrorDomain");
	 * of a chain of underlying errors, the innermost one (the cause) */
	char *error_domain;
};

struct devlog_list {
	struct devlog_event *ev;
	size_t n, cap_alloc;
	uint64_t lines;             /* lines read (Windows: <Event> elements, .evtx: records) */
	uint64_t unparsed_lines;    /* non-empty lines not in the format's grammar */
	uint64_t ignored_lines;     /* in the grammar but nothing to do with SCEP */
	uint64_t capped;            /* events dropped at max_events */
	uint64_t lines_capped;      /* lines not read past max_lines */
	uint64_t long_lines;        /* lines cut at DEVLOG_LINE_MAX before parsing */
	uint64_t bytes_capped;      /* file bytes past max_bytes or the budget, not read */
	int budget_capped;          /* bytes_capped or capped came from the memory budget */
	struct mem_budget *mem;     /* what the events are charged to (devlog_opts.mem) */
	size_t charged;
	uint64_t decode_failed;     /* message= present but nothing decoded */
	/* message= that did not decode whole: a log line cut inside it (the
	 * event keeps the URL as logged and says message_cut) */
	uint64_t messages_cut;
	/* .evtx: records that could not be read (cut short, bad framing, or
	 * libevtx could not render them); each is in unparsed_lines too */
	uint64_t records_damaged;
	/* .evtx: chunks with a wrong signature or checksum; libevtx still
	 * reads what it can of them, as evtxexport does */
	uint64_t chunks_damaged;
	/* one line on the first damage found ("chunk 1 (file offset 0x11000):
	 * header checksum mismatch, ..."), "" when none: the reader does not
	 * print, its caller does */
	char note[256];
	enum devlog_format format;  /* what was read (detected or forced) */
};

#define DEVLOG_TEXT_MAX 240
#define DEVLOG_LINE_MAX (256u * 1024)            /* a GET message= URL is < 64 kB in practice */
#define DEVLOG_EVENTS_MAX 200000u
#define DEVLOG_LINES_MAX 50000000u
#define DEVLOG_BYTES_MAX (256u * 1024 * 1024)

struct devlog_opts {
	enum devlog_format force;   /* DEVLOG_AUTO to detect */
	/* device's offset east of UTC for lines with none (Android, syslog):
	 * +3600 for CET; UTC = local - offset */
	int64_t default_tz_offset_s;
	int64_t skew_ns;            /* added to every time (device clock correction) */
	/* Where a line has no date (Console.app copy) or no year (syslog),
	 * the first of: the date given here (--device-date; 0 = none), the
	 * date of ref_ts_ns (the capture's first packet) in the line's own UTC
	 * offset, chosen so the first such line falls within 12 hours of it,
	 * or none (events get ts_no_date). Assumed dates roll forward when the
	 * month (syslog) or time of day (copy) goes back. */
	int year, month, day;
	uint64_t ref_ts_ns;         /* UTC ns, 0 = no capture */
	size_t max_events;          /* 0 = DEVLOG_EVENTS_MAX */
	uint64_t max_lines;         /* 0 = DEVLOG_LINES_MAX */
	size_t max_bytes;           /* 0 = DEVLOG_BYTES_MAX */
	/* the run's budget (NULL: none): the file's bytes are held while it
	 * is read and charged; past the budget the rest is counted in
	 * bytes_capped, as past max_bytes */
	struct mem_budget *mem;
};

#define DEVLOG_E_IO (-1)            /* cannot open or read the file */
#define DEVLOG_E_FORMAT (-2)        /* not a device log this reads */
#define DEVLOG_E_NOMEM (-3)

/* Fills o with the defaults (auto-detect, UTC, no skew, no date). */
void devlog_opts_init(struct devlog_opts *o);

/* Reads one device log (path "-" is stdin) into out, which must be zeroed
 * or freed before; events are appended in file order (not sorted). Returns
 * 0, or a DEVLOG_E_* code with a one-line reason in err; lines it cannot
 * read are counted in out, never an error. On error out holds what was
 * read so far and must still be freed. */
int devlog_read_file_opts(const char *path, const struct devlog_opts *o,
			  struct devlog_list *out, char *err, size_t errlen);
/* The same with the default options but these four. */
int devlog_read_file(const char *path, enum devlog_format force, int64_t default_tz_offset_s,
		     int64_t skew_ns, struct devlog_list *out, char *err, size_t errlen);
/* The same over a buffer (tests, fuzzing). */
int devlog_read_buf(const uint8_t *buf, size_t len, const struct devlog_opts *o,
		    struct devlog_list *out, char *err, size_t errlen);
/* Which format buf holds, judged from its first non-empty lines. */
enum devlog_format devlog_detect(const uint8_t *buf, size_t len);
void devlog_list_free(struct devlog_list *l);

const char *devlog_kind_name(enum devlog_kind k);      /* "REQUEST_SENT" ... */
const char *devlog_format_name(enum devlog_format f);  /* "android" ... */
/* "android"/"ios"/"windows"/"windows-evtx"/"auto" (also "windows-xml",
 * the same as "windows") to a format; DEVLOG_UNKNOWN when the name is none
 * of them. */
enum devlog_format devlog_format_from_name(const char *name);

/* ---- shared by dissectors/devlog*.c only ---------------------------- */

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
int devlog_eq(const struct rd *r, const char *lit);          /* whole span equals */
int devlog_eq_ci(const struct rd *r, const char *lit);       /* the same, ASCII case ignored */
/* Seconds since the epoch of a civil date/time; -1 when out of range. */
int64_t devlog_civil_s(int y, int mon, int d, int h, int mi, int s);
/* The civil date of a day count from 1970-01-01 (negative before it). */
void devlog_civil_from_days(int64_t days, int *y, int *mon, int *d);
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
