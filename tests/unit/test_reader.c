/* test_reader.c - the bounds-checked reader: getters advance only on
 * success, overruns are sticky and never read past the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reader.h"

static void test_reads_in_order(void **state)
{
	static const uint8_t buf[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09 };
	struct rd r;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;

	(void)state;
	rd_init(&r, buf, sizeof(buf));
	assert_true(rd_u8(&r, &u8));
	assert_int_equal(u8, 0x01);
	assert_true(rd_be16(&r, &u16));
	assert_int_equal(u16, 0x0203);
	assert_true(rd_be32(&r, &u32));
	assert_int_equal(u32, 0x04050607);
	assert_true(rd_le16(&r, &u16));
	assert_int_equal(u16, 0x0908);
	assert_int_equal(rd_left(&r), 0);
	assert_int_equal(r.err, RD_OK);
}

static void test_overrun_is_sticky_and_does_not_advance(void **state)
{
	static const uint8_t buf[] = { 0xaa, 0xbb, 0xcc };
	struct rd r;
	uint32_t u32 = 0x12345678;
	uint8_t u8;

	(void)state;
	rd_init(&r, buf, sizeof(buf));
	assert_false(rd_be32(&r, &u32));
	assert_int_equal(u32, 0x12345678);
	assert_int_equal(rd_left(&r), 3);
	assert_int_equal(r.err, RD_TRUNCATED);
	/* a later successful read does not clear the error */
	assert_true(rd_u8(&r, &u8));
	assert_int_equal(u8, 0xaa);
	assert_int_equal(r.err, RD_TRUNCATED);
}

static void test_sub_reader_is_bounded(void **state)
{
	static const uint8_t buf[] = { 2, 0x10, 0x20, 0x30 };
	struct rd r, sub;
	uint8_t len, a, b, c;

	(void)state;
	rd_init(&r, buf, sizeof(buf));
	assert_true(rd_u8(&r, &len));
	assert_true(rd_sub(&r, len, &sub));
	assert_true(rd_u8(&sub, &a));
	assert_true(rd_u8(&sub, &b));
	assert_false(rd_u8(&sub, &c));
	assert_int_equal(a, 0x10);
	assert_int_equal(b, 0x20);
	assert_int_equal(rd_left(&r), 1);
	assert_int_equal(r.err, RD_OK);
	/* a length larger than what is left fails without moving */
	assert_false(rd_sub(&r, SIZE_MAX, &sub));
	assert_int_equal(rd_left(&r), 1);
}

static void test_invalid_is_distinct_from_truncated(void **state)
{
	struct rd r;

	(void)state;
	rd_init(&r, "x", 1);
	rd_invalid(&r);
	assert_int_equal(r.err, RD_INVALID);
	rd_init(&r, NULL, 5);
	assert_int_equal(rd_left(&r), 0);
}

static void test_copy(void **state)
{
	static const uint8_t buf[] = { 1, 2, 3, 4 };
	uint8_t out[4] = { 0 };
	struct rd r;

	(void)state;
	rd_init(&r, buf, sizeof(buf));
	assert_true(rd_copy(&r, out, 3));
	assert_memory_equal(out, buf, 3);
	assert_false(rd_copy(&r, out, 2));
	assert_int_equal(rd_left(&r), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_in_order),
		cmocka_unit_test(test_overrun_is_sticky_and_does_not_advance),
		cmocka_unit_test(test_sub_reader_is_bounded),
		cmocka_unit_test(test_invalid_is_distinct_from_truncated),
		cmocka_unit_test(test_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
