/* sink_json.c - JSON Lines for scripts and regression checks: one
 * "transaction" object per line in time order, then one "summary". Keys
 * keep insertion order so the output is byte-stable (doc/json-schema.md). */
#include <jansson.h>
#include <stdio.h>

#include "counters.h"
#include "devlog.h"
#include "flow.h"
#include "livew.h"
#include "format.h"
#include "membudget.h"
#include "options.h"
#include "scep.h"
#include "sink.h"
#include "spill.h"
#include "summary.h"
#include "txn.h"

static void set_str(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

static void set_int(json_t *o, const char *k, long long v)
{
	json_object_set_new(o, k, json_integer(v));
}

static void set_time(json_t *o, const char *k, uint64_t ts)
{
	char buf[48];

	if (ts)
		json_object_set_new(o, k, json_string(fmt_time_ns(ts, 1, buf, sizeof(buf))));
}

static void set_time_of_day(json_t *o, const char *k, uint64_t ts)
{
	char buf[32];

	json_object_set_new(o, k, json_string(fmt_time_of_day_ns(ts, 1, buf, sizeof(buf))));
}

static void set_date(json_t *o, const char *k, time_t t)
{
	char buf[48];

	if (t)
		json_object_set_new(o, k, json_string(fmt_time_ns((uint64_t)t * 1000000000ull, 1, buf, sizeof(buf))));
}

static void set_endpoint(json_t *o, const char *k, const struct endpoint *ep)
{
	char buf[ENDPOINT_STRLEN];

	json_object_set_new(o, k, json_string(endpoint_str(ep, buf, sizeof(buf))));
}

static void set_hex(json_t *o, const char *k, const uint8_t *p, size_t len)
{
	char hex[2 * SCEP_NONCE_MAX + 1];

	if (len)
		json_object_set_new(o, k, json_string(fmt_hex(p, len, hex, sizeof(hex))));
}

static json_t *cert_json(const struct scep_cert *c)
{
	json_t *o = json_object();

	set_str(o, "subject", c->subject);
	set_str(o, "issuer", c->issuer);
	set_str(o, "serial", c->serial);
	set_date(o, "not_before", c->not_before);
	set_date(o, "not_after", c->not_after);
	set_str(o, "key_type", c->key_type);
	set_int(o, "key_bits", c->key_bits);
	set_str(o, "role", c->role);
	set_str(o, "key_usage", c->key_usage_names);
	set_str(o, "extended_key_usage", c->ext_key_usage);
	json_object_set_new(o, "is_ca", json_boolean(c->is_ca));
	json_object_set_new(o, "self_signed", json_boolean(c->self_signed));
	set_str(o, "sha1", c->sha1);
	set_str(o, "sha256", c->sha256);
	return o;
}

static json_t *csr_json(const struct sd_options *opt, const struct scep_csr *c)
{
	json_t *o = json_object();

	set_str(o, "subject", c->subject);
	set_str(o, "key_type", c->key_type);
	set_int(o, "key_bits", c->key_bits);
	set_str(o, "san", c->sans);
	set_str(o, "extensions", c->extensions);
	json_object_set_new(o, "has_challenge", json_boolean(c->has_challenge));
	if (opt->show_secrets)
		set_str(o, "challenge", c->challenge);
	return o;
}

/* One type whatever the value: the RFC's name, or the number sent as a
 * decimal string when the RFC names none. */
static void set_name_or_number(json_t *o, const char *k, const char *name, int v)
{
	char num[16];

	if (v < 0)
		return;
	snprintf(num, sizeof(num), "%d", v);
	set_str(o, k, name ? name : num);
}

static void set_str_list(json_t *o, const char *k, char *const *list, size_t n)
{
	json_t *a;
	size_t i;

	if (!n)
		return;
	a = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(list[i]));
	json_object_set_new(o, k, a);
}

static json_t *certs_json(struct scep_cert *const *certs, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, cert_json(certs[i]));
	return a;
}

static const char *signature_state(const struct scep_msg *m)
{
	switch (m->signature_ok) {
	case 1: return "valid";
	case 0: return "invalid";
	default: return "not checked";
	}
}

/* Who signed: the SignerInfo's sid always, the certificate when known. */
static void add_signer(json_t *o, const struct scep_msg *m)
{
	if (m->signer_issuer) {
		json_t *id = json_object();

		set_str(id, "issuer", m->signer_issuer);
		set_str(id, "serial", m->signer_serial);
		json_object_set_new(o, "signer_id", id);
	}
	if (m->signer) {
		const char *from = scep_signer_source_name(m->signer_from);

		json_object_set_new(o, "signer", cert_json(m->signer));
		/* a damaged message's walk finds a signer without saying where */
		set_str(o, "signer_source", from ? from : "message");
	}
	set_str(o, "signer_missing", m->signer_missing);
}

static void add_ndes(json_t *o, const struct scep_msg *m)
{
	set_str(o, "ndes_status", m->ms_status_text);
	if (m->has_ms_hresult) {
		const char *text = NULL, *name = scep_hresult_name(m->ms_hresult, &text);
		char hex[16];
		json_t *h = json_object();

		snprintf(hex, sizeof(hex), "0x%08X", m->ms_hresult);
		set_str(h, "code", hex);
		set_str(h, "name", name);
		set_str(h, "text", text);
		json_object_set_new(o, "ndes_hresult", h);
	}
}

static void add_envelope(json_t *o, const struct scep_msg *m)
{
	json_t *env, *rcpts;
	size_t i;

	if (!m->enveloped)
		return;
	env = json_object();
	set_str(env, "content_encryption", m->content_enc_alg);
	set_str(env, "key_transport", m->key_enc_alg);
	json_object_set_new(env, "weak_cipher", json_boolean(m->weak_cipher));
	rcpts = json_array();
	for (i = 0; i < m->n_recipients; i++) {
		json_t *r = json_object();

		set_str(r, "issuer", m->recipients[i].issuer);
		set_str(r, "serial", m->recipients[i].serial);
		json_array_append_new(rcpts, r);
	}
	json_object_set_new(env, "recipients", rcpts);
	set_str(env, "decrypted", m->decrypt_state == SCEP_DECRYPT_OK ? "yes" :
		m->decrypt_state == SCEP_DECRYPT_FAILED ? "failed" : "no");
	if (m->message_type == SCEP_MT_CERTREP && m->decrypt_state != SCEP_DECRYPT_OK &&
	    m->decrypt_state != SCEP_DECRYPT_FAILED)
		set_str(env, "encrypted_to", "device key");
	set_str(env, "decrypt_error", m->decrypt_error);
	json_object_set_new(o, "envelope", env);
}

static json_t *msg_json(const struct sd_options *opt, const struct scep_msg *m)
{
	json_t *o = json_object();

	json_object_set_new(o, "decoded", json_boolean(m->decoded));
	if (m->partial)
		json_object_set_new(o, "partial", json_true());
	if (m->cut)
		json_object_set_new(o, "cut", json_true());
	set_str(o, "error", m->error);
	if (m->envelope_broken)
		json_object_set_new(o, "envelope_broken", json_true());
	set_str(o, "content_type", m->content_type);
	if (!m->decoded && !m->partial)
		return o;
	set_name_or_number(o, "message_type", scep_msg_type_name(m->message_type), m->message_type);
	set_str(o, "transaction_id", m->transaction_id);
	set_hex(o, "sender_nonce", m->sender_nonce, m->sender_nonce_len);
	set_hex(o, "recipient_nonce", m->recipient_nonce, m->recipient_nonce_len);
	set_name_or_number(o, "pki_status", scep_pki_status_name(m->pki_status), m->pki_status);
	set_name_or_number(o, "fail_info", scep_fail_info_name(m->fail_info), m->fail_info);
	set_str(o, "fail_info_text", m->fail_info_text);
	add_ndes(o, m);
	set_date(o, "signing_time", m->signing_time);
	set_str(o, "digest_alg", m->digest_alg);
	set_str(o, "signature_alg", m->sig_alg);
	if (m->signature_ok >= 0)
		json_object_set_new(o, "signature_ok", json_boolean(m->signature_ok));
	set_str(o, "signature", signature_state(m));
	if (m->lacks_content_type)
		json_object_set_new(o, "lacks_content_type", json_true());
	json_object_set_new(o, "ber_indefinite", json_boolean(m->ber_indefinite));
	add_signer(o, m);
	if (m->n_other_certs)
		json_object_set_new(o, "other_certificates", certs_json(m->other_certs, m->n_other_certs));
	if (m->has_signed_challenge) {
		json_object_set_new(o, "has_signed_challenge", json_true());
		if (opt->show_secrets)
			set_str(o, "signed_challenge", m->signed_challenge);
	}
	add_envelope(o, m);
	if (m->csr)
		json_object_set_new(o, "csr", csr_json(opt, m->csr));
	if (m->issued)
		json_object_set_new(o, "issued", cert_json(m->issued));
	set_str(o, "asks_issuer", m->req_issuer);
	set_str(o, "asks_subject", m->req_subject);
	set_str(o, "asks_serial", m->req_serial);
	set_str_list(o, "signed_attributes", m->signed_attrs, m->n_signed_attrs);
	if (m->trailing_bytes)
		set_int(o, "trailing_bytes", (long long)m->trailing_bytes);
	set_str_list(o, "notes", m->notes, m->n_notes);
	return o;
}

/* Several -r files: a frame's file (the path as given) and its number
 * there; a message can span a file rotation, so first and last each
 * have theirs. */
static void set_origin(json_t *o, const struct sd_options *opt, const char *file_key,
		       const char *frame_key, const struct frame_origin *at)
{
	if (opt->n_files < 2 || !at->file || at->file > opt->n_files)
		return;
	set_str(o, file_key, opt->files[at->file - 1]);
	set_int(o, frame_key, (long long)at->frame);
}

static json_t *side_json(const struct sd_options *opt, uint64_t f1, const struct frame_origin *o1,
			 uint64_t f2, const struct frame_origin *o2, uint64_t t1, uint64_t t2)
{
	json_t *o = json_object();

	set_int(o, "first_frame", (long long)f1);
	set_int(o, "last_frame", (long long)f2);
	set_origin(o, opt, "first_file", "first_file_frame", o1);
	set_origin(o, opt, "last_file", "last_file_frame", o2);
	set_time(o, "first_ts", t1);
	set_time(o, "last_ts", t2);
	return o;
}

static json_t *event_json(const struct sd_options *opt, const struct scep_event *ev)
{
	json_t *o = json_object(), *req, *res;
	size_t i;

	set_str(o, "operation", scep_op_name(ev->op));
	set_endpoint(o, "client", &ev->client);
	set_endpoint(o, "server", &ev->server);
	set_int(o, "flow", (long long)ev->flow_id);
	set_str(o, "host", ev->host);
	req = side_json(opt, ev->req_first_frame, &ev->req_first_origin, ev->req_last_frame,
			&ev->req_last_origin, ev->req_first_ts_ns, ev->req_last_ts_ns);
	set_str(req, "method", ev->method);
	set_str(req, "path", ev->path);
	set_int(req, "uri_length", (long long)ev->uri_len);
	set_str(req, "content_type", ev->req_content_type);
	set_int(req, "body_length", (long long)ev->req_body_len);
	set_str(req, "message_param", ev->message_param);
	if (ev->request_missing)
		json_object_set_new(req, "captured", json_false());
	if (ev->req_damaged)
		set_int(req, "gap_bytes", (long long)ev->req_gap_bytes);
	set_str(req, "damage", ev->req_damage);
	if (ev->request)
		json_object_set_new(req, "pki_message", msg_json(opt, ev->request));
	json_object_set_new(o, "request", req);
	if (ev->has_response) {
		res = side_json(opt, ev->res_first_frame, &ev->res_first_origin, ev->res_last_frame,
				&ev->res_last_origin, ev->res_first_ts_ns, ev->res_last_ts_ns);
		set_int(res, "status", ev->status);
		set_str(res, "content_type", ev->res_content_type);
		set_int(res, "body_length", (long long)ev->res_body_len);
		set_str(res, "location", ev->location);
		set_str(res, "server", ev->server_header);
		set_str(res, "connection", ev->connection);
		set_str(res, "reset", ev->reset);
		set_str(res, "error_text", ev->error_text);
		if (ev->res_damaged)
			set_int(res, "gap_bytes", (long long)ev->res_gap_bytes);
		set_str(res, "damage", ev->res_damage);
		if (ev->n_caps) {
			json_t *caps = json_array();

			for (i = 0; i < ev->n_caps; i++)
				json_array_append_new(caps, json_string(ev->caps[i]));
			json_object_set_new(res, "caps", caps);
		}
		if (ev->n_ca_certs) {
			json_t *certs = json_array();

			for (i = 0; i < ev->n_ca_certs; i++) {
				json_t *c = cert_json(ev->ca_certs[i]);
				int v = scep_cert_validity(ev->ca_certs[i], (time_t)(ev->res_first_ts_ns / 1000000000ull));

				set_str(c, "validity_at_capture", v == 1 ? "expired" : v == -1 ? "not yet valid" : "valid");
				json_array_append_new(certs, c);
			}
			json_object_set_new(res, "certificates", certs);
		}
		if (ev->reply)
			json_object_set_new(res, "pki_message", msg_json(opt, ev->reply));
		json_object_set_new(o, "response", res);
	} else {
		json_object_set_new(o, "response", json_null());
	}
	if (ev->tls) {
		json_t *tl = json_object();

		set_str(tl, "version", ev->tls->version);
		set_str(tl, "cipher", ev->tls->cipher);
		set_str(tl, "sni", ev->tls->sni);
		set_str(tl, "alpn", ev->tls->alpn);
		json_object_set_new(tl, "handshake_failed", json_boolean(ev->tls->handshake_failed));
		set_str(tl, "alert", ev->tls->alert);
		set_str(tl, "note", ev->tls->note);
		set_str(tl, "offered", ev->tls->offered);
		set_str(tl, "resumed", ev->tls->resumed);
		set_str(tl, "server_certificate", ev->tls->server_cert);
		set_int(tl, "bytes_to_server", (long long)ev->tls->bytes_to_server);
		set_int(tl, "bytes_to_client", (long long)ev->tls->bytes_to_client);
		json_object_set_new(o, "tls", tl);
	}
	if (ev->damaged) {
		json_object_set_new(o, "damaged", json_true());
		set_int(o, "gap_bytes", (long long)ev->gap_bytes);
	}
	set_str(o, "problem", ev->problem);
	return o;
}

/* "polls": one {"kind", "count"} per kind the client used, if any */
static void polls_json(json_t *o, const struct txn *t)
{
	json_t *a = NULL;
	size_t k;

	for (k = 0; k < TXN_POLL_KINDS; k++) {
		json_t *p;

		if (!t->polls[k])
			continue;
		if (!a)
			a = json_array();
		p = json_object();
		set_str(p, "kind", txn_poll_kind_name((enum txn_poll_kind)k));
		set_int(p, "count", (long long)t->polls[k]);
		json_array_append_new(a, p);
	}
	if (a)
		json_object_set_new(o, "polls", a);
}

static json_t *txn_json(const struct sd_options *opt, const struct txn *t)
{
	json_t *o = json_object(), *evs = json_array(), *fnd = json_array();
	size_t i;

	set_str(o, "type", txn_is_endpoint_group(t) ? "endpoint" : "transaction");
	if (t->transaction_id)
		set_str(o, "transaction_id", t->transaction_id);
	else
		json_object_set_new(o, "transaction_id", json_null());
	set_str(o, "verdict", t->verdict == VERDICT_NONE ? NULL : txn_verdict_name(t->verdict));
	set_str(o, "reason", t->reason);
	set_str(o, "advice", t->advice);
	set_endpoint(o, "client", &t->client);
	set_endpoint(o, "server", &t->server);
	if (t->first_msg_type >= 0)
		set_name_or_number(o, "message_type", scep_msg_type_name(t->first_msg_type), t->first_msg_type);
	set_str(o, "subject", t->subject);
	if (t->reused_id)
		json_object_set_new(o, "reused_id", json_true());
	if (t->reused_same_key)
		json_object_set_new(o, "reused_same_key", json_true());
	if (t->no_date) {
		/* device log lines without a date: no made-up day */
		json_object_set_new(o, "date_known", json_false());
		set_time_of_day(o, "first_seen_time_of_day", t->first_ts_ns);
		set_time_of_day(o, "last_seen_time_of_day", t->last_ts_ns);
	} else {
		set_time(o, "first_seen", t->first_ts_ns);
		set_time(o, "last_seen", t->last_ts_ns);
	}
	set_int(o, "duration_us", (long long)((t->last_ts_ns - t->first_ts_ns) / 1000));
	for (i = 0; i < t->n_events; i++)
		json_array_append_new(evs, event_json(opt, t->events[i]));
	json_object_set_new(o, "events", evs);
	for (i = 0; i < t->n_findings; i++)
		json_array_append_new(fnd, json_string(t->findings[i]));
	json_object_set_new(o, "findings", fnd);
	polls_json(o, t);
	if (t->n_device) {
		json_t *dev = json_array();

		for (i = 0; i < t->n_device; i++) {
			json_t *d = json_object();

			if (t->device[i].no_date) {
				set_time_of_day(d, "time_of_day", t->device[i].ts_ns);
				json_object_set_new(d, "date_known", json_false());
			} else {
				set_time(d, "ts", t->device[i].ts_ns);
			}
			set_str(d, "source", t->device[i].source);
			set_str(d, "kind", devlog_kind_name((enum devlog_kind)t->device[i].kind));
			set_str(d, "what", t->device[i].what);
			set_str(d, "transaction_id", t->device[i].transaction_id);
			json_object_set_new(d, "inferred", json_boolean(t->device[i].inferred));
			set_str(d, "matched_by", t->device[i].matched_by);
			set_int(d, "line", (long long)t->device[i].line_no);
			json_array_append_new(dev, d);
		}
		json_object_set_new(o, "device_events", dev);
	}
	return o;
}

static json_t *verdict_counts_json(const size_t *by_verdict)
{
	json_t *o = json_object();
	size_t v;

	for (v = VERDICT_ISSUED; v < VERDICT_COUNT; v++)
		if (by_verdict[v])
			set_int(o, txn_verdict_name((enum txn_verdict)v), (long long)by_verdict[v]);
	return o;
}

/* Past --max-transactions distinct ones, the rest are counted as "others". */
static json_t *groups_json(const struct summary_group *g, size_t n, const struct summary_group *other)
{
	json_t *o = json_object();
	char ep[ENDPOINT_STRLEN];
	size_t i;

	for (i = 0; i < n; i++)
		json_object_set_new(o, g[i].ep.port ? endpoint_str(&g[i].ep, ep, sizeof(ep))
						    : endpoint_addr_str(&g[i].ep, ep, sizeof(ep)),
				    verdict_counts_json(g[i].by_verdict));
	if (other->total)
		json_object_set_new(o, "others", verdict_counts_json(other->by_verdict));
	return o;
}

/* Only when the budget was reached: what it was, the peak, and what each
 * kind of buffer was refused (the flows shed are in the counters). */
static json_t *memory_json(const struct mem_budget *m)
{
	json_t *o = json_object(), *r = json_object();
	int k;

	set_int(o, "budget", (long long)m->limit);
	set_int(o, "peak", (long long)m->peak);
	for (k = 0; k < MEM_KINDS; k++)
		if (m->refused[k])
			set_int(r, mem_kind_name((enum mem_kind)k), (long long)m->refused[k]);
	json_object_set_new(o, "refused", r);
	return o;
}

/* Live -w and --json-file: what reached them and what did not. */
static json_t *out_file_json(const char *path, const char *what, const struct outrot_stats *st)
{
	json_t *o = json_object();

	json_object_set_new(o, "path", json_string(path));
	set_int(o, what, (long long)st->records);
	set_int(o, "bytes", (long long)st->bytes);
	set_int(o, "files", (long long)st->files);
	set_int(o, "lost", (long long)st->lost_records);
	set_int(o, "lost_bytes", (long long)st->lost_bytes);
	return o;
}

static void out_files_json(json_t *o, const struct report *r)
{
	json_t *w;

	if (r->w_out && r->w_hold) {
		w = out_file_json(r->w_path, "packets", r->w_out);
		set_int(w, "hold_capped", (long long)r->w_hold->held_capped);
		set_int(w, "hold_capped_bytes", (long long)r->w_hold->held_capped_bytes);
		set_int(w, "not_scep_dropped", (long long)r->w_hold->not_scep);
		json_object_set_new(o, "write_file", w);
	}
	if (r->json_out)
		json_object_set_new(o, "json_file", out_file_json(r->json_path, "lines", r->json_out));
}

/* Counted above but not printed as objects (past --max-transactions), so
 * the objects plus these are the counts. */
static void not_listed_json(json_t *o, const struct report *r)
{
	const struct summary *gone = txn_evicted_summary(r->txns);
	json_t *n;

	if (!gone || (!gone->transactions && !gone->endpoint_groups))
		return;
	n = json_object();
	set_int(n, "transactions", (long long)gone->transactions);
	set_int(n, "endpoint_groups", (long long)gone->endpoint_groups);
	json_object_set_new(n, "verdicts", verdict_counts_json(gone->by_verdict));
	json_object_set_new(n, "endpoint_group_verdicts", verdict_counts_json(gone->group_verdicts));
	json_object_set_new(o, "not_listed", n);
}

static json_t *tally_json(const struct endpoint_tally *t)
{
	json_t *o = json_object(), *servers = json_array();
	char ep[ENDPOINT_STRLEN];
	size_t i;

	set_int(o, "connections", t ? (long long)t->total : 0);
	for (i = 0; t && i < t->n_entries; i++) {
		json_t *e = json_object();

		set_str(e, "server", endpoint_str(&t->e[i].server, ep, sizeof(ep)));
		if (*t->e[i].name)
			set_str(e, "name", t->e[i].name);
		set_int(e, "connections", (long long)t->e[i].n);
		json_array_append_new(servers, e);
	}
	json_object_set_new(o, "servers", servers);
	if (t && t->others)
		set_int(o, "other_servers_connections", (long long)t->others);
	return o;
}

static json_t *seen_json(const struct report *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "tls", tally_json(r->seen_tls));
	json_object_set_new(o, "http", tally_json(r->seen_http));
	json_object_set_new(o, "other_tcp", tally_json(r->seen_other));
	set_int(o, "not_tcp_packets", (long long)r->cnt->not_tcp);
	return o;
}

static json_t *hints_json(const struct report *r)
{
	json_t *h = json_array();
	size_t i;

	for (i = 0; i < r->n_hints; i++)
		json_array_append_new(h, json_string(r->hints[i]));
	return h;
}

static json_t *summary_json(const struct report *r)
{
	json_t *o = json_object(), *c = json_object(), *lat;
	const struct summary *s = r->summary;

	set_str(o, "type", "summary");
	if (!s)
		return o;
	set_int(o, "transactions", (long long)s->transactions);
	set_int(o, "endpoint_groups", (long long)s->endpoint_groups);
	json_object_set_new(o, "verdicts", verdict_counts_json(s->by_verdict));
	if (s->endpoint_groups > s->group_verdicts[VERDICT_NONE])
		json_object_set_new(o, "endpoint_group_verdicts", verdict_counts_json(s->group_verdicts));
	not_listed_json(o, r);
	if (!s->transactions && !s->endpoint_groups && !r->cnt->scep_exchanges)
		json_object_set_new(o, "no_scep_seen", seen_json(r));
	if (r->listing_filter) {
		set_int(o, "shown", (long long)r->n_listed);
		set_str(o, "shown_filter", r->listing_filter);
	}
	json_object_set_new(o, "per_server", groups_json(s->servers, s->n_servers, &s->other_servers));
	json_object_set_new(o, "per_client", groups_json(s->clients, s->n_clients, &s->other_clients));
	if (s->n_latency) {
		lat = json_object();
		set_int(lat, "enrollments", (long long)s->n_latency);
		set_int(lat, "p50_us", (long long)(s->latency_p50 / 1000));
		set_int(lat, "p90_us", (long long)(s->latency_p90 / 1000));
		set_int(lat, "p99_us", (long long)(s->latency_p99 / 1000));
		set_int(lat, "max_us", (long long)(s->latency_max / 1000));
		json_object_set_new(o, "latency", lat);
	}
	set_int(o, "damaged_exchanges", (long long)s->damaged_exchanges);
	if (r->cnt->snap_length) {
		char why[160];

		set_int(o, "snap_length", (long long)r->cnt->snap_length);
		set_str(o, "snap_cut", fmt_snap_cut(r->cnt->snap_length, r->cnt->truncated_packets, why, sizeof(why)));
	}
	if (r->n_hints)
		json_object_set_new(o, "hints", hints_json(r));
	if (r->interrupted_by)
		set_str(o, "interrupted", fmt_signal_name(r->interrupted_by));
	if (r->memory_reached)
		json_object_set_new(o, "memory", memory_json(r->mem));
	out_files_json(o, r);
#define JSON_COUNTER(name) set_int(c, #name, (long long)r->cnt->name);
	COUNTERS_LIST(JSON_COUNTER)
#undef JSON_COUNTER
	json_object_set_new(o, "counters", c);
	return o;
}

static void emit(FILE *out, json_t *o)
{
	json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(o);
}

static void put_unless_streamed(FILE *out, const void *opt, const struct txn *t)
{
	if (!t->streamed)
		emit(out, txn_json(opt, t));
}

int sink_json_write(FILE *out, const struct report *r)
{
	int rc = listing_write(r->spill, r->txns, SPILL_LISTING, out, put_unless_streamed, r->opt);

	emit(out, summary_json(r));
	return rc;
}

void sink_json_txn(FILE *out, const struct sd_options *opt, const struct txn *t)
{
	emit(out, txn_json(opt, t));
}

static const char *input_type(enum scep_input_kind k)
{
	switch (k) {
	case SCEP_INPUT_CERTS: return "certificates";
	case SCEP_INPUT_CAPS: return "capabilities";
	default: return "message";
	}
}

void sink_json_input(FILE *out, const struct sd_options *opt, const struct scep_input *in)
{
	json_t *o = json_object();

	set_str(o, "type", input_type(in->kind));
	set_str(o, "input_form", in->form);
	set_int(o, "length", (long long)in->len);
	set_str(o, "repairs", in->repairs);
	if (in->b64_leftover)
		set_int(o, "base64_leftover", (long long)in->b64_leftover);
	switch (in->kind) {
	case SCEP_INPUT_MESSAGE:
		json_object_set_new(o, "pki_message", msg_json(opt, in->msg));
		break;
	case SCEP_INPUT_CERTS:
		set_str(o, "container", in->certs_container);
		json_object_set_new(o, "certificates", certs_json(in->certs, in->n_certs));
		set_str(o, "error", in->error);
		break;
	case SCEP_INPUT_CAPS:
		set_str_list(o, "capabilities", in->caps, in->n_caps);
		set_str(o, "error", in->error);
		break;
	default: {
		json_t *m = json_object();

		json_object_set_new(m, "decoded", json_false());
		set_str(m, "error", in->error);
		json_object_set_new(o, "pki_message", m);
	}
	}
	emit(out, o);
}

void sink_json_event(FILE *out, const struct sd_options *opt, const struct scep_event *ev)
{
	json_t *o = json_object(), *e = event_json(opt, ev);
	const char *tid = ev->request && ev->request->transaction_id ? ev->request->transaction_id :
			  ev->reply ? ev->reply->transaction_id : NULL;
	const char *k;
	json_t *v;

	set_str(o, "type", "event");
	json_object_set_new(o, "transaction_id", tid ? json_string(tid) : json_null());
	json_object_foreach(e, k, v)
		json_object_set(o, k, v);
	json_decref(e);
	emit(out, o);
}
