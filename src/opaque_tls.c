/* opaque_tls.c - the retention policy for TLS connections whose HTTP
 * could not be read. Most TLS on a gateway is not SCEP: an opaque
 * connection is shown when its server carries SCEP in this capture, when
 * either side sent a fatal alert (a device refusing the proxy's
 * certificate), or with -v; the rest is counted. A policy of the run, not
 * of a dissector: it weighs one connection against the whole capture, and
 * its state (a ring of --max-opaque-tls events, the SCEP servers) lives in
 * the run context. Reads only what the TLS layer already parsed.
 * The same weighing tells the summary why a capture of HTTPS shows no
 * SCEP: how many TLS connections stayed encrypted toward servers that
 * could carry it, and what the key log or --tls-key matched. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "keylog.h"
#include "opaque_tls.h"
#include "pipeline.h"
#include "scep.h"
#include "strutil.h"
#include "tls.h"
#include "tls_summary.h"

void opaque_tls_note_scep_server(struct sd_ctx *ctx, const struct endpoint *srv)
{
	struct endpoint *n;
	size_t i;

	for (i = 0; i < ctx->n_scep_servers; i++)
		if (endpoint_eq(&ctx->scep_servers[i], srv))
			return;
	n = realloc(ctx->scep_servers, (ctx->n_scep_servers + 1) * sizeof(*n));
	if (!n)
		return;
	ctx->scep_servers = n;
	ctx->scep_servers[ctx->n_scep_servers++] = *srv;
}

static void opaque_tls_make_hints(struct sd_ctx *ctx);
static void tally_free(struct tls_tally *t);

static int opaque_tls_relevant(const struct sd_ctx *ctx, const struct scep_event *ev)
{
	size_t i;

	if (ctx->opt.verbose || (ev->tls && ev->tls->alert && strstr(ev->tls->alert, "alert")))
		return 1;
	for (i = 0; i < ctx->n_scep_servers; i++)
		if (endpoint_eq(&ctx->scep_servers[i], &ev->server))
			return 1;
	return 0;
}

/* capped: given up before the end, when its server might still have
 * carried SCEP; else known not to be part of any SCEP story */
static void give_up_opaque_tls(struct sd_ctx *ctx, struct scep_event *ev, int capped)
{
	if (capped)
		ctx->cnt.tls_opaque_capped++;
	else
		ctx->cnt.tls_not_shown++;
	scep_event_free(ev);
}

struct scep_event *opaque_tls_event(const struct app_conn_end *end)
{
	const struct tls_info *ti;
	const struct flow *f = end->flow;
	struct scep_event *ev;

	if (!end->tls || end->exchanges)
		return NULL;
	ti = tls_get_info(end->tls);
	if (!ti->saw_client_hello)
		return NULL;
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return NULL;
	ev->op = SCEP_OP_TLS;
	ev->flow_id = f->id;
	ev->client = end->view->client;
	ev->server = end->view->server;
	ev->req_first_ts_ns = f->first_ts_ns;
	ev->req_last_ts_ns = f->first_ts_ns;
	ev->res_last_ts_ns = f->last_ts_ns;
	ev->req_first_frame = f->first_frame;
	ev->res_last_frame = f->last_frame;
	ev->host = str_dup_or_null(ti->sni);
	ev->tls = tls_summary(end->tls);
	return ev;
}

/* When relevance is known as the connection closes, it goes on at once;
 * else it waits for the end in a ring of --max-opaque-tls, in case its
 * server carries SCEP later, and past the cap the oldest is given up
 * (tls_opaque_capped): held for the whole capture they grew with it. */
int opaque_tls_hold(struct sd_ctx *ctx, struct scep_event *ev)
{
	size_t cap = ctx->opt.max_opaque_tls;

	if (opaque_tls_relevant(ctx, ev))
		return 1;
	if (!ctx->opaque_tls && cap)
		ctx->opaque_tls = calloc(cap, sizeof(*ctx->opaque_tls));
	if (!ctx->opaque_tls) {
		give_up_opaque_tls(ctx, ev, 1);
		return 0;
	}
	if (ctx->n_opaque_tls == cap) {
		give_up_opaque_tls(ctx, ctx->opaque_tls[ctx->opaque_head], 1);
		ctx->opaque_tls[ctx->opaque_head] = ev;
		ctx->opaque_head = (ctx->opaque_head + 1) % cap;
		return 0;
	}
	ctx->opaque_tls[(ctx->opaque_head + ctx->n_opaque_tls++) % cap] = ev;
	return 0;
}

static struct scep_event *opaque_tls_at(const struct sd_ctx *ctx, size_t i)
{
	return ctx->opaque_tls[(ctx->opaque_head + i) % ctx->opt.max_opaque_tls];
}

void opaque_tls_settle(struct sd_ctx *ctx, void (*deliver)(struct sd_ctx *ctx, struct scep_event *ev))
{
	size_t i;

	for (i = 0; i < ctx->n_opaque_tls; i++) {
		struct scep_event *ev = opaque_tls_at(ctx, i);

		if (opaque_tls_relevant(ctx, ev))
			deliver(ctx, ev);
		else
			give_up_opaque_tls(ctx, ev, 0);
	}
	free(ctx->opaque_tls);
	ctx->opaque_tls = NULL;
	ctx->n_opaque_tls = ctx->opaque_head = 0;
	opaque_tls_make_hints(ctx);
}

void opaque_tls_free(struct sd_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->n_opaque_tls; i++)
		scep_event_free(opaque_tls_at(ctx, i));
	free(ctx->opaque_tls);
	free(ctx->scep_servers);
	tally_free(ctx->tls_tally);
	ctx->tls_tally = NULL;
	ctx->opaque_tls = NULL;
	ctx->scep_servers = NULL;
	ctx->n_opaque_tls = ctx->opaque_head = ctx->n_scep_servers = 0;
}

/* ---- why TLS hid SCEP: the summary's hints ---- */

#define TALLY_SERVERS_MAX 256   /* servers told apart; more are counted together */
#define SERVER_KEY_LINES_MAX 10 /* --tls-key failures said one by one */
#define HINTS_MAX 3

/* Encrypted connections toward one server. */
struct tls_server_tally {
	struct endpoint server;
	char *sni;                  /* the first connection's */
	uint64_t conns;
	uint64_t rsa_kx;            /* of them with RSA key exchange */
};

struct tls_tally {
	uint64_t conns;             /* TLS connections with a ClientHello */
	uint64_t keylog_matched;
	uint64_t server_key_decrypted;
	uint64_t server_key_failed;
	struct tls_server_tally srv[TALLY_SERVERS_MAX];
	size_t n_srv;
	uint64_t other_conns;       /* past TALLY_SERVERS_MAX servers */
	char *hints[HINTS_MAX];
	size_t n_hints;
};

/* Nothing of the connection was read because no key opened it: a
 * failed handshake or a cipher we cannot decrypt is another story. */
static int encrypted_unread(const struct tls_info *ti, const struct app_conn_end *end)
{
	return !end->exchanges && !ti->handshake_failed &&
	       !ti->plaintext_bytes[DIR_TO_SERVER] && !ti->plaintext_bytes[DIR_TO_CLIENT] &&
	       (ti->decrypt == TLS_DECRYPT_NO_KEY || ti->decrypt == TLS_DECRYPT_FAILED);
}

static void tally_unread(struct tls_tally *t, const struct endpoint *server, const struct tls_info *ti)
{
	struct tls_server_tally *g = NULL;
	size_t i;

	for (i = 0; i < t->n_srv && !g; i++)
		if (endpoint_eq(&t->srv[i].server, server))
			g = &t->srv[i];
	if (!g && t->n_srv < TALLY_SERVERS_MAX) {
		g = &t->srv[t->n_srv++];
		g->server = *server;
		g->sni = str_dup_or_null(ti->sni);
	}
	if (!g) {
		t->other_conns++;
		return;
	}
	g->conns++;
	g->rsa_kx += ti->rsa_key_exchange != 0;
}

/* --tls-key was given and could not open this connection: one line each
 * for the first few, naming the connection (the note names the file). */
static void say_server_key_failed(struct tls_tally *t, const struct app_conn_end *end,
				  const struct tls_info *ti)
{
	char c[ENDPOINT_STRLEN], sv[ENDPOINT_STRLEN];

	if (++t->server_key_failed > SERVER_KEY_LINES_MAX)
		return;
	fprintf(stderr, "scepdump: --tls-key: %s -> %s: %s%s\n", endpoint_str(&end->view->client, c, sizeof(c)),
		endpoint_str(&end->view->server, sv, sizeof(sv)),
		ti->decrypt_note ? ti->decrypt_note : "not decrypted",
		t->server_key_failed == SERVER_KEY_LINES_MAX ? " (further ones are counted in the summary)" : "");
}

void opaque_tls_count(struct sd_ctx *ctx, const struct app_conn_end *end)
{
	const struct tls_info *ti;
	struct tls_tally *t;

	if (!end->tls)
		return;
	ti = tls_get_info(end->tls);
	if (!ti->saw_client_hello)
		return;
	if (!ctx->tls_tally && !(ctx->tls_tally = calloc(1, sizeof(*ctx->tls_tally))))
		return;
	t = ctx->tls_tally;
	t->conns++;
	if (ti->key_source == TLS_KEY_KEYLOG)
		t->keylog_matched++;
	else if (ti->key_source == TLS_KEY_SERVER)
		t->server_key_decrypted++;
	else if (ti->server_key_tried)
		say_server_key_failed(t, end, ti);
	if (encrypted_unread(ti, end))
		tally_unread(t, &end->view->server, ti);
}

static int spoke_scep(const struct sd_ctx *ctx, const struct endpoint *server)
{
	size_t i;

	for (i = 0; i < ctx->n_scep_servers; i++) {
		const struct endpoint *e = &ctx->scep_servers[i];

		if (e->family == server->family && !memcmp(e->addr, server->addr, sizeof(e->addr)))
			return 1;
	}
	return 0;
}

/* The names NDES and its proxies go by: Entra application proxy,
 * /certsrv/mscep, hosts named after the service. */
static int sni_suggests_scep(const char *sni)
{
	static const char *const WORDS[] = { "scep", "ndes", "certsrv", "mscep" };
	static const char PROXY[] = ".msappproxy.net";
	size_t i, n;

	if (!sni)
		return 0;
	n = strlen(sni);
	if (n > sizeof(PROXY) - 1 && !strcasecmp(sni + n - (sizeof(PROXY) - 1), PROXY))
		return 1;
	for (i = 0; i < sizeof(WORDS) / sizeof(WORDS[0]); i++)
		if (strcasestr(sni, WORDS[i]))
			return 1;
	return 0;
}

/* Could the server's encrypted connections carry SCEP: the HTTPS ports,
 * a name that says so, or an address that spoke SCEP elsewhere. */
static int could_carry_scep(const struct sd_ctx *ctx, const struct tls_server_tally *g)
{
	return g->server.port == 443 || g->server.port == 8443 || sni_suggests_scep(g->sni) ||
	       spoke_scep(ctx, &g->server);
}

static void add_hint(struct tls_tally *t, char *line)
{
	if (line && t->n_hints < HINTS_MAX)
		t->hints[t->n_hints++] = line;
	else
		free(line);
}

/* One line: the server with the most such connections, how many more
 * there are, and what to do. */
static char *encrypted_hint(const struct sd_ctx *ctx, const struct tls_tally *t)
{
	const struct tls_server_tally *top = NULL;
	uint64_t total = 0, rsa = 0;
	size_t i, servers = 0;
	char ep[ENDPOINT_STRLEN], more[96] = "";
	char *sni = NULL, *line;

	for (i = 0; i < t->n_srv; i++) {
		const struct tls_server_tally *g = &t->srv[i];

		if (!could_carry_scep(ctx, g))
			continue;
		servers++;
		total += g->conns;
		rsa += g->rsa_kx;
		if (!top || g->conns > top->conns)
			top = g;
	}
	if (!top)
		return NULL;
	if (servers > 1)
		snprintf(more, sizeof(more), " and %llu more to %zu other server%s",
			 (unsigned long long)(total - top->conns), servers - 1, servers == 2 ? "" : "s");
	if (top->sni)
		sni = str_printf(" (SNI %s)", top->sni);
	line = str_printf("%llu TLS connection%s to %s%s%s could carry SCEP but %s encrypted: give --keylog%s, "
			  "or capture on the inside leg of the proxy",
			  (unsigned long long)top->conns, top->conns == 1 ? "" : "s",
			  endpoint_str(&top->server, ep, sizeof(ep)), sni ? sni : "", more,
			  total == 1 ? "is" : "are", rsa ? " (or --tls-key for RSA key exchange)" : "");
	free(sni);
	return line;
}

/* End of input, when every server that carried SCEP is known. */
static void opaque_tls_make_hints(struct sd_ctx *ctx)
{
	struct tls_tally *t = ctx->tls_tally;

	if (!t || !t->conns)
		return;
	if (ctx->opt.n_tls_keys)
		add_hint(t, str_printf("--tls-key: %llu of %llu TLS connection%s decrypted with the server key%s",
				       (unsigned long long)t->server_key_decrypted,
				       (unsigned long long)t->conns, t->conns == 1 ? "" : "s",
				       t->server_key_failed ? "; the --tls-key lines on standard error say why not" : ""));
	if (keylog_count(ctx->keylog) && !t->keylog_matched)
		add_hint(t, str_printf("key log: 0 of %llu TLS connection%s matched (client randoms not in it)",
				       (unsigned long long)t->conns, t->conns == 1 ? "" : "s"));
	add_hint(t, encrypted_hint(ctx, t));
}

size_t opaque_tls_hints(const struct sd_ctx *ctx, const char *const **hints)
{
	*hints = NULL;
	if (!ctx->tls_tally)
		return 0;
	*hints = (const char *const *)ctx->tls_tally->hints;
	return ctx->tls_tally->n_hints;
}

static void tally_free(struct tls_tally *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->n_srv; i++)
		free(t->srv[i].sni);
	for (i = 0; i < t->n_hints; i++)
		free(t->hints[i]);
	free(t);
}
