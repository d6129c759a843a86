/* key_files.c - reads the files that hold a run's secrets (--key, --ca-cert,
 * --keylog, --tls-key) into the key stores the SCEP decoder and TLS read. Part of
 * setting up the run, not of any stage: the stores outlive every flow, and
 * secrets that arrive inside the capture (pipeline_add_keylog_text) join
 * the same key log. Trusts nothing in the files: the stores parse them. */
#include <stdio.h>

#include "keylog.h"
#include "key_files.h"
#include "pipeline.h"
#include "scep.h"

static int keys_load_scep(struct sd_ctx *ctx)
{
	char err[256];
	size_t i;

	for (i = 0; i < ctx->opt.n_keys; i++) {
		if (scep_keys_load_pass(ctx->keys, ctx->opt.keys[i], ctx->opt.key_pass, err, sizeof(err)) < 0) {
			fprintf(stderr, "scepdump: --key %s: %s\n", ctx->opt.keys[i], err);
			return -1;
		}
	}
	for (i = 0; i < ctx->opt.n_ca_certs; i++) {
		if (scep_keys_load_certs(ctx->keys, ctx->opt.ca_certs[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "scepdump: --ca-cert %s: %s\n", ctx->opt.ca_certs[i], err);
			return -1;
		}
	}
	return 0;
}

static int keys_load_keylogs(struct sd_ctx *ctx)
{
	char err[256];
	size_t i, before;
	uint64_t capped;

	for (i = 0; i < ctx->opt.n_keylogs; i++) {
		before = keylog_count(ctx->keylog);
		capped = keylog_capped(ctx->keylog);
		if (keylog_load_file(ctx->keylog, ctx->opt.keylogs[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "scepdump: --keylog %s: %s\n", ctx->opt.keylogs[i], err);
			return -1;
		}
		/* bad lines are skipped, not fatal: the good ones still decrypt */
		if (keylog_count(ctx->keylog) == before)
			fprintf(stderr, "scepdump: --keylog %s: no TLS secrets in NSS key log format%s%s; TLS stays encrypted\n",
				ctx->opt.keylogs[i], err[0] ? ": " : "", err);
		else if (err[0])
			fprintf(stderr, "scepdump: --keylog %s: %s (skipped)\n", ctx->opt.keylogs[i], err);
		if (keylog_capped(ctx->keylog) > capped)
			fprintf(stderr, "scepdump: --keylog %s: %llu secrets past the memory budget "
				"(--max-memory) or %u entries not kept: their connections stay encrypted\n",
				ctx->opt.keylogs[i], (unsigned long long)(keylog_capped(ctx->keylog) - capped),
				KEYLOG_MAX_ENTRIES);
	}
	return 0;
}

/* The TLS servers' RSA keys join the key log: a connection without a key
 * log entry is opened with them when its key exchange allows. */
static int keys_load_tls_keys(struct sd_ctx *ctx)
{
	char err[256];
	size_t i;

	for (i = 0; i < ctx->opt.n_tls_keys; i++) {
		if (keylog_load_server_key(ctx->keylog, ctx->opt.tls_keys[i], ctx->opt.key_pass,
					   err, sizeof(err)) < 0) {
			fprintf(stderr, "scepdump: --tls-key %s: %s\n", ctx->opt.tls_keys[i], err);
			return -1;
		}
	}
	return 0;
}

int keys_load(struct sd_ctx *ctx)
{
	return keys_load_scep(ctx) < 0 || keys_load_keylogs(ctx) < 0 || keys_load_tls_keys(ctx) < 0 ? -1 : 0;
}
