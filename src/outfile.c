/* outfile.c - where the report goes and whether it got there: standard
 * output checked after every piece, and the -w and --html files, opened
 * before any input is read and removed when they could not be written
 * whole. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "extract.h"
#include "format.h"
#include "livew.h"
#include "outrot.h"
#include "outfile.h"
#include "pipeline.h"
#include "sink.h"

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
void out_check_stdout(int was_bad, const char *lost)
{
	int e = stream_error(stdout);

	if (e && !was_bad)
		fprintf(stderr, "scepdump: standard output: %s: %s\n", fmt_write_error(e), lost);
}

/* The end of every run: what stdout still holds must reach it, and its
 * close is checked too (as gnulib's close_stdout does). checked: every
 * piece written went through check_stdout, which said any failure. */
int out_close_stdout(int status, int checked, const char *lost)
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
void out_abandon(struct out_file *o)
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

int out_open_outputs(const struct sd_options *opt, struct out_file *w, struct out_file *html)
{
	/* live, -w is a rotation of files (out_open_live) */
	if (!inputs_readable_twice(opt) ||
	    out_open(w, "-w", opt->mode == MODE_LIVE ? NULL : opt->write_file) < 0)
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
int out_write_html(const struct report *r, struct out_file *o)
{
	int regular = S_ISREG(o->st.st_mode), emptied = 0, e = 0;
	const char *fate = "";
	off_t size;

	if (regular && ftruncate(fileno(o->f), 0) < 0)
		e = errno;
	if (!e) {
		errno = 0;
		sink_html_write(o->f, r);
		e = stream_error(o->f);
	}
	if (e && regular)
		emptied = ftruncate(fileno(o->f), 0) == 0;
	size = ftello(o->f);
	if (fclose(o->f) != 0 && !e) {
		e = errno ? errno : -1;
		emptied = regular && truncate(o->path, 0) == 0;
	}
	o->f = NULL;
	if (!e) {
		/* what a ticket gets: said, as -w says what it wrote */
		fprintf(stderr, "scepdump: --html %s: %zu transaction%s, %lld bytes\n", o->path,
			txn_count(r->txns), txn_count(r->txns) == 1 ? "" : "s", (long long)size);
		return 0;
	}
	if (regular)
		fate = unlink(o->path) == 0 ? "; the file is removed" :
		       emptied ? "; the file is left empty" : "; the file is left cut short";
	fprintf(stderr, "scepdump: --html %s: %s: the report is incomplete%s\n", o->path, fmt_write_error(e), fate);
	return -1;
}

/* -w: the second pass. After an interrupted first pass it writes the SCEP
 * connections of the part read (up to the latest time read), and a second
 * signal stops it between two records. */
void out_write_extract(struct sd_ctx *ctx, struct out_file *w, volatile sig_atomic_t *stop)
{
	struct extract_out out = {
		.f = w->f,
		.path = w->path,
		.until_ts_ns = ctx->interrupted_by ? ctx->last_ts_ns : 0,
		.stop = stop,
	};
	struct stat st;
	long n;

	if (ctx->interrupted_by) {
		fprintf(stderr, "scepdump: interrupted by %s: -w %s gets the SCEP connections of the part read "
			"(interrupt again to stop it)\n", fmt_signal_name(ctx->interrupted_by), w->path);
		*stop = 0;
	}
	w->f = NULL;   /* extract_write closes it */
	n = extract_write(&ctx->scep_flows, ctx->opt.files, ctx->opt.n_files, &out);
	if (n < 0)
		ctx->input_errors++;
	else if (stat(w->path, &st) == 0 && S_ISREG(st.st_mode))
		fprintf(stderr, "scepdump: -w %s: %ld packet%s of the SCEP connections, %lld bytes\n",
			w->path, n, n == 1 ? "" : "s", (long long)st.st_size);
	else
		fprintf(stderr, "scepdump: -w %s: %ld packet%s of the SCEP connections\n", w->path, n, n == 1 ? "" : "s");
	if (*stop && !ctx->interrupted_by)
		ctx->interrupted_by = *stop;
}

/* Live -w and --json-file: each an outrot (outrot.h) whose first file is
 * made now, before -Z drops privileges, as tcpdump makes its -w file;
 * later files of a rotation are made as that user. */
int out_open_live(struct sd_ctx *ctx)
{
	const struct sd_options *o = &ctx->opt;
	struct outrot_opts ro = {
		.max_bytes = o->rotate_bytes, .seconds = o->rotate_seconds, .count = o->rotate_count,
	};
	struct outrot *r = NULL;
	time_t now = time(NULL);

	if (o->mode != MODE_LIVE)
		return 0;
	if (o->write_file && o->json_file && !strcmp(o->write_file, o->json_file)) {
		fprintf(stderr, "scepdump: --json-file %s: -w writes that file already\n", o->json_file);
		return -1;
	}
	if (o->write_file) {
		ro.opt = "-w";
		ro.name = o->write_file;
		r = outrot_new(&ro);
		ctx->livew = r ? livew_new(r, o->idle_timeout_ns) : NULL;
		if (!ctx->livew) {
			outrot_free(r);
			fprintf(stderr, "scepdump: -w %s: out of memory\n", o->write_file);
			return -1;
		}
		if (outrot_start(r, now) < 0)
			return -1;
	}
	if (o->json_file) {
		ro.opt = "--json-file";
		ro.name = o->json_file;
		ctx->json_out = outrot_new(&ro);
		if (!ctx->json_out) {
			fprintf(stderr, "scepdump: --json-file %s: out of memory\n", o->json_file);
			return -1;
		}
		if (outrot_start(ctx->json_out, now) < 0)
			return -1;
	}
	return 0;
}

void out_start_live(struct sd_ctx *ctx, const struct capture *cap)
{
	if (ctx->livew && cap)
		livew_set_linktype(ctx->livew, capture_linktype(cap), ctx->opt.snaplen);
}

void out_reopen_live(struct sd_ctx *ctx)
{
	if (ctx->livew)
		outrot_reopen(livew_out(ctx->livew));
	if (ctx->json_out)
		outrot_reopen(ctx->json_out);
}
