/* key_files.h - the key material a run starts with, read from the files its
 * options name. */
#ifndef SCEPDUMP_KEY_FILES_H
#define SCEPDUMP_KEY_FILES_H

struct sd_ctx;

/* Loads --key (with --key-pass) and --ca-cert into ctx->keys, --keylog
 * files and --tls-key keys (with --key-pass) into ctx->keylog. A file that cannot be used prints one line and
 * returns -1; a key log with bad lines or past the budget says so and
 * loads the rest (0). */
int keys_load(struct sd_ctx *ctx);

#endif
