/* testutil.h - fixture access shared by the unit tests: files under
 * $SRCDIR/tests/unit/data/. */
#ifndef SCEPDUMP_TESTUTIL_H
#define SCEPDUMP_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Full path of a fixture; the caller frees it. */
char *test_data_path(const char *name);
/* Whole fixture in a new buffer with a NUL byte after it (so text fixtures
 * are C strings); fails the test when it cannot be read. */
uint8_t *test_load(const char *name, size_t *len);

#endif
