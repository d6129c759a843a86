/* options.h - the command line, parsed once into one struct. */
#ifndef SCEPDUMP_OPTIONS_H
#define SCEPDUMP_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define OPT_MAX_FILES 64
#define OPT_MAX_KEYS 64
#define OPT_MAX_KEYLOGS 16
#define OPT_MAX_TLS_KEYS 16
#define OPT_MAX_DEVLOGS 16
/* -s: the most libpcap captures of a packet (its MAXIMUM_SNAPLEN), also
 * what -s 0 means, as in tcpdump */
#define OPT_MAX_SNAPLEN 262144

enum opt_mode { MODE_OFFLINE, MODE_LIVE, MODE_DECODE, MODE_HELP, MODE_VERSION };

struct sd_options {
	enum opt_mode mode;
	int help_decode;            /* --help came after "decode" */
	const char *files[OPT_MAX_FILES];
	size_t n_files;
	const char *keys[OPT_MAX_KEYS];
	size_t n_keys;
	const char *ca_certs[OPT_MAX_KEYS];     /* --ca-cert */
	size_t n_ca_certs;
	const char *keylogs[OPT_MAX_KEYLOGS];
	size_t n_keylogs;
	const char *tls_keys[OPT_MAX_TLS_KEYS]; /* --tls-key: TLS servers' RSA keys */
	size_t n_tls_keys;
	const char *devlogs[OPT_MAX_DEVLOGS];   /* --device-log */
	size_t n_devlogs;
	int devlog_format;          /* enum devlog_format; 0 = detect */
	int64_t device_tz_s;        /* --device-tz: offset east of UTC */
	int device_year, device_month, device_day;  /* --device-date; 0 = none */
	int64_t device_skew_ns;     /* --device-skew */
	const char *key_pass;       /* passphrase for encrypted --key files */
	const char *decode_input;   /* decode: FILE or "-" */
	const char *iface;
	char *filter;               /* -f or trailing words, owned */
	int snaplen;
	const char *drop_user;
	size_t buffer_kib;          /* -B: live capture ring, KiB (0: default) */
	const char *write_file;     /* -w: packets of SCEP connections */
	const char *html_file;      /* --html: the report for a ticket */
	const char *metrics_file;   /* --metrics: Prometheus text, rewritten */
	unsigned metrics_interval_s;   /* --metrics-interval, default 15 */
	const char *json_file;      /* --json-file: live, transactions as JSON Lines */
	uint64_t rotate_bytes;      /* -C, in bytes (given in millions) */
	unsigned rotate_seconds;    /* -G */
	unsigned rotate_count;      /* -W */
	int json;
	int verbose;
	int quiet;
	int check;
	int show_secrets;
	int checksums;              /* report bad IPv4/TCP checksums */
	int color;                  /* ANSI colour in the text output */
	/* --verdict LIST / --failed: the listing shows only transactions with
	 * these verdicts (bit 1 << enum txn_verdict); 0: all. verdict_label
	 * says which option chose them, for the summary ("--failed",
	 * "--verdict REJECTED,HTTP_ERROR"); owned */
	unsigned listing_verdicts;
	char *verdict_label;
	size_t max_body;
	size_t max_flows;
	size_t max_flow_buffer;
	size_t max_total_buffer;
	size_t max_memory;          /* the run's one budget (membudget.h); 0: none */
	size_t max_txns;            /* txn_limits.max_txns and max_loose */
	size_t max_txn_exchanges;   /* txn_limits.max_events */
	size_t max_h2_streams;
	size_t max_h2_header_list;
	size_t max_opaque_tls;      /* undecided opaque TLS connections held */
	int decode_threads;         /* 0: decode SCEP inline; 1: on a worker */
	int no_spill;               /* finished transactions stay in memory (spill.h) */
	uint64_t idle_timeout_ns;
};

/* Parses argv into o. Returns 0, or -1 after printing one line to stderr
 * naming the bad option (exit status 2). */
int options_parse(struct sd_options *o, int argc, char **argv);
void options_usage(FILE *out);
void options_decode_usage(FILE *out);     /* scepdump decode --help */
void options_free(struct sd_options *o);

#endif
