/* scep_names.c - the names and meanings of SCEP's numbers: operations,
 * messageType, pkiStatus, failInfo, and the HRESULTs NDES reports. Every
 * layer that prints or decodes a message names them from here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strutil.h"
#include "scep.h"

const char *scep_op_name(enum scep_op op)
{
	switch (op) {
	case SCEP_OP_GETCACAPS: return "GetCACaps";
	case SCEP_OP_GETCACERT: return "GetCACert";
	case SCEP_OP_GETNEXTCACERT: return "GetNextCACert";
	case SCEP_OP_PKIOPERATION: return "PKIOperation";
	case SCEP_OP_OTHER: return "other";
	case SCEP_OP_TLS: return "TLS";
	case SCEP_OP_NONE: break;
	}
	return "none";
}

const char *scep_msg_type_name(int mt)
{
	switch (mt) {
	case SCEP_MT_CERTREP: return "CertRep";
	case SCEP_MT_RENEWALREQ: return "RenewalReq";
	case SCEP_MT_UPDATEREQ: return "UpdateReq";
	case SCEP_MT_PKCSREQ: return "PKCSReq";
	case SCEP_MT_CERTPOLL: return "CertPoll";
	case SCEP_MT_GETCERT: return "GetCert";
	case SCEP_MT_GETCRL: return "GetCRL";
	default: return NULL;
	}
}

const char *scep_pki_status_name(int st)
{
	switch (st) {
	case SCEP_STATUS_SUCCESS: return "SUCCESS";
	case SCEP_STATUS_FAILURE: return "FAILURE";
	case SCEP_STATUS_PENDING: return "PENDING";
	default: return NULL;
	}
}

const char *scep_fail_info_name(int fi)
{
	switch (fi) {
	case SCEP_FAIL_BADALG: return "badAlg";
	case SCEP_FAIL_BADMESSAGECHECK: return "badMessageCheck";
	case SCEP_FAIL_BADREQUEST: return "badRequest";
	case SCEP_FAIL_BADTIME: return "badTime";
	case SCEP_FAIL_BADCERTID: return "badCertId";
	default: return NULL;
	}
}

/* RFC 8894 section 3.2.1.4.4, with what each usually means in practice. */
const char *scep_fail_info_meaning(int fi)
{
	switch (fi) {
	case SCEP_FAIL_BADALG:
		return "unrecognized or unsupported algorithm (digest, signature or cipher the server will not take)";
	case SCEP_FAIL_BADMESSAGECHECK:
		return "integrity check failed: the signature did not verify or the envelope could not be opened";
	case SCEP_FAIL_BADREQUEST:
		return "transaction not permitted or supported (often a wrong, expired or reused challenge password)";
	case SCEP_FAIL_BADTIME:
		return "signingTime too far from the server's clock";
	case SCEP_FAIL_BADCERTID:
		return "no certificate matches the identification in the request";
	default:
		return "unknown failInfo value";
	}
}

/* HRESULTs NDES and the CA behind it put in CertReps
 * (1.3.6.1.4.1.311.21.33) and Windows clients log, with Microsoft's own
 * names and texts ([MS-ERREF] 2.1). */
static const struct hresult_name {
	uint32_t code;
	const char *name, *text;
} HRESULTS[] = {
	{ 0x80004005, "E_FAIL", "Unspecified error." },
	{ 0x80070005, "E_ACCESSDENIED", "Access is denied." },
	{ 0x8007000D, "ERROR_INVALID_DATA", "The data is invalid." },
	{ 0x80070057, "E_INVALIDARG", "The parameter is incorrect." },
	{ 0x800706BA, "RPC_S_SERVER_UNAVAILABLE", "The RPC server is unavailable." },
	{ 0x80090005, "NTE_BAD_DATA", "Bad Data." },
	{ 0x80090016, "NTE_BAD_KEYSET", "Keyset does not exist." },
	{ 0x80092004, "CRYPT_E_NOT_FOUND", "Cannot find object or property." },
	{ 0x80092013, "CRYPT_E_REVOCATION_OFFLINE",
	  "The revocation function was unable to check revocation because the revocation server was offline." },
	{ 0x80094001, "CERTSRV_E_BAD_REQUESTSUBJECT", "The request subject name is invalid or too long." },
	{ 0x80094004, "CERTSRV_E_PROPERTY_EMPTY", "The requested property value is empty." },
	{ 0x80094005, "CERTSRV_E_INVALID_CA_CERTIFICATE", "The CA's certificate contains invalid data." },
	{ 0x80094011, "CERTSRV_E_ENROLL_DENIED",
	  "The permissions on this CA do not allow the current user to enroll for certificates." },
	{ 0x80094012, "CERTSRV_E_TEMPLATE_DENIED",
	  "The permissions on the certificate template do not allow the current user to enroll for this type of certificate." },
	{ 0x80094014, "CERTSRV_E_ADMIN_DENIED_REQUEST",
	  "The request was denied by a certificate manager or CA administrator." },
	{ 0x80094800, "CERTSRV_E_UNSUPPORTED_CERT_TYPE", "The requested certificate template is not supported by this CA." },
	{ 0x80094801, "CERTSRV_E_NO_CERT_TYPE", "The request contains no certificate template information." },
	{ 0x80094802, "CERTSRV_E_TEMPLATE_CONFLICT", "The request contains conflicting template information." },
	{ 0x80094803, "CERTSRV_E_SUBJECT_ALT_NAME_REQUIRED",
	  "The request is missing a required Subject Alternate name extension." },
	{ 0x8009480F, "CERTSRV_E_SUBJECT_DNS_REQUIRED",
	  "The Domain Name System (DNS) name is unavailable and cannot be added to the Subject Alternate name." },
	{ 0x80094811, "CERTSRV_E_KEY_LENGTH",
	  "The public key does not meet the minimum size required by the specified certificate template." },
	{ 0x80094812, "CERTSRV_E_SUBJECT_EMAIL_REQUIRED",
	  "The email name is unavailable and cannot be added to the Subject or Subject Alternate name." },
	{ 0x80094816, "CERTSRV_E_RENEWAL_BAD_PUBLIC_KEY",
	  "The key used in a renewal request does not match one of the certificates being renewed." },
	{ 0x800B0101, "CERT_E_EXPIRED", "A required certificate is not within its validity period." },
	{ 0x800B0109, "CERT_E_UNTRUSTEDROOT",
	  "A certificate chain processed, but terminated in a root certificate that is not trusted by the trust provider." },
	{ 0x800B010A, "CERT_E_CHAINING", "A certificate chain could not be built to a trusted root authority." },
	{ 0x800B010C, "CERT_E_REVOKED", "A certificate was explicitly revoked by its issuer." },
};

const char *scep_hresult_name(uint32_t code, const char **text)
{
	size_t i;

	for (i = 0; i < sizeof(HRESULTS) / sizeof(HRESULTS[0]); i++) {
		if (HRESULTS[i].code == code) {
			if (text)
				*text = HRESULTS[i].text;
			return HRESULTS[i].name;
		}
	}
	if (text)
		*text = NULL;
	return NULL;
}

char *scep_hresult_describe(uint32_t code)
{
	const char *text = NULL, *name = scep_hresult_name(code, &text);

	if (!name)
		return str_printf("0x%08X", code);
	return str_printf("0x%08X %s: %s", code, name, text);
}

const char *scep_signer_source_name(int signer_from)
{
	switch (signer_from) {
	case SCEP_SIGNER_IN_MESSAGE: return "message";
	case SCEP_SIGNER_GIVEN: return "--ca-cert";
	case SCEP_SIGNER_GETCACERT: return "GetCACert";
	default: return NULL;
	}
}

char *scep_signer_label(const struct scep_msg *m)
{
	if (m->signer_from == SCEP_SIGNER_GIVEN)
		return strdup("signer (from --ca-cert)");
	if (m->signer_from == SCEP_SIGNER_GETCACERT)
		return str_printf("signer (%s%scertificate from GetCACert)",
				  m->signer && m->signer->role ? m->signer->role : "",
				  m->signer && m->signer->role ? " " : "");
	return strdup("signer");
}
