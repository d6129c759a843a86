/* outrot.c - the rotating output files of a long capture: names as tcpdump
 * makes them, one write(2) per record (nothing sits in a buffer when a
 * reader copies the file or the process is killed), a failed record cut
 * back off so the file stays whole. Trusts only its options. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "format.h"
#include "outrot.h"

struct outrot {
	struct outrot_opts o;
	uint8_t *header;
	size_t hlen;
	int fd;                     /* -1: no file open */
	char *path;                 /* of the file open (or that failed) */
	uint64_t size;              /* whole bytes in it */
	time_t opened_at;           /* -G period start */
	unsigned long seq;          /* -C: number of the file within the period */
	int broken;                 /* the current file took a failed write */
	int failing;                /* said; quiet until a record is written again */
	char **kept;                /* -W: the names made, oldest at kept_head */
	unsigned n_kept, kept_head;
	struct outrot_stats st;
};

struct outrot *outrot_new(const struct outrot_opts *o)
{
	struct outrot *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->o = *o;
	r->fd = -1;
	if (o->count && !(r->kept = calloc(o->count, sizeof(*r->kept)))) {
		free(r);
		return NULL;
	}
	return r;
}

/* tcpdump's numbering: with -W the number has as many digits as the
 * largest one (COUNT-1), and the first file is FILE0; without it the
 * first is FILE and the next FILE1. */
static unsigned count_digits(unsigned count)
{
	unsigned d = 0, x = count ? count - 1 : 0;

	for (; x; x /= 10)
		d++;
	return d;
}

static char *file_name(const struct outrot *r, time_t now)
{
	char base[4096], *out;
	unsigned width = count_digits(r->o.count);
	struct tm tm;
	size_t len;

	if (r->o.seconds) {
		/* -G: the name is the user's strftime pattern, as in tcpdump */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		if (!localtime_r(&now, &tm) || !(len = strftime(base, sizeof(base), r->o.name, &tm)))
#pragma GCC diagnostic pop
			snprintf(base, sizeof(base), "%s", r->o.name);
	} else {
		snprintf(base, sizeof(base), "%s", r->o.name);
	}
	len = strlen(base) + 24;
	out = malloc(len);
	if (!out)
		return NULL;
	if (!r->o.max_bytes || (r->seq == 0 && width == 0))
		snprintf(out, len, "%s", base);
	else
		snprintf(out, len, "%s%0*lu", base, (int)width, r->seq);
	return out;
}

/* The first record that is lost after a good one says why, once. */
static void say_failure(struct outrot *r, int err, const char *what)
{
	if (r->failing)
		return;
	r->failing = 1;
	fprintf(stderr, "scepdump: %s %s: %s: %s; nothing more is written to it until the next file "
		"(rotation or SIGHUP); the summary counts what is lost\n",
		r->o.opt, r->path ? r->path : r->o.name, fmt_write_error(err), what);
}

static int write_all(int fd, const struct iovec *iov, int n, size_t total)
{
	struct iovec v[2];
	ssize_t got;
	size_t done = 0;
	int i;

	memcpy(v, iov, (size_t)n * sizeof(*v));
	while (done < total) {
		got = writev(fd, v, n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return got < 0 ? errno : ENOSPC;
		done += (size_t)got;
		for (i = 0; i < n && got > 0; i++) {
			size_t k = (size_t)got < v[i].iov_len ? (size_t)got : v[i].iov_len;

			v[i].iov_base = (char *)v[i].iov_base + k;
			v[i].iov_len -= k;
			got -= (ssize_t)k;
		}
	}
	return 0;
}

/* 0, or the errno; a piece that went in part is cut back off. */
static int put(struct outrot *r, const void *a, size_t alen, const void *b, size_t blen)
{
	struct iovec iov[2] = { { (void *)a, alen }, { (void *)b, blen } };
	int e;

	if (r->fd < 0 || r->broken)
		return EBADF;
	e = write_all(r->fd, iov, blen ? 2 : 1, alen + blen);
	if (e) {
		if (ftruncate(r->fd, (off_t)r->size) < 0) {
			/* not a regular file, or the cut failed too: the rest of
			 * the file would follow a piece of a record */
		}
		r->broken = 1;
		return e;
	}
	r->size += alen + blen;
	return 0;
}

/* -W: the name joins the kept ones; the oldest beyond COUNT is removed
 * (the -C ring comes back to its own name: that file is overwritten). */
static void keep_name(struct outrot *r, const char *name)
{
	unsigned i;
	char *copy;

	if (!r->o.count)
		return;
	for (i = 0; i < r->n_kept; i++)
		if (!strcmp(r->kept[i], name))
			return;
	copy = strdup(name);
	if (!copy)
		return;
	if (r->n_kept < r->o.count) {
		r->kept[r->n_kept++] = copy;
		return;
	}
	unlink(r->kept[r->kept_head]);
	free(r->kept[r->kept_head]);
	r->kept[r->kept_head] = copy;
	r->kept_head = (r->kept_head + 1) % r->o.count;
}

static void close_file(struct outrot *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

/* Opens path (truncate: a new file of the rotation; else written on at
 * its end) and writes the header if it is empty. 0, or the errno. */
static int open_file(struct outrot *r, char *path, int truncate)
{
	struct stat st;

	close_file(r);
	free(r->path);
	r->path = path;
	r->broken = 0;
	r->size = 0;
	if (!path)
		return ENOMEM;
	r->fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0666);
	if (r->fd < 0)
		return errno;
	r->st.files++;
	if (fstat(r->fd, &st) < 0)
		return errno;
	if (st.st_size > 0 && lseek(r->fd, 0, SEEK_END) >= 0) {
		r->size = (uint64_t)st.st_size;
		return 0;
	}
	return r->hlen ? put(r, r->header, r->hlen, NULL, 0) : 0;
}

int outrot_start(struct outrot *r, time_t now)
{
	int e;

	r->opened_at = now;
	e = open_file(r, file_name(r, now), 1);
	if (e) {
		fprintf(stderr, "scepdump: %s %s: %s\n", r->o.opt, r->path ? r->path : r->o.name, fmt_write_error(e));
		return -1;
	}
	keep_name(r, r->path);
	return 0;
}

void outrot_set_header(struct outrot *r, const void *header, size_t len)
{
	int e;

	free(r->header);
	r->header = malloc(len);
	r->hlen = r->header ? len : 0;
	if (!r->header)
		return;
	memcpy(r->header, header, len);
	if (r->fd >= 0 && r->size == 0 && (e = put(r, r->header, r->hlen, NULL, 0)) != 0)
		say_failure(r, e, "not even the file header could be written");
}

static void rotate_if_due(struct outrot *r, time_t now)
{
	int e;

	if (r->o.seconds && now - r->opened_at >= (time_t)r->o.seconds) {
		r->opened_at = now;
		r->seq = 0;
	} else if (r->o.max_bytes && r->size > r->o.max_bytes) {
		r->seq++;
		if (r->o.count && !r->o.seconds)
			r->seq %= r->o.count;
	} else {
		return;
	}
	e = open_file(r, file_name(r, now), 1);
	if (e)
		say_failure(r, e, "the next file could not be made");
	else if (r->path)
		keep_name(r, r->path);
}

int outrot_write(struct outrot *r, const void *a, size_t alen, const void *b, size_t blen,
		 time_t now)
{
	int e;

	rotate_if_due(r, now);
	e = put(r, a, alen, b, blen);
	if (e) {
		if (e != EBADF)
			say_failure(r, e, "a record could not be written whole");
		r->st.lost_records++;
		r->st.lost_bytes += alen + blen;
		return -1;
	}
	if (r->failing) {
		r->failing = 0;
		fprintf(stderr, "scepdump: %s %s: written again\n", r->o.opt, r->path);
	}
	r->st.records++;
	r->st.bytes += alen + blen;
	return 0;
}

void outrot_reopen(struct outrot *r)
{
	char *path;
	int e;

	if (!r->path)
		return;
	path = strdup(r->path);
	e = open_file(r, path, 0);
	if (e)
		say_failure(r, e, "it could not be opened again (SIGHUP)");
}

void outrot_check(struct outrot *r)
{
	struct stat st;
	char *path;
	int e;

	if (r->fd < 0 || r->broken || fstat(r->fd, &st) < 0 || st.st_nlink > 0)
		return;
	/* removed: what goes on being written to it would be lost unseen */
	path = strdup(r->path);
	e = open_file(r, path, 1);
	if (e)
		say_failure(r, e, "the file was removed and cannot be made again");
}

const struct outrot_stats *outrot_stats(const struct outrot *r)
{
	return &r->st;
}

const char *outrot_path(const struct outrot *r)
{
	return r->path;
}

void outrot_free(struct outrot *r)
{
	unsigned i;

	if (!r)
		return;
	close_file(r);
	for (i = 0; i < r->n_kept; i++)
		free(r->kept[i]);
	free(r->kept);
	free(r->header);
	free(r->path);
	free(r);
}
