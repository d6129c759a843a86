/* http1.h - HTTP/1.x exchanges from a reassembled TCP connection (libhtp). */
#ifndef SCEPDUMP_HTTP1_H
#define SCEPDUMP_HTTP1_H

#include "flow.h"
#include "http.h"

struct http1_config {
	size_t max_body;            /* bytes kept per body; more is counted */
};

struct http1_conn;
struct counters;

/* Returns 1 when data (the first bytes of a direction) looks like HTTP/1. */
int http1_probe(const uint8_t *data, size_t len, enum stream_dir dir);
struct http1_conn *http1_open(const struct http1_config *cfg,
			      struct counters *cnt, const struct flow *f,
			      http_exchange_cb cb, void *cb_arg);
void http1_event(struct http1_conn *c, const struct stream_event *ev);
/* Emits what is pending (requests without responses) and frees. */
void http1_close(struct http1_conn *c);

#endif
