/* http1.h - HTTP/1.x exchanges from a reassembled TCP connection (libhtp). */
#ifndef SCEPDUMP_HTTP1_H
#define SCEPDUMP_HTTP1_H

#include "flow.h"
#include "http.h"

/* Limits of both HTTP layers (HTTP/2 reads the same struct); 0 in an h2
 * field takes that cap's default. */
struct http1_config {
	/* bytes kept per body; more is counted. Bodies, head lines and
	 * held-back bytes (HTTP/1), decoded header fields and HPACK tables
	 * (HTTP/2) are charged to mem; a refused charge caps like a limit. */
	size_t max_body;
	size_t max_h2_streams;      /* streams in flight per connection */
	size_t max_h2_header_list;  /* decoded header list bytes per message */
	struct mem_budget *mem;     /* the run's budget (NULL: none) */
	/* libhtp's settings and callbacks, the same for every connection:
	 * made once by http1_settings_new and shared (NULL: each connection
	 * makes its own, as unit tests and fuzz harnesses do). */
	struct http1_settings *settings;
};

struct http1_conn;
struct http1_settings;
struct counters;
struct mem_budget;

/* The libhtp configuration every connection reads (libhtp never writes it
 * after setup, so one serves all); freed by the caller after the last
 * connection closes. NULL when out of memory. */
struct http1_settings *http1_settings_new(void);
void http1_settings_free(struct http1_settings *s);

/* Returns 1 when data (the first bytes of a direction) looks like HTTP/1. */
int http1_probe(const uint8_t *data, size_t len, enum stream_dir dir);
struct http1_conn *http1_open(const struct http1_config *cfg,
			      struct counters *cnt, const struct flow *f,
			      http_exchange_cb cb, void *cb_arg);
void http1_event(struct http1_conn *c, const struct stream_event *ev);
/* 1 once a request with "Upgrade: h2c" got "101 Switching Protocols"
 * listing h2c (RFC 7540 section 3.2). From then on http1_event ignores both
 * directions: what follows the 101's header block is HTTP/2 (the client's
 * preface, the server's SETTINGS), for http2_open(..., after_upgrade = 1).
 * The upgrade request was emitted as an HTTP/1 exchange with status 101,
 * and it is also HTTP/2 stream 1's request: pass its method, uri and host to
 * http2_set_upgrade_request so stream 1's response is paired with it. */
int http1_upgraded_to_h2(const struct http1_conn *c);
/* How many bytes at the end of the to-client event that completed the 101
 * came after its header block: already HTTP/2 (servers often send their
 * SETTINGS in the same segment), to be fed to HTTP/2 first. 0 otherwise. */
size_t http1_upgrade_rest(const struct http1_conn *c);
/* 1 once an exchange on the connection looked like SCEP: a request with
 * operation= in its query or a PKI media type (also when libhtp could not
 * read all of it), or a response without its request that has a PKI media
 * type; the same test that decides which exchanges are handed on. Flow
 * shedding under memory pressure closes connections without it first. */
int http1_scep_seen(const struct http1_conn *c);
/* Emits what is pending (requests without responses) and frees. */
void http1_close(struct http1_conn *c);

#endif
