/* tls.c - TLS records of one TCP connection: handshake metadata, alerts,
 * and with a key log the application data decrypted (tls_crypto.c) and
 * handed upward as stream events. Trusts nothing from the wire or the key
 * log: records and handshake messages are read through struct rd and
 * every buffer is capped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "app.h"
#include "counters.h"
#include "keylog.h"
#include "membudget.h"
#include "reader.h"
#include "strutil.h"
#include "tls.h"
#include "tls_crypto.h"
#include "x509.h"

#define HS_MAX (256u * 1024)   /* one handshake message (certificate chains) */
/* a partial message under the cap plus one record's worth after it */
#define HS_BUF (HS_MAX + 4 + REC_MAX)
#define NAME_MAX_LEN 255       /* SNI, one ALPN protocol */
#define ALPN_LIST_MAX 256      /* printable ALPN offer list */

enum rec_type { RT_CCS = 20, RT_ALERT = 21, RT_HANDSHAKE = 22, RT_APPDATA = 23, RT_HEARTBEAT = 24 };
enum hs_type {
	HS_CLIENT_HELLO = 1, HS_SERVER_HELLO = 2, HS_NEW_SESSION_TICKET = 4,
	HS_ENCRYPTED_EXTENSIONS = 8, HS_CERTIFICATE = 11, HS_SERVER_KEY_EXCHANGE = 12,
	HS_SERVER_HELLO_DONE = 14, HS_CLIENT_KEY_EXCHANGE = 16, HS_FINISHED = 20, HS_KEY_UPDATE = 24
};
enum ext_type {
	EXT_SERVER_NAME = 0, EXT_ALPN = 16, EXT_ENCRYPT_THEN_MAC = 22, EXT_EMS = 23,
	EXT_SESSION_TICKET = 35, EXT_PRE_SHARED_KEY = 41, EXT_EARLY_DATA = 42,
	EXT_SUPPORTED_VERSIONS = 43
};


/* RFC 8446 4.1.3: a ServerHello with this random is a HelloRetryRequest. */
static const uint8_t HRR_RANDOM[32] = {
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C
};

static const char *side(enum stream_dir dir)
{
	return dir == DIR_TO_SERVER ? "client" : "server";
}

/* ---- probe ---- */

int tls_probe(const uint8_t *data, size_t len)
{
	struct rd r;
	uint8_t type, hs;
	uint16_t ver, n;

	rd_init(&r, data, len);
	if (!rd_u8(&r, &type) || !rd_be16(&r, &ver) || !rd_be16(&r, &n) || !rd_u8(&r, &hs))
		return TLS_PROBE_NO;
	if (type != RT_HANDSHAKE || ver < V_TLS10 || ver > V_TLS13 || n < 4 || n > REC_MAX)
		return TLS_PROBE_NO;
	if (hs == HS_CLIENT_HELLO)
		return TLS_PROBE_CLIENT;
	if (hs == HS_SERVER_HELLO)
		return TLS_PROBE_SERVER;
	return TLS_PROBE_NO;
}

/* ---- notes and verdicts ---- */

static void set_failed(struct tls_conn *c, char *why)
{
	if (c->info.handshake_complete || c->info.handshake_failed) {
		free(why);
		return;
	}
	c->info.handshake_failed = 1;
	c->info.failure = why;
}

static void check_complete(struct tls_conn *c)
{
	if (c->info.handshake_complete || c->info.handshake_failed)
		return;
	if (c->d[DIR_TO_SERVER].finished && c->d[DIR_TO_CLIENT].finished)
		c->info.handshake_complete = 1;
}

/* A record that cannot be decrypted tells a little by its shape: without
 * keys the end of the handshake is judged from who sent what. */
static void infer_without_keys(struct tls_conn *c, enum stream_dir dir, uint8_t type)
{
	struct dir_state *ds = &c->d[dir];

	ds->enc_records++;
	if (!c->tls13) {
		/* TLS 1.2: the first protected record after ChangeCipherSpec
		 * is that side's Finished */
		if (type == RT_HANDSHAKE && ds->enc_records == 1) {
			ds->finished = 1;
			c->info.handshake_inferred = 1;
			check_complete(c);
		}
		return;
	}
	/* TLS 1.3: the client's first protected record is its Finished (or
	 * an alert); a second one, or a server record after it (tickets),
	 * means the server took it. */
	if (dir == DIR_TO_CLIENT && c->d[DIR_TO_SERVER].enc_records)
		c->server_enc_after_client = 1;
	if (c->d[DIR_TO_SERVER].enc_records >= 2 || c->server_enc_after_client) {
		if (!c->info.handshake_complete && !c->info.handshake_failed) {
			c->info.handshake_complete = 1;
			c->info.handshake_inferred = 1;
		}
	}
}

/* ---- upward events ---- */

/* Losses matter upward once this direction's plaintext flows (or is about
 * to: the keys are there); without keys nothing goes up at all. */
static int upward(const struct tls_conn *c, const struct dir_state *ds)
{
	return ds->delivering || (ds->encrypted && c->info.decrypt == TLS_DECRYPT_OK &&
				  (ds->have_keys || !ds->key_tried));
}

static void emit(struct tls_conn *c, enum stream_ev_kind kind, enum stream_dir dir,
		 const uint8_t *data, size_t len, uint64_t first_frame, uint64_t first_ts,
		 uint64_t frame, uint64_t ts)
{
	struct stream_event ev = {
		.kind = kind, .dir = dir, .data = data, .len = len,
		.frame = frame, .first_frame = first_frame, .ts_ns = ts, .first_ts_ns = first_ts,
	};

	if (kind == STREAM_DATA)
		c->info.plaintext_bytes[dir] += len;
	if (c->cb)
		c->cb(c->cb_arg, &ev);
}

/* ---- handshake messages ---- */

/* The extensions block of a hello: returns 1 with *ext set, 0 when absent. */
static int hello_extensions(struct rd *r, struct rd *ext)
{
	uint16_t n;

	if (!rd_left(r))
		return 0;
	if (!rd_be16(r, &n) || !rd_sub(r, n, ext))
		return 0;
	return 1;
}

static char *printable_name(struct rd *r, size_t n)
{
	const uint8_t *p = rd_ptr(r);

	if (!rd_skip(r, n))
		return NULL;
	return str_printable(p, n, NAME_MAX_LEN);
}

static void parse_sni(struct tls_conn *c, struct rd *e)
{
	struct rd list;
	uint16_t n, nl;
	uint8_t t;

	if (!rd_be16(e, &n) || !rd_sub(e, n, &list))
		return;
	while (rd_left(&list)) {
		if (!rd_u8(&list, &t) || !rd_be16(&list, &nl))
			return;
		if (t == 0 && !c->info.sni) {
			c->info.sni = printable_name(&list, nl);
			return;
		}
		if (!rd_skip(&list, nl))
			return;
	}
}

/* protocol_name_list as "h2,http/1.1"; the first name for a ServerHello. */
static char *parse_alpn(struct rd *e)
{
	struct rd list;
	char buf[ALPN_LIST_MAX];
	size_t at = 0;
	uint16_t n;
	uint8_t pl;
	char *one;

	buf[0] = 0;
	if (!rd_be16(e, &n) || !rd_sub(e, n, &list))
		return NULL;
	while (rd_left(&list)) {
		if (!rd_u8(&list, &pl) || !(one = printable_name(&list, pl)))
			break;
		at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%s%s", at ? "," : "", one);
		free(one);
		if (at >= sizeof(buf))
			break;
	}
	return buf[0] ? strdup(buf) : NULL;
}

static void client_hello(struct tls_conn *c, struct rd *r, uint64_t frame)
{
	struct tls_info *in = &c->info;
	struct rd ext, e, list;
	uint16_t ver, n, type, v;
	uint8_t sid_len, vl;

	if (!rd_be16(r, &ver) || !rd_copy(r, c->client_random, 32) || !rd_u8(r, &sid_len) ||
	    sid_len > 32 || !rd_copy(r, c->ch_session_id, sid_len))
		return;
	/* a second ClientHello (after HelloRetryRequest) repeats the random */
	if (in->saw_client_hello)
		return;
	in->saw_client_hello = 1;
	in->client_hello_frame = frame;
	in->legacy_version = ver;
	c->ch_session_id_len = sid_len;
	in->session_id_offered = sid_len > 0;
	if (!rd_be16(r, &n) || !rd_skip(r, n) || !rd_u8(r, &sid_len) || !rd_skip(r, sid_len))
		return;
	if (!hello_extensions(r, &ext))
		return;
	while (rd_left(&ext)) {
		if (!rd_be16(&ext, &type) || !rd_be16(&ext, &n) || !rd_sub(&ext, n, &e))
			return;
		switch (type) {
		case EXT_SERVER_NAME:
			parse_sni(c, &e);
			break;
		case EXT_ALPN:
			free(in->alpn_offered);
			in->alpn_offered = parse_alpn(&e);
			break;
		case EXT_SUPPORTED_VERSIONS:
			if (!rd_u8(&e, &vl) || !rd_sub(&e, vl, &list))
				break;
			while (rd_be16(&list, &v) && in->n_offered_versions < TLS_MAX_VERSIONS)
				in->offered_versions[in->n_offered_versions++] = v;
			break;
		case EXT_SESSION_TICKET:
			in->ticket_offered = n > 0;
			break;
		case EXT_PRE_SHARED_KEY:
			in->psk_offered = 1;
			break;
		case EXT_EARLY_DATA:
			c->early_data_offered = 1;
			break;
		}
	}
}

static void server_hello(struct tls_conn *c, struct rd *r, uint64_t frame)
{
	struct tls_info *in = &c->info;
	uint8_t random[32], sid[32], sid_len, comp;
	uint16_t ver, suite, n, type, sel = 0;
	struct rd ext, e;
	int psk = 0, etm = 0, ems = 0;
	char *alpn = NULL;

	if (!rd_be16(r, &ver) || !rd_copy(r, random, 32) || !rd_u8(r, &sid_len) || sid_len > 32 ||
	    !rd_copy(r, sid, sid_len) || !rd_be16(r, &suite) || !rd_u8(r, &comp))
		return;
	if (hello_extensions(r, &ext)) {
		while (rd_left(&ext)) {
			if (!rd_be16(&ext, &type) || !rd_be16(&ext, &n) || !rd_sub(&ext, n, &e))
				break;
			switch (type) {
			case EXT_SUPPORTED_VERSIONS:
				rd_be16(&e, &sel);
				break;
			case EXT_ALPN:
				free(alpn);
				alpn = parse_alpn(&e);
				break;
			case EXT_PRE_SHARED_KEY:
				psk = 1;
				break;
			case EXT_ENCRYPT_THEN_MAC:
				etm = 1;
				break;
			case EXT_EMS:
				ems = 1;
				break;
			}
		}
	}
	in->saw_server_hello = 1;
	in->server_hello_frame = frame;
	in->version = sel ? sel : ver;
	in->has_cipher_suite = 1;
	in->cipher_suite = suite;
	c->suite = tls_suite_by_id(suite);
	in->cipher_name = c->suite ? c->suite->name : NULL;
	if (sel == V_TLS13 && !memcmp(random, HRR_RANDOM, 32)) {
		/* the real ServerHello follows the client's second hello */
		in->hello_retry = 1;
		c->tls13 = 1;
		free(alpn);
		return;
	}
	memcpy(c->server_random, random, 32);
	c->have_randoms = in->saw_client_hello;
	if (alpn) {
		free(in->alpn);
		in->alpn = alpn;
	}
	if (in->version == V_TLS13) {
		c->tls13 = 1;
		if (psk) {
			in->resumed = 1;
			in->resumed_by = "PSK";
		}
		tls_server_key_state_free(c);
		/* everything after ServerHello is protected, both ways */
		c->d[DIR_TO_SERVER].encrypted = c->d[DIR_TO_CLIENT].encrypted = 1;
		c->d[DIR_TO_SERVER].epoch = c->d[DIR_TO_CLIENT].epoch = EP_HANDSHAKE;
		return;
	}
	in->encrypt_then_mac = etm && c->suite && c->suite->kind == CK_CBC;
	in->extended_master_secret = ems;
	in->rsa_key_exchange = c->suite && tls_suite_kx(c->suite) && !strcmp(tls_suite_kx(c->suite), "RSA");
	if (sid_len && sid_len == c->ch_session_id_len && !memcmp(sid, c->ch_session_id, sid_len)) {
		in->resumed = 1;
		in->resumed_by = "session id";
	}
	/* the session hash is needed only for RSA key exchange with RFC 7627 */
	if (!in->rsa_key_exchange || !ems || in->resumed)
		tls_server_key_state_free(c);
}

/* RFC 5246 7.4.7.1: with RSA key exchange the client sends the premaster
 * secret encrypted to the server's key; kept for --tls-key. */
static void client_key_exchange(struct tls_conn *c, struct rd *r)
{
	uint16_t n;

	if (c->transcript_state == TR_RECORDING)
		c->transcript_state = TR_DONE;
	if (c->tls13 || !c->info.rsa_key_exchange || !keylog_server_keys(c->kl) || c->enc_premaster)
		return;
	/* SSL 3.0 sent it without the length; TLS 1.0 and later with it */
	if (!rd_be16(r, &n) || n != rd_left(r) || !n || n > ENC_PREMASTER_MAX)
		return;
	c->enc_premaster = malloc(n);
	if (!c->enc_premaster)
		return;
	rd_copy(r, c->enc_premaster, n);
	c->enc_premaster_len = n;
}

/* Each plaintext handshake message, header included, until the
 * ClientKeyExchange: RFC 7627 hashes them into the master secret. */
static void transcript_add(struct tls_conn *c, const uint8_t *msg, size_t n)
{
	uint8_t *grown = NULL;

	if (c->transcript_state != TR_RECORDING)
		return;
	if (n <= TRANSCRIPT_MAX - c->transcript_len && mem_charge(c->mem, MEM_tls, n) == 0) {
		grown = realloc(c->transcript, c->transcript_len + n);
		if (!grown)
			mem_release(c->mem, MEM_tls, n);
	}
	if (!grown) {
		/* the master secret cannot be derived: said when it is needed */
		tls_server_key_state_free(c);
		c->transcript_state = TR_LOST;
		return;
	}
	c->transcript = grown;
	memcpy(c->transcript + c->transcript_len, msg, n);
	c->transcript_len += n;
}

static void certificates(struct tls_conn *c, enum stream_dir dir, struct rd *r)
{
	struct scep_cert **arr = dir == DIR_TO_CLIENT ? c->info.server_certs : c->info.client_certs;
	size_t *n = dir == DIR_TO_CLIENT ? &c->info.n_server_certs : &c->info.n_client_certs;
	struct rd list, cert;
	uint8_t ctx_len, b[3];
	uint16_t ext_len;
	size_t len;

	/* TLS 1.3 (4.4.2) adds a request context and per-entry extensions */
	if (c->tls13 && (!rd_u8(r, &ctx_len) || !rd_skip(r, ctx_len)))
		return;
	if (!rd_copy(r, b, 3))
		return;
	len = (size_t)b[0] << 16 | (size_t)b[1] << 8 | b[2];
	if (!rd_sub(r, len, &list))
		return;
	while (rd_left(&list)) {
		if (!rd_copy(&list, b, 3))
			return;
		len = (size_t)b[0] << 16 | (size_t)b[1] << 8 | b[2];
		if (!rd_sub(&list, len, &cert))
			return;
		if (c->tls13 && (!rd_be16(&list, &ext_len) || !rd_skip(&list, ext_len)))
			return;
		if (*n < TLS_MAX_CERTS) {
			arr[*n] = scep_cert_from_der(rd_ptr(&cert), rd_left(&cert));
			if (arr[*n])
				(*n)++;
		}
	}
}

static void encrypted_extensions(struct tls_conn *c, struct rd *r)
{
	struct rd ext, e;
	uint16_t type, n;

	if (!rd_be16(r, &n) || !rd_sub(r, n, &ext))
		return;
	while (rd_left(&ext)) {
		if (!rd_be16(&ext, &type) || !rd_be16(&ext, &n) || !rd_sub(&ext, n, &e))
			return;
		if (type == EXT_ALPN) {
			free(c->info.alpn);
			c->info.alpn = parse_alpn(&e);
		}
	}
}

static void handshake_message(struct tls_conn *c, enum stream_dir dir, uint8_t type,
			      struct rd *body, uint64_t frame)
{
	struct dir_state *ds = &c->d[dir];

	switch (type) {
	case HS_CLIENT_HELLO:
		if (dir == DIR_TO_SERVER)
			client_hello(c, body, frame);
		break;
	case HS_SERVER_HELLO:
		if (dir == DIR_TO_CLIENT)
			server_hello(c, body, frame);
		break;
	case HS_ENCRYPTED_EXTENSIONS:
		if (dir == DIR_TO_CLIENT)
			encrypted_extensions(c, body);
		break;
	case HS_CERTIFICATE:
		ds->sent_server_flight = 1;
		certificates(c, dir, body);
		break;
	case HS_CLIENT_KEY_EXCHANGE:
		if (dir == DIR_TO_SERVER)
			client_key_exchange(c, body);
		break;
	case HS_SERVER_KEY_EXCHANGE:
	case HS_SERVER_HELLO_DONE:
		ds->sent_server_flight = 1;
		break;
	case HS_FINISHED:
		ds->finished = 1;
		check_complete(c);
		if (c->tls13 && ds->epoch == EP_HANDSHAKE) {
			/* RFC 8446 7.1: the sender's next records use its
			 * application traffic secret */
			ds->epoch = EP_APPLICATION;
			ds->key_tried = 0;
			tls_dir_keys_free(ds);
		}
		break;
	case HS_KEY_UPDATE:
		if (c->tls13 && ds->epoch == EP_APPLICATION)
			tls_key_update(c, dir);
		break;
	}
}

static void hs_consume(struct dir_state *ds, size_t n)
{
	memmove(ds->hs, ds->hs + n, ds->hs_len - n);
	ds->hs_len -= n;
}

/* Handshake bytes of one record: messages may span records (and several
 * may share one), so they are gathered per direction, capped at HS_MAX. */
static void handshake_bytes(struct tls_conn *c, enum stream_dir dir, const uint8_t *p, size_t n,
			    uint64_t frame)
{
	struct dir_state *ds = &c->d[dir];
	struct rd r, body;
	uint8_t type, b[3];
	size_t len, drop;

	if (ds->hs_skip) {
		drop = n < ds->hs_skip ? n : ds->hs_skip;
		ds->hs_skip -= drop;
		c->cnt->tls_bytes_capped += drop;
		p += drop;
		n -= drop;
	}
	if (!n)
		return;
	/* Held bytes are one partial message under HS_MAX (longer ones are
	 * dropped below), so a record always fits; the check is the cap. */
	if (n > HS_BUF - ds->hs_len) {
		c->cnt->tls_bytes_capped += n + ds->hs_len;
		ds->hs_len = 0;
		return;
	}
	if (ds->hs_len + n > ds->hs_cap) {
		size_t cap = ds->hs_cap ? ds->hs_cap : 4096;
		uint8_t *grown;

		while (cap < ds->hs_len + n)
			cap *= 2;
		cap = cap > HS_BUF ? HS_BUF : cap;
		if (mem_resize(c->mem, MEM_tls, ds->hs_cap, cap) < 0) {
			c->cnt->memory_refused++;
			c->cnt->tls_bytes_capped += n + ds->hs_len;
			ds->hs_len = 0;
			return;
		}
		grown = realloc(ds->hs, cap);
		if (!grown) {
			mem_resize(c->mem, MEM_tls, cap, ds->hs_cap);
			c->cnt->tls_bytes_capped += n;
			return;
		}
		ds->hs = grown;
		ds->hs_cap = cap;
	}
	memcpy(ds->hs + ds->hs_len, p, n);
	ds->hs_len += n;
	for (;;) {
		rd_init(&r, ds->hs, ds->hs_len);
		if (!rd_u8(&r, &type) || !rd_copy(&r, b, 3))
			break;
		len = (size_t)b[0] << 16 | (size_t)b[1] << 8 | b[2];
		if (len > HS_MAX) {
			drop = ds->hs_len < 4 + len ? ds->hs_len : 4 + len;
			ds->hs_skip = 4 + len - drop;
			c->cnt->tls_bytes_capped += drop;
			hs_consume(ds, drop);
			continue;
		}
		if (!rd_sub(&r, len, &body))
			break;
		if (!ds->encrypted)
			transcript_add(c, ds->hs, 4 + len);
		handshake_message(c, dir, type, &body, frame);
		hs_consume(ds, 4 + len);
	}
	/* most connections hold nothing between flights: give it back */
	if (!ds->hs_len) {
		mem_release(c->mem, MEM_tls, ds->hs_cap);
		free(ds->hs);
		ds->hs = NULL;
		ds->hs_cap = 0;
	}
}

/* ---- records ---- */

/* The buffer of one record split across TCP events, charged while held. */
static int rec_buffer_new(struct tls_conn *c, struct dir_state *ds)
{
	if (mem_charge(c->mem, MEM_tls, REC_HDR + REC_MAX) < 0) {
		c->cnt->memory_refused++;
		return -1;
	}
	ds->rec = malloc(REC_HDR + REC_MAX);
	if (!ds->rec) {
		mem_release(c->mem, MEM_tls, REC_HDR + REC_MAX);
		return -1;
	}
	return 0;
}

static void rec_buffer_free(struct tls_conn *c, struct dir_state *ds)
{
	if (ds->rec)
		mem_release(c->mem, MEM_tls, REC_HDR + REC_MAX);
	free(ds->rec);
	ds->rec = NULL;
}

static void alert(struct tls_conn *c, enum stream_dir dir, const uint8_t *p, size_t n,
		  uint64_t frame, int readable)
{
	struct tls_info *in = &c->info;
	struct rd r;
	uint8_t level, desc;
	int fatal;

	rd_init(&r, p, n);
	do {
		level = 0;
		desc = 0;
		if (readable && (!rd_u8(&r, &level) || !rd_u8(&r, &desc)))
			return;
		in->alerts_total++;
		if (in->n_alerts < TLS_MAX_ALERTS) {
			struct tls_alert *a = &in->alerts[in->n_alerts++];

			a->dir = dir;
			a->frame = frame;
			a->level = readable ? level : -1;
			a->desc = readable ? desc : -1;
		}
		if (!readable)
			return;
		/* RFC 8446 6: in TLS 1.3 every alert but these two is fatal,
		 * whatever level it claims */
		fatal = level == 2 || (c->tls13 && desc != 0 && desc != 90);
		if (fatal && !in->handshake_complete)
			set_failed(c, str_printf("%s sent fatal alert %s", side(dir),
						 tls_alert_name(desc) ? tls_alert_name(desc) : "(unknown)"));
	} while (rd_left(&r));
}

/* A direction that failed to decrypt stops decrypting, says why once,
 * and tells the layer above that its bytes are gone. */
static void decrypt_failed(struct tls_conn *c, enum stream_dir dir, const char *why, size_t n,
			   uint64_t ff, uint64_t fts, uint64_t frame, uint64_t ts)
{
	struct dir_state *ds = &c->d[dir];

	tls_set_decrypt(c, TLS_DECRYPT_FAILED,
		    str_printf("decrypt failed at record %llu (%s to %s): %s",
			       (unsigned long long)c->record_no, side(dir),
			       dir == DIR_TO_SERVER ? "server" : "client", why));
	tls_dir_keys_free(ds);
	ds->key_tried = 1;
	if (upward(c, ds))
		emit(c, STREAM_GAP, dir, NULL, n, ff, fts, frame, ts);
}

static void record(struct tls_conn *c, enum stream_dir dir, uint8_t type, uint16_t ver,
		   const uint8_t *p, size_t n, uint64_t ff, uint64_t fts, uint64_t frame, uint64_t ts)
{
	struct dir_state *ds = &c->d[dir];
	const char *why;
	size_t plen;

	c->info.records[dir]++;
	c->info.bytes[dir] += REC_HDR + n;
	c->cnt->tls_records++;
	c->record_no++;
	if (type == RT_CCS) {
		/* TLS 1.3 middlebox-compatibility CCS is plaintext noise */
		if (c->tls13 || ds->encrypted)
			return;
		if (dir == DIR_TO_CLIENT && c->info.saw_server_hello && !ds->sent_server_flight &&
		    !c->info.resumed) {
			/* abbreviated handshake without a session id match */
			c->info.resumed = 1;
			c->info.resumed_by = c->info.ticket_offered ? "session ticket" : "session id";
		}
		ds->encrypted = 1;
		tls_keys_12(c, dir);
		return;
	}
	if (ds->encrypted && (!c->tls13 || type == RT_APPDATA)) {
		if (c->tls13 && !ds->key_tried)
			tls_keys_13(c, dir);
		if (!ds->have_keys) {
			infer_without_keys(c, dir, type);
			if (type == RT_ALERT)
				alert(c, dir, p, n, frame, 0);
			if (ds->delivering)
				emit(c, STREAM_GAP, dir, NULL, n, ff, fts, frame, ts);
			return;
		}
		why = tls_open_record(c, ds, &type, ver, p, n, &plen);
		if (why) {
			/* 0-RTT data is under a secret we do not look up */
			if (c->tls13 && dir == DIR_TO_SERVER && ds->epoch == EP_HANDSHAKE &&
			    c->early_data_offered && !ds->delivering) {
				ds->enc_records++;
				return;
			}
			decrypt_failed(c, dir, why, n, ff, fts, frame, ts);
			return;
		}
		ds->seq++;
		c->info.records_decrypted[dir]++;
		c->cnt->tls_records_decrypted++;
		p = c->plain;
		n = plen;
	}
	switch (type) {
	case RT_ALERT:
		alert(c, dir, p, n, frame, 1);
		break;
	case RT_HANDSHAKE:
		handshake_bytes(c, dir, p, n, frame);
		break;
	case RT_APPDATA:
		if (ds->encrypted && ds->have_keys) {
			ds->delivering = 1;
			if (n)
				emit(c, STREAM_DATA, dir, p, n, ff, fts, frame, ts);
		} else if (!ds->encrypted) {
			/* application data before protection is on: a
			 * capture that started mid-connection */
			ds->enc_records++;
			if (!c->info.saw_server_hello)
				tls_set_decrypt(c, TLS_DECRYPT_UNSUPPORTED,
					    str_printf("handshake not captured: cannot decrypt"));
		}
		break;
	default:
		break;
	}
}

/* Parses a record header; 0 when it is not one (a lost boundary or not
 * TLS at all). */
static int rec_header(const uint8_t *h, uint8_t *type, uint16_t *ver, uint16_t *len)
{
	struct rd r;

	rd_init(&r, h, REC_HDR);
	if (!rd_u8(&r, type) || !rd_be16(&r, ver) || !rd_be16(&r, len))
		return 0;
	return *type >= RT_CCS && *type <= RT_HEARTBEAT && (*ver >> 8) == 3 && *len <= REC_MAX;
}

/* Whether record() would look at no byte of this record's body: ciphertext
 * of a direction with no key, and not an alert. TLS 1.2 looked its keys up
 * at ChangeCipherSpec; TLS 1.3 looks them up per epoch, in record(). */
static int record_is_opaque(const struct tls_conn *c, const struct dir_state *ds, uint8_t type)
{
	if (!ds->encrypted || ds->have_keys || type == RT_ALERT)
		return 0;
	return c->tls13 ? type == RT_APPDATA && ds->key_tried : 1;
}

int tls_unreadable(const struct tls_conn *c)
{
	int d;

	for (d = 0; d < 2; d++) {
		const struct dir_state *ds = &c->d[d];

		if (ds->stopped)
			continue;
		if (!ds->encrypted || ds->have_keys ||
		    !(c->tls13 ? ds->key_tried : c->key_block_state == -1))
			return 0;
	}
	return 1;
}

static void stop_dir(struct tls_conn *c, enum stream_dir dir, int why)
{
	struct dir_state *ds = &c->d[dir];

	ds->stopped = why;
	ds->rec_len = 0;
	if (why == ST_NOT_TLS) {
		c->info.not_tls[dir] = 1;
		c->cnt->tls_malformed++;
	} else {
		c->info.desynced[dir] = 1;
	}
}

static void data(struct tls_conn *c, const struct stream_event *ev)
{
	enum stream_dir dir = ev->dir;
	struct dir_state *ds = &c->d[dir];
	struct rd r, rec;
	uint8_t type;
	uint16_t ver, len;
	size_t take, total;

	if (ds->stopped) {
		c->cnt->tls_desync_bytes += ev->len;
		if (upward(c, ds))
			emit(c, STREAM_GAP, dir, NULL, ev->len, ev->first_frame, ev->first_ts_ns,
			     ev->frame, ev->ts_ns);
		return;
	}
	rd_init(&r, ev->data, ev->len);
	while (rd_left(&r) && !ds->stopped) {
		if (ds->skip) {
			take = ds->skip > rd_left(&r) ? rd_left(&r) : ds->skip;
			rd_skip(&r, take);
			ds->skip -= take;
			continue;
		}
		if (ds->rec_len) {
			/* finish the held record: its header first */
			if (ds->rec_len < REC_HDR) {
				take = REC_HDR - ds->rec_len;
				take = take > rd_left(&r) ? rd_left(&r) : take;
				rd_copy(&r, ds->rec + ds->rec_len, take);
				ds->rec_len += take;
				if (ds->rec_len < REC_HDR)
					return;
			}
			if (!rec_header(ds->rec, &type, &ver, &len)) {
				stop_dir(c, dir, ST_NOT_TLS);
				return;
			}
			total = REC_HDR + (size_t)len;
			take = total - ds->rec_len;
			take = take > rd_left(&r) ? rd_left(&r) : take;
			rd_copy(&r, ds->rec + ds->rec_len, take);
			ds->rec_len += take;
			if (ds->rec_len < total)
				return;
			ds->rec_len = 0;
			record(c, dir, type, ver, ds->rec + REC_HDR, len, ds->rec_first_frame,
			       ds->rec_first_ts, ev->frame, ev->ts_ns);
			/* held only while a record is split: idle connections
			 * keep no 18 kB buffers */
			rec_buffer_free(c, ds);
			continue;
		}
		if (rd_left(&r) >= REC_HDR) {
			if (!rec_header(rd_ptr(&r), &type, &ver, &len)) {
				stop_dir(c, dir, ST_NOT_TLS);
				return;
			}
			if ((size_t)len + REC_HDR <= rd_left(&r) && rd_skip(&r, REC_HDR) &&
			    rd_sub(&r, len, &rec)) {
				record(c, dir, type, ver, rd_ptr(&rec), len, ev->first_frame,
				       ev->first_ts_ns, ev->frame, ev->ts_ns);
				continue;
			}
		}
		/* a partial record that nobody can read (ciphertext without a
		 * key): counted now, its bytes skipped as they come, neither
		 * copied nor held */
		if (rd_left(&r) >= REC_HDR && record_is_opaque(c, ds, type)) {
			record(c, dir, type, ver, NULL, len, ev->first_frame, ev->first_ts_ns,
			       ev->frame, ev->ts_ns);
			ds->skip = REC_HDR + (size_t)len;
			continue;
		}
		/* a partial record: hold it (never more than one record) */
		if (!ds->rec && rec_buffer_new(c, ds) < 0) {
			c->cnt->tls_bytes_capped += rd_left(&r);
			stop_dir(c, dir, ST_DESYNC);
			return;
		}
		ds->rec_first_frame = ev->first_frame;
		ds->rec_first_ts = ev->first_ts_ns;
		ds->rec_len = rd_left(&r);
		rd_copy(&r, ds->rec, ds->rec_len);
	}
}

/* ---- the connection ---- */

struct tls_conn *tls_open(const struct keylog *kl, struct counters *cnt, const struct flow *f,
			  tls_plain_cb cb, void *cb_arg)
{
	struct tls_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (!cnt) {
		free(c);
		return NULL;
	}
	c->kl = kl;
	c->cnt = cnt;
	if (f)
		c->flow = *f;
	c->cb = cb;
	c->cb_arg = cb_arg;
	if (keylog_server_keys(kl))
		c->transcript_state = TR_RECORDING;
	cnt->tls_connections++;
	return c;
}

void tls_event(struct tls_conn *c, const struct stream_event *ev)
{
	struct dir_state *ds;

	if (!c || !ev || (ev->dir != DIR_TO_SERVER && ev->dir != DIR_TO_CLIENT))
		return;
	ds = &c->d[ev->dir];
	switch (ev->kind) {
	case STREAM_DATA:
		if (ev->len)
			data(c, ev);
		break;
	case STREAM_GAP:
		/* Record boundaries (and TLS 1.3 / ChaCha nonces) are lost
		 * with the bytes: this direction is not parsed any more. */
		c->cnt->tls_desync_bytes += ev->len;
		if (upward(c, ds))
			emit(c, STREAM_GAP, ev->dir, NULL, ev->len, ev->first_frame, ev->first_ts_ns,
			     ev->frame, ev->ts_ns);
		if (!ds->stopped)
			stop_dir(c, ev->dir, ST_DESYNC);
		break;
	case STREAM_CONFLICT:
		/* delivered ciphertext was contradicted: the records it
		 * carried may be misread, and decryption says so if they are */
		break;
	case STREAM_FIN:
	case STREAM_RST:
		c->ended = 1;
		emit(c, ev->kind, ev->dir, NULL, 0, ev->first_frame, ev->first_ts_ns, ev->frame,
		     ev->ts_ns);
		break;
	}
}

const struct tls_info *tls_get_info(const struct tls_conn *c)
{
	return c ? &c->info : NULL;
}

void tls_finish(struct tls_conn *c)
{
	struct tls_info *in;

	if (!c)
		return;
	in = &c->info;
	if (!in->saw_client_hello || in->handshake_complete || in->handshake_failed)
		return;
	if (c->tls13 && c->d[DIR_TO_SERVER].enc_records == 1 && !c->d[DIR_TO_SERVER].have_keys &&
	    !c->server_enc_after_client) {
		in->handshake_inferred = 1;
		set_failed(c, str_printf("client ended after one protected record "
					 "(an alert, most likely; no key to read it)"));
		return;
	}
	set_failed(c, str_printf("%s before the handshake completed",
				 !in->saw_server_hello ? "no ServerHello" :
				 c->ended ? "connection ended" : "capture ended"));
}

void tls_close(struct tls_conn *c)
{
	size_t i;
	int d;

	if (!c)
		return;
	tls_finish(c);
	tls_server_key_state_free(c);
	for (d = 0; d < 2; d++) {
		tls_dir_keys_free(&c->d[d]);
		rec_buffer_free(c, &c->d[d]);
		mem_release(c->mem, MEM_tls, c->d[d].hs_cap);
		free(c->d[d].hs);
	}
	if (c->key_block) {
		OPENSSL_cleanse(c->key_block, KEY_BLOCK_LEN);
		free(c->key_block);
	}
	for (i = 0; i < c->info.n_server_certs; i++)
		scep_cert_free(c->info.server_certs[i]);
	for (i = 0; i < c->info.n_client_certs; i++)
		scep_cert_free(c->info.client_certs[i]);
	free(c->info.sni);
	free(c->info.alpn_offered);
	free(c->info.alpn);
	free(c->info.failure);
	free(c->info.decrypt_note);
	if (c->plain)
		mem_release(c->mem, MEM_tls, REC_MAX);
	free(c->plain);
	free(c);
}

void tls_set_budget(struct tls_conn *c, struct mem_budget *mem)
{
	if (c)
		c->mem = mem;
}

/* --- registration with the application-layer dispatcher (app.h) -------- */

/* A hello names its sender: a ClientHello comes from the client. */
static int tls_app_probe(const uint8_t *data, size_t len, enum stream_dir dir)
{
	int r = tls_probe(data, len);

	return r != TLS_PROBE_NO && (r == TLS_PROBE_CLIENT) == (dir == DIR_TO_SERVER);
}

static void *tls_app_open(const struct app_open *o)
{
	struct tls_conn *c = tls_open(o->env->keylog, o->env->cnt, o->view, o->on_plaintext, o->arg);

	tls_set_budget(c, o->env->mem);
	return c;
}

static int tls_app_event(void *c, const struct stream_event *ev)
{
	tls_event(c, ev);
	return tls_unreadable(c) ? FLOW_BYTES_UNREAD : FLOW_BYTES_READ;
}

static void tls_app_close(void *c)
{
	tls_close(c);
}

const struct app_layer_ops tls_app_ops = {
	.probe = tls_app_probe,
	.open = tls_app_open,
	.event = tls_app_event,
	.close = tls_app_close,
};
