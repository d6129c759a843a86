/* fuzz_packets.c - the whole pipeline (link/IP/TCP dissectors, flow table,
 * reassembly, HTTP/1, SCEP, PKCS#7, transactions, both sinks) on frames made
 * of the input, as src/main.c drives it. Input layout (make-corpus.py turns
 * pcap records into it):
 *
 *   byte 0  profile: bit 0 small limits (max-body 512, max-flows 4,
 *           max-flow-buffer 4096, max-total-buffer 16384, idle-timeout 1 s),
 *           bit 1 -v --show-secrets --checksums
 *   then frames, each:
 *     2 bytes big-endian caplen (cut to what is left)
 *     1 byte  bits 0-2 link type: EN10MB, LINUX_SLL, LINUX_SLL2, NULL,
 *                      LOOP, RAW, IPV4, IPV6; bit 3 LINKTYPE_RAW (101)
 *                      instead; bit 6 wirelen > caplen (snapped frame);
 *                      bit 7 a 400 s pause before the frame (idle timeout)
 *     caplen bytes
 *
 * Timestamps grow by 1 ms a frame. The key files are loaded once and lent to
 * each run's context in place of the empty store pipeline_init makes, so the
 * seeds' envelopes open without reloading keys on every input. The sinks
 * write to /dev/null, or to stdout when FUZZ_SHOW_OUTPUT is set (to look at
 * what a reproducer does). */
#include <stddef.h>
#include <stdint.h>

#include <pcap/dlt.h>

#include "fuzz_common.h"
#include "options.h"
#include "../../src/pipeline.h"
#include "scep.h"
#include "sink.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Set once, read-only afterwards: the harness's fixtures. */
static struct scep_keys *keys;
static FILE *out;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const files[] = {
		"captures/keys/ca.key",
		"captures/keys/scepclient-post-enroll.key",
		"captures/keys/wrong-challenge.key",
	};

	(void)argc;
	(void)argv;
	keys = fuzz_load_keys(files, sizeof(files) / sizeof(files[0]));
	out = getenv("FUZZ_SHOW_OUTPUT") ? stdout : fopen("/dev/null", "w");
	if (!out)
		abort();
	return 0;
}

static int parse_options(struct sd_options *o, uint8_t profile)
{
	char *argv[24];
	int argc = 0;

	argv[argc++] = (char *)"scepdump";
	argv[argc++] = (char *)"-r";
	argv[argc++] = (char *)"fuzz-input";
	if (profile & 1) {
		argv[argc++] = (char *)"--max-body";
		argv[argc++] = (char *)"512";
		argv[argc++] = (char *)"--max-flows";
		argv[argc++] = (char *)"4";
		argv[argc++] = (char *)"--max-flow-buffer";
		argv[argc++] = (char *)"4096";
		argv[argc++] = (char *)"--max-total-buffer";
		argv[argc++] = (char *)"16384";
		argv[argc++] = (char *)"--idle-timeout";
		argv[argc++] = (char *)"1";
	}
	if (profile & 2) {
		argv[argc++] = (char *)"-v";
		argv[argc++] = (char *)"--show-secrets";
		argv[argc++] = (char *)"--checksums";
	}
	argv[argc] = NULL;
	return options_parse(o, argc, argv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int links[] = {
		DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL,
		DLT_LOOP, DLT_RAW, DLT_IPV4, DLT_IPV6,
	};
	struct sd_ctx ctx;
	struct report report;
	uint64_t frame = 0, ts = 1700000000ull * 1000000000ull;
	size_t pos;

	if (size < 1)
		return 0;
	memset(&ctx, 0, sizeof(ctx));
	if (parse_options(&ctx.opt, data[0]) < 0)
		abort();
	ctx.opt.decode_threads = 0;   /* one thread: libFuzzer's timing and leak checks */
	if (pipeline_init(&ctx) < 0)
		abort();
	scep_keys_free(ctx.keys);
	ctx.keys = keys;

	pos = 1;
	while (size - pos >= 3) {
		struct pkt p;
		size_t len = ((size_t)data[pos] << 8) | data[pos + 1];
		uint8_t sel = data[pos + 2];
		uint8_t *buf;

		pos += 3;
		if (len > size - pos)
			len = size - pos;
		buf = fuzz_dup(data + pos, len);
		pos += len;
		if (sel & 0x80)
			ts += 400ull * 1000000000ull;
		ts += 1000000ull;
		memset(&p, 0, sizeof(p));
		p.frame = ++frame;
		p.ts_ns = ts;
		p.linktype = (sel & 8) ? 101 : links[sel & 7];
		p.data = buf;
		p.caplen = (uint32_t)len;
		p.wirelen = (uint32_t)len + ((sel & 0x40) ? 100 : 0);
		pipeline_packet(&ctx, &p);
		free(buf);
	}
	pipeline_finish(&ctx);
	pipeline_report(&ctx, &report);
	sink_json_write(out, &report);
	sink_text_write(out, &report);
	fflush(out);

	ctx.keys = NULL;        /* lent, not owned by this run */
	pipeline_free(&ctx);
	options_free(&ctx.opt);
	return 0;
}
