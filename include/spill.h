/* spill.h - offline, the listing of finished transactions waits on disk for
 * the end of input, not in memory. Each transaction is rendered when its
 * final CertRep settles it (txn_release_cb), written to an unlinked
 * temporary file, and copied out at the end in time order, merged with the
 * transactions still in the table. Memory then stays flat in the number of
 * enrollments; the file holds what stdout gets anyway, nothing more. */
#ifndef SCEPDUMP_SPILL_H
#define SCEPDUMP_SPILL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct txn;
struct txn_table;
struct spill;

/* The file goes in $TMPDIR, else /tmp. NULL after one line in err. */
struct spill *spill_new(char *err, size_t errlen);
/* One finished transaction: its place in the listing (txn first_ts_ns and
 * created), its rendered listing and its --check line (either may be
 * empty). -1 after one line in err; nothing is kept then. */
int spill_add(struct spill *sp, const struct txn *t, const char *listing, size_t listing_len,
	      const char *check, size_t check_len, char *err, size_t errlen);
size_t spill_count(const struct spill *sp);

enum spill_part { SPILL_LISTING, SPILL_CHECK };
/* Called for a transaction still in the table; prints what the spilled
 * part would hold for it (or nothing). */
typedef void (*listing_render_fn)(FILE *out, const void *arg, const struct txn *t);
/* Every transaction in listing order (first event time, then creation),
 * the table (txn_finish sorted it) merged with the spilled ones: render
 * for the first, the stored part copied for the others. sp may be NULL.
 * -1 when the file could not be read back (said on stderr, in one line
 * per transaction lost). */
int listing_write(struct spill *sp, const struct txn_table *tt, enum spill_part part,
		  FILE *out, listing_render_fn render, const void *arg);
void spill_free(struct spill *sp);

#endif
