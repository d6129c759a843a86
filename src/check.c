/* check.c - --check's policy and the exit status: every transaction
 * that did not end ISSUED or DELIVERED is named on stderr, and the run's
 * outcome becomes the status a script reads. */
#include <stdio.h>

#include "check.h"
#include "packet.h"
#include "pipeline.h"
#include "spill.h"
#include "summary.h"
#include "txn.h"

/* Reading files stopped by a signal: the report covers the part read
 * (it says so). Not an error, not a clean end either: scripts tell it. */
#define EXIT_INTERRUPTED 3

static int txn_failed(const struct txn *t)
{
	return t->verdict != VERDICT_NONE && t->verdict != VERDICT_ISSUED &&
	       t->verdict != VERDICT_DELIVERED;
}

/* --check: the line naming a transaction that did not end ISSUED or
 * DELIVERED, so a regression job's log says what broke. */
void check_print_line(FILE *out, const void *arg, const struct txn *t)
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

static size_t failed_in(const struct summary *s)
{
	/* endpoint groups with an error (an HTTP error, a failed handshake)
	 * fail as they do in the table (txn_failed) */
	return s->transactions - s->by_verdict[VERDICT_ISSUED] - s->by_verdict[VERDICT_DELIVERED] +
	       s->endpoint_groups - s->group_verdicts[VERDICT_NONE] - s->group_verdicts[VERDICT_ISSUED] -
	       s->group_verdicts[VERDICT_DELIVERED];
}

/* Transactions with a transactionID, listed, released or evicted. */
static size_t enrollments_in(struct sd_ctx *ctx)
{
	const struct summary *all = txn_summary(ctx->txns);
	size_t i, n = 0;

	if (all)
		return all->transactions;
	for (i = 0; i < txn_count(ctx->txns); i++)
		n += txn_get(ctx->txns, i)->transaction_id != NULL;
	return n;
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
	if (listing_write(ctx->spill, ctx->txns, SPILL_CHECK, stderr, check_print_line, NULL) < 0)
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
	if (!enrollments_in(ctx)) {
		/* a regression check must not pass on a capture that lost its SCEP */
		fprintf(stderr, "scepdump: check: no enrollment in the input (%llu SCEP exchange%s, no transactionID): "
			"nothing to check\n", (unsigned long long)ctx->cnt.scep_exchanges,
			ctx->cnt.scep_exchanges == 1 ? "" : "s");
		return 1;
	}
	if (failed)
		fprintf(stderr, "scepdump: check: %zu of %zu transaction%s did not end ISSUED\n",
			failed, total, total == 1 ? "" : "s");
	return failed ? 1 : 0;
}

/* Errors first (ferror(stdout): said by check_stdout already), then an
 * interrupted read (its --check verdicts are of a cut capture), then
 * --check. */
int check_exit_status(struct sd_ctx *ctx)
{
	int failed = 0;

	if (!ctx->input_errors && ctx->opt.check)
		failed = check_failures(ctx);
	if (ctx->input_errors || ferror(stdout))
		return 2;
	return ctx->interrupted_by ? EXIT_INTERRUPTED : failed;
}
