/* tls_names.c - TLS's numbers by name: versions, cipher suites (with what
 * decrypting each needs, read by tls_crypto.c), alerts and their levels. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tls.h"
#include "tls_crypto.h"

static const struct suite SUITES[] = {
	{ 0x1301, "TLS_AES_128_GCM_SHA256", CK_GCM, 1, 16, "AES-128-GCM", NULL, 0, "SHA256" },
	{ 0x1302, "TLS_AES_256_GCM_SHA384", CK_GCM, 1, 32, "AES-256-GCM", NULL, 0, "SHA384" },
	{ 0x1303, "TLS_CHACHA20_POLY1305_SHA256", CK_CHACHA, 1, 32, "ChaCha20-Poly1305", NULL, 0, "SHA256" },
	{ 0x1304, "TLS_AES_128_CCM_SHA256", CK_NONE, 1, 0, NULL, NULL, 0, NULL },
	{ 0x1305, "TLS_AES_128_CCM_8_SHA256", CK_NONE, 1, 0, NULL, NULL, 0, NULL },
	{ 0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", CK_GCM, 0, 16, "AES-128-GCM", NULL, 0, "SHA256" },
	{ 0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", CK_GCM, 0, 32, "AES-256-GCM", NULL, 0, "SHA384" },
	{ 0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", CK_GCM, 0, 16, "AES-128-GCM", NULL, 0, "SHA256" },
	{ 0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", CK_GCM, 0, 32, "AES-256-GCM", NULL, 0, "SHA384" },
	{ 0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", CK_GCM, 0, 16, "AES-128-GCM", NULL, 0, "SHA256" },
	{ 0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", CK_GCM, 0, 32, "AES-256-GCM", NULL, 0, "SHA384" },
	{ 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", CK_GCM, 0, 16, "AES-128-GCM", NULL, 0, "SHA256" },
	{ 0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", CK_GCM, 0, 32, "AES-256-GCM", NULL, 0, "SHA384" },
	{ 0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", CK_CHACHA, 0, 32, "ChaCha20-Poly1305", NULL, 0, "SHA256" },
	{ 0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", CK_CHACHA, 0, 32, "ChaCha20-Poly1305", NULL, 0, "SHA256" },
	{ 0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", CK_CHACHA, 0, 32, "ChaCha20-Poly1305", NULL, 0, "SHA256" },
	{ 0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", CK_CBC, 0, 16, "AES-128-CBC", "SHA1", 20, "SHA256" },
	{ 0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", CK_CBC, 0, 32, "AES-256-CBC", "SHA1", 20, "SHA256" },
	{ 0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", CK_CBC, 0, 16, "AES-128-CBC", "SHA256", 32, "SHA256" },
	{ 0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", CK_CBC, 0, 32, "AES-256-CBC", "SHA256", 32, "SHA256" },
	{ 0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", CK_CBC, 0, 16, "AES-128-CBC", "SHA1", 20, "SHA256" },
	{ 0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", CK_CBC, 0, 32, "AES-256-CBC", "SHA1", 20, "SHA256" },
	{ 0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", CK_CBC, 0, 16, "AES-128-CBC", "SHA256", 32, "SHA256" },
	{ 0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", CK_CBC, 0, 32, "AES-256-CBC", "SHA256", 32, "SHA256" },
	{ 0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", CK_CBC, 0, 16, "AES-128-CBC", "SHA1", 20, "SHA256" },
	{ 0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", CK_CBC, 0, 32, "AES-256-CBC", "SHA1", 20, "SHA256" },
	{ 0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", CK_CBC, 0, 16, "AES-128-CBC", "SHA1", 20, "SHA256" },
	{ 0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", CK_CBC, 0, 32, "AES-256-CBC", "SHA1", 20, "SHA256" },
	{ 0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", CK_CBC, 0, 16, "AES-128-CBC", "SHA256", 32, "SHA256" },
	{ 0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", CK_CBC, 0, 32, "AES-256-CBC", "SHA384", 48, "SHA384" },
	{ 0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", CK_CBC, 0, 16, "AES-128-CBC", "SHA256", 32, "SHA256" },
	{ 0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", CK_CBC, 0, 32, "AES-256-CBC", "SHA384", 48, "SHA384" },
	/* old NDES / appliance servers still pick 3DES */
	{ 0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", CK_CBC, 0, 24, "DES-EDE3-CBC", "SHA1", 20, "SHA256" },
	{ 0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", CK_CBC, 0, 24, "DES-EDE3-CBC", "SHA1", 20, "SHA256" },
	{ 0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", CK_CBC, 0, 24, "DES-EDE3-CBC", "SHA1", 20, "SHA256" },
	{ 0x0004, "TLS_RSA_WITH_RC4_128_MD5", CK_NONE, 0, 0, NULL, NULL, 0, NULL },
	{ 0x0005, "TLS_RSA_WITH_RC4_128_SHA", CK_NONE, 0, 0, NULL, NULL, 0, NULL },
	{ 0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", CK_NONE, 0, 0, NULL, NULL, 0, NULL },
	{ 0xC0AD, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM", CK_NONE, 0, 0, NULL, NULL, 0, NULL },
	{ 0x00FF, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", CK_NONE, 0, 0, NULL, NULL, 0, NULL },
	{ 0x5600, "TLS_FALLBACK_SCSV", CK_NONE, 0, 0, NULL, NULL, 0, NULL },
};

const char *tls_version_name(uint16_t v)
{
	switch (v) {
	case 0x0300: return "SSL 3.0";
	case V_TLS10: return "TLS 1.0";
	case V_TLS11: return "TLS 1.1";
	case V_TLS12: return "TLS 1.2";
	case V_TLS13: return "TLS 1.3";
	}
	/* RFC 8701 GREASE values look like 0x?A?A */
	if ((v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff))
		return "GREASE";
	return NULL;
}

const struct suite *tls_suite_by_id(uint16_t id)
{
	size_t i;

	for (i = 0; i < sizeof(SUITES) / sizeof(SUITES[0]); i++) {
		if (SUITES[i].id == id)
			return &SUITES[i];
	}
	return NULL;
}

/* RFC 5246 A.5: a TLS <= 1.2 suite is named TLS_<key exchange>_WITH_...;
 * the key exchange says whether the server's key protects the premaster
 * (RSA) or only signs an ephemeral exchange (ECDHE, DHE). */
const char *tls_suite_kx(const struct suite *s)
{
	static const char *const KX[] = { "RSA", "ECDHE", "DHE", "ECDH", "DH", "PSK", "RSA_PSK" };
	const char *with;
	size_t i, n;

	if (!s || s->tls13 || strncmp(s->name, "TLS_", 4) || !(with = strstr(s->name, "_WITH_")))
		return NULL;
	n = (size_t)(with - (s->name + 4));
	for (i = 0; i < sizeof(KX) / sizeof(KX[0]); i++) {
		/* "ECDHE_RSA", "DHE_RSA": the exchange is the first word */
		if (!strncmp(s->name + 4, KX[i], strlen(KX[i])) &&
		    (n == strlen(KX[i]) || s->name[4 + strlen(KX[i])] == '_') &&
		    (strcmp(KX[i], "RSA") || n == 3))
			return KX[i];
	}
	return NULL;
}

const char *tls_cipher_suite_name(uint16_t id)
{
	const struct suite *s = tls_suite_by_id(id);

	return s ? s->name : NULL;
}

const char *tls_alert_name(int desc)
{
	switch (desc) {
	case 0: return "close_notify";
	case 10: return "unexpected_message";
	case 20: return "bad_record_mac";
	case 21: return "decryption_failed";
	case 22: return "record_overflow";
	case 30: return "decompression_failure";
	case 40: return "handshake_failure";
	case 41: return "no_certificate";
	case 42: return "bad_certificate";
	case 43: return "unsupported_certificate";
	case 44: return "certificate_revoked";
	case 45: return "certificate_expired";
	case 46: return "certificate_unknown";
	case 47: return "illegal_parameter";
	case 48: return "unknown_ca";
	case 49: return "access_denied";
	case 50: return "decode_error";
	case 51: return "decrypt_error";
	case 60: return "export_restriction";
	case 70: return "protocol_version";
	case 71: return "insufficient_security";
	case 80: return "internal_error";
	case 86: return "inappropriate_fallback";
	case 90: return "user_canceled";
	case 100: return "no_renegotiation";
	case 109: return "missing_extension";
	case 110: return "unsupported_extension";
	case 111: return "certificate_unobtainable";
	case 112: return "unrecognized_name";
	case 113: return "bad_certificate_status_response";
	case 114: return "bad_certificate_hash_value";
	case 115: return "unknown_psk_identity";
	case 116: return "certificate_required";
	case 120: return "no_application_protocol";
	}
	return NULL;
}

const char *tls_alert_level_name(int level)
{
	return level == 1 ? "warning" : level == 2 ? "fatal" : NULL;
}
