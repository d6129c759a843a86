/* reader.h - the one bounds-checked reader for untrusted bytes (CBS-style).
 * Getters return 1 and advance on success; on overrun they return 0, leave
 * the reader where it was and set a sticky error that callers test once per
 * record. Nothing here trusts a length it has not compared to what is left. */
#ifndef SCEPDUMP_READER_H
#define SCEPDUMP_READER_H

#include <stddef.h>
#include <stdint.h>

enum rd_err { RD_OK = 0, RD_TRUNCATED = 1, RD_INVALID = 2 };

struct rd {
	const uint8_t *p;
	size_t len;
	int err;
};

void rd_init(struct rd *r, const void *p, size_t len);
size_t rd_left(const struct rd *r);
const uint8_t *rd_ptr(const struct rd *r);
int rd_u8(struct rd *r, uint8_t *v);
int rd_be16(struct rd *r, uint16_t *v);
int rd_be32(struct rd *r, uint32_t *v);
int rd_le16(struct rd *r, uint16_t *v);
int rd_le32(struct rd *r, uint32_t *v);
int rd_skip(struct rd *r, size_t n);
/* Splits the next n bytes off into sub (which may be NULL to just skip). */
int rd_sub(struct rd *r, size_t n, struct rd *sub);
int rd_copy(struct rd *r, void *out, size_t n);
/* Marks the reader invalid (content wrong, not short): sticky like overruns. */
void rd_invalid(struct rd *r);

#endif
