/* replay.c - runs a libFuzzer harness on saved inputs without libFuzzer, so
 * 'make check' (and its sanitizer build) replays every seed and every saved
 * reproducer in tests/fuzz/ as a regression test, with the same compiler as
 * the program. Usage: replay_<harness> FILE...; prints one TAP line per
 * file. A crash or a sanitizer report ends the process, which the TAP
 * driver sees as a missing plan. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *read_whole_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (n == cap) {
			uint8_t *nb = realloc(buf, cap ? cap * 2 : 65536);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap = cap ? cap * 2 : 65536;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	if (ferror(f)) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	int i, failed = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	printf("1..%d\n", argc - 1);
	for (i = 1; i < argc; i++) {
		size_t len = 0;
		uint8_t *data = read_whole_file(argv[i], &len);

		if (!data) {
			printf("not ok %d - %s: cannot read: %s\n", i, argv[i], strerror(errno));
			failed = 1;
			continue;
		}
		printf("# running %s\n", argv[i]);
		fflush(stdout);
		LLVMFuzzerTestOneInput(data, len);
		free(data);
		printf("ok %d - %s (%zu bytes)\n", i, argv[i], len);
	}
	return failed;
}
