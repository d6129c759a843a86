/* app.c - the application-layer dispatcher: recognises what runs on a TCP
 * connection by probing the registered layers in order, swaps the flow's
 * roles when content shows the flow table guessed them wrong, stacks HTTP
 * on TLS and HTTP/2 on an HTTP/1 h2c upgrade, and tells the run of each
 * exchange and of each connection's end. Reads no wire bytes itself: the
 * layers' probes and parsers do. */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "http1.h"
#include "http2.h"
#include "strutil.h"
#include "tls.h"

/* What runs on TCP, in probing order (their first bytes never match two). */
static const struct app_layer_ops *const tcp_layers[] = {
	&tls_app_ops, &http2_app_ops, &http1_app_ops,
};

/* What runs inside TLS when ALPN does not say. */
static const struct app_layer_ops *const tls_layers[] = {
	&http2_app_ops, &http1_app_ops,
};

/* One layer of a connection: undecided (ops NULL, !unread), running, or
 * unread (nothing matched, or it could not open). */
struct layer {
	const struct app_layer_ops *ops;
	void *conn;
	int unread;
	/* the HTTP/1 connection that handed over to HTTP/2 (h2c): it still
	 * holds the upgrade exchange, and closes first */
	void *upgraded_from;
};

struct app_conn {
	const struct app_env *env;
	struct layer tcp;           /* what runs on TCP */
	struct layer carried;       /* what runs inside TLS */
	/* The flow table names the sender of the first packet "client" when
	 * it saw no SYN; when that packet is a response, content says the
	 * roles are the other way round and the layers get this view. */
	int swapped;
	struct flow view;
	int carried_scep;
	uint64_t exchanges;         /* HTTP exchanges seen (any, SCEP or not) */
	/* h2c upgrade: the HTTP/1 request answered 101 is HTTP/2 stream 1 */
	char *upgrade_method, *upgrade_uri, *upgrade_host;
};

static enum stream_dir other_dir(enum stream_dir d)
{
	return d == DIR_TO_SERVER ? DIR_TO_CLIENT : DIR_TO_SERVER;
}

static void on_exchange(void *arg, const struct http_exchange *x)
{
	struct app_conn *a = arg;
	const struct tls_conn *tls = a->tcp.ops == &tls_app_ops ? a->tcp.conn : NULL;

	a->exchanges++;
	if (x->status == 101 && x->method && !a->upgrade_method) {
		a->upgrade_method = strdup(x->method);
		a->upgrade_uri = str_dup_or_null(x->uri);
		a->upgrade_host = str_dup_or_null(x->host);
	}
	if (a->env->on_exchange(a->env->arg, x, tls))
		a->carried_scep = 1;
}

static void on_tls_plaintext(void *arg, const struct stream_event *ev);

static void layer_open(struct app_conn *a, struct layer *L, const struct app_layer_ops *ops,
		       int after_upgrade)
{
	struct app_open o = {
		.env = a->env,
		.view = &a->view,
		.on_exchange = on_exchange,
		.on_plaintext = on_tls_plaintext,
		.arg = a,
		.after_upgrade = after_upgrade,
	};

	L->conn = ops->open(&o);
	L->ops = L->conn ? ops : NULL;
	L->unread = !L->conn;
}

/* HTTP/1 answered "101 Switching Protocols" to Upgrade: h2c: the rest of
 * the connection is HTTP/2, starting inside the event that held the 101. */
static void layer_upgrade_to_h2(struct app_conn *a, struct layer *L, const struct stream_event *ev)
{
	struct stream_event rest;
	size_t n = http1_upgrade_rest(L->conn);

	L->upgraded_from = L->conn;
	layer_open(a, L, &http2_app_ops, 1);
	if (!L->conn)
		return;
	if (a->upgrade_method)
		http2_set_upgrade_request(L->conn, a->upgrade_method, a->upgrade_uri, a->upgrade_host);
	if (n && n <= ev->len && ev->kind == STREAM_DATA) {
		rest = *ev;
		rest.data = ev->data + ev->len - n;
		rest.len = n;
		L->ops->event(L->conn, &rest);
	}
}

static int layer_event(struct app_conn *a, struct layer *L, const struct stream_event *ev)
{
	int r;

	if (!L->ops)
		return L->unread ? FLOW_BYTES_UNREAD : FLOW_BYTES_READ;
	r = L->ops->event(L->conn, ev);
	if (L->ops == &http1_app_ops && http1_upgraded_to_h2(L->conn))
		layer_upgrade_to_h2(a, L, ev);
	return L->unread ? FLOW_BYTES_UNREAD : r;
}

static void layer_close(struct layer *L)
{
	if (L->upgraded_from)
		http1_app_ops.close(L->upgraded_from);
	if (L->ops)
		L->ops->close(L->conn);
	memset(L, 0, sizeof(*L));
}

static int layer_scep_seen(const struct layer *L)
{
	return (L->upgraded_from && http1_app_ops.scep_seen(L->upgraded_from)) ||
	       (L->ops && L->ops->scep_seen && L->ops->scep_seen(L->conn));
}

/* The first layer of list whose probe matches ev as sent, or with
 * reversed_ok as the other side would send it (then *reversed is set).
 * NULL when none does. */
static const struct app_layer_ops *probe_layers(const struct app_layer_ops *const *list, size_t n,
						const struct stream_event *ev, int reversed_ok,
						int *reversed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		*reversed = !list[i]->probe(ev->data, ev->len, ev->dir);
		if (!*reversed || (reversed_ok && list[i]->probe(ev->data, ev->len, other_dir(ev->dir))))
			return list[i];
	}
	return NULL;
}

/* Inside TLS the roles are settled: ALPN names HTTP/2, else the first
 * plaintext bytes as sent decide. */
static void on_tls_plaintext(void *arg, const struct stream_event *ev)
{
	struct app_conn *a = arg;
	struct layer *L = &a->carried;
	const char *alpn = tls_get_info(a->tcp.conn)->alpn;
	const struct app_layer_ops *ops;
	int reversed;

	if (!L->ops && !L->unread) {
		if (ev->kind != STREAM_DATA || !ev->len)
			return;
		ops = alpn && !strcmp(alpn, "h2") ? &http2_app_ops :
		      probe_layers(tls_layers, sizeof(tls_layers) / sizeof(tls_layers[0]), ev, 0, &reversed);
		if (ops)
			layer_open(a, L, ops, 0);
		else
			L->unread = 1;
	}
	layer_event(a, L, ev);
}

static void swap_roles(struct app_conn *a, const struct flow *f)
{
	a->swapped = 1;
	a->view.client = f->server;
	a->view.server = f->client;
}

/* The first bytes of either direction decide the protocol; a flow that
 * starts with a gap stays undecided until data arrives. A match the other
 * way round swaps the roles, unless a SYN already named them. */
static void detect(struct app_conn *a, const struct flow *f, const struct stream_event *ev)
{
	const struct app_layer_ops *ops;
	int reversed = 0;

	if (ev->kind != STREAM_DATA || !ev->len)
		return;
	a->view = *f;
	ops = probe_layers(tcp_layers, sizeof(tcp_layers) / sizeof(tcp_layers[0]), ev, !f->saw_syn,
			   &reversed);
	if (!ops) {
		a->tcp.unread = 1;
		return;
	}
	if (reversed)
		swap_roles(a, f);
	layer_open(a, &a->tcp, ops, 0);
}

static void *app_open(void *arg, const struct flow *f)
{
	struct app_conn *a = calloc(1, sizeof(*a));

	(void)f;
	if (a)
		a->env = arg;
	return a;
}

static int app_event(void *app, const struct flow *f, const struct stream_event *ev)
{
	struct app_conn *a = app;
	struct stream_event flipped;

	if (!a)
		return FLOW_BYTES_READ;
	if (!a->tcp.ops && !a->tcp.unread)
		detect(a, f, ev);
	if (a->swapped) {
		flipped = *ev;
		flipped.dir = other_dir(ev->dir);
		ev = &flipped;
	}
	return layer_event(a, &a->tcp, ev);
}

/* TLS settles its verdict before the layer it carries closes: the
 * exchanges that close emits are told with it. The run hears of the end
 * while TLS can still be read. */
static void app_close(void *app, const struct flow *f)
{
	struct app_conn *a = app;
	struct app_conn_end end;
	int tls;

	if (!a)
		return;
	tls = a->tcp.ops == &tls_app_ops;
	if (tls)
		tls_finish(a->tcp.conn);
	layer_close(&a->carried);
	if (!tls)
		layer_close(&a->tcp);
	end.flow = f;
	end.view = &a->view;
	end.tls = tls ? a->tcp.conn : NULL;
	end.exchanges = a->exchanges;
	end.carried_scep = a->carried_scep;
	a->env->on_close(a->env->arg, &end);
	layer_close(&a->tcp);
	free(a->upgrade_method);
	free(a->upgrade_uri);
	free(a->upgrade_host);
	free(a);
}

/* What the flow table sheds last under memory pressure. */
static int app_looked_like_scep(void *app)
{
	const struct app_conn *a = app;

	return a && (a->carried_scep || layer_scep_seen(&a->tcp) || layer_scep_seen(&a->carried));
}

const struct flow_app_ops app_flow_ops = {
	.open = app_open,
	.event = app_event,
	.close = app_close,
	.looked_like_scep = app_looked_like_scep,
};
