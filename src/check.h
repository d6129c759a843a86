/* check.h - --check and the exit status. */
#ifndef SCEPDUMP_CHECK_H
#define SCEPDUMP_CHECK_H

#include <stdio.h>

struct sd_ctx;
struct txn;

/* --check's line for t on out, when t did not end ISSUED or DELIVERED;
 * nothing otherwise (a listing_render_fn: arg unused). */
void check_print_line(FILE *out, const void *arg, const struct txn *t);
/* 0 fine, 1 --check found a failed transaction (named on stderr), 2
 * errors (among them stdout cut short), 3 reading files was interrupted. */
int check_exit_status(struct sd_ctx *ctx);

#endif
