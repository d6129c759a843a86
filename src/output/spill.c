/* spill.c - rendered finished transactions on disk until the end of input
 * (see spill.h for why). 32 bytes of index per transaction stay in memory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spill.h"
#include "txn.h"

struct spill_entry {
	uint64_t first_ts_ns, created;     /* the listing order, as txn_finish sorts */
	uint64_t off;
	uint32_t listing_len, check_len;
};

struct spill {
	int fd;
	char *dir;                  /* where the file is, for messages */
	uint64_t size;
	struct spill_entry *e;
	size_t n, alloc;
	int sorted;
};

struct spill *spill_new(char *err, size_t errlen)
{
	const char *dir = getenv("TMPDIR");
	struct spill *sp;
	char path[4096];

	if (!dir || !*dir)
		dir = "/tmp";
	if ((size_t)snprintf(path, sizeof(path), "%s/scepdump-XXXXXX", dir) >= sizeof(path)) {
		snprintf(err, errlen, "temporary directory '%s': path too long", dir);
		return NULL;
	}
	sp = calloc(1, sizeof(*sp));
	if (!sp) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sp->dir = strdup(dir);
	sp->fd = sp->dir ? mkstemp(path) : -1;
	if (sp->fd < 0) {
		snprintf(err, errlen, "cannot create a temporary file in %s: %s", dir,
			 sp->dir ? strerror(errno) : "out of memory");
		free(sp->dir);
		free(sp);
		return NULL;
	}
	/* unlinked at once: nothing is left behind, whatever ends the run */
	unlink(path);
	return sp;
}

/* 0, or the errno of the write that failed */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno ? errno : EIO;
		if (w == 0)
			return ENOSPC;   /* a regular file takes no bytes only when full */
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

int spill_add(struct spill *sp, const struct txn *t, const char *listing, size_t listing_len,
	      const char *check, size_t check_len, char *err, size_t errlen)
{
	struct spill_entry *e;
	int werr;

	if (!listing_len && !check_len)
		return 0;   /* nothing of it would be printed */
	if (listing_len > UINT32_MAX || check_len > UINT32_MAX) {
		snprintf(err, errlen, "temporary file in %s: a transaction's listing is over 4 GiB", sp->dir);
		return -1;
	}
	if (sp->n == sp->alloc) {
		size_t na = sp->alloc ? sp->alloc * 2 : 256;
		struct spill_entry *ne = realloc(sp->e, na * sizeof(*ne));

		if (!ne) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		sp->e = ne;
		sp->alloc = na;
	}
	werr = write_all(sp->fd, listing, listing_len);
	if (!werr)
		werr = write_all(sp->fd, check, check_len);
	if (werr) {
		snprintf(err, errlen, "temporary file in %s: %s", sp->dir, strerror(werr));
		/* a partial write is overwritten by the next one, if any */
		lseek(sp->fd, (off_t)sp->size, SEEK_SET);
		return -1;
	}
	e = &sp->e[sp->n++];
	e->first_ts_ns = t->first_ts_ns;
	e->created = t->created;
	e->off = sp->size;
	e->listing_len = (uint32_t)listing_len;
	e->check_len = (uint32_t)check_len;
	sp->size += listing_len + check_len;
	sp->sorted = 0;
	return 0;
}

size_t spill_count(const struct spill *sp)
{
	return sp ? sp->n : 0;
}

static int spill_copy(const struct spill *sp, size_t i, enum spill_part part, FILE *out)
{
	const struct spill_entry *e = &sp->e[i];
	uint64_t off = part == SPILL_LISTING ? e->off : e->off + e->listing_len;
	size_t left = part == SPILL_LISTING ? e->listing_len : e->check_len;
	char buf[16384];

	while (left) {
		ssize_t r = pread(sp->fd, buf, left < sizeof(buf) ? left : sizeof(buf), (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "scepdump: temporary file in %s: read at byte %llu: %s: a transaction is missing from the listing\n",
				sp->dir, (unsigned long long)off, r < 0 ? strerror(errno) : "end of file");
			return -1;
		}
		fwrite(buf, 1, (size_t)r, out);
		off += (uint64_t)r;
		left -= (size_t)r;
	}
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct spill_entry *x = a, *y = b;

	return txn_listing_cmp(x->first_ts_ns, x->created, y->first_ts_ns, y->created);
}

int listing_write(struct spill *sp, const struct txn_table *tt, enum spill_part part,
		  FILE *out, listing_render_fn render, const void *arg)
{
	size_t n = spill_count(sp), i = 0, k = 0;
	int rc = 0;

	if (n && !sp->sorted) {
		qsort(sp->e, n, sizeof(*sp->e), cmp_entry);
		sp->sorted = 1;
	}
	while (i < n || k < txn_count(tt)) {
		const struct txn *t = k < txn_count(tt) ? txn_get(tt, k) : NULL;

		if (i < n && (!t || txn_listing_cmp(sp->e[i].first_ts_ns, sp->e[i].created,
						    t->first_ts_ns, t->created) < 0)) {
			if (spill_copy(sp, i++, part, out) < 0)
				rc = -1;
		} else {
			render(out, arg, t);
			k++;
		}
	}
	return rc;
}

void spill_free(struct spill *sp)
{
	if (!sp)
		return;
	close(sp->fd);   /* unlinked: what it held is not needed any more */
	free(sp->dir);
	free(sp->e);
	free(sp);
}
