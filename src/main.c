/* main.c - scepdump's entry: parse options, read packets from the chosen
 * source through the pipeline, print, and map the outcome to an exit code
 * (0 fine, 1 --check found a transaction not ISSUED/DELIVERED, 2 errors,
 * among them any output that could not be written whole, 3 reading files
 * stopped by SIGINT/SIGTERM). */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <htp/htp.h>
#include <jansson.h>
#include <nghttp2/nghttp2.h>
#include <openssl/crypto.h>
#include <pcap/pcap.h>

#include "capture.h"
#include "check.h"
#include "devlog.h"
#include "metrics_file.h"
#include "options.h"
#include "outfile.h"
#include "pipeline.h"
#include "render.h"
#include "scep.h"
#include "sink.h"
#include "txn.h"

/* The one piece of process-wide state: a signal handler cannot be handed
 * a context. It raises the flag (seen between packets) and breaks libpcap's
 * blocking read, which on Linux only pcap_breakloop can interrupt (the same
 * arrangement as tcpdump's). The flag holds the signal, for the report. */
static volatile sig_atomic_t stop_requested;
/* live: SIGHUP (reopen the output files), SIGUSR1 (one statistics line);
 * the capture loop acts on them between packets */
static volatile sig_atomic_t reopen_requested, stats_requested;
static struct capture *signal_capture;

static void on_live_signal(int sig)
{
	if (sig == SIGHUP)
		reopen_requested = 1;
	else
		stats_requested = 1;
}

static void on_stop_signal(int sig)
{
	stop_requested = sig;
	if (signal_capture)
		capture_break(signal_capture);
}

static void install_signal_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!signal_capture || capture_linktype(signal_capture) < 0)
		return;
	/* no SA_RESTART: the capture's wait returns, and the loop acts */
	sa.sa_handler = on_live_signal;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
}

/* SIGUSR1: where a long capture stands, without stopping it. */
static void print_live_stats(const struct sd_ctx *ctx, struct capture *cap)
{
	uint64_t received = 0, dropped = ctx->cnt.capture_dropped;
	size_t v, n = 0;

	/* the kernel's count is the whole run's: newer than what was told */
	capture_stats(cap, &received, &dropped);
	for (v = 0; v < VERDICT_COUNT; v++)
		n += ctx->settled[v];
	fprintf(stderr, "scepdump: %llu packets, %llu dropped by the kernel, %zu transactions settled",
		(unsigned long long)ctx->cnt.packets, (unsigned long long)dropped, n);
	for (v = 0; v < VERDICT_COUNT; v++)
		if (ctx->settled[v])
			fprintf(stderr, " %s=%zu", v == VERDICT_NONE ? "other" : txn_verdict_name((enum txn_verdict)v),
				ctx->settled[v]);
	fputc('\n', stderr);
}

static void act_on_signals(struct sd_ctx *ctx, struct capture *cap)
{
	if (reopen_requested) {
		reopen_requested = 0;
		out_reopen_live(ctx);
	}
	if (stats_requested) {
		stats_requested = 0;
		print_live_stats(ctx, cap);
	}
}

/* The most a decode input may hold: a pkiMessage, or a log line with one. */
#define DECODE_MAX_INPUT (16u << 20)

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	uint8_t *buf = NULL, *nb;
	size_t cap = 0, n = 0, got;

	if (!f) {
		fprintf(stderr, "scepdump: decode: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			nb = cap <= DECODE_MAX_INPUT ? realloc(buf, cap + 1) : NULL;
			if (!nb) {
				fprintf(stderr, "scepdump: decode: %s: more than %u bytes; give one message\n",
					path, DECODE_MAX_INPUT);
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	if (buf && ferror(f)) {
		fprintf(stderr, "scepdump: decode: %s: %s\n", path, strerror(errno));
		free(buf);
		buf = NULL;
	}
	if (f != stdin)
		fclose(f);
	*len = n;
	return buf;
}

/* Why decode's input counts as not decoded (exit 2), or NULL: a message
 * that parsed, or one a log cut short (decoded as far as it goes: the
 * normal case for a log line, not an error), certificates, capabilities. */
static const char *decode_failure(const struct scep_input *in)
{
	const struct scep_msg *m = in->msg;

	switch (in->kind) {
	case SCEP_INPUT_MESSAGE:
		if (m->decoded || m->cut)
			return NULL;
		return m->error ? m->error : "not a SCEP message";
	case SCEP_INPUT_CERTS:
	case SCEP_INPUT_CAPS:
		return NULL;
	default:
		return in->error ? in->error : "not a SCEP message";
	}
}

/* decode ARG: a pasted URL, message= value or base64 is the input itself
 * when no file has that name (a file by the name is read, as before). */
static int looks_like_pasted_message(const char *arg)
{
	size_t n = strlen(arg);

	if (!strncasecmp(arg, "http://", 7) || !strncasecmp(arg, "https://", 8) || strstr(arg, "message="))
		return 1;
	/* base64, plain or percent-encoded: no file name is that long
	 * and made of those characters alone */
	return n >= 64 && strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_%") == n;
}

static uint8_t *read_decode_input(const char *arg, size_t *len)
{
	struct stat st;
	uint8_t *copy;

	if (!strcmp(arg, "-") || stat(arg, &st) == 0 || !looks_like_pasted_message(arg))
		return read_all(arg, len);
	*len = strlen(arg);
	copy = malloc(*len + 1);
	if (copy)
		memcpy(copy, arg, *len + 1);
	else
		fprintf(stderr, "scepdump: decode: out of memory\n");
	return copy;
}

/* How decode names its input in messages: a pasted message is not a file
 * name to repeat whole. */
static const char *decode_input_name(const char *arg)
{
	struct stat st;

	if (!strcmp(arg, "-"))
		return "standard input";
	return stat(arg, &st) == 0 || !looks_like_pasted_message(arg) ? arg : "the message given";
}

/* One decoded input on stdout; line: its log line, 0 for none. JSON gets
 * a "line" member, text a "line N: " before its first line. */
static void print_decoded(const struct sd_ctx *ctx, const struct scep_input *in, uint64_t line)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m;

	if (!line) {
		if (ctx->opt.json)
			sink_json_input(stdout, &ctx->opt, in);
		else
			sink_text_input(stdout, &ctx->opt, in);
		return;
	}
	m = open_memstream(&buf, &len);
	if (!m)
		return;
	if (ctx->opt.json)
		sink_json_input(m, &ctx->opt, in);
	else
		sink_text_input(m, &ctx->opt, in);
	if (fclose(m) != 0) {
		free(buf);
		return;
	}
	if (ctx->opt.json) {
		json_t *o = json_loadb(buf, len, 0, NULL);

		if (o) {
			json_object_set_new(o, "line", json_integer((json_int_t)line));
			json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
			fputc('\n', stdout);
			json_decref(o);
		}
	} else {
		printf("line %llu: %s", (unsigned long long)line, buf);
	}
	free(buf);
}

/* A whole log (decode < device.log): every message it holds, each after
 * its line number. Taken when the scan finds more than one, or one on a
 * line of a longer text that joining lines does not decode better (a
 * paste that wrapped one message over lines is one input, as before). */
static int log_mode(const struct scep_log_hits *h, const struct scep_input *whole)
{
	if (h->n > 1)
		return 1;
	if (h->n == 0 || h->lines < 2)
		return 0;
	return !(whole && whole->kind == SCEP_INPUT_MESSAGE && whole->msg->decoded &&
		 !h->hit[0].in->msg->decoded);
}

static int run_decode_log(struct sd_ctx *ctx, struct scep_log_hits *h, const char *name)
{
	size_t i, decoded = 0;

	errno = 0;   /* for close_stdout */
	for (i = 0; i < h->n; i++) {
		print_decoded(ctx, h->hit[i].in, h->hit[i].line);
		decoded += h->hit[i].in->msg->decoded;
	}
	fprintf(stderr, "scepdump: decode: %s: %zu message%s found in %llu line%s (%zu whole, %zu cut by the log)\n",
		name, h->n, h->n == 1 ? "" : "s", (unsigned long long)h->lines, h->lines == 1 ? "" : "s",
		decoded, h->n - decoded);
	if (h->capped)
		fprintf(stderr, "scepdump: decode: %s: %llu more past %u, not decoded\n", name,
			(unsigned long long)h->capped, SCEP_LOG_HITS_MAX);
	return 0;
}

/* scepdump decode: one input copied from a log, a file or a URL, or every
 * message of a whole log. Exit 0 when it decoded, 2 when it did not (what
 * was recovered is still shown). */
static int run_decode(struct sd_ctx *ctx)
{
	const char *name = decode_input_name(ctx->opt.decode_input);
	struct scep_log_hits hits;
	struct scep_input *in_msg;
	const char *failed;
	uint8_t *in;
	size_t len;
	int status;

	in = read_decode_input(ctx->opt.decode_input, &len);
	if (!in)
		return 2;
	in_msg = scep_decode_input(in, len, ctx->keys);
	if (!in_msg || scep_decode_log(in, len, ctx->keys, &hits) < 0) {
		free(in);
		scep_input_free(in_msg);
		fprintf(stderr, "scepdump: decode: out of memory\n");
		return 2;
	}
	free(in);
	if (log_mode(&hits, in_msg)) {
		status = run_decode_log(ctx, &hits, name);
		scep_log_hits_free(&hits);
		scep_input_free(in_msg);
		return status;
	}
	scep_log_hits_free(&hits);
	errno = 0;   /* for close_stdout */
	print_decoded(ctx, in_msg, 0);
	failed = decode_failure(in_msg);
	status = failed ? 2 : 0;
	if (failed)
		fprintf(stderr, "scepdump: decode: %s: %s\n", name, failed);
	scep_input_free(in_msg);
	return status;
}

/* A device log is merged after the capture (its lines without a date take
 * the capture's), but one that is missing, unreadable or not a device log
 * is said before the capture is read: its start is read now as the merge
 * will read it. Enough for the format checks: the twenty lines detection
 * reads unless they are huge, an .evtx file header and its first chunks
 * (whole chunks of a file cut short are what the reader takes anyway). */
#define DEVLOG_CHECK_BYTES (1u << 20)

static int check_device_log(const struct sd_options *opt, const char *path, uint8_t *buf)
{
	struct devlog_opts o;
	struct devlog_list l;
	char err[256];
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc;

	if (!f) {
		fprintf(stderr, "scepdump: --device-log %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, DEVLOG_CHECK_BYTES, f);
	if (ferror(f)) {
		fprintf(stderr, "scepdump: --device-log %s: read error: %s\n", path, strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	devlog_opts_init(&o);
	o.force = (enum devlog_format)opt->devlog_format;
	memset(&l, 0, sizeof(l));
	rc = devlog_read_buf(buf, n, &o, &l, err, sizeof(err));
	devlog_list_free(&l);
	if (rc == DEVLOG_E_FORMAT) {
		fprintf(stderr, "scepdump: --device-log %s: %s\n", path, err);
		return -1;
	}
	return 0;
}

/* '-' (standard input) cannot be read twice: the merge alone reads it. */
static int check_device_logs(const struct sd_options *opt)
{
	uint8_t *buf;
	size_t i;
	int rc = 0;

	if (!opt->n_devlogs)
		return 0;
	buf = malloc(DEVLOG_CHECK_BYTES);
	if (!buf) {
		fprintf(stderr, "scepdump: --device-log: out of memory\n");
		return -1;
	}
	for (i = 0; i < opt->n_devlogs && !rc; i++)
		if (strcmp(opt->devlogs[i], "-"))
			rc = check_device_log(opt, opt->devlogs[i], buf);
	free(buf);
	return rc;
}

/* --version: ours and the libraries' as they run, not as compiled. */
static void print_version(void)
{
	printf("%s\n", PACKAGE_STRING);
	printf("%s\n", pcap_lib_version());
	printf("%s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("nghttp2 %s\n", nghttp2_version(0)->version_str);
	printf("libhtp %s\n", htp_get_version());
	printf("jansson %s\n", jansson_version_str());
}

static struct capture *open_source(const struct sd_options *o, char *err, size_t errlen)
{
	if (o->mode == MODE_LIVE) {
		struct capture_live_opts lo = {
			.iface = o->iface,
			.filter = o->filter,
			.snaplen = o->snaplen,
			.drop_user = o->drop_user,
			.buffer_kib = o->buffer_kib,
		};
		return capture_open_live(&lo, err, errlen);
	}
	return capture_open_files(o->files, o->n_files, o->filter, err, errlen);
}

/* The progress line on stderr: only for files, only on a terminal, never
 * with -q. Wall-clock time is used here and nowhere in the output. */
struct progress {
	int on;
	uint64_t total_bytes, read_bytes, packets;
	struct timespec start, last;
};

static double seconds_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void progress_start(struct progress *pr, const struct sd_ctx *ctx)
{
	struct stat st;
	size_t i;

	memset(pr, 0, sizeof(*pr));
	if (ctx->opt.mode != MODE_OFFLINE || ctx->opt.quiet || !isatty(STDERR_FILENO))
		return;
	for (i = 0; i < ctx->opt.n_files; i++)
		if (strcmp(ctx->opt.files[i], "-") && stat(ctx->opt.files[i], &st) == 0)
			pr->total_bytes += (uint64_t)st.st_size;
	pr->on = 1;
	clock_gettime(CLOCK_MONOTONIC, &pr->start);
	pr->last = pr->start;
}

static void progress_update(struct progress *pr, const struct sd_ctx *ctx, const struct pkt *p)
{
	double el;

	if (!pr->on)
		return;
	pr->packets++;
	pr->read_bytes += p->caplen + 16;   /* record header + data, as on disk */
	if (pr->packets % 4096 || seconds_since(&pr->last) < 0.25)
		return;
	clock_gettime(CLOCK_MONOTONIC, &pr->last);
	el = seconds_since(&pr->start);
	fprintf(stderr, "\r%3.0f%%  %.0f MB/s  %llu packets  %zu transactions ",
		pr->total_bytes ? 100.0 * (double)pr->read_bytes / (double)pr->total_bytes : 0.0,
		el > 0 ? (double)pr->read_bytes / el / 1e6 : 0.0,
		(unsigned long long)pr->packets, txn_count(ctx->txns) + txn_released_count(ctx->txns));
}

static void progress_end(struct progress *pr)
{
	if (pr->on && pr->packets >= 4096)
		fputs("\r\033[K", stderr);
}

/* Secrets blocks come before the packets they open: hand any new key log
 * text to the TLS layer before the next packet. */
static void take_embedded_keylog(struct sd_ctx *ctx, struct capture *cap, size_t *seen)
{
	size_t len;
	const uint8_t *text = capture_tls_keylog(cap, &len);

	if (text && len > *seen) {
		pipeline_add_keylog_text(ctx, text + *seen, len - *seen);
		*seen = len;
	}
}

/* Live: packets the kernel dropped go into the summary, and the time they
 * were lost to the transaction table, which weighs it in the verdicts of
 * what it misses (fresh: read the counters now, at the end). */
static void note_capture_loss(struct sd_ctx *ctx, struct capture *cap, int fresh)
{
	uint64_t from = 0, to = 0, n = capture_take_drops(cap, fresh, &from, &to);

	if (n) {
		ctx->cnt.capture_dropped += n;
		txn_note_capture_loss(ctx->txns, from, to, n);
	}
}

static void read_packets(struct sd_ctx *ctx, struct capture *cap)
{
	struct progress pr;
	size_t keylog_seen = 0;
	char err[512];
	struct pkt p;
	int rc;

	progress_start(&pr, ctx);
	while (!stop_requested) {
		rc = capture_next(cap, &p, err, sizeof(err));
		note_capture_loss(ctx, cap, 0);
		act_on_signals(ctx, cap);
		if (rc == 0)
			break;
		if (rc == 2) {
			pipeline_idle(ctx);
			metrics_file_tick(ctx);
			continue;
		}
		if (rc < 0) {
			progress_end(&pr);
			fprintf(stderr, "scepdump: %s\n", err);
			ctx->input_errors++;
			continue;
		}
		take_embedded_keylog(ctx, cap, &keylog_seen);
		pipeline_packet(ctx, &p);
		progress_update(&pr, ctx, &p);
		metrics_file_tick(ctx);
	}
	note_capture_loss(ctx, cap, 1);
	capture_secrets_dropped(cap, &ctx->cnt.dsb_keylog_bytes_capped, &ctx->cnt.dsb_other_secrets);
	progress_end(&pr);
}

static void print_kernel_stats(const struct sd_ctx *ctx, struct capture *cap)
{
	uint64_t received, dropped;

	if (ctx->opt.mode != MODE_LIVE || capture_stats(cap, &received, &dropped) < 0)
		return;
	fprintf(stderr, "%llu packets received by filter\n%llu packets dropped by kernel\n",
		(unsigned long long)received, (unsigned long long)dropped);
}

static void free_run(struct sd_ctx *ctx, struct out_file *w, struct out_file *html)
{
	out_abandon(w);
	out_abandon(html);
	pipeline_free(ctx);
	options_free(&ctx->opt);
}

int main(int argc, char **argv)
{
	struct sd_ctx ctx;
	struct out_file w, html;
	struct report report;
	struct capture *cap;
	char err[512];
	int status;

	memset(&ctx, 0, sizeof(ctx));
	memset(&w, 0, sizeof(w));
	memset(&html, 0, sizeof(html));
	if (options_parse(&ctx.opt, argc, argv) < 0)
		return 2;
	if (ctx.opt.mode == MODE_HELP) {
		if (ctx.opt.help_decode)
			options_decode_usage(stdout);
		else
			options_usage(stdout);
		return out_close_stdout(0, 0, "the help text is incomplete");
	}
	if (ctx.opt.mode == MODE_VERSION) {
		print_version();
		return out_close_stdout(0, 0, "the version text is incomplete");
	}
	if (pipeline_init(&ctx) < 0) {
		free_run(&ctx, &w, &html);
		return 2;
	}
	if (ctx.opt.mode == MODE_DECODE) {
		status = run_decode(&ctx);
		free_run(&ctx, &w, &html);
		return out_close_stdout(status, 0, "the decoded message is incomplete");
	}
	/* What would fail at the end is found before the input is read: a
	 * device log that cannot be read, an output that cannot be written or
	 * that is an input. */
	if (check_device_logs(&ctx.opt) < 0 || out_open_outputs(&ctx.opt, &w, &html) < 0 ||
	    out_open_live(&ctx) < 0) {
		free_run(&ctx, &w, &html);
		return 2;
	}
	/* a device log alone needs no capture; -Z drops privileges in here,
	 * after the outputs are open */
	cap = ctx.opt.mode == MODE_OFFLINE && !ctx.opt.n_files ? NULL : open_source(&ctx.opt, err, sizeof(err));
	if (!cap && (ctx.opt.mode != MODE_OFFLINE || ctx.opt.n_files)) {
		fprintf(stderr, "scepdump: %s\n", err);
		free_run(&ctx, &w, &html);
		return 2;
	}
	out_start_live(&ctx, cap);
	render_setup(&ctx, cap != NULL);
	metrics_file_start(&ctx);
	signal_capture = cap;
	if (ctx.opt.n_files > 1)
		ctx.frames_from = cap;
	install_signal_handlers();
	capture_print_listening(cap, stderr);
	if (cap)
		read_packets(&ctx, cap);
	/* live, a signal is how a capture ends */
	if (ctx.opt.mode == MODE_OFFLINE)
		ctx.interrupted_by = stop_requested;
	pipeline_finish(&ctx);
	metrics_file_finish(&ctx);
	pipeline_report(&ctx, &report);
	if (render_filter_report(&ctx, &report) < 0)
		ctx.input_errors++;
	render_print_report(&ctx, &report);
	if (html.f && out_write_html(&report, &html) < 0)
		ctx.input_errors++;
	render_free_report(&ctx, &report);
	if (cap)
		print_kernel_stats(&ctx, cap);
	if (w.f)
		out_write_extract(&ctx, &w, &stop_requested);
	status = check_exit_status(&ctx);
	signal_capture = NULL;
	if (cap)
		capture_close(cap);
	free_run(&ctx, &w, &html);
	return out_close_stdout(status, 1, "the listing and summary are incomplete");
}
