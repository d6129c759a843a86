/* devlog_android.c - the Android Company Portal / OMADM log: jscep
 * transport and transaction lines and the Intune cert state machines
 * (Native{Scep,Root}CertInstallStateMachine). Line text is untrusted and
 * parsed through struct rd only. Line shape, tab or space separated:
 *   2018-02-27T05:16:20.6150000  VERB  Event  <class>  <pid>  <tid>  <message>
 * The time has 7 fractional digits (.NET ticks) and no UTC offset. */
#include <stdlib.h>
#include <string.h>

#include "devlog_reader.h"
#include "scep.h"

static const char SRC[] = "android";

static int parse_ts(struct rd *r, int64_t *local_s, int64_t *frac, int64_t *off, int *has_off)
{
	return devlog_rd_iso8601(r, local_s, frac, off, has_off);
}

int devlog_android_probe(struct rd line)
{
	int64_t s, f, o;
	int ho;
	struct rd lvl;

	return parse_ts(&line, &s, &f, &o, &ho) && devlog_rd_ws(&line) > 0 &&
	       devlog_rd_token(&line, &lvl);
}

static int all_digits(const struct rd *r)
{
	size_t i;

	if (rd_left(r) == 0)
		return 0;
	for (i = 0; i < rd_left(r); i++)
		if (rd_ptr(r)[i] < '0' || rd_ptr(r)[i] > '9')
			return 0;
	return 1;
}

/* The value of key in a commons-lang ToStringBuilder dump
 * "Class@hash[k=v,k=v]": from after "k=" to the ',' or ']' that closes it
 * at bracket depth 0 ("Nonce [..]" values hold brackets). */
static int jscep_field(const struct rd *msg, const char *key, struct rd *val)
{
	static const char *const lead[] = { "[", "," };
	size_t i, klen = strlen(key);

	for (i = 0; i < 2; i++) {
		struct rd t = *msg;
		char pat[64];
		size_t at, n = 0;
		int depth = 0;

		if (klen + 3 > sizeof(pat))
			return 0;
		memcpy(pat, lead[i], 1);
		memcpy(pat + 1, key, klen);
		memcpy(pat + 1 + klen, "=", 2);
		at = devlog_rd_find(&t, pat);
		if (at == SIZE_MAX)
			continue;
		rd_skip(&t, at + strlen(pat));
		while (n < rd_left(&t)) {
			uint8_t c = rd_ptr(&t)[n];

			if (c == '[')
				depth++;
			else if (c == ']' && depth-- == 0)
				break;
			else if (c == ',' && depth == 0)
				break;
			n++;
		}
		return rd_sub(&t, n, val);
	}
	return 0;
}

static int name_index(const struct rd *v, const char *const *names, const int *vals, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (devlog_eq(v, names[i]))
			return vals[i];
	if (all_digits(v) && rd_left(v) < 4) {
		int x = 0;
		struct rd t = *v;

		devlog_rd_digits(&t, rd_left(v), &x);
		return x;
	}
	return -1;
}

static int pki_status_of(const struct rd *v)
{
	static const char *const names[] = { "SUCCESS", "FAILURE", "PENDING" };
	static const int vals[] = { SCEP_STATUS_SUCCESS, SCEP_STATUS_FAILURE, SCEP_STATUS_PENDING };

	return name_index(v, names, vals, 3);
}

static int fail_info_of(const struct rd *v)
{
	/* jscep's FailInfo enum constants */
	static const char *const names[] = { "badAlg", "badMessageCheck", "badRequest",
					     "badTime", "badCertId" };
	static const int vals[] = { SCEP_FAIL_BADALG, SCEP_FAIL_BADMESSAGECHECK, SCEP_FAIL_BADREQUEST,
				    SCEP_FAIL_BADTIME, SCEP_FAIL_BADCERTID };

	return name_index(v, names, vals, 5);
}

static int msg_type_of(const struct rd *v)
{
	/* jscep's MessageType enum constants */
	static const char *const names[] = { "CERT_REP", "RENEWAL_REQ", "UPDATE_REQ", "PKCS_REQ",
					     "GET_CERT_INITIAL", "GET_CERT", "GET_CRL" };
	static const int vals[] = { SCEP_MT_CERTREP, SCEP_MT_RENEWALREQ, SCEP_MT_UPDATEREQ,
				    SCEP_MT_PKCSREQ, SCEP_MT_CERTPOLL, SCEP_MT_GETCERT,
				    SCEP_MT_GETCRL };

	return name_index(v, names, vals, 7);
}

/* "Nonce [0A1B...]" as jscep prints it: the part inside the brackets. */
static char *nonce_of(const struct rd *v)
{
	struct rd t = *v;

	if (devlog_rd_lit(&t, "Nonce [") && rd_left(&t) > 0 && rd_ptr(&t)[rd_left(&t) - 1] == ']')
		t.len--;
	return devlog_strdup(&t, 128);
}

/* Fills e from a jscep PkiMessage dump; 1 when it was one. */
static int jscep_message(const struct rd *msg, struct devlog_event *e)
{
	struct rd v;
	int any = 0;

	if (devlog_rd_find(msg, "org.jscep.message.") == SIZE_MAX)
		return 0;
	if (jscep_field(msg, "transId", &v) && !devlog_eq(&v, "<null>")) {
		e->transaction_id = devlog_strdup(&v, 256);
		any = 1;
	}
	if (jscep_field(msg, "pkiStatus", &v)) {
		e->pki_status = pki_status_of(&v);
		any = 1;
	}
	if (jscep_field(msg, "failInfo", &v) && !devlog_eq(&v, "<null>"))
		e->fail_info = fail_info_of(&v);
	if (jscep_field(msg, "messageType", &v))
		e->message_type = msg_type_of(&v);
	if (jscep_field(msg, "senderNonce", &v) && !devlog_eq(&v, "<null>"))
		e->sender_nonce = nonce_of(&v);
	if (jscep_field(msg, "recipientNonce", &v) && !devlog_eq(&v, "<null>"))
		e->recipient_nonce = nonce_of(&v);
	return any || e->message_type >= 0;
}

/* "GetCACert(ca) to https://..." -> op and url. */
static void op_and_url(struct rd t, struct devlog_event *e)
{
	struct rd op = t, url;
	size_t n = 0, at;

	while (n < rd_left(&op) && rd_ptr(&op)[n] != '(' && rd_ptr(&op)[n] != ' ')
		n++;
	op.len = n;
	at = devlog_rd_find(&t, " to ");
	if (at != SIZE_MAX) {
		/* the URL is the last " to " target: args may hold the words */
		struct rd rest = t;
		size_t next;

		rd_skip(&rest, at + 4);
		while ((next = devlog_rd_find(&rest, " to ")) != SIZE_MAX)
			rd_skip(&rest, next + 4);
		if (devlog_rd_token(&rest, &url))
			e->url = devlog_strdup(&url, DEVLOG_LINE_MAX);
	}
	if (e->url) {
		struct rd u;

		rd_init(&u, e->url, strlen(e->url));
		e->op = devlog_url_op(&u);
	}
	if (!e->op && rd_left(&op) > 0)
		e->op = devlog_strdup(&op, 64);
}

static int relevant_component(const struct rd *comp, const struct rd *msg)
{
	return devlog_rd_find_ci(comp, "certmgr") != SIZE_MAX ||
	       devlog_rd_find_ci(comp, "jscep") != SIZE_MAX ||
	       devlog_rd_find_ci(comp, "scep") != SIZE_MAX ||
	       devlog_rd_find_ci(msg, "scep") != SIZE_MAX;
}

static int is_error_level(const struct rd *lvl)
{
	return devlog_eq(lvl, "ERROR") || devlog_eq(lvl, "SEVERE") || devlog_eq(lvl, "FATAL") ||
	       devlog_eq(lvl, "WARN") || devlog_eq(lvl, "WARNING") || devlog_eq(lvl, "E");
}

/* The state machines' lines: "SCEP cert '<name>' state changed from A to
 * B" (NativeScepCertInstallStateMachine) and "Root cert '<hash>' ..."
 * (NativeRootCertInstallStateMachine). The Intune troubleshooting page
 * defines delivery of a SCEP certificate as CERT_ENROLLED ->
 * CERT_INSTALL_REQUESTED -> CERT_INSTALLING -> CERT_ACCESS_REQUESTED ->
 * CERT_ACCESS_GRANTED: no CERT_INSTALL_SUCCESS for it (only the root
 * shows that state). So a SCEP certificate leaving CERT_INSTALLING for a
 * state that is no failure is installed; CERT_ACCESS_GRANTED is the app
 * given its key. The root's states are kept apart (root_cert): a trusted
 * root installed says nothing of the enrolled certificate. */
static int state_line(struct rd msg, struct devlog_event *e)
{
	static const char mid[] = "' state changed from ";
	size_t q = devlog_rd_find(&msg, " cert '"), at, next;
	struct rd name, rest, from, who;
	int failed;

	if (q == SIZE_MAX)
		return 0;
	who = msg;
	who.len = q;
	e->root_cert = devlog_rd_find(&who, "Root") != SIZE_MAX;
	rest = msg;
	rd_skip(&rest, q + strlen(" cert '"));
	/* the name may hold quotes: the last "' state changed from " ends it */
	at = devlog_rd_find(&rest, mid);
	if (at == SIZE_MAX)
		return 0;
	{
		struct rd t = rest;

		rd_skip(&t, at + strlen(mid));
		while ((next = devlog_rd_find(&t, mid)) != SIZE_MAX) {
			at += strlen(mid) + next;
			rd_skip(&t, next + strlen(mid));
		}
	}
	name = rest;
	name.len = at;
	rd_skip(&rest, at + strlen(mid));
	if (!devlog_rd_token(&rest, &from) || !devlog_rd_ws(&rest) || !devlog_rd_lit(&rest, "to") ||
	    !devlog_rd_ws(&rest))
		return 0;
	devlog_rd_rtrim(&rest);
	e->cert_name = devlog_strdup(&name, 512);
	e->state_from = devlog_strdup(&from, 64);
	e->state_to = devlog_strdup(&rest, 64);
	failed = devlog_rd_find(&rest, "FAIL") != SIZE_MAX || devlog_rd_find(&rest, "ERROR") != SIZE_MAX ||
		 devlog_rd_find(&rest, "DENIED") != SIZE_MAX;
	if (failed)
		e->kind = DEVLOG_ERROR;
	else if (e->root_cert)
		e->kind = DEVLOG_CERT_STATE;
	else if (devlog_eq(&rest, "CERT_ACCESS_GRANTED"))
		e->kind = DEVLOG_ACCESS_GRANTED;
	else if (devlog_eq(&rest, "CERT_INSTALL_SUCCESS") || devlog_eq(&from, "CERT_INSTALLING"))
		e->kind = DEVLOG_INSTALLED;
	else
		e->kind = DEVLOG_CERT_STATE;
	return 1;
}

int devlog_android_line(struct devlog_ctx *c, struct rd line)
{
	struct devlog_event e;
	struct rd lvl, comp, msg, t, pid, tid, kind;
	int64_t local_s, frac, off = 0;
	int has_off = 0;

	devlog_rd_ws(&line);
	if (!parse_ts(&line, &local_s, &frac, &off, &has_off) || !devlog_rd_ws(&line) ||
	    !devlog_rd_token(&line, &lvl))
		return 0;
	devlog_rd_ws(&line);
	/* "Event <class> <pid> <tid> message"; a line without the numeric
	 * columns keeps everything after the level as its message */
	t = line;
	rd_init(&comp, NULL, 0);
	msg = line;
	if (devlog_rd_token(&t, &kind) && devlog_rd_ws(&t) && devlog_rd_token(&t, &comp) &&
	    devlog_rd_ws(&t) && devlog_rd_token(&t, &pid) && all_digits(&pid) &&
	    devlog_rd_ws(&t) && devlog_rd_token(&t, &tid) && all_digits(&tid)) {
		devlog_rd_ws(&t);
		msg = t;
	} else {
		rd_init(&comp, NULL, 0);
	}

	devlog_event_init(&e, DEVLOG_OTHER, SRC);
	e.ts_ns = devlog_ts(c, local_s, frac, has_off ? off : c->o->default_tz_offset_s);
	e.ts_has_offset = has_off;

	t = msg;
	if (devlog_rd_lit(&t, "Sending ")) {
		e.kind = DEVLOG_REQUEST_SENT;
		if (jscep_message(&t, &e)) {
			e.op = strdup("PKIOperation");
		} else {
			op_and_url(t, &e);
			if (e.url && e.op && !strcmp(e.op, "PKIOperation")) {
				struct rd u;

				rd_init(&u, e.url, strlen(e.url));
				devlog_decode_message(c, &u, &e);
			} else if (!e.url && devlog_rd_find(&t, "CMSSignedData") != SIZE_MAX) {
				/* EnrollmentTransaction "Sending org.spongycastle.cms.
				 * CMSSignedData@ad57775": the signed pkiMessage on its
				 * way, no URL (the transport logs that) */
				free(e.op);
				e.op = strdup("PKIOperation");
			}
		}
	} else if (devlog_rd_lit(&t, "Received '")) {
		int code;
		size_t at;

		e.kind = DEVLOG_RESPONSE;
		if (devlog_rd_digits(&t, 3, &code))
			e.http_status = code;
		at = devlog_rd_find(&t, "' when sending ");
		if (at != SIZE_MAX) {
			rd_skip(&t, at + strlen("' when sending "));
			op_and_url(t, &e);
		}
	} else if (jscep_message(&msg, &e)) {
		/* "Response: org.jscep.message.CertRep@...[...]" */
		e.kind = devlog_rd_find(&msg, "CertRep") != SIZE_MAX || e.pki_status >= 0
				 ? DEVLOG_RESPONSE : DEVLOG_REQUEST_SENT;
		if (e.kind == DEVLOG_REQUEST_SENT)
			e.op = strdup("PKIOperation");
	} else if (state_line(msg, &e)) {
		/* kind set from the target state */
	} else if (is_error_level(&lvl) && relevant_component(&comp, &msg)) {
		e.kind = DEVLOG_ERROR;
	} else if (rd_left(&comp) > 0 && devlog_rd_find(&comp, "jscep") != SIZE_MAX &&
		   devlog_rd_find(&msg, "Exception") != SIZE_MAX) {
		/* jscep logs failures (TransactionException, ...) at any level */
		e.kind = DEVLOG_ERROR;
	} else if (!relevant_component(&comp, &msg)) {
		c->out->ignored_lines++;
		devlog_event_clear(&e);
		return 1;
	}
	if (e.kind == DEVLOG_ERROR && !e.has_error_code)
		e.has_error_code = devlog_find_hex_code(&msg, &e.error_code);
	if (rd_left(&comp) > 0)
		e.component = devlog_strdup(&comp, 160);
	e.level = devlog_strdup(&lvl, 16);
	e.text = devlog_strdup(&msg, DEVLOG_TEXT_MAX);
	devlog_emit(c, &e);
	return 1;
}
