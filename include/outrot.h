/* outrot.h - an output file a long capture writes record by record (the
 * live -w pcap, --json-file lines): each record reaches the file whole or
 * not at all, every file starts with its header, and files rotate by size
 * (-C), by time (-G) and are kept to a count (-W) the way tcpdump does. */
#ifndef SCEPDUMP_OUTROT_H
#define SCEPDUMP_OUTROT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct outrot_opts {
	const char *opt;            /* "-w" or "--json-file", for messages */
	const char *name;           /* as given: a strftime(3) pattern with -G */
	uint64_t max_bytes;         /* -C: a new file once one is past it; 0: none */
	unsigned seconds;           /* -G: a new file every so many seconds; 0: none */
	unsigned count;             /* -W: at most this many files; 0: no limit */
};

/* What reached the files and what did not: the summary shows it. */
struct outrot_stats {
	uint64_t records, bytes;    /* written whole */
	uint64_t lost_records, lost_bytes;  /* could not be written */
	uint64_t files;             /* opened (rotations and SIGHUP included) */
};

struct outrot;

/* Takes the options (borrowed for the run); no file is made yet. NULL:
 * out of memory. */
struct outrot *outrot_new(const struct outrot_opts *o);
/* Makes the first file (before privileges are dropped, as tcpdump does):
 * -1 after one line on stderr naming the file and the error. */
int outrot_start(struct outrot *r, time_t now);
/* The header every file starts with (copied), written now to the first
 * one: the live -w pcap knows its link type once the interface is open.
 * Without a call files have no header (JSON Lines). */
void outrot_set_header(struct outrot *r, const void *header, size_t len);
/* One record from up to two pieces, written whole (or cut back off) after
 * rotating when due. Past a failed write nothing more goes to that file:
 * one line on stderr says so, and the records are counted as lost until
 * the next file (rotation or SIGHUP) can be written. -1 when lost. */
int outrot_write(struct outrot *r, const void *a, size_t alen, const void *b, size_t blen,
		 time_t now);
/* SIGHUP: the file is opened again by its name (logrotate renamed it: a
 * new file with its header; still there: written on at its end). */
void outrot_reopen(struct outrot *r);
/* Once a second or so: a file removed under us (its directory gone) is
 * made again, or the loss is said. */
void outrot_check(struct outrot *r);
const struct outrot_stats *outrot_stats(const struct outrot *r);
/* The name of the file written now (NULL before the first). */
const char *outrot_path(const struct outrot *r);
void outrot_free(struct outrot *r);

#endif
