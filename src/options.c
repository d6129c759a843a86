/* options.c - the command line contract (see man/scepdump.1): parses argv
 * once into struct sd_options; every bad option is one line on stderr. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "devlog.h"
#include "options.h"
#include "txn.h"

enum {
	OPT_JSON = 256, OPT_CHECK, OPT_SHOW_SECRETS, OPT_MAX_BODY,
	OPT_MAX_FLOWS, OPT_MAX_FLOW_BUFFER, OPT_MAX_TOTAL_BUFFER, OPT_MAX_MEMORY,
	OPT_IDLE_TIMEOUT, OPT_MAX_TXNS, OPT_MAX_TXN_EXCHANGES, OPT_MAX_H2_STREAMS, OPT_MAX_H2_HEADER_LIST, OPT_MAX_OPAQUE_TLS, OPT_DECODE_THREADS, OPT_NO_SPILL, OPT_KEY, OPT_CHECKSUMS, OPT_KEY_PASS, OPT_COLOR, OPT_HTML, OPT_KEYLOG, OPT_TLS_KEY, OPT_DEVLOG, OPT_DEVLOG_FORMAT, OPT_DEVICE_TZ, OPT_DEVICE_DATE, OPT_DEVICE_SKEW,
	OPT_CA_CERT, OPT_METRICS, OPT_METRICS_INTERVAL, OPT_JSON_FILE,
	OPT_VERDICT, OPT_FAILED,
	OPT_CODES       /* not an option: one past the largest option code */
};

static const struct option long_options[] = {
	{ "read", required_argument, NULL, 'r' },
	{ "interface", required_argument, NULL, 'i' },
	{ "filter", required_argument, NULL, 'f' },
	{ "snaplen", required_argument, NULL, 's' },
	{ "buffer-size", required_argument, NULL, 'B' },
	{ "user", required_argument, NULL, 'Z' },
	{ "write", required_argument, NULL, 'w' },
	{ "json-file", required_argument, NULL, OPT_JSON_FILE },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "key-pass", required_argument, NULL, OPT_KEY_PASS },
	{ "ca-cert", required_argument, NULL, OPT_CA_CERT },
	{ "keylog", required_argument, NULL, OPT_KEYLOG },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "device-log", required_argument, NULL, OPT_DEVLOG },
	{ "device-log-format", required_argument, NULL, OPT_DEVLOG_FORMAT },
	{ "device-tz", required_argument, NULL, OPT_DEVICE_TZ },
	{ "device-date", required_argument, NULL, OPT_DEVICE_DATE },
	{ "device-skew", required_argument, NULL, OPT_DEVICE_SKEW },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "html", required_argument, NULL, OPT_HTML },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "metrics-interval", required_argument, NULL, OPT_METRICS_INTERVAL },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "verdict", required_argument, NULL, OPT_VERDICT },
	{ "failed", no_argument, NULL, OPT_FAILED },
	{ "show-secrets", no_argument, NULL, OPT_SHOW_SECRETS },
	{ "checksums", no_argument, NULL, OPT_CHECKSUMS },
	{ "color", optional_argument, NULL, OPT_COLOR },
	{ "colour", optional_argument, NULL, OPT_COLOR },
	{ "max-body", required_argument, NULL, OPT_MAX_BODY },
	{ "max-transactions", required_argument, NULL, OPT_MAX_TXNS },
	{ "max-txn-exchanges", required_argument, NULL, OPT_MAX_TXN_EXCHANGES },
	{ "max-opaque-tls", required_argument, NULL, OPT_MAX_OPAQUE_TLS },
	{ "decode-threads", required_argument, NULL, OPT_DECODE_THREADS },
	{ "no-spill", no_argument, NULL, OPT_NO_SPILL },
	{ "max-h2-streams", required_argument, NULL, OPT_MAX_H2_STREAMS },
	{ "max-h2-header-list", required_argument, NULL, OPT_MAX_H2_HEADER_LIST },
	{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
	{ "max-flow-buffer", required_argument, NULL, OPT_MAX_FLOW_BUFFER },
	{ "max-total-buffer", required_argument, NULL, OPT_MAX_TOTAL_BUFFER },
	{ "max-memory", required_argument, NULL, OPT_MAX_MEMORY },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

void options_decode_usage(FILE *out)
{
	fputs("Usage: scepdump decode [options] [FILE|URL|BASE64|-]\n"
	      "\n"
	      "Decodes one input copied from a capture, a server or a device log (standard\n"
	      "input when FILE is '-' or absent), whatever form it is in: DER or BER, PEM,\n"
	      "base64 (line breaks, no padding, URL-safe, or cut short by a log), percent-\n"
	      "encoded base64, S/MIME, or a URL or log line holding message= (percent-\n"
	      "encoding done twice, JSON-escaped slashes, '+' turned into spaces and a\n"
	      "pasted line break are undone). It may be a pkiMessage (PKCSReq, RenewalReq,\n"
	      "CertPoll, GetCert, GetCRL, CertRep), a GetCACert answer (one certificate, a\n"
	      "certificates-only PKCS#7, PEM certificates) or a GetCACaps answer (one\n"
	      "capability per line). A message cut short is decoded as far as it goes, and\n"
	      "where it stops is said. A URL or base64 message may be given as the\n"
	      "argument itself. A whole text log with several messages gives each, after\n"
	      "its line number (\"line 42: ...\").\n"
	      "\n"
	      "Options:\n"
	      "      --key FILE           private key (PEM, DER or PKCS#12) that opens the\n"
	      "                           envelope: the RA/CA key for requests, the device key\n"
	      "                           for CertReps; repeatable\n"
	      "      --key-pass PASS      passphrase of encrypted --key files\n"
	      "      --ca-cert FILE       CA/RA certificates (PEM, DER or PKCS#7) that signed a\n"
	      "                           message carrying none (NDES CertReps); repeatable\n"
	      "      --json               one JSON object instead of text (doc/json-schema.md)\n"
	      "  -v, --verbose            add certificate fingerprints, the other certificates\n"
	      "                           of the message and every signed attribute\n"
	      "      --show-secrets       print challenge passwords (hidden by default)\n"
	      "  -h, --help               this text\n"
	      "\n"
	      "Exit status: 0 decoded (a message cut short counts), 2 not decoded or an\n"
	      "input error.\n", out);
}

void options_usage(FILE *out)
{
	fputs("Usage: scepdump [options] -r FILE [-r FILE ...]\n"
	      "       scepdump [options] -i IFACE [BPF filter]\n"
	      "       scepdump decode [options] [FILE|URL|BASE64|-]  a message: DER, PEM,\n"
	      "                           base64, a URL / log line with message=, or a log's all\n"
	      "\n"
	      "Input:\n"
	      "  -r, --read FILE          pcap or pcapng file, '-' for stdin; repeat to merge by time\n"
	      "  -i, --interface IFACE    capture live on IFACE\n"
	      "  -f, --filter FILTER      BPF filter (also: trailing arguments, after the options)\n"
	      "  -s, --snaplen N          live capture snap length (default 262144; 0: the same)\n"
	      "  -B, --buffer-size KiB    live capture kernel ring (default 65536 = 64 MiB)\n"
	      "  -Z, --user USER          drop privileges to USER after opening the capture\n"
	      "      --key FILE           private key (PEM, DER or PKCS#12 .pfx/.p12) to open SCEP\n"
	      "                           envelopes; repeatable\n"
	      "      --key-pass PASS      passphrase of encrypted --key and --tls-key files\n"
	      "      --ca-cert FILE       CA/RA certificates (PEM, DER or PKCS#7 bundle) that signed\n"
	      "                           messages carrying none (NDES CertReps); repeatable\n"
	      "      --keylog FILE        TLS secrets in NSS key log format (SSLKEYLOGFILE); repeatable;\n"
	      "                           pcapng Decryption Secrets Blocks are used too\n"
	      "      --tls-key FILE       the TLS server's RSA private key (PEM, DER or PKCS#12; with\n"
	      "                           --key-pass): decrypts TLS 1.0-1.2 RSA key exchange; repeatable\n"
	      "      --checksums          verify IPv4 and TCP checksums and report bad ones\n"
	      "                           (off by default: offloaded captures carry wrong ones)\n"
	      "      --device-log FILE    Android, iOS or Windows (event XML or .evtx) device log\n"
	      "                           to merge; repeatable\n"
	      "      --device-log-format android|ios|windows|windows-evtx   instead of detecting it\n"
	      "                           (windows: XML export or .evtx, told apart by content)\n"
	      "      --device-tz +HH:MM   UTC offset of device log lines that carry none (default UTC)\n"
	      "      --device-date YYYY-MM-DD  date of device log lines that carry none (iOS Console\n"
	      "                           copy; syslog lines take its year); default: the capture's\n"
	      "      --device-skew SEC    add SEC (may be negative) to every device time\n"
	      "Output:\n"
	      "  -w, --write FILE         also write the packets of the connections that carried\n"
	      "                           SCEP to a new pcap. -r: the files are read twice; -i:\n"
	      "                           a new connection's packets are held until SCEP shows\n"
	      "                           (at most 64 KiB each, 64 MiB in all; past that they\n"
	      "                           are counted, not written); SIGHUP reopens the file\n"
	      "      --json-file FILE     -i: also write each transaction as it settles, then the\n"
	      "                           summary, as JSON Lines; SIGHUP reopens it\n"
	      "  -C SIZE                  -i: a new -w/--json-file file once one passes SIZE\n"
	      "                           millions of bytes: FILE, FILE1, FILE2... (as tcpdump)\n"
	      "  -G SECONDS               -i: a new file every SECONDS; FILE is a strftime pattern\n"
	      "  -W COUNT                 -i: at most COUNT files: with -C alone the ring\n"
	      "                           FILE0..FILE{COUNT-1}; with -G the oldest is removed\n"
	      "      --json               JSON Lines instead of the text timeline\n"
	      "      --html FILE          also write a self-contained HTML report (swimlanes)\n"
	      "      --metrics FILE       keep FILE rewritten with Prometheus metrics (for\n"
	      "                           node_exporter's textfile collector)\n"
	      "      --metrics-interval SEC  how often (default 15; also at the end)\n"
	      "  -v, --verbose            add certificates, attributes, algorithms, counters\n"
	      "  -q, --quiet              print only the summary\n"
	      "      --color[=WHEN]       colour verdicts and findings: auto (a terminal, unless\n"
	      "                           NO_COLOR is set), always, never\n"
	      "      --show-secrets       print challenge passwords (hidden by default)\n"
	      "      --check              exit 1 when a transaction did not end ISSUED/DELIVERED\n"
	      "      --verdict LIST       list only transactions with these verdicts (comma-\n"
	      "                           separated: ISSUED, DELIVERED, REJECTED, PENDING,\n"
	      "                           HTTP_ERROR, NO_RESPONSE, INCOMPLETE, UNDECODED);\n"
	      "                           the summary still counts them all\n"
	      "      --failed             list only the failed: every verdict but ISSUED and\n"
	      "                           DELIVERED (what --check counts)\n"
	      "Limits:\n"
	      "      --max-memory BYTES   one budget for every buffer that grows with input\n"
	      "                           (default 268435456); past it, connections\n"
	      "                           that never looked like SCEP go first, then idle ones\n"
	      "      --max-body BYTES     HTTP body bytes kept per message (default 4194304)\n"
	      "      --max-flows N        TCP flows tracked at once (default 65536)\n"
	      "      --max-flow-buffer BYTES  out-of-order bytes held per direction (default 1048576)\n"
	      "      --max-total-buffer BYTES out-of-order bytes held in all (default 268435456)\n"
	      "      --idle-timeout SEC   close TCP flows idle this long (default 300)\n"
	      "      --max-transactions N transactions held (default 10000); past it the oldest\n"
	      "                           leave: counted in the summary, listed only if shown\n"
	      "                           or spilled already\n"
	      "      --max-txn-exchanges N  exchanges kept per transaction (default 1000)\n"
	      "      --max-h2-streams N   HTTP/2 streams in flight per connection (default 1000)\n"
	      "      --max-h2-header-list BYTES  decoded HTTP/2 headers kept per message (default 65536)\n"
	      "      --max-opaque-tls N   TLS connections without readable HTTP held until the end\n"
	      "                           in case their server carries SCEP later (default 1000)\n"
	      "      --decode-threads N   1: decode SCEP messages on a second thread (default);\n"
	      "                           0: on the capture thread. The output is the same\n"
	      "      --no-spill           keep finished transactions in memory until the end\n"
	      "                           (by default, reading files, each is written out to\n"
	      "                           an unlinked file in $TMPDIR once final, so memory\n"
	      "                           does not grow with their number)\n"
	      "  -h, --help               this text\n"
	      "  -V, --version            version\n"
	      "\n"
	      "Signals (live): SIGHUP reopens the -w and --json-file files (after logrotate\n"
	      "renamed them); SIGUSR1 prints one statistics line on stderr.\n"
	      "Exit status: 0 success, 1 --check found a failed transaction, 2 usage or input error.\n",
	      out);
}

static int parse_size(const char *name, const char *arg, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end != '\0' || arg[0] == '-' || v == 0) {
		fprintf(stderr, "scepdump: --%s: '%s' is not a positive number\n", name, arg);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}

/* tcpdump's -s: 0 means whole packets (its 262144). */
static int parse_snaplen(const char *arg, int *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end != '\0' || arg[0] == '-' || v > OPT_MAX_SNAPLEN) {
		fprintf(stderr, "scepdump: -s: '%s' is not a snap length: 1..%d bytes, or 0 for whole packets\n",
			arg, OPT_MAX_SNAPLEN);
		return -1;
	}
	*out = v ? (int)v : OPT_MAX_SNAPLEN;
	return 0;
}

/* An option word: '-' or "--" and a letter. No BPF expression has one
 * (pcap-filter(7)): its operators stand alone ("-", "&&"), its numbers
 * start with a digit, a negative one with "-" and a digit, and its
 * keywords and names with a letter. So "-r x tcp port 80 -v" is an option
 * misplaced, which getopt (stopping at the filter's first word, as
 * tcpdump does) would otherwise pass to libpcap as filter text. */
static int is_option_word(const char *w)
{
	if (w[0] != '-')
		return 0;
	w += w[1] == '-' ? 2 : 1;
	return (*w >= 'a' && *w <= 'z') || (*w >= 'A' && *w <= 'Z');
}

static int check_filter_words(int argc, char **argv, int first)
{
	int i, j;

	for (i = first; i < argc; i++) {
		if (!is_option_word(argv[i]))
			continue;
		fprintf(stderr, "scepdump: option '%s' after the filter expression '", argv[i]);
		for (j = first; j < i; j++)
			fprintf(stderr, "%s%s", j > first ? " " : "", argv[j]);
		fputs("': put options before the filter\n", stderr);
		return -1;
	}
	return 0;
}

static int append_filter_words(struct sd_options *o, int argc, char **argv, int first)
{
	size_t len = 0;
	int i;

	if (first >= argc)
		return 0;
	if (check_filter_words(argc, argv, first) < 0)
		return -1;
	if (o->filter) {
		fprintf(stderr, "scepdump: give the BPF filter either with -f or as trailing arguments, not both\n");
		return -1;
	}
	for (i = first; i < argc; i++)
		len += strlen(argv[i]) + 1;
	o->filter = calloc(1, len + 1);
	if (!o->filter)
		return -1;
	for (i = first; i < argc; i++) {
		if (i > first)
			strcat(o->filter, " ");
		strcat(o->filter, argv[i]);
	}
	return 0;
}

/* -C millions of bytes, -G seconds, -W files: tcpdump's units. */
static int parse_rotation(struct sd_options *o, int c, const char *arg)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v == 0 || v > 1000000u) {
		fprintf(stderr, "scepdump: -%c: '%s' is not a number from 1 to 1000000\n", c, arg);
		return -1;
	}
	if (c == 'C')
		o->rotate_bytes = (uint64_t)v * 1000000u;
	else if (c == 'G')
		o->rotate_seconds = (unsigned)v;
	else
		o->rotate_count = (unsigned)v;
	return 0;
}

/* decode takes one input (default stdin) and no capture options. */
static int check_decode_args(struct sd_options *o, int argc, char **argv)
{
	if (optind < argc - 1) {
		fprintf(stderr, "scepdump: decode takes one message: FILE or '-' (got %d arguments)\n", argc - optind);
		return -1;
	}
	if (o->n_files || o->iface || o->filter) {
		fprintf(stderr, "scepdump: decode reads one message, not a capture: drop -r/-i/-f\n");
		return -1;
	}
	o->decode_input = optind < argc ? argv[optind] : "-";
	return 0;
}

/* -w reads the inputs a second time: only files can be read again. */
static int write_file_ok(const struct sd_options *o)
{
	size_t i;

	if (o->mode == MODE_LIVE)
		return 1;   /* held until SCEP shows (livew.c) */
	for (i = 0; i < o->n_files; i++) {
		if (!strcmp(o->files[i], "-")) {
			fprintf(stderr, "scepdump: -w cannot be used with -r - (standard input cannot be read twice)\n");
			return 0;
		}
		if (!strcmp(o->files[i], o->write_file)) {
			fprintf(stderr, "scepdump: -w %s: that is an input file\n", o->write_file);
			return 0;
		}
	}
	return 1;
}

/* --color=auto: a terminal, unless NO_COLOR is set to anything but ""
 * (no-color.org); --color=always still colours. */
static int color_auto(void)
{
	const char *no_color = getenv("NO_COLOR");

	return isatty(STDOUT_FILENO) && !(no_color && no_color[0]);
}

static void set_defaults(struct sd_options *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = MODE_OFFLINE;
	o->snaplen = OPT_MAX_SNAPLEN;
	o->max_body = 4u << 20;
	o->max_flows = 65536;
	o->max_flow_buffer = 1u << 20;
	o->max_total_buffer = 256u << 20;
	o->max_memory = 256u << 20;
	o->idle_timeout_ns = 300ull * 1000000000ull;
	o->max_txns = TXN_MAX_TXNS;
	o->max_txn_exchanges = TXN_MAX_EVENTS;
	o->max_h2_streams = 1000;
	o->max_h2_header_list = 64u << 10;
	o->max_opaque_tls = 1000;
	o->decode_threads = 1;
	o->metrics_interval_s = 15;
	o->color = color_auto();    /* --color=auto */
}

/* "+01:00", "-0500", "+1", "UTC", "Z" */
static int parse_tz(const char *arg, int64_t *off)
{
	int sign, h = 0, m = 0;

	if (!strcmp(arg, "UTC") || !strcmp(arg, "Z") || !strcmp(arg, "0")) {
		*off = 0;
		return 0;
	}
	sign = arg[0] == '-' ? -1 : 1;
	if ((arg[0] == '+' || arg[0] == '-') &&
	    (sscanf(arg + 1, "%2d:%2d", &h, &m) >= 1 || sscanf(arg + 1, "%2d%2d", &h, &m) >= 1) &&
	    h <= 14 && m < 60) {
		*off = sign * ((int64_t)h * 3600 + m * 60);
		return 0;
	}
	fprintf(stderr, "scepdump: --device-tz: '%s' is not an offset like +01:00, -0500 or UTC\n", arg);
	return -1;
}

/* YYYY-MM-DD, a real calendar day */
static int parse_date(const char *arg, int *y, int *m, int *d)
{
	int yy, mm, dd, n = 0, cy, cm, cd;
	int64_t s;

	if (sscanf(arg, "%4d-%2d-%2d%n", &yy, &mm, &dd, &n) == 3 && n == 10 && !arg[n] &&
	    (s = devlog_civil_s(yy, mm, dd, 0, 0, 0)) >= 0) {
		/* 2026-02-30 is a valid shape but no day: it must come back as itself */
		devlog_civil_from_days(s / 86400, &cy, &cm, &cd);
		if (cy == yy && cm == mm && cd == dd) {
			*y = yy;
			*m = mm;
			*d = dd;
			return 0;
		}
	}
	fprintf(stderr, "scepdump: --device-date: '%s' is not a date like 2026-11-25\n", arg);
	return -1;
}

static int parse_skew(const char *arg, int64_t *ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || v > 1e9 || v < -1e9) {
		fprintf(stderr, "scepdump: --device-skew: '%s' is not a number of seconds\n", arg);
		return -1;
	}
	*ns = (int64_t)(v * 1e9);
	return 0;
}

/* --verdict and --failed: which transactions the listing shows. */
#define VERDICT_BIT(v) (1u << (v))
/* --check's failures (check.c): neither ISSUED nor DELIVERED; endpoint
 * groups without an error (VERDICT_NONE) are no failure either */
#define FAILED_VERDICTS (VERDICT_BIT(VERDICT_REJECTED) | VERDICT_BIT(VERDICT_PENDING) | \
			 VERDICT_BIT(VERDICT_HTTP_ERROR) | VERDICT_BIT(VERDICT_NO_RESPONSE) | \
			 VERDICT_BIT(VERDICT_INCOMPLETE) | VERDICT_BIT(VERDICT_UNDECODED))

static int verdict_from_name(const char *name, size_t len)
{
	int v;

	for (v = VERDICT_ISSUED; v <= VERDICT_DELIVERED; v++) {
		const char *n = txn_verdict_name((enum txn_verdict)v);

		if (strlen(n) == len && !strncasecmp(n, name, len))
			return v;
	}
	return -1;
}

static void print_verdict_names(FILE *out)
{
	int v;

	for (v = VERDICT_ISSUED; v <= VERDICT_DELIVERED; v++)
		fprintf(out, "%s%s", v == VERDICT_ISSUED ? "" : ", ", txn_verdict_name((enum txn_verdict)v));
}

/* "REJECTED,http_error": each name once or more, no empty one. */
static int parse_verdicts(const char *arg, unsigned *mask)
{
	const char *p = arg;

	for (;;) {
		size_t len = strcspn(p, ",");
		int v = verdict_from_name(p, len);

		if (v < 0) {
			fprintf(stderr, "scepdump: --verdict: '%.*s' is not a verdict; give one or more of ",
				(int)(len > 64 ? 64 : len), p);
			print_verdict_names(stderr);
			fputs(", comma-separated\n", stderr);
			return -1;
		}
		*mask |= VERDICT_BIT(v);
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

/* The summary's "N shown (...)" names the options as given. */
static int add_verdict_label(struct sd_options *o, const char *what)
{
	size_t old = o->verdict_label ? strlen(o->verdict_label) : 0;
	char *n = realloc(o->verdict_label, old + strlen(what) + 2);

	if (!n)
		return -1;
	if (old)
		n[old++] = ' ';
	strcpy(n + old, what);
	o->verdict_label = n;
	return 0;
}

static int handle_listing_filter(struct sd_options *o, int c, const char *arg)
{
	char label[256];

	if (c == OPT_FAILED) {
		o->listing_verdicts |= FAILED_VERDICTS;
		return add_verdict_label(o, "--failed");
	}
	if (parse_verdicts(arg, &o->listing_verdicts) < 0)
		return -1;
	snprintf(label, sizeof(label), "--verdict %s", arg);
	return add_verdict_label(o, label);
}

static int handle_option(struct sd_options *o, int c, const char *arg)
{
	size_t v;

	switch (c) {
	case 'r':
		if (o->n_files == OPT_MAX_FILES) {
			fprintf(stderr, "scepdump: -r: at most %d files\n", OPT_MAX_FILES);
			return -1;
		}
		o->files[o->n_files++] = arg;
		return 0;
	case OPT_KEY:
		if (o->n_keys == OPT_MAX_KEYS) {
			fprintf(stderr, "scepdump: --key: at most %d keys\n", OPT_MAX_KEYS);
			return -1;
		}
		o->keys[o->n_keys++] = arg;
		return 0;
	case OPT_KEY_PASS: o->key_pass = arg; return 0;
	case OPT_CA_CERT:
		if (o->n_ca_certs == OPT_MAX_KEYS) {
			fprintf(stderr, "scepdump: --ca-cert: at most %d files\n", OPT_MAX_KEYS);
			return -1;
		}
		o->ca_certs[o->n_ca_certs++] = arg;
		return 0;
	case OPT_KEYLOG:
		if (o->n_keylogs == OPT_MAX_KEYLOGS) {
			fprintf(stderr, "scepdump: --keylog: at most %d files\n", OPT_MAX_KEYLOGS);
			return -1;
		}
		o->keylogs[o->n_keylogs++] = arg;
		return 0;
	case OPT_TLS_KEY:
		if (o->n_tls_keys == OPT_MAX_TLS_KEYS) {
			fprintf(stderr, "scepdump: --tls-key: at most %d files\n", OPT_MAX_TLS_KEYS);
			return -1;
		}
		o->tls_keys[o->n_tls_keys++] = arg;
		return 0;
	case OPT_DEVLOG:
		if (o->n_devlogs == OPT_MAX_DEVLOGS) {
			fprintf(stderr, "scepdump: --device-log: at most %d files\n", OPT_MAX_DEVLOGS);
			return -1;
		}
		o->devlogs[o->n_devlogs++] = arg;
		return 0;
	case OPT_DEVLOG_FORMAT:
		o->devlog_format = devlog_format_from_name(arg);
		if (o->devlog_format == DEVLOG_AUTO || o->devlog_format == DEVLOG_UNKNOWN) {
			fprintf(stderr, "scepdump: --device-log-format: '%s' is not android, ios, windows (windows-xml) or windows-evtx\n", arg);
			return -1;
		}
		return 0;
	case OPT_DEVICE_TZ: return parse_tz(arg, &o->device_tz_s);
	case OPT_DEVICE_DATE: return parse_date(arg, &o->device_year, &o->device_month, &o->device_day);
	case OPT_DEVICE_SKEW: return parse_skew(arg, &o->device_skew_ns);
	case 'i': o->iface = arg; return 0;
	case 'f':
		free(o->filter);
		o->filter = strdup(arg);
		return o->filter ? 0 : -1;
	case 's': return parse_snaplen(arg, &o->snaplen);
	case 'Z': o->drop_user = arg; return 0;
	case 'B':
		if (parse_size("buffer-size", arg, &o->buffer_kib) < 0)
			return -1;
		/* libpcap takes the ring in bytes, as an int */
		if (o->buffer_kib > INT_MAX / 1024) {
			fprintf(stderr, "scepdump: -B: '%s' KiB is more than libpcap takes (at most %d)\n",
				arg, INT_MAX / 1024);
			return -1;
		}
		return 0;
	case 'w': o->write_file = arg; return 0;
	case OPT_JSON_FILE: o->json_file = arg; return 0;
	case 'C': case 'G': case 'W': return parse_rotation(o, c, arg);
	case OPT_JSON: o->json = 1; return 0;
	case OPT_HTML: o->html_file = arg; return 0;
	case OPT_METRICS: o->metrics_file = arg; return 0;
	case OPT_METRICS_INTERVAL:
		if (parse_size("metrics-interval", arg, &v) < 0)
			return -1;
		o->metrics_interval_s = v > 86400 ? 86400 : (unsigned)v;
		return 0;
	case 'v': o->verbose++; return 0;
	case 'q': o->quiet = 1; return 0;
	case OPT_CHECK: o->check = 1; return 0;
	case OPT_VERDICT: case OPT_FAILED: return handle_listing_filter(o, c, arg);
	case OPT_SHOW_SECRETS: o->show_secrets = 1; return 0;
	case OPT_CHECKSUMS: o->checksums = 1; return 0;
	case OPT_NO_SPILL: o->no_spill = 1; return 0;
	case OPT_COLOR:
		if (!arg || !strcmp(arg, "always"))
			o->color = 1;
		else if (!strcmp(arg, "never"))
			o->color = 0;
		else if (!strcmp(arg, "auto"))
			o->color = color_auto();
		else {
			fprintf(stderr, "scepdump: --color: '%s' is not auto, always or never\n", arg);
			return -1;
		}
		return 0;
	case OPT_MAX_BODY: return parse_size("max-body", arg, &o->max_body);
	case OPT_MAX_FLOWS: return parse_size("max-flows", arg, &o->max_flows);
	case OPT_MAX_FLOW_BUFFER: return parse_size("max-flow-buffer", arg, &o->max_flow_buffer);
	case OPT_MAX_TOTAL_BUFFER: return parse_size("max-total-buffer", arg, &o->max_total_buffer);
	case OPT_MAX_MEMORY: return parse_size("max-memory", arg, &o->max_memory);
	case OPT_MAX_TXNS: return parse_size("max-transactions", arg, &o->max_txns);
	case OPT_MAX_TXN_EXCHANGES: return parse_size("max-txn-exchanges", arg, &o->max_txn_exchanges);
	case OPT_MAX_H2_STREAMS: return parse_size("max-h2-streams", arg, &o->max_h2_streams);
	case OPT_MAX_H2_HEADER_LIST: return parse_size("max-h2-header-list", arg, &o->max_h2_header_list);
	case OPT_MAX_OPAQUE_TLS: return parse_size("max-opaque-tls", arg, &o->max_opaque_tls);
	case OPT_DECODE_THREADS:
		if (strcmp(arg, "0") && strcmp(arg, "1")) {
			fprintf(stderr, "scepdump: --decode-threads: '%s' is not 0 or 1\n", arg);
			return -1;
		}
		o->decode_threads = arg[0] - '0';
		return 0;
	case OPT_IDLE_TIMEOUT:
		if (parse_size("idle-timeout", arg, &v) < 0)
			return -1;
		o->idle_timeout_ns = (uint64_t)v * 1000000000ull;
		return 0;
	case 'h':
		o->help_decode = o->mode == MODE_DECODE;
		o->mode = MODE_HELP;
		return 0;
	case 'V': o->mode = MODE_VERSION; return 0;
	default:
		return -1;
	}
}

/* seen[code]: the option was given (for the ignored-option warnings). */
static int parse_option_words(struct sd_options *o, int argc, char **argv, unsigned char *seen)
{
	int c;

	/* Capture mode stops at the first word (a BPF filter follows);
	 * decode lets options come after its FILE too. */
	while ((c = getopt_long(argc, argv, o->mode == MODE_DECODE ? "r:i:f:s:B:Z:w:C:G:W:vqhV" : "+r:i:f:s:B:Z:w:C:G:W:vqhV",
				long_options, NULL)) != -1) {
		if (c == '?' || c == ':') {
			if (optopt && optopt < 256)
				fprintf(stderr, "scepdump: option -%c %s; try 'scepdump --help'\n",
					optopt, c == ':' || strchr("rifsZw", optopt) ? "needs an argument" : "is unknown");
			else
				fprintf(stderr, "scepdump: option '%s' is unknown or needs an argument; try 'scepdump --help'\n",
					argv[optind - 1]);
			return -1;
		}
		if (c >= 0 && c < OPT_CODES)
			seen[c] = 1;
		if (handle_option(o, c, optarg) < 0)
			return -1;
	}
	return 0;
}

static int parse_decode_tail(struct sd_options *o, int argc, char **argv, unsigned char *seen)
{
	int rc;

	o->mode = MODE_DECODE;
	optind = 0;     /* argv[0] here is "decode": a new command line */
	rc = parse_option_words(o, argc, argv, seen);
	if (rc == 0 && o->mode == MODE_DECODE)
		rc = check_decode_args(o, argc, argv);
	return rc;
}

static int parse_command_line(struct sd_options *o, int argc, char **argv, unsigned char *seen)
{
	opterr = 0;
	optind = 0;     /* 0: glibc starts afresh, as a second run needs */
	if (argc > 1 && !strcmp(argv[1], "decode"))
		return parse_decode_tail(o, argc - 1, argv + 1, seen);
	if (parse_option_words(o, argc, argv, seen) < 0)
		return -1;
	/* "decode" may follow options meant for it: scepdump --json decode F.
	 * getopt keeps its ordering mode from its first call, so the words
	 * after "decode" are parsed as a fresh command line of their own. */
	if (o->mode == MODE_OFFLINE && optind < argc && !strcmp(argv[optind], "decode"))
		return parse_decode_tail(o, argc - optind, argv + optind, seen);
	if (o->mode == MODE_HELP || o->mode == MODE_VERSION)
		return 0;
	if (o->mode == MODE_DECODE)
		return check_decode_args(o, argc, argv);
	if (append_filter_words(o, argc, argv, optind) < 0)
		return -1;
	if (o->iface && o->n_files) {
		fprintf(stderr, "scepdump: -i and -r cannot be used together\n");
		return -1;
	}
	if (o->iface)
		o->mode = MODE_LIVE;
	else if (!o->n_files && !o->n_devlogs) {
		fprintf(stderr, "scepdump: nothing to read: give -r FILE, -i IFACE or --device-log FILE; try 'scepdump --help'\n");
		return -1;
	}
	if (o->json && o->quiet)
		o->quiet = 0;
	if (o->write_file && !write_file_ok(o))
		return -1;
	return 0;
}

/* What a run does, for the options that only some runs use. */
enum run_kind { RUN_FILES = 1, RUN_LIVE = 2, RUN_DEVLOG = 4, RUN_DECODE = 8 };
#define RUN_CAPTURE (RUN_FILES | RUN_LIVE)
#define RUN_REPORT (RUN_CAPTURE | RUN_DEVLOG)

/* Options given where they have nothing to act on are said to be ignored,
 * one warning line each, not refused: a script's usual options still run
 * with another input. runs: where each does something; does: what for. */
static const struct opt_scope {
	int code;
	unsigned runs;
	const char *does;
} opt_scopes[] = {
	{ 's', RUN_LIVE, "it sets the live capture's snap length" },
	{ 'B', RUN_LIVE, "it sizes the live capture's kernel buffer" },
	{ 'Z', RUN_LIVE, "it drops privileges once the interface is open" },
	{ 'w', RUN_CAPTURE, "it writes packets of the captured SCEP connections" },
	{ 'C', RUN_LIVE, "-w and --json-file rotate in a live capture" },
	{ 'G', RUN_LIVE, "-w and --json-file rotate in a live capture" },
	{ 'W', RUN_LIVE, "-w and --json-file rotate in a live capture" },
	{ OPT_JSON_FILE, RUN_LIVE, "it writes transactions as they settle in a live capture (use --json)" },
	{ OPT_KEY, RUN_CAPTURE | RUN_DECODE, "it opens the envelopes of SCEP messages" },
	{ OPT_KEY_PASS, RUN_CAPTURE | RUN_DECODE, "it opens encrypted --key files" },
	{ OPT_CA_CERT, RUN_CAPTURE | RUN_DECODE, "it names the signers of SCEP messages" },
	{ OPT_KEYLOG, RUN_CAPTURE, "it decrypts captured TLS" },
	{ OPT_TLS_KEY, RUN_CAPTURE, "it decrypts captured TLS" },
	{ OPT_CHECKSUMS, RUN_CAPTURE, "it verifies captured packets' checksums" },
	{ OPT_DECODE_THREADS, RUN_CAPTURE, "it decodes captured SCEP messages on a second thread" },
	{ OPT_NO_SPILL, RUN_FILES, "only reading files spills finished transactions to disk" },
	{ OPT_MAX_BODY, RUN_CAPTURE, "it limits captured HTTP bodies" },
	{ OPT_MAX_FLOWS, RUN_CAPTURE, "it limits captured TCP connections" },
	{ OPT_MAX_FLOW_BUFFER, RUN_CAPTURE, "it limits captured TCP reassembly" },
	{ OPT_MAX_TOTAL_BUFFER, RUN_CAPTURE, "it limits captured TCP reassembly" },
	{ OPT_IDLE_TIMEOUT, RUN_CAPTURE, "it closes idle captured connections" },
	{ OPT_MAX_H2_STREAMS, RUN_CAPTURE, "it limits captured HTTP/2 streams" },
	{ OPT_MAX_H2_HEADER_LIST, RUN_CAPTURE, "it limits captured HTTP/2 headers" },
	{ OPT_MAX_OPAQUE_TLS, RUN_CAPTURE, "it limits captured TLS held to the end" },
	{ OPT_MAX_TXNS, RUN_REPORT, "it limits the transaction table" },
	{ OPT_MAX_TXN_EXCHANGES, RUN_REPORT, "it limits the transaction table" },
	{ OPT_DEVLOG, RUN_REPORT, "it joins a device log to a capture's transactions" },
	{ OPT_DEVLOG_FORMAT, RUN_REPORT, "it applies to device logs" },
	{ OPT_DEVICE_TZ, RUN_REPORT, "it applies to device logs" },
	{ OPT_DEVICE_DATE, RUN_REPORT, "it applies to device logs" },
	{ OPT_DEVICE_SKEW, RUN_REPORT, "it applies to device logs" },
	{ OPT_HTML, RUN_REPORT, "it writes the transactions' report" },
	{ OPT_METRICS, RUN_CAPTURE, "it writes the capture's figures" },
	{ OPT_METRICS_INTERVAL, RUN_CAPTURE, "it times the --metrics file" },
	{ OPT_CHECK, RUN_REPORT, "it sets the exit status from the transactions' verdicts" },
	{ OPT_VERDICT, RUN_REPORT, "it chooses the transactions listed" },
	{ OPT_FAILED, RUN_REPORT, "it chooses the transactions listed" },
	{ 'q', RUN_REPORT, "it leaves the transactions' listing out" },
	{ OPT_COLOR, RUN_REPORT, "it colours the listing's verdicts and findings" },
};

/* Options that act on another one's input. */
static const struct opt_needs {
	int code, needs;
	const char *does;
} opt_needs[] = {
	{ OPT_KEY_PASS, OPT_KEY, "it opens encrypted --key files" },
	{ OPT_DEVLOG_FORMAT, OPT_DEVLOG, "it applies to device logs" },
	{ OPT_DEVICE_TZ, OPT_DEVLOG, "it applies to device logs" },
	{ OPT_DEVICE_DATE, OPT_DEVLOG, "it applies to device logs" },
	{ OPT_DEVICE_SKEW, OPT_DEVLOG, "it applies to device logs" },
	{ OPT_METRICS_INTERVAL, OPT_METRICS, "it times the --metrics file" },
};

static enum run_kind run_kind_of(const struct sd_options *o)
{
	if (o->mode == MODE_DECODE)
		return RUN_DECODE;
	if (o->mode == MODE_LIVE)
		return RUN_LIVE;
	return o->n_files ? RUN_FILES : RUN_DEVLOG;
}

static const char *run_kind_text(enum run_kind k)
{
	switch (k) {
	case RUN_FILES: return "when reading files";
	case RUN_LIVE: return "in a live capture";
	case RUN_DEVLOG: return "with device logs alone";
	default: return "by decode";
	}
}

/* "-s" or "--max-body", as the user may have typed it */
static void option_name(int code, char *buf, size_t len)
{
	size_t i;

	if (code < 256) {
		snprintf(buf, len, "-%c", code);
		return;
	}
	for (i = 0; long_options[i].name; i++)
		if (long_options[i].val == code) {
			snprintf(buf, len, "--%s", long_options[i].name);
			return;
		}
	snprintf(buf, len, "?");
}

static void warn_ignored(int code, const char *when, const char *does)
{
	char name[32];

	option_name(code, name, sizeof(name));
	fprintf(stderr, "scepdump: warning: %s is ignored %s: %s\n", name, when, does);
}

/* An option ignored is also let go where keeping it would still act (a
 * file opened or read, an error it could give). */
static void drop_ignored(struct sd_options *o, int code)
{
	switch (code) {
	case 'w': o->write_file = NULL; break;
	case OPT_KEY: o->n_keys = 0; break;
	case OPT_CA_CERT: o->n_ca_certs = 0; break;
	case OPT_KEYLOG: o->n_keylogs = 0; break;
	case OPT_TLS_KEY: o->n_tls_keys = 0; break;
	case OPT_DEVLOG: o->n_devlogs = 0; break;
	case OPT_HTML: o->html_file = NULL; break;
	case OPT_METRICS: o->metrics_file = NULL; break;
	case OPT_JSON_FILE: o->json_file = NULL; break;
	default: break;
	}
}

/* seen: the options given. Each ignored one is said once. */
static void warn_ignored_options(struct sd_options *o, const unsigned char *seen)
{
	unsigned char said[OPT_CODES];
	enum run_kind k = run_kind_of(o);
	size_t i;

	memset(said, 0, sizeof(said));
	if (o->filter && !(k & RUN_CAPTURE))
		warn_ignored('f', run_kind_text(k), "it selects captured packets");
	for (i = 0; i < sizeof(opt_scopes) / sizeof(opt_scopes[0]); i++) {
		if (!seen[opt_scopes[i].code] || (opt_scopes[i].runs & k))
			continue;
		warn_ignored(opt_scopes[i].code, run_kind_text(k), opt_scopes[i].does);
		drop_ignored(o, opt_scopes[i].code);
		said[opt_scopes[i].code] = 1;
	}
	for (i = 0; i < sizeof(opt_needs) / sizeof(opt_needs[0]); i++) {
		char when[48], need[32];

		if (!seen[opt_needs[i].code] || said[opt_needs[i].code] || seen[opt_needs[i].needs])
			continue;
		/* the same passphrase opens --tls-key files */
		if (opt_needs[i].code == OPT_KEY_PASS && seen[OPT_TLS_KEY])
			continue;
		option_name(opt_needs[i].needs, need, sizeof(need));
		snprintf(when, sizeof(when), "without %s", need);
		warn_ignored(opt_needs[i].code, when, opt_needs[i].does);
	}
	/* -q and --color shape the text output only */
	if (o->json && k != RUN_DECODE) {
		if (seen['q'])
			warn_ignored('q', "with --json", "JSON Lines carry every transaction");
		if (seen[OPT_COLOR])
			warn_ignored(OPT_COLOR, "with --json", "JSON has no colours");
	}
}

int options_parse(struct sd_options *o, int argc, char **argv)
{
	unsigned char seen[OPT_CODES];

	memset(seen, 0, sizeof(seen));
	set_defaults(o);
	if (parse_command_line(o, argc, argv, seen) < 0) {
		/* what was parsed is not used: a -f filter would leak */
		options_free(o);
		return -1;
	}
	if (o->mode != MODE_HELP && o->mode != MODE_VERSION)
		warn_ignored_options(o, seen);
	return 0;
}

void options_free(struct sd_options *o)
{
	free(o->filter);
	o->filter = NULL;
	free(o->verdict_label);
	o->verdict_label = NULL;
}
