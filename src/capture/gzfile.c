/* gzfile.c - inflates a .pcap.gz / .pcapng.gz on the fly under a stdio
 * FILE, so libpcap (pcap_fopen_offline) and the pcapng walker read it as
 * they read any file. Trusts zlib with the compressed bytes; the inflated
 * ones are the capture readers'. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "gzfile.h"

#define GZFILE_INBUF (64u * 1024)

struct gzfile {
	FILE *under;
	int own_under;
	z_stream z;
	int member_done;         /* the last inflate ended a member */
	int eof;                 /* no more inflated bytes */
	const char *damage;      /* why the stream ended early, NULL: it did not */
	uint64_t pos;            /* inflated bytes handed out */
	uint8_t in[GZFILE_INBUF];
};

/* Refills the input buffer; 0 at the end of the compressed file. */
static size_t refill(struct gzfile *g)
{
	size_t n = fread(g->in, 1, sizeof(g->in), g->under);

	g->z.next_in = g->in;
	g->z.avail_in = (uInt)n;
	return n;
}

/* After a member's end: another member follows (gzip -c a b > c makes
 * one), or the file ends. Returns 1 when inflating goes on. */
static int next_member(struct gzfile *g)
{
	if (g->z.avail_in == 0 && refill(g) == 0)
		return 0;
	g->member_done = 0;
	return inflateReset(&g->z) == Z_OK;
}

static ssize_t gz_read(void *ck, char *buf, size_t size)
{
	struct gzfile *g = ck;
	int rc;

	g->z.next_out = (Bytef *)buf;
	g->z.avail_out = size > UINT32_MAX ? UINT32_MAX : (uInt)size;
	/* until something comes out: 0 would read as the end of the file */
	while (!g->eof && (Bytef *)g->z.next_out == (Bytef *)buf) {
		if (g->member_done && !next_member(g)) {
			g->eof = 1;
			break;
		}
		if (g->z.avail_in == 0 && refill(g) == 0) {
			if (ferror(g->under)) {
				g->damage = "cannot read the compressed file";
				g->eof = 1;
				break;
			}
			g->damage = "the compressed file is cut short";
			g->eof = 1;
			break;
		}
		rc = inflate(&g->z, Z_NO_FLUSH);
		if (rc == Z_STREAM_END) {
			g->member_done = 1;
		} else if (rc != Z_OK && rc != Z_BUF_ERROR) {
			g->damage = "the compressed data are damaged";
			g->eof = 1;
		}
	}
	size = (size_t)((Bytef *)g->z.next_out - (Bytef *)buf);
	g->pos += size;
	return (ssize_t)size;
}

/* Only "where are we" (ftell, which the readers use for error offsets). */
static int gz_seek(void *ck, off64_t *off, int whence)
{
	struct gzfile *g = ck;

	if (whence != SEEK_CUR || *off != 0) {
		errno = ESPIPE;
		return -1;
	}
	*off = (off64_t)g->pos;
	return 0;
}

static int gz_close(void *ck)
{
	struct gzfile *g = ck;
	int rc = 0;

	inflateEnd(&g->z);
	if (g->own_under)
		rc = fclose(g->under);
	free(g);
	return rc;
}

FILE *gzfile_open(FILE *under, int own_under, struct gzfile **state)
{
	static const cookie_io_functions_t fns = {
		.read = gz_read, .seek = gz_seek, .close = gz_close
	};
	struct gzfile *g = calloc(1, sizeof(*g));
	FILE *f;

	if (!g)
		return NULL;
	/* 15 + 32: any window size, gzip or zlib header detected */
	if (inflateInit2(&g->z, 15 + 32) != Z_OK) {
		free(g);
		return NULL;
	}
	g->under = under;
	g->own_under = own_under;
	f = fopencookie(g, "rb", fns);
	if (!f) {
		inflateEnd(&g->z);
		free(g);
		return NULL;
	}
	if (state)
		*state = g;
	return f;
}

const char *gzfile_damage(const struct gzfile *gz)
{
	return gz ? gz->damage : NULL;
}
