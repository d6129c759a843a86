/* sink_text.c - the human timeline: one block per transaction (header
 * line, one line per request and per response, findings), then a summary.
 * Reads the finished transaction table only; times follow TZ and name
 * their zone, as tcpdump's do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "flow.h"
#include "format.h"
#include "keylog.h"
#include "livew.h"
#include "membudget.h"
#include "options.h"
#include "scep.h"
#include "sink.h"
#include "spill.h"
#include "summary.h"
#include "txn.h"

/* ANSI colours, only when --color says so (auto: stdout is a terminal). */
/* The default listing fits a 120-column terminal. */
#define LINE_WIDTH 120
/* "NO_RESPONSE", the longest verdict name */
#define VERDICT_WIDTH 11
/* The frames column's least width: "#12345-12346" */
#define FRAMES_WIDTH 13

static const char *verdict_colour(enum txn_verdict v)
{
	switch (v) {
	case VERDICT_ISSUED:
	case VERDICT_DELIVERED: return "\033[32m";
	case VERDICT_PENDING: return "\033[33m";
	case VERDICT_NONE: return "";
	default: return "\033[1;31m";
	}
}

static void paint(FILE *out, const struct sd_options *opt, const char *colour, const char *text)
{
	if (opt->color && *colour)
		fprintf(out, "%s%s\033[0m", colour, text);
	else
		fputs(text, out);
}

static void paint_verdict(FILE *out, const struct sd_options *opt, enum txn_verdict v)
{
	paint(out, opt, verdict_colour(v), txn_verdict_name(v));
}

static const char *msg_type_label(int mt, char *buf, size_t len)
{
	const char *n = scep_msg_type_name(mt);

	if (n)
		return n;
	snprintf(buf, len, "messageType %d", mt);
	return buf;
}

/* The CN of a one-line subject ("CN=x,O=y"), escaped commas kept. */
static const char *subject_cn(const char *subject, char *buf, size_t len)
{
	const char *cn = subject ? strstr(subject, "CN=") : NULL;
	size_t i = 0;

	if (!cn)
		return subject ? subject : "?";
	for (cn += 3; *cn && *cn != ',' && i + 1 < len; cn++) {
		if (*cn == '\\' && cn[1])
			cn++;
		buf[i++] = *cn;
	}
	buf[i] = '\0';
	return buf;
}

/* Where an exchange line's details start: "   " + relative time (11) +
 * frames (the block's width and a space) + operation (15). */
static size_t detail_column(int frames_width)
{
	return 3 + 11 + (size_t)frames_width + 1 + 15;
}

/* Which frames a line's label names. */
enum frames_of { FRAMES_NONE, FRAMES_REQUEST, FRAMES_RESPONSE, FRAMES_CONNECTION };

static const char *frames_label(const struct sd_options *opt, const struct scep_event *ev,
				enum frames_of which, char *buf, size_t len)
{
	const char *const *files = opt->files;

	switch (which) {
	case FRAMES_REQUEST:
		return fmt_frames(files, opt->n_files, ev->req_first_frame, &ev->req_first_origin,
				  ev->req_last_frame, &ev->req_last_origin, buf, len);
	case FRAMES_RESPONSE:
		return fmt_frames(files, opt->n_files, ev->res_first_frame, &ev->res_first_origin,
				  ev->res_last_frame, &ev->res_last_origin, buf, len);
	case FRAMES_CONNECTION:
		return fmt_frames(files, opt->n_files, ev->req_first_frame, &ev->req_first_origin,
				  ev->res_last_frame, &ev->res_last_origin, buf, len);
	default:
		return fmt_frames(files, opt->n_files, 0, NULL, 0, NULL, buf, len);
	}
}

/* The frames column of a block: as wide as its longest label (file:frame
 * labels of several -r files are long), so no label runs into the
 * operation; decided once per block, so the block's columns line up. */
static int block_frames_width(const struct sd_options *opt, const struct txn *t)
{
	int w = FRAMES_WIDTH;
	char buf[600];
	size_t i, k;

	for (i = 0; i < t->n_events; i++) {
		const struct scep_event *ev = t->events[i];
		enum frames_of which[2] = { FRAMES_NONE, FRAMES_NONE };

		if (ev->op == SCEP_OP_TLS)
			which[0] = FRAMES_CONNECTION;
		else {
			which[0] = ev->request_missing ? FRAMES_NONE : FRAMES_REQUEST;
			which[1] = ev->has_response ? FRAMES_RESPONSE : FRAMES_NONE;
		}
		for (k = 0; k < 2; k++) {
			int n = (int)strlen(frames_label(opt, ev, which[k], buf, sizeof(buf)));

			if (n > w)
				w = n;
		}
	}
	return w;
}

/* What every line of a block prints the same way. */
struct block {
	const struct sd_options *opt;
	const struct txn *t;
	int frames_width;
};

static void print_line_start(FILE *out, const struct block *b, uint64_t ts, const struct scep_event *ev,
			     enum frames_of which)
{
	const struct txn *t = b->t;
	char rel[32], d[32], fr[600];

	snprintf(rel, sizeof(rel), "+%s", ts >= t->first_ts_ns ? fmt_duration_ns(ts - t->first_ts_ns, d, sizeof(d)) : "?");
	fprintf(out, "   %-10s ", rel);
	fprintf(out, "%-*s ", b->frames_width, frames_label(b->opt, ev, which, fr, sizeof(fr)));
}

/* A redirect's query (a sign-in page's state, client IDs) fills lines
 * and says nothing the host and path do not: -v prints it whole. */
static void print_http_error(FILE *out, const struct sd_options *opt, const struct scep_event *ev)
{
	fprintf(out, "-> HTTP %d", ev->status);
	if (ev->status_text && *ev->status_text)
		fprintf(out, " %s", ev->status_text);
	if (ev->location && !opt->verbose && ev->location[strcspn(ev->location, "?#")])
		fprintf(out, "  Location: %.*s?... (-v: whole)", (int)strcspn(ev->location, "?#"), ev->location);
	else if (ev->location)
		fprintf(out, "  Location: %s", ev->location);
	if (ev->error_text)
		fprintf(out, "  \"%s\"", ev->error_text);
}

static void print_caps(FILE *out, const struct scep_event *ev)
{
	size_t i;

	for (i = 0; i < ev->n_caps; i++)
		fprintf(out, "%s%s", i ? " " : "", ev->caps[i]);
	if (!ev->n_caps)
		fputs("(no capabilities)", out);
}

static const char *cert_role(const struct scep_cert *c)
{
	return c->role ? c->role : c->is_ca ? "CA" : "RA";
}

static const char *validity_word(const struct scep_cert *c, uint64_t at_ns)
{
	switch (scep_cert_validity(c, (time_t)(at_ns / 1000000000ull))) {
	case 1: return "EXPIRED";
	case -1: return "NOT YET VALID";
	default: return NULL;
	}
}

static void print_cert_brief(FILE *out, const struct scep_cert *c, uint64_t at_ns)
{
	char d[16], cn[128];
	const char *v = validity_word(c, at_ns);

	fprintf(out, "%s \"%s\" (to %s%s%s)", cert_role(c),
		subject_cn(c->subject, cn, sizeof(cn)), fmt_date(c->not_after, d, sizeof(d)),
		v ? ", " : "", v ? v : "");
}

static void print_ca_certs(FILE *out, const struct scep_event *ev)
{
	size_t i;

	fprintf(out, "%zu cert%s: ", ev->n_ca_certs, ev->n_ca_certs == 1 ? "" : "s");
	for (i = 0; i < ev->n_ca_certs; i++) {
		if (i)
			fputs(", ", out);
		print_cert_brief(out, ev->ca_certs[i], ev->res_first_ts_ns);
	}
	/* what was not read ("9936 more certificates not read ...") */
	if (ev->problem)
		fprintf(out, "; %s", ev->problem);
}

/* One certificate over two to four lines; fingerprints only when full. */
static void print_cert_detail(FILE *out, const char *label, const struct scep_cert *c, int full)
{
	char nb[16], na[16];

	fprintf(out, "      %s: %s\n", label, c->subject ? c->subject : "?");
	fprintf(out, "        issuer %s, serial %s, %s %d, %s to %s%s\n",
		c->issuer ? c->issuer : "?", c->serial ? c->serial : "?",
		c->key_type ? c->key_type : "key", c->key_bits,
		fmt_date(c->not_before, nb, sizeof(nb)), fmt_date(c->not_after, na, sizeof(na)),
		c->self_signed ? ", self-signed" : "");
	if (c->key_usage_names || c->ext_key_usage)
		fprintf(out, "        key usage %s%s%s\n", c->key_usage_names ? c->key_usage_names : "-",
			c->ext_key_usage ? "; extended " : "", c->ext_key_usage ? c->ext_key_usage : "");
	if (full)
		fprintf(out, "        sha1 %s\n        sha256 %s\n", c->sha1, c->sha256);
}


/* Names the recipient by the GetCACert certificate it matches, so a
 * request encrypted to the wrong certificate stands out. */
static void print_envelope_brief(FILE *out, const struct txn *t, const struct scep_msg *m)
{
	const struct scep_cert *c;
	char cn[128];
	size_t i;

	if (!m->enveloped)
		return;
	fprintf(out, "  %s", m->content_enc_alg ? m->content_enc_alg : "envelope");
	if (m->weak_cipher)
		fputs(" (weak)", out);
	for (i = 0; i < m->n_recipients; i++) {
		const struct scep_recipient *r = &m->recipients[i];

		c = txn_ca_cert(t, r->issuer, r->serial);
		if (c)
			fprintf(out, "%s %s \"%s\"", i ? "," : " to", cert_role(c),
				subject_cn(c->subject, cn, sizeof(cn)));
		else
			fprintf(out, "%s serial %s of \"%s\"", i ? "," : " to", r->serial ? r->serial : "?",
				subject_cn(r->issuer, cn, sizeof(cn)));
	}
}

static void print_request_detail(FILE *out, const struct sd_options *opt, const struct txn *t,
				 const struct scep_msg *m)
{
	const struct scep_csr *csr = m->csr;

	print_envelope_brief(out, t, m);
	if (m->envelope_broken)
		fprintf(out, "  ENVELOPE BROKEN: %s", m->error ? m->error : "?");
	if (m->decrypt_state == SCEP_DECRYPT_FAILED)
		fprintf(out, "  not decrypted: %s", m->decrypt_error ? m->decrypt_error : "?");
	if (!csr)
		return;
	fprintf(out, "  CSR %s", csr->subject ? csr->subject : "?");
	if (csr->sans)
		fprintf(out, ", SAN %s", csr->sans);
	fprintf(out, ", %s %d", csr->key_type ? csr->key_type : "key", csr->key_bits);
	if (csr->has_challenge)
		fprintf(out, ", challenge %s", opt->show_secrets && csr->challenge ? csr->challenge : "****");
}

/* NDES's own words in a CertRep: its status text and HRESULT, each
 * after sep. */
static void print_ndes_status(FILE *out, const struct scep_msg *m, const char *sep)
{
	if (m->ms_status_text)
		fprintf(out, "%sNDES status \"%s\"", sep, m->ms_status_text);
	if (m->has_ms_hresult) {
		char *hr = scep_hresult_describe(m->ms_hresult);

		fprintf(out, "%sNDES HRESULT %s", sep, hr ? hr : "?");
		free(hr);
	}
}

static const char *signature_word(const struct scep_msg *m);

/* A CertRep that carries no certificate (NDES): who signed it, found in
 * the server's GetCACert answer or not found at all. The signer of one
 * that carries its certificate shows with -v only. */
static void print_reply_signer(FILE *out, const struct scep_msg *m)
{
	char cn[128];

	if (m->signer && m->signer_from == SCEP_SIGNER_GETCACERT)
		fprintf(out, "  signed by %s \"%s\" from GetCACert, signature %s", cert_role(m->signer),
			subject_cn(m->signer->subject, cn, sizeof(cn)), signature_word(m));
	else if (m->signer_missing)
		fprintf(out, "  signed by serial %s of \"%s\", certificate not in the capture",
			m->signer_serial ? m->signer_serial : "?", subject_cn(m->signer_issuer, cn, sizeof(cn)));
}

static void print_reply_detail(FILE *out, const struct scep_event *ev, const struct scep_msg *m)
{
	const char *st = scep_pki_status_name(m->pki_status);
	const char *fi = scep_fail_info_name(m->fail_info);
	char d[16];
	int echoed;

	if (st)
		fputs(st, out);
	else
		fprintf(out, "pkiStatus %d", m->pki_status);
	if (m->pki_status == SCEP_STATUS_FAILURE && fi)
		fprintf(out, " %s", fi);
	else if (m->pki_status == SCEP_STATUS_FAILURE && m->fail_info >= 0)
		fprintf(out, " failInfo %d (unknown)", m->fail_info);
	else if (m->pki_status == SCEP_STATUS_FAILURE)
		fputs(" (no failInfo)", out);
	if (m->fail_info_text)
		fprintf(out, " \"%s\"", m->fail_info_text);
	print_ndes_status(out, m, "  ");
	echoed = txn_nonce_echoed(ev);
	if (echoed == 1)
		fputs("  nonce echoed", out);
	else if (echoed == 0)
		fputs("  NONCE MISMATCH", out);
	print_reply_signer(out, m);
	if (m->envelope_broken)
		fprintf(out, "  ENVELOPE BROKEN: %s", m->error ? m->error : "?");
	else if (m->issued)
		fprintf(out, "  issued serial %s, valid to %s", m->issued->serial ? m->issued->serial : "?",
			fmt_date(m->issued->not_after, d, sizeof(d)));
	else if (m->decrypt_state == SCEP_DECRYPT_FAILED)
		fprintf(out, "  not decrypted: %s", m->decrypt_error ? m->decrypt_error : "?");
	else if (m->enveloped && m->decrypt_state != SCEP_DECRYPT_OK)
		fputs("  encrypted to the device's key (give the device key to see the certificate)", out);
}

static const char *signature_word(const struct scep_msg *m)
{
	if (m->signature_ok == 1 && m->lacks_content_type)
		return "valid; signed attributes lack contentType, which strict verifiers such as OpenSSL reject";
	if (m->signature_ok == 1)
		return "verifies";
	if (m->signature_ok == 0)
		return "DOES NOT VERIFY";
	if (!m->signer && m->signer_issuer && m->signer_missing)
		return "not checked (signer certificate not in the capture)";
	if (!m->signer && m->signer_issuer)
		return "not checked (no signer certificate: give it with --ca-cert)";
	return "not checked";
}

/* Who signed: the certificate, or only the issuer and serial the
 * SignerInfo names (NDES CertReps carry no certificate). */
static void print_signer(FILE *out, const struct scep_msg *m, int full)
{
	if (m->signer) {
		char *label = scep_signer_label(m);

		print_cert_detail(out, label ? label : "signer", m->signer, full);
		free(label);
		return;
	}
	if (m->signer_issuer && m->signer_missing)
		fprintf(out, "      signer: signed by %s serial %s, %s\n", m->signer_issuer,
			m->signer_serial ? m->signer_serial : "?", m->signer_missing);
	else if (m->signer_issuer)
		fprintf(out, "      signer: not in the message; SignerInfo names issuer %s, serial %s\n",
			m->signer_issuer, m->signer_serial ? m->signer_serial : "?");
}

static void print_csr(FILE *out, const struct sd_options *opt, const struct scep_csr *csr)
{
	fprintf(out, "      CSR %s, %s %d%s%s%s%s\n", csr->subject ? csr->subject : "?",
		csr->key_type ? csr->key_type : "key", csr->key_bits,
		csr->sans ? ", SAN " : "", csr->sans ? csr->sans : "",
		csr->extensions ? ", requests " : "", csr->extensions ? csr->extensions : "");
	if (csr->has_challenge)
		fprintf(out, "        challengePassword %s\n",
			opt->show_secrets && csr->challenge ? csr->challenge : "**** (--show-secrets)");
}

/* Everything the decoder found in one message. Capture mode shows it with
 * -v; decode shows it always, and with -v adds certificate fingerprints,
 * the other certificates and every signed attribute. */
static void print_msg_verbose(FILE *out, const struct sd_options *opt, const struct scep_msg *m)
{
	char hex[2 * SCEP_NONCE_MAX + 1];
	int full = opt->mode != MODE_DECODE || opt->verbose;
	/* what a message cut short never got to */
	const char *absent = m->cut ? "(not reached)" : "?";
	size_t i;

	if (!m->decoded) {
		fprintf(out, "      undecoded: %s\n", m->error ? m->error : "?");
		if (!m->partial)
			return;
	}
	fprintf(out, "      signed with %s / %s, signature %s%s\n",
		m->digest_alg ? m->digest_alg : absent, m->sig_alg ? m->sig_alg : absent, signature_word(m),
		m->ber_indefinite ? ", BER indefinite-length encoding" : "");
	fprintf(out, "      transactionID %s\n", m->transaction_id ? m->transaction_id : m->cut ? absent : "(none)");
	if (m->sender_nonce_len)
		fprintf(out, "      senderNonce %s\n", fmt_hex(m->sender_nonce, m->sender_nonce_len, hex, sizeof(hex)));
	if (m->recipient_nonce_len)
		fprintf(out, "      recipientNonce %s\n", fmt_hex(m->recipient_nonce, m->recipient_nonce_len, hex, sizeof(hex)));
	print_signer(out, m, full);
	for (i = 0; full && i < m->n_other_certs; i++)
		print_cert_detail(out, "certificate", m->other_certs[i], full);
	if (!full && m->n_other_certs)
		fprintf(out, "      %zu more certificate%s (-v lists them)\n", m->n_other_certs,
			m->n_other_certs == 1 ? "" : "s");
	if (m->has_signed_challenge)
		fprintf(out, "      challengePassword %s among the signed attributes, outside the CSR\n",
			opt->show_secrets && m->signed_challenge ? m->signed_challenge : "**** (--show-secrets)");
	if (m->enveloped) {
		fprintf(out, "      envelope %s, key transport %s\n",
			m->content_enc_alg ? m->content_enc_alg : absent, m->key_enc_alg ? m->key_enc_alg : absent);
		for (i = 0; i < m->n_recipients; i++)
			fprintf(out, "      recipient issuer %s, serial %s\n",
				m->recipients[i].issuer ? m->recipients[i].issuer : "?",
				m->recipients[i].serial ? m->recipients[i].serial : "?");
	}
	if (m->req_issuer)
		fprintf(out, "      asks for %s %s, issuer %s\n", m->req_serial ? "serial" : "subject",
			m->req_serial ? m->req_serial : m->req_subject ? m->req_subject : "?", m->req_issuer);
	if (m->csr)
		print_csr(out, opt, m->csr);
	if (m->issued)
		print_cert_detail(out, "issued", m->issued, full);
	if (opt->verbose > 1 || (opt->mode == MODE_DECODE && opt->verbose)) {
		for (i = 0; i < m->n_signed_attrs; i++)
			fprintf(out, "      attribute %s\n", m->signed_attrs[i]);
	}
	for (i = 0; i < m->n_notes; i++)
		fprintf(out, "      note: %s\n", m->notes[i]);
}

static void print_damage(FILE *out, int damaged, uint64_t gap_bytes, const char *why)
{
	if (damaged && gap_bytes)
		fprintf(out, "  [capture gap: %llu bytes missing]", (unsigned long long)gap_bytes);
	else if (damaged)
		fputs("  [capture gap: bytes missing]", out);
	if (why)
		fprintf(out, "  [%s]", why);
}

static void print_tls_brief(FILE *out, const struct scep_tls *tls)
{
	if (tls->version)
		fprintf(out, "  %s", tls->version);
	if (tls->cipher)
		fprintf(out, " %s", tls->cipher);
	if (tls->sni)
		fprintf(out, "  SNI %s", tls->sni);
	if (tls->alpn)
		fprintf(out, "  ALPN %s", tls->alpn);
}

static void print_tls_detail(FILE *out, const struct scep_tls *tls)
{
	fputs("      over", out);
	print_tls_brief(out, tls);
	if (tls->resumed)
		fprintf(out, "  resumed by %s", tls->resumed);
	fputc('\n', out);
	if (tls->offered)
		fprintf(out, "      client offered %s\n", tls->offered);
	if (tls->server_cert)
		fprintf(out, "      server certificate %s\n", tls->server_cert);
	if (tls->note)
		fprintf(out, "      decryption: %s\n", tls->note);
}

static void print_request_line(FILE *out, const struct block *b, const struct scep_event *ev)
{
	const struct sd_options *opt = b->opt;
	const struct txn *t = b->t;
	char sz[32], mt[32];

	if (ev->request_missing) {
		print_line_start(out, b, ev->res_first_ts_ns, ev, FRAMES_NONE);
		if (ev->req_snaplen || ev->res_snaplen)
			/* a request cut before its head ended never parsed as one */
			fprintf(out, "%-14s (request not readable: the capture cut it at %u bytes per packet)\n",
				scep_op_name(ev->op), ev->req_snaplen ? ev->req_snaplen : ev->res_snaplen);
		else
			fprintf(out, "%-14s (request not in the capture: it came before the capture started or was lost)\n",
				scep_op_name(ev->op));
		return;
	}
	print_line_start(out, b, ev->req_first_ts_ns, ev, FRAMES_REQUEST);
	fprintf(out, "%-14s %s", scep_op_name(ev->op), ev->method ? ev->method : "?");
	if (ev->op == SCEP_OP_PKIOPERATION && ev->req_snaplen && !ev->req_body_len)
		fputs(" (body cut)", out);
	else if (ev->op == SCEP_OP_PKIOPERATION)
		fprintf(out, " %s", fmt_size(ev->method && !strcmp(ev->method, "GET") ? ev->uri_len : ev->req_body_len,
					      sz, sizeof(sz)));
	if (ev->op == SCEP_OP_PKIOPERATION) {
		if (ev->request && ev->request->decoded) {
			fprintf(out, "  %s", msg_type_label(ev->request->message_type, mt, sizeof(mt)));
			print_request_detail(out, opt, t, ev->request);
		} else if (ev->request) {
			fprintf(out, "  undecoded: %s", ev->request->error ? ev->request->error : "?");
		} else if (ev->problem) {
			fprintf(out, "  %s", ev->problem);
		}
	} else if (ev->message_param) {
		fprintf(out, " message=%s", ev->message_param);
	}
	print_damage(out, ev->req_damaged, ev->req_gap_bytes, ev->req_damage);
	fputc('\n', out);
	if (opt->verbose && ev->tls)
		print_tls_detail(out, ev->tls);
	if (opt->verbose && ev->request)
		print_msg_verbose(out, opt, ev->request);
}

static void print_response_line(FILE *out, const struct block *b, const struct scep_event *ev)
{
	const struct sd_options *opt = b->opt;

	print_line_start(out, b, ev->res_first_ts_ns, ev, FRAMES_RESPONSE);
	/* a PKIOperation answered by an error page got no CertRep */
	fprintf(out, "%-14s %d  ", ev->op != SCEP_OP_PKIOPERATION ? scep_op_name(ev->op) :
				    ev->status == 200 ? "CertRep" : "response", ev->status);
	if (ev->status != 200)
		print_http_error(out, opt, ev);
	else if (ev->op == SCEP_OP_GETCACAPS)
		print_caps(out, ev);
	else if (ev->n_ca_certs)
		print_ca_certs(out, ev);
	else if (ev->reply && ev->reply->decoded)
		print_reply_detail(out, ev, ev->reply);
	else if (ev->reply)
		fprintf(out, "undecoded: %s", ev->reply->error ? ev->reply->error : "?");
	else if (ev->problem)
		fputs(ev->problem, out);
	else if (ev->error_text)
		fprintf(out, "\"%s\"", ev->error_text);
	if (ev->reset)
		fprintf(out, "  [%s]", ev->reset);
	print_damage(out, ev->res_damaged, ev->res_gap_bytes, ev->res_damage);
	fputc('\n', out);
	if (opt->verbose && ev->reply)
		print_msg_verbose(out, opt, ev->reply);
	if (opt->verbose) {
		size_t i;

		for (i = 0; i < ev->n_ca_certs; i++)
			print_cert_detail(out, cert_role(ev->ca_certs[i]), ev->ca_certs[i], 1);
	}
}

/* A TLS connection whose HTTP could not be read: what TLS itself says. */
static void print_tls_event(FILE *out, const struct block *b, const struct scep_event *ev)
{
	const struct scep_tls *tls = ev->tls;
	int verbose = b->opt->verbose;
	char up[32], down[32];

	print_line_start(out, b, ev->req_first_ts_ns, ev, FRAMES_CONNECTION);
	fputs("TLS           ", out);
	if (!tls) {
		fputc('\n', out);
		return;
	}
	print_tls_brief(out, tls);
	fprintf(out, "  %s up, %s down", fmt_size(tls->bytes_to_server, up, sizeof(up)),
		fmt_size(tls->bytes_to_client, down, sizeof(down)));
	if (tls->handshake_failed)
		fputs("  HANDSHAKE FAILED", out);
	if (tls->alert)
		fprintf(out, "  %s", tls->alert);
	if (tls->note)
		fprintf(out, "  (%s)", tls->note);
	fputc('\n', out);
	if (verbose) {
		if (tls->offered)
			fprintf(out, "      client offered %s\n", tls->offered);
		if (tls->server_cert)
			fprintf(out, "      server certificate %s\n", tls->server_cert);
	}
}

static void print_event(FILE *out, const struct block *b, const struct scep_event *ev)
{
	if (ev->op == SCEP_OP_TLS) {
		print_tls_event(out, b, ev);
		return;
	}
	print_request_line(out, b, ev);
	if (ev->has_response)
		print_response_line(out, b, ev);
	else {
		print_line_start(out, b, ev->req_last_ts_ns, ev, FRAMES_NONE);
		fputs("(no response)\n", out);
	}
}

/* The verdict first after the time, at a fixed column, so a column of
 * blocks reads down like tcpdump's lines; what does not fit goes to the
 * lines under it: transactionID and subject, why, what to check next. */
static void print_header(FILE *out, const struct sd_options *opt, const struct txn *t)
{
	char ts[48], cli[ENDPOINT_STRLEN], srv[ENDPOINT_STRLEN], addr[ENDPOINT_STRLEN], mt[32], d[32];
	const struct scep_event *first = txn_first_event(t);
	const char *verdict = txn_verdict_name(t->verdict);
	const char *kind;

	if (t->no_date)
		fprintf(out, "%s (no date in the log)  ", fmt_time_of_day_ns(t->first_ts_ns, 0, ts, sizeof(ts)));
	else
		fprintf(out, "%s  ", fmt_time_zone_ns(t->first_ts_ns, ts, sizeof(ts)));
	paint_verdict(out, opt, t->verdict);
	fprintf(out, "%*s  ", (int)(VERDICT_WIDTH - strlen(verdict)), "");
	if (t->transaction_id)
		kind = t->first_msg_type >= 0 ? msg_type_label(t->first_msg_type, mt, sizeof(mt)) : "PKIOperation";
	else if (t->first_msg_type == TXN_ENDPOINT_GROUP)
		kind = "endpoint";
	else if (t->first_msg_type == TXN_DEVICE_GROUP)
		kind = "device log";
	else if (t->first_msg_type == TXN_DEVICE_UNMATCHED)
		kind = "unmatched device events";
	else
		kind = "PKIOperation";
	fprintf(out, "%-12s  %7s  ", kind, fmt_duration_ns(t->last_ts_ns - t->first_ts_ns, d, sizeof(d)));
	if (t->server.family)
		fprintf(out, "%s -> %s", endpoint_str(&t->client, cli, sizeof(cli)), endpoint_str(&t->server, srv, sizeof(srv)));
	else
		fputs("(device log only)", out);
	if (first && first->host && strcmp(first->host, srv) &&
	    strcmp(first->host, endpoint_addr_str(&t->server, addr, sizeof(addr))))
		fprintf(out, " (%s)", first->host);
	fputc('\n', out);
	if (t->transaction_id || t->subject) {
		fputs("   ", out);
		if (t->transaction_id)
			fprintf(out, "txn %s%s", t->transaction_id, t->subject ? "  " : "");
		if (t->subject)
			fprintf(out, "subject %s", t->subject);
		fputc('\n', out);
	}
	if (t->reason) {
		fputs("   ", out);
		paint(out, opt, "\033[1m", "why:");
		fprintf(out, "  %s\n", t->reason);
	}
	if (t->advice) {
		fputs("   ", out);
		paint(out, opt, "\033[1m", "next:");
		fprintf(out, " %s\n", t->advice);
	}
}

static void print_device_event(FILE *out, const struct block *b, const struct txn_device_event *d)
{
	const struct txn *t = b->t;
	char rel[40], dur[32];

	if (d->ts_ns >= t->first_ts_ns)
		snprintf(rel, sizeof(rel), "+%s", fmt_duration_ns(d->ts_ns - t->first_ts_ns, dur, sizeof(dur)));
	else
		snprintf(rel, sizeof(rel), "-%s", fmt_duration_ns(t->first_ts_ns - d->ts_ns, dur, sizeof(dur)));
	fprintf(out, "   %-10s %-*s %-14s %-8s %s%s%s%s\n", rel, b->frames_width + 1, "device", d->source, "",
		d->what ? d->what : "?",
		d->matched_by ? "  (matched by " : "", d->matched_by ? d->matched_by : "", d->matched_by ? ")" : "");
}

/* Steps past the byte at i of a line, counting in *w the columns it
 * takes on a terminal: a colour escape none, a UTF-8 character one (at its
 * lead byte). Returns the next index. */
static size_t step_column(const char *p, size_t len, size_t i, size_t *w)
{
	if (p[i] == '\033') {
		while (i < len && p[i] != 'm')
			i++;
		return i + 1;
	}
	if (((unsigned char)p[i] & 0xC0) != 0x80)
		(*w)++;
	return i + 1;
}

static size_t visible_width(const char *p, size_t len)
{
	size_t i = 0, w = 0;

	while (i < len)
		i = step_column(p, len, i, &w);
	return w;
}

/* Where a wrapped line's continuation starts: under the detail column of
 * an exchange line ("   +3 ms  #10-11  PKIOperation  ..."), else under
 * the text after the label ("   why:  ..."). */
static size_t continuation_indent(const char *line, size_t len, size_t detail)
{
	size_t lead = strspn(line, " ");
	const char *colon = memchr(line, ':', len < 16 ? len : 16);

	if (lead == 3 && len > 3 && (line[3] == '+' || line[3] == '-'))
		return detail;
	if (colon && lead) {
		size_t at = (size_t)(colon - line) + 1;

		while (at < len && line[at] == ' ')
			at++;
		return at < 40 ? at : lead + 6;
	}
	return lead + 6;
}

/* Writes one line, broken at spaces so no piece passes LINE_WIDTH columns;
 * a word longer than the room left stays whole. */
static void put_wrapped_line(FILE *out, const char *line, size_t len, size_t detail)
{
	size_t indent = continuation_indent(line, len, detail), room = LINE_WIDTH;

	while (visible_width(line, len) > room) {
		size_t cut = 0, i, w = 0;

		for (i = 0; i < len && w <= room;) {
			if (line[i] == ' ' && i > 0 && line[i - 1] != ' ')
				cut = i;
			i = step_column(line, len, i, &w);
		}
		if (!cut) {
			/* a word wider than the room: alone on its line (the
			 * space looked for is the one after the word, not the
			 * line's indent) */
			size_t lead = strspn(line, " ");
			const char *sp = lead < len ? memchr(line + lead, ' ', len - lead) : NULL;

			if (!sp)
				break;
			cut = (size_t)(sp - line);
		}
		fwrite(line, 1, cut, out);
		fprintf(out, "\n%*s", (int)indent, "");
		while (cut < len && line[cut] == ' ')
			cut++;
		line += cut;
		len -= cut;
		room = LINE_WIDTH - indent;
	}
	fwrite(line, 1, len, out);
	fputc('\n', out);
}

/* detail: where exchange lines' details start (detail_column) */
static void put_wrapped(FILE *out, const char *text, size_t len, size_t detail)
{
	while (len) {
		const char *nl = memchr(text, '\n', len);
		size_t n = nl ? (size_t)(nl - text) : len;

		put_wrapped_line(out, text, n, detail);
		n += nl != NULL;
		text += n;
		len -= n;
	}
}

static void print_txn_block(FILE *out, const struct block *b)
{
	const struct sd_options *opt = b->opt;
	const struct txn *t = b->t;
	size_t i, d = 0;

	print_header(out, opt, t);
	/* wire and device events in one time order */
	for (i = 0; i < t->n_events; i++) {
		uint64_t at = t->events[i]->req_first_ts_ns ? t->events[i]->req_first_ts_ns : t->events[i]->res_first_ts_ns;

		while (d < t->n_device && t->device[d].order_ts_ns < at)
			print_device_event(out, b, &t->device[d++]);
		print_event(out, b, t->events[i]);
	}
	while (d < t->n_device)
		print_device_event(out, b, &t->device[d++]);
	for (i = 0; i < t->n_findings; i++) {
		fputs("   ", out);
		paint(out, opt, "\033[33m", "finding:");
		fprintf(out, " %s\n", t->findings[i]);
	}
}

/* Runs print into a buffer and writes it with each line kept within
 * LINE_WIDTH columns, unless -v asked for the details whole; frames_width:
 * the frames column of the exchange lines in it. */
static void print_fitted(FILE *out, const struct sd_options *opt, int frames_width,
			 void (*print)(FILE *, const void *), const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = opt->verbose ? NULL : open_memstream(&buf, &len);

	if (!mem) {
		print(out, arg);
		return;
	}
	print(mem, arg);
	if (fclose(mem) == 0)
		put_wrapped(out, buf, len, detail_column(frames_width));
	else
		print(out, arg);
	free(buf);
}

static void print_txn_fitted(FILE *out, const void *arg)
{
	print_txn_block(out, arg);
}

void sink_text_txn(FILE *out, const struct sd_options *opt, const struct txn *t)
{
	struct block b = { opt, t, block_frames_width(opt, t) };

	print_fitted(out, opt, b.frames_width, print_txn_fitted, &b);
}

static void print_verdict_counts(FILE *out, const struct sd_options *opt, const size_t *by_verdict)
{
	const char *sep = "";
	size_t v;

	for (v = VERDICT_ISSUED; v < VERDICT_COUNT; v++) {
		if (!by_verdict[v])
			continue;
		fprintf(out, "%s%zu ", sep, by_verdict[v]);
		paint_verdict(out, opt, (enum txn_verdict)v);
		sep = ", ";
	}
}

/* At most this many servers (and, with -v, clients) are listed by name. */
#define SUMMARY_GROUPS_SHOWN 10

static void print_groups(FILE *out, const struct sd_options *opt, const char *label,
			 const struct summary_group *g, size_t n, const struct summary_group *other)
{
	char ep[ENDPOINT_STRLEN];
	size_t i;

	for (i = 0; i < n && i < SUMMARY_GROUPS_SHOWN; i++) {
		fprintf(out, "%s %s: %zu (", i ? "," : label,
			g[i].ep.port ? endpoint_str(&g[i].ep, ep, sizeof(ep)) : endpoint_addr_str(&g[i].ep, ep, sizeof(ep)),
			g[i].total);
		print_verdict_counts(out, opt, g[i].by_verdict);
		fputc(')', out);
	}
	if (n > SUMMARY_GROUPS_SHOWN)
		fprintf(out, ", and %zu more", n - SUMMARY_GROUPS_SHOWN);
	if (other->total) {
		fprintf(out, ", others past --max-transactions: %zu (", other->total);
		print_verdict_counts(out, opt, other->by_verdict);
		fputc(')', out);
	}
	if (n)
		fputc('\n', out);
}

/* The budget was reached: what went, by cause, so a short report is not
 * taken for the whole story. */
static void print_memory(FILE *out, const struct report *r)
{
	const struct counters *c = r->cnt;
	const struct mem_budget *m = r->mem;
	const char *sep = "; refused: ";
	int k;

	fprintf(out, "memory budget reached (--max-memory %zu): %llu connection%s shed that never looked "
		"like SCEP, %llu idle one%s shed", m->limit,
		(unsigned long long)c->flows_shed_not_scep, c->flows_shed_not_scep == 1 ? "" : "s",
		(unsigned long long)c->flows_shed_idle, c->flows_shed_idle == 1 ? "" : "s");
	for (k = 0; k < MEM_KINDS; k++) {
		if (!m->refused[k])
			continue;
		fprintf(out, "%s%s %llu", sep, mem_kind_text((enum mem_kind)k),
			(unsigned long long)m->refused[k]);
		sep = ", ";
	}
	fputc('\n', out);
}

/* TLS secrets that were not kept: without them the connections they open
 * stay encrypted, and a report that shows no SCEP there must say why.
 * Secrets blocks of other types (not TLS) are only counted. */
static void print_secrets_dropped(FILE *out, const struct counters *c)
{
	if (c->keylog_capped || c->dsb_keylog_bytes_capped) {
		fputs("TLS secrets not kept, their connections stay encrypted:", out);
		if (c->keylog_capped)
			fprintf(out, " %llu key log entr%s past %u entries or the memory budget (--max-memory)%s",
				(unsigned long long)c->keylog_capped, c->keylog_capped == 1 ? "y" : "ies",
				KEYLOG_MAX_ENTRIES, c->dsb_keylog_bytes_capped ? ";" : "");
		if (c->dsb_keylog_bytes_capped)
			fprintf(out, " %llu byte%s of pcapng Decryption Secrets Blocks past the 16 MiB kept",
				(unsigned long long)c->dsb_keylog_bytes_capped, c->dsb_keylog_bytes_capped == 1 ? "" : "s");
		fputc('\n', out);
	}
	if (c->dsb_other_secrets)
		fprintf(out, "%llu pcapng Decryption Secrets Block%s of other secrets types (not a TLS key log) not used\n",
			(unsigned long long)c->dsb_other_secrets, c->dsb_other_secrets == 1 ? "" : "s");
}

/* Live -w and --json-file: what is in the files, and the evidence that
 * is not (held past the caps, or lost to write errors). */
static void print_out_files(FILE *out, const struct report *r)
{
	const struct outrot_stats *w = r->w_out, *j = r->json_out;
	const struct livew_stats *h = r->w_hold;

	if (w && h)
		fprintf(out, "-w %s: %llu packets of SCEP connections written (%llu bytes, %llu files); "
			"%llu packets (%llu bytes) of SCEP connections past the hold caps not written; %llu packets (%llu bytes) "
			"lost to write errors; %llu packets of connections without SCEP not written\n", r->w_path,
			(unsigned long long)w->records, (unsigned long long)w->bytes, (unsigned long long)w->files,
			(unsigned long long)h->held_capped, (unsigned long long)h->held_capped_bytes,
			(unsigned long long)w->lost_records, (unsigned long long)w->lost_bytes,
			(unsigned long long)h->not_scep);
	if (j)
		fprintf(out, "--json-file %s: %llu lines written (%llu bytes, %llu files); %llu lines (%llu bytes) lost to write errors\n",
			r->json_path, (unsigned long long)j->records, (unsigned long long)j->bytes,
			(unsigned long long)j->files, (unsigned long long)j->lost_records, (unsigned long long)j->lost_bytes);
}

static void print_hints(FILE *out, const struct report *r)
{
	size_t i;

	for (i = 0; i < r->n_hints; i++)
		fprintf(out, "%s\n", r->hints[i]);
}

static void print_tally(FILE *out, const char *what, const struct endpoint_tally *t)
{
	char buf[4 * (ENDPOINT_STRLEN + 80)];

	if (!t || !t->total)
		fprintf(out, "; %s: none", what);
	else
		fprintf(out, "; %s: %llu connection%s to %s", what, (unsigned long long)t->total, t->total == 1 ? "" : "s",
			endpoint_tally_str(t, buf, sizeof(buf)));
}

/* A capture without SCEP: what it held instead, so the reader knows
 * whether it was the wrong capture, the wrong leg, or encrypted. */
static void print_seen(FILE *out, const struct report *r)
{
	fputs("no SCEP seen", out);
	print_tally(out, "TLS", r->seen_tls);
	print_tally(out, "HTTP", r->seen_http);
	print_tally(out, "other TCP", r->seen_other);
	fprintf(out, "; %llu packet%s not TCP\n", (unsigned long long)r->cnt->not_tcp, r->cnt->not_tcp == 1 ? "" : "s");
}

static void print_summary(FILE *out, const void *arg)
{
	const struct report *r = arg;
	const struct sd_options *opt = r->opt;
	const struct counters *c = r->cnt;
	const struct summary *s = r->summary;
	char d1[32], d2[32], d3[32], d4[32];

	if (!s)
		return;
	fprintf(out, "%zu transaction%s%s", s->transactions, s->transactions == 1 ? "" : "s",
		s->transactions ? ": " : "");
	print_verdict_counts(out, opt, s->by_verdict);
	if (s->endpoint_groups) {
		size_t v, errors = 0;

		fprintf(out, "; %zu endpoint-only group%s", s->endpoint_groups, s->endpoint_groups == 1 ? "" : "s");
		for (v = VERDICT_ISSUED; v < VERDICT_COUNT; v++)
			errors += s->group_verdicts[v];
		if (errors) {
			fputs(" (", out);
			print_verdict_counts(out, opt, s->group_verdicts);
			fputc(')', out);
		}
	}
	fprintf(out, "\n%llu packet%s, %llu flow%s, %llu SCEP exchange%s | %llu damaged, %llu non-SCEP skipped, %llu capped\n",
		(unsigned long long)c->packets, c->packets == 1 ? "" : "s",
		(unsigned long long)c->flows, c->flows == 1 ? "" : "s",
		(unsigned long long)c->scep_exchanges, c->scep_exchanges == 1 ? "" : "s",
		(unsigned long long)s->damaged_exchanges,
		(unsigned long long)c->http_skipped, (unsigned long long)summary_capped(c));
	if (r->listing_filter)
		fprintf(out, "%zu shown (%s)\n", r->n_listed, r->listing_filter);
	if (c->capture_dropped)
		fprintf(out, "%llu packet%s dropped by the kernel during the capture: what they carried is missing, "
			"and transactions that miss a piece then are INCOMPLETE\n",
			(unsigned long long)c->capture_dropped, c->capture_dropped == 1 ? "" : "s");
	if (!s->transactions && !s->endpoint_groups && !c->scep_exchanges)
		print_seen(out, r);
	if (c->snap_length) {
		char why[160];

		fprintf(out, "%s\n", fmt_snap_cut(c->snap_length, c->truncated_packets, why, sizeof(why)));
	}
	print_out_files(out, r);
	if (r->memory_reached)
		print_memory(out, r);
	if (r->interrupted_by)
		fprintf(out, "interrupted by %s: the input was not read to its end; this report covers its first %llu packet%s\n",
			fmt_signal_name(r->interrupted_by), (unsigned long long)c->packets, c->packets == 1 ? "" : "s");
	if (c->txns_evicted || c->txn_events_capped)
		fprintf(out, "%llu transaction%s past --max-transactions counted here but not listed above; "
			"%llu exchange%s past --max-txn-exchanges not kept\n",
			(unsigned long long)c->txns_evicted, c->txns_evicted == 1 ? "" : "s",
			(unsigned long long)c->txn_events_capped, c->txn_events_capped == 1 ? "" : "s");
	if (c->tls_not_shown)
		fprintf(out, "%llu TLS connection%s without readable HTTP and no SCEP seen toward %s not shown (-v lists them)\n",
			(unsigned long long)c->tls_not_shown, c->tls_not_shown == 1 ? "" : "s",
			c->tls_not_shown == 1 ? "its server" : "their servers");
	if (c->tls_opaque_capped)
		fprintf(out, "%llu TLS connection%s without readable HTTP given up past --max-opaque-tls before the end: not shown even if %s carried SCEP later\n",
			(unsigned long long)c->tls_opaque_capped, c->tls_opaque_capped == 1 ? "" : "s",
			c->tls_opaque_capped == 1 ? "its server" : "their servers");
	print_secrets_dropped(out, c);
	print_hints(out, r);
	if (s->n_latency)
		fprintf(out, "latency (first PKIOperation to last CertRep, %zu enrollment%s): p50 %s, p90 %s, p99 %s, max %s\n",
			s->n_latency, s->n_latency == 1 ? "" : "s", fmt_duration_ns(s->latency_p50, d1, sizeof(d1)),
			fmt_duration_ns(s->latency_p90, d2, sizeof(d2)), fmt_duration_ns(s->latency_p99, d3, sizeof(d3)),
			fmt_duration_ns(s->latency_max, d4, sizeof(d4)));
	print_groups(out, opt, "servers:", s->servers, s->n_servers, &s->other_servers);
	if (opt->verbose)
		print_groups(out, opt, "clients:", s->clients, s->n_clients, &s->other_clients);
	if (opt->checksums)
		fprintf(out, "checksums: %llu bad IPv4 header, %llu bad TCP (verified with --checksums; offloading makes them wrong on the capturing host)\n",
			(unsigned long long)c->ip_checksum_bad, (unsigned long long)c->tcp_checksum_bad);
}

static void print_counters(FILE *out, const struct counters *c)
{
	fputs("counters:", out);
#define PRINT_COUNTER(name) fprintf(out, " " #name "=%llu", (unsigned long long)c->name);
	COUNTERS_LIST(PRINT_COUNTER)
#undef PRINT_COUNTER
	fputc('\n', out);
}

static void put_unless_streamed(FILE *out, const void *opt, const struct txn *t)
{
	if (!t->streamed)
		sink_text_txn(out, opt, t);
}

int sink_text_write(FILE *out, const struct report *r)
{
	int rc = 0;

	if (!r->opt->quiet)
		rc = listing_write(r->spill, r->txns, SPILL_LISTING, out, put_unless_streamed, r->opt);
	print_fitted(out, r->opt, FRAMES_WIDTH, print_summary, r);
	if (r->opt->verbose)
		print_counters(out, r->cnt);
	return rc;
}

static void print_msg_status(FILE *out, const struct scep_msg *m)
{
	const char *mt = scep_msg_type_name(m->message_type);
	const char *st = scep_pki_status_name(m->pki_status);
	const char *fi = scep_fail_info_name(m->fail_info);
	char mtbuf[32];

	fprintf(out, "      messageType %s", m->message_type >= 0 ?
		(mt ? mt : msg_type_label(m->message_type, mtbuf, sizeof(mtbuf))) :
		m->cut ? "(not reached)" : "(none)");
	if (m->pki_status >= 0 && st)
		fprintf(out, ", pkiStatus %s", st);
	else if (m->pki_status >= 0)
		fprintf(out, ", pkiStatus %d (unknown)", m->pki_status);
	if (m->fail_info >= 0 && fi && m->has_ms_hresult)
		fprintf(out, ", failInfo %s", fi);      /* the HRESULT below says why */
	else if (m->fail_info >= 0 && fi)
		fprintf(out, ", failInfo %s (%s)", fi, scep_fail_info_meaning(m->fail_info));
	else if (m->fail_info >= 0)
		fprintf(out, ", failInfo %d (unknown: none of RFC 8894's 0-4)", m->fail_info);
	if (m->fail_info_text)
		fprintf(out, ", failInfoText \"%s\"", m->fail_info_text);
	print_ndes_status(out, m, "\n      ");
	fputc('\n', out);
}

static void print_input_msg(FILE *out, const struct sd_options *opt, const struct scep_msg *m)
{
	if (m->content_type)
		fprintf(out, "      content type %s\n", m->content_type);
	if (m->decoded || m->partial)
		print_msg_status(out, m);
	print_msg_verbose(out, opt, m);
	if (m->decoded && m->error)
		fprintf(out, "      note: %s\n", m->error);
	if (m->enveloped && m->decrypt_state == SCEP_DECRYPT_FAILED)
		fprintf(out, "      not decrypted: %s\n", m->decrypt_error ? m->decrypt_error : "?");
	else if (m->enveloped && m->cut && m->decrypt_state == SCEP_DECRYPT_NOT_TRIED)
		fputs("      envelope cut short: no key can open it\n", out);
	else if (m->enveloped && m->message_type == SCEP_MT_CERTREP && m->decrypt_state != SCEP_DECRYPT_OK)
		fputs("      encrypted to the device's key: give the device key with --key to see the certificate\n", out);
	else if (m->enveloped && m->decrypt_state == SCEP_DECRYPT_NOT_TRIED)
		fputs("      envelope not opened: give the recipient's key with --key\n", out);
}

static void print_input_certs(FILE *out, const struct sd_options *opt, const struct scep_input *in)
{
	size_t i;

	fprintf(out, "      %s (a GetCACert answer), %zu certificate%s\n",
		in->certs_container ? in->certs_container : "certificates", in->n_certs,
		in->n_certs == 1 ? "" : "s");
	for (i = 0; i < in->n_certs; i++)
		print_cert_detail(out, cert_role(in->certs[i]), in->certs[i], opt->verbose);
	if (in->error)
		fprintf(out, "      note: %s\n", in->error);
}

static void print_input_caps(FILE *out, const struct scep_input *in)
{
	size_t i;

	fprintf(out, "      capabilities (a GetCACaps answer):");
	for (i = 0; i < in->n_caps; i++)
		fprintf(out, " %s", in->caps[i]);
	fputc('\n', out);
	if (in->error)
		fprintf(out, "      note: %s\n", in->error);
}

/* scepdump decode: one input, everything the decoder found. */
struct input_print {
	const struct sd_options *opt;
	const struct scep_input *in;
};

static void print_input(FILE *out, const void *arg)
{
	const struct input_print *p = arg;
	const struct sd_options *opt = p->opt;
	const struct scep_input *in = p->in;
	const struct scep_msg *m = in->msg;

	fprintf(out, "%s, %zu bytes%s\n", in->form, in->len,
		m && m->ber_indefinite ? ", BER with indefinite lengths" : "");
	if (in->repairs)
		fprintf(out, "      repaired: %s\n", in->repairs);
	if (in->b64_leftover)
		fprintf(out, "      base64 text cut: %zu character%s left over after the last whole byte\n",
			in->b64_leftover, in->b64_leftover == 1 ? "" : "s");
	switch (in->kind) {
	case SCEP_INPUT_MESSAGE:
		print_input_msg(out, opt, m);
		break;
	case SCEP_INPUT_CERTS:
		print_input_certs(out, opt, in);
		break;
	case SCEP_INPUT_CAPS:
		print_input_caps(out, in);
		break;
	default:
		fprintf(out, "      undecoded: %s\n", in->error ? in->error : "?");
	}
}

void sink_text_input(FILE *out, const struct sd_options *opt, const struct scep_input *in)
{
	struct input_print p = { opt, in };

	print_fitted(out, opt, FRAMES_WIDTH, print_input, &p);
}

struct event_print {
	const struct sd_options *opt;
	const struct scep_event *ev;
};

static void print_live_event(FILE *out, const void *arg)
{
	const struct event_print *p = arg;
	const struct scep_event *ev = p->ev;
	char ts[48], cli[ENDPOINT_STRLEN], srv[ENDPOINT_STRLEN], mt[32];
	const struct scep_msg *rq = ev->request, *rp = ev->reply;

	fprintf(out, "* %s  %s -> %s  %s", fmt_time_zone_ns(ev->req_first_ts_ns ? ev->req_first_ts_ns : ev->res_first_ts_ns, ts, sizeof(ts)),
		endpoint_str(&ev->client, cli, sizeof(cli)), endpoint_str(&ev->server, srv, sizeof(srv)),
		scep_op_name(ev->op));
	if (rq && rq->decoded)
		fprintf(out, " %s", msg_type_label(rq->message_type, mt, sizeof(mt)));
	if ((rq && rq->transaction_id) || (rp && rp->transaction_id))
		fprintf(out, " txn %s", rq && rq->transaction_id ? rq->transaction_id : rp->transaction_id);
	if (!ev->has_response)
		fputs(" -> no response yet", out);
	else
		fprintf(out, " -> %d", ev->status);
	if (rp && rp->decoded && scep_pki_status_name(rp->pki_status)) {
		fprintf(out, " %s", scep_pki_status_name(rp->pki_status));
		if (rp->pki_status == SCEP_STATUS_FAILURE && scep_fail_info_name(rp->fail_info))
			fprintf(out, " %s", scep_fail_info_name(rp->fail_info));
	}
	fputc('\n', out);
}

/* Live: one line per exchange as it completes, before its block. */
void sink_text_event(FILE *out, const struct sd_options *opt, const struct scep_event *ev)
{
	struct event_print p = { opt, ev };

	print_fitted(out, opt, FRAMES_WIDTH, print_live_event, &p);
}
