/* render.h - when transactions are printed: live as they settle, offline
 * kept on disk until the end; then the report on stdout. */
#ifndef SCEPDUMP_RENDER_H
#define SCEPDUMP_RENDER_H

struct report;
struct sd_ctx;

/* Before any packet: live, each enrollment and exchange is printed as it
 * settles; reading files (reading: there is a capture to read), each
 * finished one waits on disk. */
void render_setup(struct sd_ctx *ctx, int reading);
/* --verdict/--failed: r lists only the chosen transactions (a view of the
 * table) and says how many were listed. -1 after one line (out of
 * memory): r lists them all. */
int render_filter_report(struct sd_ctx *ctx, struct report *r);
/* Frees what render_filter_report made. */
void render_free_report(struct sd_ctx *ctx, struct report *r);
/* The listing (what was not streamed) and the summary, on stdout. */
void render_print_report(struct sd_ctx *ctx, const struct report *r);

#endif
