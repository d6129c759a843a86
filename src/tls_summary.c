/* tls_summary.c - turns what TLS said about a connection (tls_info) into
 * the lines the SCEP event and the sinks carry. Sits between the app layer
 * and the SCEP event, so neither learns the other's types; reads only
 * what tls.c already made printable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "scep.h"
#include "strutil.h"
#include "tls.h"
#include "tls_summary.h"

static const char *tls_cipher_label(const struct tls_info *ti, char *buf, size_t len)
{
	if (!ti->has_cipher_suite)
		return NULL;
	if (ti->cipher_name)
		return ti->cipher_name;
	snprintf(buf, len, "0x%04X", ti->cipher_suite);
	return buf;
}

static char *tls_alert_text(const struct tls_info *ti)
{
	const struct tls_alert *al;
	const char *name, *level;

	if (ti->failure)
		return strdup(ti->failure);
	if (!ti->n_alerts)
		return NULL;
	al = &ti->alerts[0];
	/* a TLS 1.2 alert after ChangeCipherSpec is ciphertext: neither its
	 * level nor its description can be read without the key */
	if (al->level < 0)
		return str_printf("%s alert (encrypted: no key)", al->dir == DIR_TO_SERVER ? "client" : "server");
	name = tls_alert_name(al->desc);
	level = tls_alert_level_name(al->level);
	return str_printf("%s alert %s %s", al->dir == DIR_TO_SERVER ? "client" : "server",
			  level ? level : "encrypted", name ? name : "(encrypted)");
}

static char *tls_offered_text(const struct tls_info *ti)
{
	char buf[160] = "";
	size_t i, n = 0;
	const char *name;

	for (i = 0; i < ti->n_offered_versions && n + 16 < sizeof(buf); i++) {
		name = tls_version_name(ti->offered_versions[i]);
		/* versions without a name are left out; RFC 8701 GREASE
		 * values are named "GREASE" and listed as the client sent them */
		if (name)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? ", " : "", name);
	}
	if (!n && ti->legacy_version && tls_version_name(ti->legacy_version))
		snprintf(buf, sizeof(buf), "%s", tls_version_name(ti->legacy_version));
	return buf[0] ? strdup(buf) : NULL;
}

struct scep_tls *tls_summary(const struct tls_conn *tls)
{
	const struct tls_info *ti = tls_get_info(tls);
	struct scep_tls *t = calloc(1, sizeof(*t));
	const char *v, *c;
	char buf[16];

	if (!t)
		return NULL;
	v = ti->version ? tls_version_name(ti->version) : NULL;
	c = tls_cipher_label(ti, buf, sizeof(buf));
	t->version = str_dup_or_null(v);
	t->cipher = str_dup_or_null(c);
	t->sni = str_dup_or_null(ti->sni);
	t->alpn = str_dup_or_null(ti->alpn);
	t->alert = tls_alert_text(ti);
	t->note = str_dup_or_null(ti->decrypt_note);
	t->handshake_failed = ti->handshake_failed;
	t->offered = tls_offered_text(ti);
	t->resumed = ti->resumed ? str_dup_or_null(ti->resumed_by) : NULL;
	if (ti->n_server_certs) {
		char d[16];
		const struct scep_cert *leaf = ti->server_certs[0];

		t->server_cert = str_printf("%s (issuer %s, to %s)", leaf->subject ? leaf->subject : "?",
					    leaf->issuer ? leaf->issuer : "?", fmt_date(leaf->not_after, d, sizeof(d)));
	}
	t->bytes_to_server = ti->bytes[DIR_TO_SERVER];
	t->bytes_to_client = ti->bytes[DIR_TO_CLIENT];
	return t;
}
