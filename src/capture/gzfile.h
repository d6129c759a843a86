/* gzfile.h - a gzip-compressed capture read as the capture it holds. */
#ifndef SCEPDUMP_GZFILE_H
#define SCEPDUMP_GZFILE_H

#include <stdio.h>

/* The first two bytes of every gzip member (RFC 1952). */
#define GZFILE_MAGIC0 0x1f
#define GZFILE_MAGIC1 0x8b

struct gzfile;

/* A read-only FILE giving the inflated bytes of under (read from its
 * current position; closed with the FILE when own_under). Concatenated
 * members are read on as one stream, as gzip -d does. *state (may be NULL)
 * borrows the reader's state for gzfile_damage, valid until the FILE is
 * closed. NULL when out of memory (under then untouched). ftell gives the
 * inflated offset. */
FILE *gzfile_open(FILE *under, int own_under, struct gzfile **state);
/* Why the inflated stream ended early, or NULL when it did not: the
 * compressed file is cut short, or its data are not valid deflate. */
const char *gzfile_damage(const struct gzfile *gz);

#endif
