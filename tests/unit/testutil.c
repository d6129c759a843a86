/* testutil.c - fixture access shared by the unit tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "testutil.h"

char *test_data_path(const char *name)
{
	const char *src = getenv("SRCDIR");
	static const char sub[] = "/tests/unit/data/";
	size_t n;
	char *p;

	if (!src)
		src = ".";
	n = strlen(src) + sizeof(sub) + strlen(name);
	p = malloc(n);
	assert_non_null(p);
	snprintf(p, n, "%s%s%s", src, sub, name);
	return p;
}

uint8_t *test_load(const char *name, size_t *len)
{
	char *path = test_data_path(name);
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		fail_msg("cannot open %s (is SRCDIR set?)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	free(path);
	*len = (size_t)n;
	return buf;
}
