/* outfile.h - standard output and the -w/--html files: every write heard,
 * a file that could not be written whole not left looking whole. */
#ifndef SCEPDUMP_OUTFILE_H
#define SCEPDUMP_OUTFILE_H

#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

struct capture;
struct report;
struct sd_ctx;
struct sd_options;

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

/* Standard output after a piece was written (errno zeroed before it, and
 * was_bad its error flag before it): a failure is said once, naming what
 * is lost, and makes the exit status 2. */
void out_check_stdout(int was_bad, const char *lost);
/* The end of every run: flushes and closes stdout; status, or 2 when that
 * failed. checked: every piece written went through out_check_stdout. */
int out_close_stdout(int status, int checked, const char *lost);
/* Opens -w and --html (each may be absent: f stays NULL). -1 after one
 * line on stderr: a path cannot be written, is an input, or -w cannot
 * read the inputs twice; nothing is truncated then. */
int out_open_outputs(const struct sd_options *opt, struct out_file *w, struct out_file *html);
/* Not written after all (the run failed first). */
void out_abandon(struct out_file *o);
/* --html: the page, written whole or removed. -1 after one line. */
int out_write_html(const struct report *r, struct out_file *o);
/* -w: the second pass over the inputs, stopped by *stop (a signal). */
void out_write_extract(struct sd_ctx *ctx, struct out_file *w, volatile sig_atomic_t *stop);
/* Live -w and --json-file: the first files, made before -Z; -1 after one
 * line on stderr. */
int out_open_live(struct sd_ctx *ctx);
/* Live -w: the pcap header, once the interface's link type is known. */
void out_start_live(struct sd_ctx *ctx, const struct capture *cap);
/* SIGHUP: both opened again by name (logrotate). */
void out_reopen_live(struct sd_ctx *ctx);

#endif
