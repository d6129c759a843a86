/* sink_html.c - one self-contained HTML report: the summary, then per
 * transaction a client/server/device swimlane drawn by inline JS from data
 * attributes, each exchange's details one click away. Trusts nothing it
 * prints: every string goes through put_esc. No run timestamps, so the
 * file is as byte-stable as the text and JSON sinks. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "membudget.h"
#include "options.h"
#include "scep.h"
#include "counters.h"
#include "devlog.h"
#include "sink.h"
#include "strutil.h"
#include "summary.h"
#include "txn.h"

/* The one escaping helper: wire strings, file names and anything else we
 * did not write ourselves go through here, in text and attribute values
 * alike (quotes are escaped, so both contexts are safe). C0 controls are
 * not valid HTML characters; they become U+FFFD rather than vanish. */
static void put_esc(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		case '\t': case '\n': fputc(*s, out); break;
		default:
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				fputs("&#xFFFD;", out);
			else
				fputc(*s, out);
		}
	}
}

static void put_escf(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_escf(FILE *out, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = str_vprintf(fmt, ap);
	va_end(ap);
	put_esc(out, s ? s : "(out of memory)");
	free(s);
}

/* One row of a details list; key is always a literal of ours. */
static void kv(FILE *out, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void kv(FILE *out, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	fprintf(out, "<dt>%s</dt><dd>", key);
	put_esc(out, s ? s : "(out of memory)");
	fputs("</dd>\n", out);
	free(s);
}

static void kv_str(FILE *out, const char *key, const char *v)
{
	if (v)
		kv(out, key, "%s", v);
}

static const char *or_q(const char *s)
{
	return s ? s : "?";
}

/* CSS class of a verdict: the colours the brief and the text sink agree on. */
static const char *verdict_class(enum txn_verdict v)
{
	switch (v) {
	case VERDICT_ISSUED:
	case VERDICT_DELIVERED: return "ok";
	case VERDICT_PENDING: return "pend";
	case VERDICT_NONE: return "none";
	default: return "bad";
	}
}

/* An exchange's own outcome, so the failing step of a failed enrollment
 * stands out in red while the GetCACert before it stays green. */
static const char *event_class(const struct scep_event *ev)
{
	const struct scep_msg *r = ev->reply;

	if (ev->op == SCEP_OP_TLS)
		return ev->tls && (ev->tls->handshake_failed || ev->tls->alert) ? "bad" : "none";
	if (!ev->has_response || ev->status != 200)
		return "bad";
	if (r && r->decoded)
		return r->pki_status == SCEP_STATUS_SUCCESS ? "ok" :
		       r->pki_status == SCEP_STATUS_PENDING ? "pend" : "bad";
	if (r || (ev->op == SCEP_OP_PKIOPERATION && ev->problem))
		return "bad";
	return "ok";
}

static uint64_t rel_us(const struct txn *t, uint64_t ts)
{
	return ts > t->first_ts_ns ? (ts - t->first_ts_ns) / 1000 : 0;
}

static void put_frames(FILE *out, const struct sd_options *opt, uint64_t first,
		       const struct frame_origin *first_at, uint64_t last, const struct frame_origin *last_at)
{
	char buf[600];

	if (!first)
		fputs("-", out);
	else
		put_esc(out, fmt_frames(opt->files, opt->n_files, first, first_at, last, last_at, buf, sizeof(buf)));
}

static void put_cert(FILE *out, const char *label, const struct scep_cert *c, uint64_t at_ns)
{
	char nb[16], na[16];
	int v = scep_cert_validity(c, (time_t)(at_ns / 1000000000ull));

	fprintf(out, "<dt>%s</dt><dd class=\"cert\">", label);
	put_esc(out, or_q(c->subject));
	fputs("<br>issuer ", out);
	put_escf(out, "%s, serial %s, %s %d%s%s", or_q(c->issuer), or_q(c->serial),
		 c->key_type ? c->key_type : "key", c->key_bits, c->role ? ", role " : "",
		 c->role ? c->role : "");
	put_escf(out, "\nvalid %s to %s%s%s", fmt_date(c->not_before, nb, sizeof(nb)),
		 fmt_date(c->not_after, na, sizeof(na)),
		 v == 1 ? " (EXPIRED at capture time)" : v == -1 ? " (NOT YET VALID at capture time)" : "",
		 c->self_signed ? ", self-signed" : "");
	if (c->key_usage_names || c->ext_key_usage)
		put_escf(out, "\nkey usage %s%s%s", c->key_usage_names ? c->key_usage_names : "-",
			 c->ext_key_usage ? "; extended " : "", c->ext_key_usage ? c->ext_key_usage : "");
	put_escf(out, "\nsha256 %s", c->sha256);
	fputs("</dd>\n", out);
}

static void put_envelope(FILE *out, const struct txn *t, const struct scep_msg *m)
{
	size_t i;

	if (!m->enveloped)
		return;
	kv(out, "envelope", "%s%s, key transport %s, %s%s", or_q(m->content_enc_alg),
	   m->weak_cipher ? " (weak)" : "", or_q(m->key_enc_alg),
	   m->decrypt_state == SCEP_DECRYPT_OK ? "decrypted" :
	   m->decrypt_state == SCEP_DECRYPT_FAILED ? "not decrypted: " :
	   m->message_type == SCEP_MT_CERTREP ? "encrypted to the device's key (give the device key to see the certificate)" :
	   "not opened (give --key)",
	   m->decrypt_state == SCEP_DECRYPT_FAILED ? or_q(m->decrypt_error) : "");
	for (i = 0; i < m->n_recipients; i++) {
		const struct scep_recipient *r = &m->recipients[i];
		const struct scep_cert *c = txn_ca_cert(t, r->issuer, r->serial);

		/* Naming the GetCACert certificate it matches makes a request
		 * encrypted to the wrong certificate stand out. */
		kv(out, "recipient", "issuer %s, serial %s%s%s", or_q(r->issuer), or_q(r->serial),
		   c ? " = " : " (not among the GetCACert certificates)", c ? or_q(c->subject) : "");
	}
}

static void put_msg(FILE *out, const struct sd_options *opt, const struct txn *t,
		    const struct scep_event *ev, const struct scep_msg *m, uint64_t at_ns)
{
	char hex[2 * SCEP_NONCE_MAX + 1], d[48];
	const char *n;
	size_t i;

	if (!m->decoded)
		kv(out, "undecoded", "%s", or_q(m->error));
	if (!m->decoded && !m->partial)
		return;
	n = scep_msg_type_name(m->message_type);
	if (m->message_type >= 0)
		kv(out, "message type", "%s (%d)", n ? n : "unknown", m->message_type);
	kv(out, "transactionID", "%s", m->transaction_id ? m->transaction_id : "(none)");
	if (m->sender_nonce_len)
		kv(out, "senderNonce", "%s", fmt_hex(m->sender_nonce, m->sender_nonce_len, hex, sizeof(hex)));
	if (m->recipient_nonce_len)
		kv(out, "recipientNonce", "%s%s", fmt_hex(m->recipient_nonce, m->recipient_nonce_len, hex, sizeof(hex)),
		   m == ev->reply ? (txn_nonce_echoed(ev) == 1 ? " (echoes the request's senderNonce)" :
				     txn_nonce_echoed(ev) == 0 ? " (MISMATCH: not the request's senderNonce)" : "") : "");
	if (m->pki_status >= 0)
		kv(out, "pkiStatus", "%s", or_q(scep_pki_status_name(m->pki_status)));
	if (m->fail_info >= 0 && scep_fail_info_name(m->fail_info))
		kv(out, "failInfo", "%s: %s", scep_fail_info_name(m->fail_info),
		   scep_fail_info_meaning(m->fail_info));
	else if (m->fail_info >= 0)
		kv(out, "failInfo", "%d (unknown: none of RFC 8894's 0-4)", m->fail_info);
	kv_str(out, "failInfoText", m->fail_info_text);
	kv_str(out, "NDES status", m->ms_status_text);
	if (m->has_ms_hresult) {
		char *hr = scep_hresult_describe(m->ms_hresult);

		kv(out, "NDES HRESULT", "%s", or_q(hr));
		free(hr);
	}
	if (m->signing_time)
		kv(out, "signingTime", "%s", fmt_time_ns((uint64_t)m->signing_time * 1000000000ull, 1, d, sizeof(d)));
	kv(out, "signature", "%s / %s, %s%s", or_q(m->digest_alg), or_q(m->sig_alg),
	   m->signature_ok == 1 && m->lacks_content_type ?
	   "valid; signed attributes lack contentType, which strict verifiers such as OpenSSL reject" :
	   m->signature_ok == 1 ? "verifies" : m->signature_ok == 0 ? "DOES NOT VERIFY" : "not checked",
	   m->ber_indefinite ? ", BER indefinite-length encoding" : "");
	if (m->signer) {
		char *label = scep_signer_label(m);

		put_cert(out, label ? label : "signer", m->signer, at_ns);
		free(label);
	} else if (m->signer_issuer && m->signer_missing) {
		kv(out, "signer", "signed by %s serial %s, %s", m->signer_issuer, or_q(m->signer_serial),
		   m->signer_missing);
	} else if (m->signer_issuer)
		kv(out, "signer", "not in the message: issuer %s, serial %s", m->signer_issuer,
		   or_q(m->signer_serial));
	for (i = 0; i < m->n_other_certs; i++)
		put_cert(out, "certificate", m->other_certs[i], at_ns);
	if (m->has_signed_challenge)
		kv(out, "challenge (signed attribute)", "%s", opt->show_secrets && m->signed_challenge ?
		   m->signed_challenge : "**** (--show-secrets)");
	put_envelope(out, t, m);
	if (m->csr) {
		const struct scep_csr *c = m->csr;

		kv(out, "CSR", "%s, %s %d%s%s%s%s", or_q(c->subject), c->key_type ? c->key_type : "key",
		   c->key_bits, c->sans ? ", SAN " : "", c->sans ? c->sans : "",
		   c->extensions ? ", requests " : "", c->extensions ? c->extensions : "");
		if (c->has_challenge)
			kv(out, "challenge", "%s", opt->show_secrets && c->challenge ? c->challenge :
			   "**** (--show-secrets)");
	}
	if (m->req_issuer)
		kv(out, "asks for", "%s %s, issuer %s", m->req_serial ? "serial" : "subject",
		   m->req_serial ? m->req_serial : or_q(m->req_subject), m->req_issuer);
	if (m->issued)
		put_cert(out, "issued", m->issued, at_ns);
	for (i = 0; i < m->n_rep_certs; i++)
		if (m->rep_certs[i] != m->issued)
			put_cert(out, "with", m->rep_certs[i], at_ns);
	for (i = 0; i < m->n_signed_attrs; i++)
		kv(out, "attribute", "%s", m->signed_attrs[i]);
	for (i = 0; i < m->n_notes; i++)
		kv(out, "note", "%s", m->notes[i]);
}

static void put_tls(FILE *out, const struct scep_tls *tls)
{
	kv(out, "TLS", "%s %s%s%s%s%s, %llu B up, %llu B down%s", or_q(tls->version), or_q(tls->cipher),
	   tls->sni ? ", SNI " : "", tls->sni ? tls->sni : "", tls->alpn ? ", ALPN " : "",
	   tls->alpn ? tls->alpn : "", (unsigned long long)tls->bytes_to_server,
	   (unsigned long long)tls->bytes_to_client, tls->handshake_failed ? ", HANDSHAKE FAILED" : "");
	kv_str(out, "TLS alert", tls->alert);
	kv_str(out, "TLS note", tls->note);
}

/* Everything the text sink's -vv and the JSON sink say about one exchange. */
static void put_event_details(FILE *out, const struct sd_options *opt, const struct txn *t,
			      const struct scep_event *ev)
{
	char ts[48], cli[ENDPOINT_STRLEN], srv[ENDPOINT_STRLEN];
	size_t i;

	fputs("<dl class=\"det\" hidden>\n", out);
	if (ev->op_name && strcmp(ev->op_name, scep_op_name(ev->op)))
		kv(out, "operation", "%s (sent as %s)", scep_op_name(ev->op), ev->op_name);
	else
		kv(out, "operation", "%s", scep_op_name(ev->op));
	kv(out, "connection", "%s -> %s, flow %llu", endpoint_str(&ev->client, cli, sizeof(cli)),
	   endpoint_str(&ev->server, srv, sizeof(srv)), (unsigned long long)ev->flow_id);
	if (ev->request_missing)
		kv(out, "request", "not in the capture (sent before the capture started, or lost)");
	else {
		fputs("<dt>request frames</dt><dd>", out);
		put_frames(out, opt, ev->req_first_frame, &ev->req_first_origin, ev->req_last_frame,
			   &ev->req_last_origin);
		put_escf(out, " at %s", fmt_time_ns(ev->req_first_ts_ns, 1, ts, sizeof(ts)));
		fputs("</dd>\n", out);
		if (ev->method)
			kv(out, "HTTP request", "%s %s (host %s, %zu B body%s%s)", ev->method, or_q(ev->path),
			   or_q(ev->host), ev->req_body_len, ev->req_content_type ? ", " : "",
			   ev->req_content_type ? ev->req_content_type : "");
		kv_str(out, "message=", ev->message_param);
		if (ev->plus_as_space_damage)
			kv(out, "encoding", "base64 '+' arrived as ' ' (URL not percent-encoded)");
		if (ev->req_damaged)
			kv(out, "capture gap", "%llu request bytes missing", (unsigned long long)ev->req_gap_bytes);
	}
	if (ev->has_response) {
		fputs("<dt>response frames</dt><dd>", out);
		put_frames(out, opt, ev->res_first_frame, &ev->res_first_origin, ev->res_last_frame,
			   &ev->res_last_origin);
		put_escf(out, " at %s", fmt_time_ns(ev->res_first_ts_ns, 1, ts, sizeof(ts)));
		fputs("</dd>\n", out);
		kv(out, "HTTP status", "%d %s (%zu B body%s%s)", ev->status, ev->status_text ? ev->status_text : "",
		   ev->res_body_len, ev->res_content_type ? ", " : "",
		   ev->res_content_type ? ev->res_content_type : "");
		kv_str(out, "Server", ev->server_header);
		kv_str(out, "Location", ev->location);
		kv_str(out, "error text", ev->error_text);
		if (ev->res_damaged)
			kv(out, "capture gap", "%llu response bytes missing", (unsigned long long)ev->res_gap_bytes);
	} else if (ev->op != SCEP_OP_TLS) {
		kv(out, "response", "none captured");
	}
	kv_str(out, "problem", ev->problem);
	if (ev->tls)
		put_tls(out, ev->tls);
	if (ev->n_caps) {
		fputs("<dt>capabilities</dt><dd>", out);
		for (i = 0; i < ev->n_caps; i++) {
			put_esc(out, ev->caps[i]);
			fputc(' ', out);
		}
		fputs("</dd>\n", out);
	}
	for (i = 0; i < ev->n_ca_certs; i++)
		put_cert(out, "CA/RA cert", ev->ca_certs[i], ev->res_first_ts_ns);
	if (ev->request) {
		fputs("<dt class=\"h\">request pkiMessage</dt>\n", out);
		put_msg(out, opt, t, ev, ev->request, ev->req_first_ts_ns);
	}
	if (ev->reply) {
		fputs("<dt class=\"h\">response pkiMessage</dt>\n", out);
		put_msg(out, opt, t, ev, ev->reply, ev->res_first_ts_ns);
	}
	fputs("</dl>\n", out);
}

/* Short labels for the arrows; the full story is in the details. */
static void put_labels(FILE *out, const struct scep_event *ev)
{
	const struct scep_msg *rq = ev->request, *rp = ev->reply;
	const char *mt = rq && rq->decoded ? scep_msg_type_name(rq->message_type) : NULL;

	fputs(" data-rq=\"", out);
	put_esc(out, mt ? mt : scep_op_name(ev->op));
	fputs("\" data-rs=\"", out);
	if (ev->op == SCEP_OP_TLS)
		put_esc(out, ev->tls && ev->tls->handshake_failed ? "handshake failed" : "TLS, not decrypted");
	else if (!ev->has_response)
		fputs("no response", out);
	else if (ev->status != 200)
		put_escf(out, "HTTP %d", ev->status);
	else if (rp && rp->decoded)
		put_escf(out, "CertRep %s%s%s", or_q(scep_pki_status_name(rp->pki_status)),
			 rp->pki_status == SCEP_STATUS_FAILURE ? " " : "",
			 rp->pki_status == SCEP_STATUS_FAILURE ? or_q(scep_fail_info_name(rp->fail_info)) : "");
	else if (rp)
		fputs("CertRep undecoded", out);
	else if (ev->n_ca_certs)
		put_escf(out, "200, %zu cert%s", ev->n_ca_certs, ev->n_ca_certs == 1 ? "" : "s");
	else if (ev->n_caps)
		put_escf(out, "200, %zu caps", ev->n_caps);
	else
		put_escf(out, "%d", ev->status);
	fputc('"', out);
}

/* Device-log lines go on the device lane: time, source and what happened. */
static void put_device_events(FILE *out, const struct txn *t)
{
	char d[32];
	size_t i;

	if (!t->n_device)
		return;
	fputs("<ol class=\"dev\">\n", out);
	for (i = 0; i < t->n_device; i++) {
		const struct txn_device_event *e = &t->device[i];
		uint64_t rel = e->ts_ns >= t->first_ts_ns ? (e->ts_ns - t->first_ts_ns) / 1000 : 0;

		fprintf(out, "<li class=\"dv%s\" data-t=\"%llu\" data-w=\"", e->kind == DEVLOG_INSTALLED ||
			e->kind == DEVLOG_ACCESS_GRANTED ? " ok" : e->kind == DEVLOG_ERROR ? " bad" : "",
			(unsigned long long)rel);
		put_esc(out, e->what ? e->what : "?");
		fprintf(out, "\">+%s ", fmt_duration_ns(rel * 1000, d, sizeof(d)));
		put_esc(out, e->source);
		fputs(": ", out);
		put_esc(out, e->what ? e->what : "?");
		if (e->matched_by) {
			fputs(" <i>(matched by ", out);
			put_esc(out, e->matched_by);
			fputs(")</i>", out);
		}
		fputs("</li>\n", out);
	}
	fputs("</ol>\n", out);
}

static void put_event(FILE *out, const struct sd_options *opt, const struct txn *t,
		      const struct scep_event *ev)
{
	char d[32];
	uint64_t t0 = ev->request_missing ? ev->res_first_ts_ns : ev->req_first_ts_ns;

	fprintf(out, "<li class=\"ev %s\" tabindex=\"0\" data-kind=\"%s\"", event_class(ev),
		ev->op == SCEP_OP_TLS ? "tls" : ev->request_missing ? "nosend" : ev->has_response ? "x" : "noresp");
	if (!ev->request_missing)
		fprintf(out, " data-q0=\"%llu\" data-q1=\"%llu\"", (unsigned long long)rel_us(t, ev->req_first_ts_ns),
			(unsigned long long)rel_us(t, ev->req_last_ts_ns ? ev->req_last_ts_ns : ev->req_first_ts_ns));
	if (ev->has_response)
		fprintf(out, " data-r0=\"%llu\" data-r1=\"%llu\"", (unsigned long long)rel_us(t, ev->res_first_ts_ns),
			(unsigned long long)rel_us(t, ev->res_last_ts_ns ? ev->res_last_ts_ns : ev->res_first_ts_ns));
	put_labels(out, ev);
	fprintf(out, " data-rel=\"+%s\">", fmt_duration_ns(rel_us(t, t0) * 1000, d, sizeof(d)));
	fprintf(out, "<span class=\"rel\">+%s</span> <span class=\"fr\">", d);
	put_frames(out, opt, ev->request_missing ? ev->res_first_frame : ev->req_first_frame,
		   ev->request_missing ? &ev->res_first_origin : &ev->req_first_origin,
		   ev->has_response ? ev->res_last_frame : ev->req_last_frame,
		   ev->has_response ? &ev->res_last_origin : &ev->req_last_origin);
	fputs("</span> <b>", out);
	put_esc(out, scep_op_name(ev->op));
	fputs("</b> ", out);
	put_esc(out, ev->method);
	fputs(" &rarr; ", out);
	/* the labels again as text: the list is the page without JS */
	if (!ev->has_response)
		fputs("no response", out);
	else
		fprintf(out, "%d", ev->status);
	if (ev->reply && ev->reply->decoded && ev->reply->pki_status >= 0)
		put_escf(out, " %s", or_q(scep_pki_status_name(ev->reply->pki_status)));
	if (ev->damaged)
		fputs(" <i>[capture gap]</i>", out);
	fputc('\n', out);
	put_event_details(out, opt, t, ev);
	fputs("</li>\n", out);
}

static void put_txn(FILE *out, const struct sd_options *opt, const struct txn *t)
{
	char ts[48], cli[ENDPOINT_STRLEN], srv[ENDPOINT_STRLEN], addr[ENDPOINT_STRLEN], d[32];
	const char *mt = t->first_msg_type >= 0 ? scep_msg_type_name(t->first_msg_type) : NULL;
	const struct scep_event *first = txn_first_event(t);
	size_t i;

	fprintf(out, "<section class=\"txn v-%s\" id=\"t%llu\" data-client=\"", verdict_class(t->verdict),
		(unsigned long long)t->seq);
	put_esc(out, endpoint_str(&t->client, cli, sizeof(cli)));
	fputs("\" data-server=\"", out);
	put_esc(out, endpoint_str(&t->server, srv, sizeof(srv)));
	fprintf(out, "\">\n<h2><span class=\"badge %s\">", verdict_class(t->verdict));
	put_esc(out, t->verdict == VERDICT_NONE ? "endpoint" : txn_verdict_name(t->verdict));
	fprintf(out, "</span> <span class=\"seq\">#%llu</span> ", (unsigned long long)t->seq);
	put_esc(out, t->transaction_id ? (mt ? mt : "PKIOperation") :
		     t->first_msg_type == TXN_ENDPOINT_GROUP ? "endpoint" :
		     t->first_msg_type == TXN_DEVICE_GROUP ? "device log" :
		     t->first_msg_type == TXN_DEVICE_UNMATCHED ? "unmatched device events" : "PKIOperation");
	if (t->transaction_id) {
		fputs(" <code>", out);
		put_esc(out, t->transaction_id);
		fputs("</code>", out);
	}
	fputs("</h2>\n", out);
	if (t->reason || t->advice) {
		fputs("<p class=\"why\">", out);
		if (t->reason) {
			fputs("<b>why:</b> <span class=\"reason\">", out);
			put_esc(out, t->reason);
			fputs("</span>", out);
		}
		if (t->advice) {
			fputs(t->reason ? "<br><b>next:</b> " : "<b>next:</b> ", out);
			put_esc(out, t->advice);
		}
		fputs("</p>\n", out);
	}
	fputs("<p class=\"meta\">", out);
	if (t->no_date)
		put_escf(out, "%s UTC (no date in the log), %s -> %s", fmt_time_of_day_ns(t->first_ts_ns, 0, ts, sizeof(ts)),
			 cli, srv);
	else
		put_escf(out, "%s UTC, %s -> %s", fmt_time_ns(t->first_ts_ns, 0, ts, sizeof(ts)), cli, srv);
	/* the Host header only when it says something the address does not
	 * (a name, or a proxy's idea of the server) */
	if (first && first->host && strcmp(first->host, srv) &&
	    strcmp(first->host, endpoint_addr_str(&t->server, addr, sizeof(addr))))
		put_escf(out, " (Host %s)", first->host);
	put_escf(out, ", %s", fmt_duration_ns(t->last_ts_ns - t->first_ts_ns, d, sizeof(d)));
	if (t->subject)
		put_escf(out, ", %s", t->subject);
	if (t->reused_id)
		fputs(", <b>transactionID reused</b>", out);
	for (i = 0; i < TXN_POLL_KINDS; i++)
		if (t->polls[i])
			fprintf(out, ", <b>polls: %s &times; %zu</b>", txn_poll_kind_name((enum txn_poll_kind)i), t->polls[i]);
	fputs("</p>\n<div class=\"lanes\"></div>\n<ul class=\"findings\">\n", out);
	for (i = 0; i < t->n_findings; i++) {
		fputs("<li>", out);
		put_esc(out, t->findings[i]);
		fputs("</li>\n", out);
	}
	fputs("</ul>\n<div class=\"panel\" hidden></div>\n<ol class=\"evs\">\n", out);
	for (i = 0; i < t->n_events; i++)
		put_event(out, opt, t, t->events[i]);
	fputs("</ol>\n", out);
	put_device_events(out, t);
	fputs("</section>\n", out);
}

static void put_verdict_cells(FILE *out, const size_t *by_verdict)
{
	size_t v;

	fputs("<td>", out);
	for (v = VERDICT_ISSUED; v < VERDICT_COUNT; v++)
		if (by_verdict[v])
			fprintf(out, "<span class=\"badge %s\">%zu %s</span> ", verdict_class((enum txn_verdict)v),
				by_verdict[v], txn_verdict_name((enum txn_verdict)v));
	fputs("</td>", out);
}

/* Like the text sink: the busiest ten by name, the rest counted. */
#define HTML_GROUPS_SHOWN 10

static void put_groups(FILE *out, const char *title, const struct summary_group *g, size_t n,
		       const struct summary_group *other)
{
	char ep[ENDPOINT_STRLEN];
	size_t i;

	if (!n)
		return;
	fprintf(out, "<table><caption>%s</caption>\n", title);
	for (i = 0; i < n && i < HTML_GROUPS_SHOWN; i++) {
		fputs("<tr><th>", out);
		put_esc(out, g[i].ep.port ? endpoint_str(&g[i].ep, ep, sizeof(ep)) : endpoint_addr_str(&g[i].ep, ep, sizeof(ep)));
		fprintf(out, "</th><td class=\"n\">%zu</td>", g[i].total);
		put_verdict_cells(out, g[i].by_verdict);
		fputs("</tr>\n", out);
	}
	if (n > HTML_GROUPS_SHOWN)
		fprintf(out, "<tr><td colspan=\"3\">and %zu more</td></tr>\n", n - HTML_GROUPS_SHOWN);
	if (other->total) {
		fprintf(out, "<tr><th>others past --max-transactions</th><td class=\"n\">%zu</td>", other->total);
		put_verdict_cells(out, other->by_verdict);
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
}

static void put_summary(FILE *out, const struct report *r)
{
	const struct counters *c = r->cnt;
	const struct summary *s = r->summary;
	char d[4][32];
	size_t i;

	if (!s) {
		fputs("<p>summary: out of memory</p>\n", out);
		return;
	}
	fputs("<div class=\"sum\">\n<table><caption>Transactions</caption>\n", out);
	fprintf(out, "<tr><th>total</th><td class=\"n\">%zu</td>", s->transactions);
	put_verdict_cells(out, s->by_verdict);
	fprintf(out, "</tr>\n<tr><th>endpoint-only groups</th><td class=\"n\">%zu</td>", s->endpoint_groups);
	put_verdict_cells(out, s->group_verdicts);
	fputs("</tr>\n", out);
	if (r->listing_filter) {
		fprintf(out, "<tr><th>shown</th><td class=\"n\">%zu</td><td>", r->n_listed);
		put_esc(out, r->listing_filter);
		fputs("</td></tr>\n", out);
	}
	if (s->n_latency)
		fprintf(out, "<tr><th>latency</th><td class=\"n\">%zu</td><td>p50 %s, p90 %s, p99 %s, max %s "
			"<small>(first PKIOperation to last CertRep)</small></td></tr>\n", s->n_latency,
			fmt_duration_ns(s->latency_p50, d[0], sizeof(d[0])), fmt_duration_ns(s->latency_p90, d[1], sizeof(d[1])),
			fmt_duration_ns(s->latency_p99, d[2], sizeof(d[2])), fmt_duration_ns(s->latency_max, d[3], sizeof(d[3])));
	fputs("</table>\n", out);
	put_groups(out, "Servers", s->servers, s->n_servers, &s->other_servers);
	put_groups(out, "Clients", s->clients, s->n_clients, &s->other_clients);
	fprintf(out, "<table><caption>Capture</caption>\n"
		"<tr><th>packets</th><td class=\"n\">%llu</td><th>flows</th><td class=\"n\">%llu</td></tr>\n"
		"<tr><th>SCEP exchanges</th><td class=\"n\">%llu</td><th>damaged exchanges</th><td class=\"n%s\">%llu</td></tr>\n"
		"<tr><th>non-SCEP skipped</th><td class=\"n\">%llu</td><th>flows capped</th><td class=\"n%s\">%llu</td></tr>\n"
		"<tr><th>bodies capped</th><td class=\"n%s\">%llu</td><th>reassembly bytes capped</th><td class=\"n%s\">%llu</td></tr>\n"
		"</table>\n</div>\n",
		(unsigned long long)c->packets, (unsigned long long)c->flows, (unsigned long long)c->scep_exchanges,
		s->damaged_exchanges ? " warn" : "", (unsigned long long)s->damaged_exchanges,
		(unsigned long long)c->http_skipped, c->flows_capped ? " warn" : "", (unsigned long long)c->flows_capped,
		c->http_bodies_capped ? " warn" : "", (unsigned long long)c->http_bodies_capped,
		c->reasm_bytes_capped ? " warn" : "", (unsigned long long)c->reasm_bytes_capped);
	fputs("<details><summary>all counters</summary><p class=\"counters\">", out);
#define HTML_COUNTER(name) fprintf(out, "<span>" #name " <b>%llu</b></span> ", (unsigned long long)c->name);
	COUNTERS_LIST(HTML_COUNTER)
#undef HTML_COUNTER
	fputs("</p></details>\n", out);
	/* an index, so one failure among hundreds is one click away */
	/* a box of its own: on a narrow screen the index scrolls inside it,
	 * not the page */
	fputs("<div class=\"scroll\"><table class=\"idx\"><caption>Index</caption>\n", out);
	for (i = 0; i < txn_count(r->txns); i++) {
		const struct txn *t = txn_get(r->txns, i);
		char ts[48], cli[ENDPOINT_STRLEN];

		fprintf(out, "<tr><td><a href=\"#t%llu\">#%llu</a></td><td>", (unsigned long long)t->seq,
			(unsigned long long)t->seq);
		put_esc(out, t->no_date ? fmt_time_of_day_ns(t->first_ts_ns, 0, ts, sizeof(ts))
					: fmt_time_ns(t->first_ts_ns, 0, ts, sizeof(ts)));
		fprintf(out, "</td><td><span class=\"badge %s\">", verdict_class(t->verdict));
		put_esc(out, t->verdict == VERDICT_NONE ? "endpoint" : txn_verdict_name(t->verdict));
		fputs("</span> ", out);
		put_esc(out, t->reason);
		fputs("</td><td>", out);
		put_esc(out, endpoint_addr_str(&t->client, cli, sizeof(cli)));
		fputs("</td><td>", out);
		put_esc(out, t->subject);
		fputs("</td><td><code>", out);
		put_esc(out, t->transaction_id);
		fputs("</code></td></tr>\n", out);
	}
	fputs("</table></div>\n", out);
}

static const char html_style[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1240px;padding:12px 20px;color:#1f2328;background:#f6f8fa}\n"
	"h1{font-size:20px;margin:4px 0}h2{font-size:15px;margin:0 0 2px}code,.fr,.rel,dd{font-family:ui-monospace,monospace;font-size:12px}\n"
	".ok{--c:#1a7f37}.pend{--c:#b7791f}.bad{--c:#cf222e}.none{--c:#6e7781}\n"
	".badge{display:inline-block;padding:0 7px;border-radius:9px;color:#fff;background:var(--c);font-size:12px;font-weight:600}\n"
	".sum{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}\n"
	"table{border-collapse:collapse;background:#fff;border:1px solid #d0d7de;margin:6px 0}caption{text-align:left;font-weight:600;padding:2px 0}\n"
	"th,td{padding:3px 8px;border-top:1px solid #eaeef2;text-align:left;vertical-align:top}td.n{text-align:right}td.warn{color:#cf222e;font-weight:600}\n"
	".scroll{overflow-x:auto;max-width:100%}.lanes{overflow-x:auto}svg.lane{min-width:980px}\n"
	".why{margin:2px 0 4px;font-size:13px}\n"
	".idx{width:100%}.idx td:nth-child(2){white-space:nowrap}.reason{color:var(--c)}.counters span{display:inline-block;margin-right:10px;font-size:12px}\n"
	".txn{background:#fff;border:1px solid #d0d7de;border-left:6px solid var(--c);border-radius:6px;margin:14px 0;padding:8px 12px}\n"
	".v-ok{--c:#1a7f37}.v-pend{--c:#b7791f}.v-bad{--c:#cf222e}.v-none{--c:#6e7781}\n"
	".seq{color:#6e7781}.meta{margin:0 0 4px;color:#57606a;font-size:13px}\n"
	"svg.lane{width:100%;height:auto;display:block}svg text{font:11px system-ui,sans-serif;fill:#1f2328}\n"
	"svg .ln{font-weight:600}svg .ep{fill:#57606a;font-size:10px}svg .ax{fill:#57606a;font-size:10px}\n"
	"svg .lab{paint-order:stroke;stroke:#fff;stroke-width:3px}svg .arr{cursor:pointer}svg .arr:hover .vis,svg .arr.sel .vis{stroke-width:3.5}\n"
	".findings{margin:4px 0;padding-left:20px;color:#7d4e00}.findings li::marker{content:'\\26A0  '}\n"
	".panel{border:1px solid #d0d7de;background:#f6f8fa;border-radius:6px;padding:6px 10px;margin:6px 0}\n"
	".panel dl{display:grid;grid-template-columns:150px 1fr;gap:1px 10px;margin:0}dt{color:#57606a}dd{margin:0;white-space:pre-wrap;word-break:break-all}\n"
	"dt.h{grid-column:1/-1;font-weight:600;color:#1f2328;margin-top:6px}\n"
	".evs{margin:2px 0;padding-left:22px;font-size:12px}.evs li{cursor:pointer}.evs li.sel{background:#fff8c5}\n"
	".evs li::marker{color:var(--c)}.rel{display:inline-block;width:70px}.fr{display:inline-block;min-width:90px;color:#57606a}\n";

/* Draws each section's lanes from its <li data-*> list. Times go through a
 * stretched scale (log of each gap, then fitted to the width): a GetCACaps
 * taking 300 us and a CertRep after 40 s both stay visible and in order;
 * the real times are in the labels. Text is set with textContent only. */
static const char html_script[] =
	"'use strict';\n"
	"window.onerror=function(m,s,l){var b=document.body;b.setAttribute('data-errors',(b.getAttribute('data-errors')||'')+m+' (line '+l+'); ');};\n"
	"(function(){\n"
	"var NS='http://www.w3.org/2000/svg',W=1180,LW=170,TOP=8,LH=52,COL={ok:'#1a7f37',pend:'#b7791f',bad:'#cf222e',none:'#6e7781'};\n"
	"function el(n,a,p){var e=document.createElementNS(NS,n);for(var k in a)e.setAttribute(k,a[k]);if(p)p.appendChild(e);return e;}\n"
	"function tx(p,x,y,s,c,anc){var t=el('text',{x:x,y:y,'class':c||'','text-anchor':anc||'start'},p);t.textContent=s;return t;}\n"
	"function est(t){return t.textContent.length*(t.getAttribute('class')==='ep'?5.6:6.2);}\n"
	"function fit(t,w){var s=t.textContent,full=s;if(est(t)<=w)return;while(s.length>4&&est(t)>w){s=s.slice(0,-1);t.textContent=s+'\\u2026';}var ti=el('title',{},t);ti.textContent=full;}\n"
	"function keepRight(t,x){if(+t.getAttribute('x')-est(t)<LW+4){t.setAttribute('x',x);t.setAttribute('text-anchor','start');}}\n"
	"function num(e,k){var v=e.getAttribute('data-'+k);return v===null?null:+v;}\n"
	"function scale(pts){pts=pts.slice().sort(function(a,b){return a-b;});var u=[],xs=[],i,m={};\n"
	" for(i=0;i<pts.length;i++)if(!u.length||pts[i]!==u[u.length-1])u.push(pts[i]);\n"
	" for(i=0;i<u.length;i++)xs.push(i?xs[i-1]+30+24*Math.log10(1+(u[i]-u[i-1])/100):0);\n"
	" var span=W-LW-250,f=xs.length>1?span/xs[xs.length-1]:1;\n"
	" for(i=0;i<u.length;i++)m[u[i]]=LW+40+xs[i]*f;return function(t){return m[t];};}\n"
	"function arrow(g,x1,y1,x2,y2,c,dash){var a=Math.atan2(y2-y1,x2-x1),h=8;\n"
	" el('line',{x1:x1,y1:y1,x2:x2,y2:y2,stroke:'transparent','stroke-width':12},g);\n"
	" el('line',{x1:x1,y1:y1,x2:x2-Math.cos(a)*h*0.8,y2:y2-Math.sin(a)*h*0.8,stroke:c,'stroke-width':2,'class':'vis','stroke-dasharray':dash||''},g);\n"
	" el('circle',{cx:x1,cy:y1,r:3,fill:c},g);\n"
	" el('polygon',{points:[x2,y2,x2-h*Math.cos(a-0.4),y2-h*Math.sin(a-0.4),x2-h*Math.cos(a+0.4),y2-h*Math.sin(a+0.4)].join(' '),fill:c},g);}\n"
	"function show(sec,li){var p=sec.querySelector('.panel'),d=li.querySelector('.det');\n"
	" sec.querySelectorAll('.sel').forEach(function(e){e.classList.remove('sel');});\n"
	" sec.querySelectorAll('[data-i=\"'+li.getAttribute('data-i')+'\"]').forEach(function(e){e.classList.add('sel');});\n"
	" li.classList.add('sel');p.textContent='';var h=document.createElement('b');h.textContent=li.querySelector('b').textContent+' '+li.getAttribute('data-rel');p.appendChild(h);\n"
	" var c=d.cloneNode(true);c.hidden=false;p.appendChild(c);p.hidden=false;}\n"
	"function draw(sec){var evs=sec.querySelectorAll('li.ev'),dvs=sec.querySelectorAll('li.dv'),pts=[],i,ks=['q0','q1','r0','r1'];\n"
	" evs.forEach(function(li){ks.forEach(function(k){var v=num(li,k);if(v!==null)pts.push(v);});});\n"
	" dvs.forEach(function(li){pts.push(num(li,'t'));});\n"
	" var X=scale(pts),LD=dvs.length?LH:18,yC=TOP+LH/2,yS=TOP+LH*1.5,yD=TOP+LH*2+LD/2,H=TOP+LH*2+LD+22;\n"
	" var svg=el('svg',{'class':'lane',viewBox:'0 0 '+W+' '+H,role:'img'});\n"
	" var lanes=[['client',sec.getAttribute('data-client')],['server (proxy/NDES)',sec.getAttribute('data-server')],['device',dvs.length?dvs.length+' log events':'no device log merged']];\n"
	" lanes.forEach(function(l,j){var y=TOP+LH*j,h=j==2?LD:LH;el('rect',{x:0,y:y,width:W,height:h,fill:j%2?'#f6f8fa':'#fff'},svg);\n"
	"  el('line',{x1:LW,y1:y+h/2,x2:W-10,y2:y+h/2,stroke:'#afb8c1','stroke-dasharray':j==2?'4 4':''},svg);\n"
	"  if(h<LH){tx(svg,8,y+h/2+4,l[0]+': '+l[1],'ep');return;}\n"
	"  tx(svg,8,y+LH/2-3,l[0],'ln');fit(tx(svg,8,y+LH/2+11,l[1],'ep'),LW-14);});\n"
	" var lastAx=-1e9,lastQ=-1e9,lastR=-1e9,lastRel='';\n"
	" evs.forEach(function(li,n){li.setAttribute('data-i',n);var c=COL[li.classList[1]]||COL.none,k=li.getAttribute('data-kind');\n"
	"  var g=el('g',{'class':'arr','data-i':n,tabindex:0},svg),q0=num(li,'q0'),q1=num(li,'q1'),r0=num(li,'r0'),r1=num(li,'r1');\n"
	"  var t=el('title',{},g);t.textContent=li.getAttribute('data-rq')+' / '+li.getAttribute('data-rs')+' at '+li.getAttribute('data-rel');\n"
	"  if(k==='tls'){el('rect',{x:X(q0),y:yC-6,width:Math.max(4,X(r1!==null?r1:q1)-X(q0)),height:yS-yC+12,fill:c,opacity:0.25},g);\n"
	"   tx(g,X(q0)+3,yC+(yS-yC)/2+4,li.getAttribute('data-rs'),'lab');}\n"
	"  else{if(q0!==null){arrow(g,X(q0),yC,X(q1),yS,c);if(X(q0)-lastQ>70||X(q0)<lastQ){keepRight(tx(g,X(q0)-5,yC+16,li.getAttribute('data-rq'),'lab','end'),X(q0)+5);lastQ=X(q0);}}\n"
	"   if(r0!==null){arrow(g,X(r0),yS,X(r1),yC,c);if(X(r0)-lastR>70||X(r0)<lastR){tx(g,X(r1)+5,yS-9,li.getAttribute('data-rs'),'lab','start');lastR=X(r0);}}\n"
	"   else{var xe=X(q1)+12;el('path',{d:'M'+(xe-5)+' '+(yS-5)+'l10 10m0 -10l-10 10',stroke:c,'stroke-width':2.5},g);tx(g,xe+8,yS-9,li.getAttribute('data-rs'),'lab');}\n"
	"   if(k==='nosend')tx(g,X(r1)-5,yC+16,'(request not captured)','lab','end');}\n"
	"  var xa=X(q0!==null?q0:r0),rel=li.getAttribute('data-rel');if(xa-lastAx>56&&rel!==lastRel){el('line',{x1:xa,y1:yD+LD/2,x2:xa,y2:yD+LD/2+6,stroke:'#8c959f'},svg);tx(svg,xa,H-6,rel,'ax','middle');lastAx=xa;lastRel=rel;}\n"
	"  g.addEventListener('click',function(){show(sec,li);});g.addEventListener('keydown',function(e){if(e.key==='Enter')show(sec,li);});\n"
	"  li.addEventListener('click',function(){show(sec,li);});li.addEventListener('keydown',function(e){if(e.key==='Enter')show(sec,li);});});\n"
	" dvs.forEach(function(li){var x=X(num(li,'t')),c=li.classList.contains('ok')?COL.ok:li.classList.contains('bad')?COL.bad:'#57606a';\n"
	"  var g=el('g',{},svg);el('polygon',{points:[x,yD-6,x+6,yD,x,yD+6,x-6,yD].join(' '),fill:c},g);\n"
	"  var t=el('title',{},g);t.textContent=li.getAttribute('data-w');});\n"
	" sec.querySelector('.lanes').appendChild(svg);return 1;}\n"
	"var drawn=0;document.querySelectorAll('section.txn').forEach(function(sec){try{drawn+=draw(sec);}catch(e){window.onerror(String(e),'',0);}});\n"
	"document.body.setAttribute('data-drawn',drawn);\n"
	"/* What the page looks like, measured where it is shown: tests read these. */\n"
	"function hit(a,b){return a.left<b.right&&b.left<a.right&&a.top<b.bottom&&b.top<a.bottom;}\n"
	"var over=0,dup=0,small=99;document.querySelectorAll('svg.lane').forEach(function(svg){\n"
	" var heads=[].slice.call(svg.querySelectorAll('.ep,.ln')).map(function(t){return t.getBoundingClientRect();});\n"
	" svg.querySelectorAll('.lab').forEach(function(t){var r=t.getBoundingClientRect();heads.forEach(function(h){if(hit(r,h))over++;});});\n"
	" var prev=null;svg.querySelectorAll('.ax').forEach(function(t){if(t.textContent===prev)dup++;prev=t.textContent;});\n"
	" var w=svg.getBoundingClientRect().width;if(w)small=Math.min(small,Math.round(w/W*110)/10);});\n"
	"var idx=document.querySelector('.scroll');\n"
	"document.body.setAttribute('data-layout','page-overflow='+Math.max(0,document.documentElement.scrollWidth-window.innerWidth)+\n"
	" ' label-overlaps='+over+' duplicate-axis-labels='+dup+' lane-font-px='+small+\n"
	" ' index-scrolls='+(idx&&idx.scrollWidth>idx.clientWidth?1:0));\n"
	"})();\n";

void sink_html_write(FILE *out, const struct report *r)
{
	const struct sd_options *opt = r->opt;
	char a[48], b[48];
	size_t i;

	/* The CSP makes "no network fetches" a property of the file, not of
	 * our care: the browser refuses anything but the inline style/script. */
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n<title>scepdump report</title>\n<style>\n", out);
	fputs(html_style, out);
	fputs("</style></head>\n<body>\n<h1>scepdump report</h1>\n<p class=\"meta\">", out);
	for (i = 0; i < opt->n_files; i++) {
		fputs(i ? ", " : "", out);
		put_esc(out, opt->files[i]);
	}
	if (r->first_ts_ns)
		put_escf(out, "%scaptured %s to %s UTC", opt->n_files ? ": " : "",
			 fmt_time_ns(r->first_ts_ns, 0, a, sizeof(a)), fmt_time_ns(r->last_ts_ns, 0, b, sizeof(b)));
	fputs(". Click an arrow or a line for the exchange's details.</p>\n", out);
	if (r->interrupted_by)
		fprintf(out, "<p class=\"meta\"><b>Interrupted by %s</b>: the input was not read to its end; "
			"this report covers its first %llu packet%s.</p>\n",
			fmt_signal_name(r->interrupted_by), (unsigned long long)r->cnt->packets,
			r->cnt->packets == 1 ? "" : "s");
	if (r->cnt->snap_length) {
		char why[160];

		fputs("<p class=\"meta\"><b>", out);
		put_esc(out, fmt_snap_cut(r->cnt->snap_length, r->cnt->truncated_packets, why, sizeof(why)));
		fputs("</b></p>\n", out);
	}
	put_summary(out, r);
	/* every transaction, streamed or not: the file is written once, at
	 * the end, and is meant to be the whole record */
	for (i = 0; i < txn_count(r->txns); i++)
		put_txn(out, opt, txn_get(r->txns, i));
	fprintf(out, "<script>\n%s</script>\n</body></html>\n", html_script);
}
