/* opaque_tls.h - which TLS connections without readable HTTP reach the
 * timeline, and how long they wait to find out. */
#ifndef SCEPDUMP_OPAQUE_TLS_H
#define SCEPDUMP_OPAQUE_TLS_H

struct app_conn_end;
struct endpoint;
struct scep_event;
struct sd_ctx;

/* srv carried SCEP: opaque TLS toward it is part of the story. */
void opaque_tls_note_scep_server(struct sd_ctx *ctx, const struct endpoint *srv);
/* The event of a closing TLS connection whose HTTP never came through (no
 * key log, a failed handshake), with what TLS itself said; NULL when HTTP
 * came through, no ClientHello was seen, or memory ran out. */
struct scep_event *opaque_tls_event(const struct app_conn_end *end);
/* Takes ev over. 1: show it now (the caller queues it behind the
 * exchanges still being decoded); 0: it is held until the end, or given
 * up and counted. */
int opaque_tls_hold(struct sd_ctx *ctx, struct scep_event *ev);
/* End of input: each held event is delivered or given up, and the
 * summary's hints are made. */
void opaque_tls_settle(struct sd_ctx *ctx, void (*deliver)(struct sd_ctx *ctx, struct scep_event *ev));
/* Each TLS connection as it closes: counted for the summary's hints (what
 * stayed encrypted, toward which servers; what the keys matched), and a
 * --tls-key that could not open it said on stderr (the first few). */
void opaque_tls_count(struct sd_ctx *ctx, const struct app_conn_end *end);
/* The summary's TLS lines, made by opaque_tls_settle (owned by ctx, valid
 * until opaque_tls_free): why TLS hid SCEP and what to do, what the key
 * log and --tls-key matched. Returns how many. */
size_t opaque_tls_hints(const struct sd_ctx *ctx, const char *const **hints);
/* Frees what is held, the list of SCEP servers and the hints. */
void opaque_tls_free(struct sd_ctx *ctx);

#endif
