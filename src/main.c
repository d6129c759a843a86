/* main.c - scepdump's entry: parse options, read packets from the chosen
 * source through the pipeline, print, and map the outcome to an exit code
 * (0 fine, 1 --check found a transaction not ISSUED/DELIVERED, 2 errors). */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include <htp/htp.h>
#include <jansson.h>
#include <nghttp2/nghttp2.h>
#include <openssl/crypto.h>
#include <pcap/pcap.h>

#include "capture.h"
#include "extract.h"
#include "options.h"
#include "pipeline.h"
#include "scep.h"
#include "sink.h"
#include "spill.h"
#include "summary.h"
#include "txn.h"

/* The one piece of process-wide state: a signal handler cannot be handed
 * a context. It raises the flag (seen between packets) and breaks libpcap's
 * blocking read, which on Linux only pcap_breakloop can interrupt (the same
 * arrangement as tcpdump's). */
static volatile sig_atomic_t stop_requested;
static struct capture *signal_capture;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
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
}

/* One transaction as the listing shows it. */
static void render_listing(FILE *out, const void *arg, const struct txn *t)
{
	const struct sd_ctx *ctx = arg;

	if (ctx->opt.json)
		sink_json_txn(out, ctx, t);
	else if (!ctx->opt.quiet)
		sink_text_txn(out, ctx, t);
}

/* Live capture: print each enrollment as soon as it settles. */
static void stream_txn(void *arg, const struct txn *t)
{
	render_listing(stdout, arg, t);
	fflush(stdout);
}

static int txn_failed(const struct txn *t)
{
	return t->verdict != VERDICT_NONE && t->verdict != VERDICT_ISSUED &&
	       t->verdict != VERDICT_DELIVERED;
}

/* --check: the line naming a transaction that did not end ISSUED or
 * DELIVERED, so a regression job's log says what broke. */
static void print_check_line(FILE *out, const void *arg, const struct txn *t)
{
	char cli[ENDPOINT_STRLEN], srv[ENDPOINT_STRLEN];

	(void)arg;
	if (!txn_failed(t))
		return;
	fprintf(out, "scepdump: check: %s%s %s -> %s %s%s%s\n",
		t->transaction_id ? "txn " : "no transactionID",
		t->transaction_id ? t->transaction_id : "",
		endpoint_str(&t->client, cli, sizeof(cli)), endpoint_str(&t->server, srv, sizeof(srv)),
		txn_verdict_name(t->verdict), t->reason ? " " : "", t->reason ? t->reason : "");
}

/* Renders into a string what render would print. */
static char *render_to_string(void (*render)(FILE *, const void *, const struct txn *),
			      const void *arg, const struct txn *t, size_t *len)
{
	char *buf = NULL;
	FILE *m = open_memstream(&buf, len);

	if (!m)
		return NULL;
	render(m, arg, t);
	if (fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}


/* Reading files: a transaction whose final CertRep came can change no more;
 * it is rendered now and waits on disk for the end (spill.h). */
static int spill_txn(void *arg, const struct txn *t)
{
	struct sd_ctx *ctx = arg;
	size_t llen = 0, clen = 0;
	char *listing, *check = NULL, err[256];
	int rc = -1;

	if (ctx->spill_failed)
		return -1;
	listing = render_to_string(render_listing, ctx, t, &llen);
	if (listing && ctx->opt.check)
		check = render_to_string(print_check_line, NULL, t, &clen);
	if (!listing || (ctx->opt.check && !check))
		snprintf(err, sizeof(err), "out of memory");
	else
		rc = spill_add(ctx->spill, t, listing, llen, check, clen, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "scepdump: %s: finished transactions stay in memory from here on\n", err);
		ctx->spill_failed = 1;
	}
	free(listing);
	free(check);
	return rc;
}

/* Device logs (their lines join finished transactions at the end) and
 * --html (it draws them all) need every transaction in the table to the
 * end: then none is released, live or offline. */
static int needs_all_at_end(const struct sd_options *o)
{
	return o->n_devlogs || o->html_file;
}

/* Reading files only: live capture prints as it goes. */
static void start_spill(struct sd_ctx *ctx)
{
	char err[256];

	if (ctx->opt.mode != MODE_OFFLINE || ctx->opt.no_spill || needs_all_at_end(&ctx->opt))
		return;
	ctx->spill = spill_new(err, sizeof(err));
	if (!ctx->spill) {
		fprintf(stderr, "scepdump: %s: finished transactions stay in memory (--no-spill)\n", err);
		return;
	}
	txn_table_on_release(ctx->txns, spill_txn, ctx);
}

/* Live: a transaction printed as it settled is needed again only for the
 * summary, which the table keeps: days on a gateway do not grow memory. */
static int forget_printed(void *arg, const struct txn *t)
{
	(void)arg;
	return t->streamed ? 0 : -1;
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

/* scepdump decode: one input copied from a log, a file or a URL. Exit 0
 * when it decoded, 2 when it did not (what was recovered is still shown). */
static int run_decode(struct sd_ctx *ctx)
{
	struct scep_input *in_msg;
	const char *failed;
	uint8_t *in;
	size_t len;
	int status;

	in = read_all(ctx->opt.decode_input, &len);
	if (!in)
		return 2;
	in_msg = scep_decode_input(in, len, ctx->keys);
	free(in);
	if (!in_msg) {
		fprintf(stderr, "scepdump: decode: out of memory\n");
		return 2;
	}
	if (ctx->opt.json)
		sink_json_input(stdout, ctx, in_msg);
	else
		sink_text_input(stdout, ctx, in_msg);
	failed = decode_failure(in_msg);
	status = failed ? 2 : 0;
	if (failed)
		fprintf(stderr, "scepdump: decode: %s: %s\n", ctx->opt.decode_input, failed);
	scep_input_free(in_msg);
	return status;
}

static void stream_event(struct sd_ctx *ctx, const struct scep_event *ev)
{
	if (ctx->opt.json)
		sink_json_event(stdout, ctx, ev);
	else if (!ctx->opt.quiet)
		sink_text_event(stdout, ctx, ev);
	fflush(stdout);
}

static int check_writable(const char *opt, const char *path)
{
	FILE *f;

	if (!path)
		return 0;
	f = fopen(path, "ab");
	if (!f) {
		fprintf(stderr, "scepdump: %s %s: %s\n", opt, path, strerror(errno));
		return -1;
	}
	fclose(f);
	return 0;
}

static int write_html(const struct sd_ctx *ctx)
{
	FILE *f = fopen(ctx->opt.html_file, "w");

	if (!f) {
		fprintf(stderr, "scepdump: --html %s: %s\n", ctx->opt.html_file, strerror(errno));
		return -1;
	}
	sink_html_write(f, ctx);
	if (fclose(f) != 0) {
		fprintf(stderr, "scepdump: --html %s: %s\n", ctx->opt.html_file, strerror(errno));
		return -1;
	}
	return 0;
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
		if (rc == 0)
			break;
		if (rc == 2) {
			pipeline_idle(ctx);
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
	}
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

static size_t failed_in(const struct summary *s)
{
	return s->transactions - s->by_verdict[VERDICT_ISSUED] - s->by_verdict[VERDICT_DELIVERED];
}

/* --check: every transaction that did not end ISSUED or DELIVERED is named
 * on stderr, in listing order. */
static int check_failures(struct sd_ctx *ctx)
{
	const struct summary *gone = txn_evicted_summary(ctx->txns);
	const struct summary *released = txn_released_summary(ctx->txns);
	size_t i, failed = 0, gone_failed = 0, total = txn_count(ctx->txns);

	for (i = 0; i < txn_count(ctx->txns); i++)
		failed += txn_failed(txn_get(ctx->txns, i));
	if (listing_write(ctx->spill, ctx->txns, SPILL_CHECK, stderr, print_check_line, NULL) < 0)
		ctx->input_errors++;
	if (released) {
		failed += failed_in(released);
		total += released->transactions + released->endpoint_groups;
	}
	/* past --max-transactions: counted, no longer there to be named */
	if (gone) {
		gone_failed = failed_in(gone);
		total += gone->transactions + gone->endpoint_groups;
	}
	if (gone_failed)
		fprintf(stderr, "scepdump: check: %zu more past --max-transactions, not named\n", gone_failed);
	failed += gone_failed;
	if (failed)
		fprintf(stderr, "scepdump: check: %zu of %zu transactions did not end ISSUED\n",
			failed, total);
	return failed ? 1 : 0;
}

static int exit_status(struct sd_ctx *ctx)
{
	int failed;

	if (ctx->input_errors || !ctx->opt.check)
		return ctx->input_errors ? 2 : 0;
	failed = check_failures(ctx);
	return ctx->input_errors ? 2 : failed;
}

int main(int argc, char **argv)
{
	struct sd_ctx ctx;
	struct capture *cap;
	char err[512];
	int status;

	memset(&ctx, 0, sizeof(ctx));
	if (options_parse(&ctx.opt, argc, argv) < 0)
		return 2;
	if (ctx.opt.mode == MODE_HELP) {
		if (ctx.opt.help_decode)
			options_decode_usage(stdout);
		else
			options_usage(stdout);
		return 0;
	}
	if (ctx.opt.mode == MODE_VERSION) {
		print_version();
		return 0;
	}
	if (pipeline_init(&ctx) < 0) {
		pipeline_free(&ctx);
		options_free(&ctx.opt);
		return 2;
	}
	if (ctx.opt.mode == MODE_DECODE) {
		status = run_decode(&ctx);
		pipeline_free(&ctx);
		options_free(&ctx.opt);
		return status;
	}
	/* Outputs asked for are checked before the input is read: a path that
	 * cannot be written should not cost a whole capture's analysis. */
	if (check_writable("-w", ctx.opt.write_file) < 0 || check_writable("--html", ctx.opt.html_file) < 0) {
		pipeline_free(&ctx);
		options_free(&ctx.opt);
		return 2;
	}
	/* a device log alone needs no capture */
	cap = ctx.opt.mode == MODE_OFFLINE && !ctx.opt.n_files ? NULL : open_source(&ctx.opt, err, sizeof(err));
	if (!cap && (ctx.opt.mode != MODE_OFFLINE || ctx.opt.n_files)) {
		fprintf(stderr, "scepdump: %s\n", err);
		pipeline_free(&ctx);
		options_free(&ctx.opt);
		return 2;
	}
	if (ctx.opt.mode == MODE_LIVE) {
		txn_table_on_close(ctx.txns, stream_txn, &ctx);
		ctx.on_event = stream_event;
		/* --check names failures at the end */
		if (!needs_all_at_end(&ctx.opt) && !ctx.opt.check)
			txn_table_on_release(ctx.txns, forget_printed, &ctx);
	} else if (cap) {
		start_spill(&ctx);
	}
	signal_capture = cap;
	install_signal_handlers();
	capture_print_listening(cap, stderr);
	if (cap)
		read_packets(&ctx, cap);
	pipeline_finish(&ctx);
	if ((ctx.opt.json ? sink_json_write(stdout, &ctx) : sink_text_write(stdout, &ctx)) < 0)
		ctx.input_errors++;
	fflush(stdout);
	if (ctx.opt.html_file && write_html(&ctx) < 0)
		ctx.input_errors++;
	if (cap)
		print_kernel_stats(&ctx, cap);
	if (ctx.opt.write_file && !stop_requested &&
	    extract_write(&ctx.scep_flows, ctx.opt.files, ctx.opt.n_files, ctx.opt.write_file) < 0)
		ctx.input_errors++;
	status = exit_status(&ctx);
	signal_capture = NULL;
	if (cap)
		capture_close(cap);
	pipeline_free(&ctx);
	options_free(&ctx.opt);
	return status;
}
