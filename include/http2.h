/* http2.h - HTTP/2 exchanges (one per stream) from a reassembled TCP
 * connection: our own frame parser, nghttp2's HPACK inflater. Cleartext h2c
 * (prior knowledge or after an HTTP/1 Upgrade) or decrypted TLS bytes. */
#ifndef SCEPDUMP_HTTP2_H
#define SCEPDUMP_HTTP2_H

#include "flow.h"
#include "http.h"
#include "http1.h"

struct http2_conn;
struct counters;

/* Returns 1 when data, the first bytes of direction dir, looks like HTTP/2:
 * to-server, the client connection preface "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
 * (a prefix of at least its first 16 bytes counts, so a preface split over
 * segments is still recognised); to-client, a SETTINGS frame header on
 * stream 0 with a length that is a multiple of 6 (the server's preface),
 * which is what a capture that began after the client's preface shows. */
int http2_probe(const uint8_t *data, size_t len, enum stream_dir dir);

/* Starts a connection. cfg->max_body caps each kept body as for HTTP/1;
 * cfg->mem is charged for bodies, kept header fields and streams
 * (MEM_http_lines) and the HPACK inflaters' real allocations (MEM_hpack),
 * whose dynamic tables are held to 64 KiB whatever SETTINGS allow (a
 * larger one is counted in h2_tables_capped).
 * after_upgrade: the bytes fed are what follows an HTTP/1.1 "101 Switching
 * Protocols" answering "Upgrade: h2c" (RFC 7540 section 3.2): the client
 * still sends the preface, and stream 1 is already half-closed with its
 * request being the HTTP/1 upgrade request. That request was emitted by
 * http1 as its own exchange (status 101); stream 1 is emitted here with
 * method, uri and host NULL and req.present 0 unless http2_set_upgrade_request
 * supplies them. Without after_upgrade and without f->saw_syn the capture
 * began mid-connection: no preface is expected and both directions look for
 * a frame header first. Returns NULL on allocation failure or NULL args. */
struct http2_conn *http2_open(const struct http1_config *cfg,
			      struct counters *cnt, const struct flow *f,
			      http_exchange_cb cb, void *cb_arg,
			      int after_upgrade);

/* Gives stream 1 (after an h2c upgrade) the request line of the HTTP/1
 * upgrade request; copied. Any argument may be NULL. Call before feeding. */
void http2_set_upgrade_request(struct http2_conn *c, const char *method,
			       const char *uri, const char *host);

/* Feeds one reassembly event (data, gap, FIN, RST); emits each stream as an
 * exchange (version HTTP_V2) when both sides ended, when it was reset
 * (RST_STREAM) or refused by GOAWAY, in completion order; seq is the
 * stream's order of creation. */
void http2_event(struct http2_conn *c, const struct stream_event *ev);

/* 1 once a stream on the connection looked like SCEP: a request with
 * operation= in its :path or a PKI content-type, or a response whose
 * request was not seen with a PKI content-type; the same test that decides
 * which streams are handed on. Flow shedding under memory pressure closes
 * connections without it first. */
int http2_scep_seen(const struct http2_conn *c);

/* How many streams lookups by id have compared since http2_open: about
 * one per lookup whatever the number of open streams (the unit tests hold
 * it to that). */
uint64_t http2_lookup_steps(const struct http2_conn *c);

/* Emits the streams still open (e.g. requests without responses) and
 * frees everything. */
void http2_close(struct http2_conn *c);

#endif
