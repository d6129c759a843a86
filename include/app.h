/* app.h - the application layers above TCP (TLS, HTTP/1, HTTP/2), each
 * registered as one operations table, and the dispatcher that recognises
 * a connection's protocol from its first bytes (never its port) and drives
 * the layers: the contract between the stream stage and the run. */
#ifndef SCEPDUMP_APP_H
#define SCEPDUMP_APP_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "http.h"
#include "stream.h"

struct counters;
struct http1_config;
struct keylog;
struct mem_budget;
struct tls_conn;

/* What a connection closing tells the run. */
struct app_conn_end {
	const struct flow *flow;      /* as the flow table saw it */
	const struct flow *view;      /* roles as the content showed them */
	const struct tls_conn *tls;   /* TLS below HTTP (settled, not yet freed), or NULL */
	uint64_t exchanges;           /* HTTP exchanges seen, SCEP or not */
	int carried_scep;             /* the run's on_exchange said so at least once */
};

/* What the run lends every layer and what it wants to hear; borrowed by
 * every connection, so it outlives the flow table. */
struct app_env {
	const struct http1_config *http;  /* limits of both HTTP layers */
	struct counters *cnt;
	const struct keylog *keylog;      /* TLS secrets (NULL: metadata only) */
	struct mem_budget *mem;           /* the run's budget (NULL: none) */
	/* Each HTTP exchange (borrowed for the call); tls: what carried it,
	 * or NULL. Returns 1 when the exchange carried SCEP. */
	int (*on_exchange)(void *arg, const struct http_exchange *x, const struct tls_conn *tls);
	/* Each connection, once, as it closes. */
	void (*on_close)(void *arg, const struct app_conn_end *end);
	void *arg;
};

/* What a layer's open() gets: the run's env, the roles (copied or kept by
 * the layer; valid until close), and where what it carries goes. */
struct app_open {
	const struct app_env *env;
	const struct flow *view;
	/* HTTP layers: each exchange. TLS: the decrypted bytes, as stream
	 * events for the layer it carries. */
	http_exchange_cb on_exchange;
	void (*on_plaintext)(void *arg, const struct stream_event *ev);
	void *arg;
	/* HTTP/2: the bytes follow an HTTP/1 "101 Switching Protocols" to h2c */
	int after_upgrade;
};

/* One application layer, the way a protocol registers with Suricata's
 * app layer: adding one is a file and a line in the dispatcher's table. */
struct app_layer_ops {
	/* 1 when data, the first bytes of a direction (at least one), start
	 * this protocol as the side that sends in direction dir would. The
	 * dispatcher also asks for the other direction when no SYN named the
	 * roles: a match there means the flow table guessed them wrong. */
	int (*probe)(const uint8_t *data, size_t len, enum stream_dir dir);
	/* NULL when out of memory. */
	void *(*open)(const struct app_open *o);
	/* One stream event, in order; returns FLOW_BYTES_READ, or
	 * FLOW_BYTES_UNREAD once nothing of this connection will be read. */
	int (*event)(void *conn, const struct stream_event *ev);
	/* Emits what is pending and frees. */
	void (*close)(void *conn);
	/* 1 once the connection looked like SCEP (flow.h's looked_like_scep);
	 * NULL for a layer that cannot tell. */
	int (*scep_seen)(const void *conn);
};

extern const struct app_layer_ops tls_app_ops;
extern const struct app_layer_ops http1_app_ops;
extern const struct app_layer_ops http2_app_ops;

/* The stream stage's view of the dispatcher: pass it to flow_table_new
 * with a struct app_env as ops_arg. */
extern const struct flow_app_ops app_flow_ops;

#endif
