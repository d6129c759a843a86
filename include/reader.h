/* reader.h - the one bounds-checked reader for untrusted bytes (CBS-style).
 * Getters return 1 and advance on success; on overrun they return 0, leave
 * the reader where it was and set a sticky error that callers test once per
 * record. Nothing here trusts a length it has not compared to what is left.
 *
 * Defined here, inline: every header of every packet goes through these,
 * and as calls into another file they were a tenth of the per-packet
 * instructions (callgrind, tests/bench). */
#ifndef SCEPDUMP_READER_H
#define SCEPDUMP_READER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum rd_err { RD_OK = 0, RD_TRUNCATED = 1, RD_INVALID = 2 };

struct rd {
	const uint8_t *p;
	size_t len;
	int err;
};

static inline void rd_init(struct rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p ? len : 0;
	r->err = RD_OK;
}

static inline size_t rd_left(const struct rd *r) { return r->len; }
static inline const uint8_t *rd_ptr(const struct rd *r) { return r->p; }

/* Marks the reader invalid (content wrong, not short): sticky like overruns. */
static inline void rd_invalid(struct rd *r)
{
	if (r->err == RD_OK)
		r->err = RD_INVALID;
}

static inline int rd_need(struct rd *r, size_t n)
{
	if (n > r->len) {
		if (r->err == RD_OK)
			r->err = RD_TRUNCATED;
		return 0;
	}
	return 1;
}

/* Splits the next n bytes off into sub (which may be NULL to just skip). */
static inline int rd_sub(struct rd *r, size_t n, struct rd *sub)
{
	if (!rd_need(r, n))
		return 0;
	if (sub)
		rd_init(sub, r->p, n);
	r->p += n;
	r->len -= n;
	return 1;
}

static inline int rd_skip(struct rd *r, size_t n) { return rd_sub(r, n, NULL); }

static inline int rd_copy(struct rd *r, void *out, size_t n)
{
	if (!rd_need(r, n))
		return 0;
	memcpy(out, r->p, n);
	return rd_skip(r, n);
}

static inline int rd_u8(struct rd *r, uint8_t *v)
{
	if (!rd_need(r, 1))
		return 0;
	*v = r->p[0];
	return rd_skip(r, 1);
}

static inline int rd_be16(struct rd *r, uint16_t *v)
{
	if (!rd_need(r, 2))
		return 0;
	*v = (uint16_t)(r->p[0] << 8 | r->p[1]);
	return rd_skip(r, 2);
}

static inline int rd_le16(struct rd *r, uint16_t *v)
{
	if (!rd_need(r, 2))
		return 0;
	*v = (uint16_t)(r->p[1] << 8 | r->p[0]);
	return rd_skip(r, 2);
}

static inline int rd_be32(struct rd *r, uint32_t *v)
{
	if (!rd_need(r, 4))
		return 0;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	     (uint32_t)r->p[2] << 8 | r->p[3];
	return rd_skip(r, 4);
}

static inline int rd_le32(struct rd *r, uint32_t *v)
{
	if (!rd_need(r, 4))
		return 0;
	*v = (uint32_t)r->p[3] << 24 | (uint32_t)r->p[2] << 16 |
	     (uint32_t)r->p[1] << 8 | r->p[0];
	return rd_skip(r, 4);
}

#endif
