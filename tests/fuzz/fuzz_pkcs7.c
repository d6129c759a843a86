/* fuzz_pkcs7.c - pkiMessage and GetCACert body decoding (dissectors/scep/:
 * pkcs7.c and what it calls, salvage.c for damaged input, cacerts.c) on
 * arbitrary bytes, and the same bytes as scepdump decode's input (text
 * forms, message= repairs, cut base64: scep_input.c). The CA and client
 * keys of tests/unit/data are loaded
 * once so the seeds' envelopes open and the decrypted CSR and CertRep paths
 * are reached (a key file that is missing is reported and skipped). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "scep.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Set once, read-only afterwards: the key store is the harness's fixture. */
static struct scep_keys *keys;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	keys = fuzz_load_fixture_keys();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scep_msg *m;
	struct scep_cert **certs = NULL;
	size_t n = 0, i;
	char *error = NULL;

	m = scep_decode_pki_message(data, size, keys);
	fuzz_touch_msg(m);
	scep_msg_free(m);

	{
		struct scep_input *in = scep_decode_input(data, size, keys);

		fuzz_touch_input(in);
		scep_input_free(in);
	}

	scep_decode_ca_certs(data, size, &certs, &n, &error);
	fuzz_touch_str(error);
	for (i = 0; i < n; i++) {
		fuzz_touch_cert(certs[i]);
		scep_cert_free(certs[i]);
	}
	free(certs);
	free(error);
	return 0;
}
