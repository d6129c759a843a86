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
 * has_error_code 0). All strings are owned by the event, printable
 * (ASCII, or well-formed UTF-8 of a character that is no control,
 * surrogate or bidirectional override; other bytes as \xHH) and freed by
 * devlog_list_free. */
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


/* Civil dates, for --device-date as for the readers. */
/* Seconds since the epoch of a civil date/time; -1 when out of range. */
int64_t devlog_civil_s(int y, int mon, int d, int h, int mi, int s);
/* The civil date of a day count from 1970-01-01 (negative before it). */
void devlog_civil_from_days(int64_t days, int *y, int *mon, int *d);

#endif
