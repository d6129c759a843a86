/* main.c - scepdump's entry: parse options, read packets from the chosen
 * source through the pipeline, print, and map the outcome to an exit code
 * (0 fine, 1 --check found a transaction not ISSUED/DELIVERED, 2 errors,
 * among them any output that could not be written whole, 3 reading files
 * stopped by SIGINT/SIGTERM). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
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
#include "devlog.h"
#include "extract.h"
#include "format.h"
#include "options.h"
#include "pipeline.h"
#include "scep.h"
#include "sink.h"
#include "spill.h"
#include "summary.h"
#include "txn.h"

/* Reading files stopped by a signal: the report covers the part read
 * (it says so). Not an error, not a clean end either: scripts tell it. */
#define EXIT_INTERRUPTED 3

/* The one piece of process-wide state: a signal handler cannot be handed
 * a context. It raises the flag (seen between packets) and breaks libpcap's
 * blocking read, which on Linux only pcap_breakloop can interrupt (the same
 * arrangement as tcpdump's). The flag holds the signal, for the report. */
static volatile sig_atomic_t stop_requested;
static struct capture *signal_capture;

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
}

/* 0 when every byte handed to f so far has reached the file, else the
 * errno of the write that failed (-1: not known). Call it with errno as
 * the piece written left it, zeroed before the piece: stdio keeps only a
 * flag, and what it could not write it sometimes tries again at fflush
 * (a fresh errno) and sometimes has dropped. */
static int stream_error(FILE *f)
{
	int e = errno, bad = ferror(f);

	errno = 0;
	if (fflush(f) == EOF)
		return errno ? errno : e ? e : -1;
	return bad ? (e ? e : -1) : 0;
}

/* Standard output after a piece was written (errno zeroed before it): a
 * failure is said once, by the first check that sees it (the stream's
 * error flag, read as was_bad before the piece, remembers it), and makes
 * the exit status 2. */
static void check_stdout(int was_bad, const char *lost)
{
	int e = stream_error(stdout);

	if (e && !was_bad)
		fprintf(stderr, "scepdump: standard output: %s: %s\n", fmt_write_error(e), lost);
}

/* The end of every run: what stdout still holds must reach it, and its
 * close is checked too (as gnulib's close_stdout does). checked: every
 * piece written went through check_stdout, which said any failure. */
static int close_stdout(int status, int checked, const char *lost)
{
	int was_bad = checked && ferror(stdout), e = stream_error(stdout);

	if (!e && fclose(stdout) != 0)
		e = errno ? errno : -1;
	if (!e)
		return status;
	if (!was_bad)
		fprintf(stderr, "scepdump: standard output: %s: %s\n", fmt_write_error(e), lost);
	return 2;
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
	int was_bad = ferror(stdout);

	errno = 0;
	render_listing(stdout, arg, t);
	check_stdout(was_bad, "transactions from here on are not shown");
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
	errno = 0;   /* for close_stdout */
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
	int was_bad = ferror(stdout);

	errno = 0;
	if (ctx->opt.json)
		sink_json_event(stdout, ctx, ev);
	else if (!ctx->opt.quiet)
		sink_text_event(stdout, ctx, ev);
	check_stdout(was_bad, "exchanges from here on are not shown");
}

/* -w and --html: opened before any input is read, so a path that cannot
 * be written costs no analysis, and before -Z drops privileges (tcpdump
 * opens -w there too); emptied only when written, so a run that fails
 * first leaves a previous file as it was. */
struct out_file {
	const char *opt, *path;
	FILE *f;
	struct stat st;
	int created;                /* by this run: removed if never written */
};

static int out_open(struct out_file *o, const char *opt, const char *path)
{
	int fd;

	memset(o, 0, sizeof(*o));
	o->opt = opt;
	o->path = path;
	if (!path)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	o->created = fd >= 0;
	if (fd < 0 && errno == EEXIST)   /* also a symlink, dangling or not */
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0 || fstat(fd, &o->st) < 0 || !(o->f = fdopen(fd, "wb"))) {
		fprintf(stderr, "scepdump: %s %s: %s\n", opt, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		if (o->created)
			unlink(path);
		o->created = 0;
		return -1;
	}
	return 0;
}

/* Not written after all (the run failed first). */
static void out_abandon(struct out_file *o)
{
	if (!o->f)
		return;
	fclose(o->f);
	o->f = NULL;
	if (o->created)
		unlink(o->path);
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* An output must not be one of the inputs, whatever name reaches it (a
 * link, ./x, a symlink): the same device and inode. Nothing has been
 * truncated yet when this refuses. */
static int out_is_input(const struct out_file *o, const struct sd_options *opt)
{
	const char *const *lists[] = { opt->files, opt->devlogs, opt->keylogs };
	const size_t counts[] = { opt->n_files, opt->n_devlogs, opt->n_keylogs };
	struct stat st;
	size_t i, k;

	if (!o->f || !S_ISREG(o->st.st_mode))
		return 0;
	for (k = 0; k < sizeof(counts) / sizeof(counts[0]); k++)
		for (i = 0; i < counts[k]; i++)
			if (strcmp(lists[k][i], "-") && stat(lists[k][i], &st) == 0 && same_file(&st, &o->st)) {
				fprintf(stderr, "scepdump: %s %s: that is the input file %s; not overwritten\n",
					o->opt, o->path, lists[k][i]);
				return 1;
			}
	return 0;
}

/* -w reads its inputs a second time: a pipe or a FIFO cannot be (the
 * second open would wait for a writer). options.c refuses '-' already. */
static int inputs_readable_twice(const struct sd_options *opt)
{
	struct stat st;
	size_t i;

	for (i = 0; opt->write_file && i < opt->n_files; i++)
		if (strcmp(opt->files[i], "-") && stat(opt->files[i], &st) == 0 && !S_ISREG(st.st_mode)) {
			fprintf(stderr, "scepdump: -w cannot be used with -r %s: not a regular file, it cannot be read twice\n",
				opt->files[i]);
			return 0;
		}
	return 1;
}

static int open_outputs(const struct sd_options *opt, struct out_file *w, struct out_file *html)
{
	if (!inputs_readable_twice(opt) || out_open(w, "-w", opt->write_file) < 0)
		return -1;
	if (out_open(html, "--html", opt->html_file) < 0) {
		out_abandon(w);
		return -1;
	}
	if (w->f && html->f && S_ISREG(w->st.st_mode) && same_file(&w->st, &html->st))
		fprintf(stderr, "scepdump: --html %s: -w writes that file already\n", html->path);
	else if (!out_is_input(w, opt) && !out_is_input(html, opt))
		return 0;
	out_abandon(w);
	out_abandon(html);
	return -1;
}

/* A page cut mid-tag looks whole in a browser: a report that could not be
 * written whole is removed (emptied when the directory does not let us,
 * e.g. after -Z), and the line says which. */
static int write_html(const struct sd_ctx *ctx, struct out_file *o)
{
	int regular = S_ISREG(o->st.st_mode), emptied = 0, e = 0;
	const char *fate = "";

	if (regular && ftruncate(fileno(o->f), 0) < 0)
		e = errno;
	if (!e) {
		errno = 0;
		sink_html_write(o->f, ctx);
		e = stream_error(o->f);
	}
	if (e && regular)
		emptied = ftruncate(fileno(o->f), 0) == 0;
	if (fclose(o->f) != 0 && !e) {
		e = errno ? errno : -1;
		emptied = regular && truncate(o->path, 0) == 0;
	}
	o->f = NULL;
	if (!e)
		return 0;
	if (regular)
		fate = unlink(o->path) == 0 ? "; the file is removed" :
		       emptied ? "; the file is left empty" : "; the file is left cut short";
	fprintf(stderr, "scepdump: --html %s: %s: the report is incomplete%s\n", o->path, fmt_write_error(e), fate);
	return -1;
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

/* Errors first (ferror(stdout): said by check_stdout already), then an
 * interrupted read (its --check verdicts are of a cut capture), then
 * --check. */
static int exit_status(struct sd_ctx *ctx)
{
	int failed = 0;

	if (!ctx->input_errors && ctx->opt.check)
		failed = check_failures(ctx);
	if (ctx->input_errors || ferror(stdout))
		return 2;
	return ctx->interrupted_by ? EXIT_INTERRUPTED : failed;
}

/* -w: the second pass. After an interrupted first pass it writes the SCEP
 * connections of the part read (up to the latest time read), and a second
 * signal stops it between two records. */
static void write_extract(struct sd_ctx *ctx, struct out_file *w)
{
	struct extract_out out = {
		.f = w->f,
		.path = w->path,
		.until_ts_ns = ctx->interrupted_by ? ctx->last_ts_ns : 0,
		.stop = &stop_requested,
	};

	if (ctx->interrupted_by) {
		fprintf(stderr, "scepdump: interrupted by %s: -w %s gets the SCEP connections of the part read "
			"(interrupt again to stop it)\n", fmt_signal_name(ctx->interrupted_by), w->path);
		stop_requested = 0;
	}
	w->f = NULL;   /* extract_write closes it */
	if (extract_write(&ctx->scep_flows, ctx->opt.files, ctx->opt.n_files, &out) < 0)
		ctx->input_errors++;
	if (stop_requested && !ctx->interrupted_by)
		ctx->interrupted_by = stop_requested;
}

/* The listing (what was not streamed) and the summary, on stdout. */
static void print_report(struct sd_ctx *ctx)
{
	int was_bad = ferror(stdout);

	errno = 0;
	if ((ctx->opt.json ? sink_json_write(stdout, ctx) : sink_text_write(stdout, ctx)) < 0)
		ctx->input_errors++;
	check_stdout(was_bad, ctx->opt.quiet ? "the summary is incomplete" : "the listing and summary are incomplete");
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
		return close_stdout(0, 0, "the help text is incomplete");
	}
	if (ctx.opt.mode == MODE_VERSION) {
		print_version();
		return close_stdout(0, 0, "the version text is incomplete");
	}
	if (pipeline_init(&ctx) < 0) {
		free_run(&ctx, &w, &html);
		return 2;
	}
	if (ctx.opt.mode == MODE_DECODE) {
		status = run_decode(&ctx);
		free_run(&ctx, &w, &html);
		return close_stdout(status, 0, "the decoded message is incomplete");
	}
	/* What would fail at the end is found before the input is read: a
	 * device log that cannot be read, an output that cannot be written or
	 * that is an input. */
	if (check_device_logs(&ctx.opt) < 0 || open_outputs(&ctx.opt, &w, &html) < 0) {
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
	/* live, a signal is how a capture ends */
	if (ctx.opt.mode == MODE_OFFLINE)
		ctx.interrupted_by = stop_requested;
	pipeline_finish(&ctx);
	print_report(&ctx);
	if (html.f && write_html(&ctx, &html) < 0)
		ctx.input_errors++;
	if (cap)
		print_kernel_stats(&ctx, cap);
	if (w.f)
		write_extract(&ctx, &w);
	status = exit_status(&ctx);
	signal_capture = NULL;
	if (cap)
		capture_close(cap);
	free_run(&ctx, &w, &html);
	return close_stdout(status, 1, "the listing and summary are incomplete");
}
