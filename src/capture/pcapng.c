/* pcapng.c - pcapng block walker: frames every block by its length, checks
 * both length fields, and parses SHB, IDB, EPB, SPB, PB and DSB bodies
 * through the bounds-checked reader. Trusts nothing in the file. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pcapng.h"
#include "reader.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_PB  0x00000002u   /* obsolete Packet Block */
#define BT_SPB 0x00000003u
#define BT_EPB 0x00000006u
#define BT_DSB 0x0000000Au

#define BOM 0x1A2B3C4Du
#define OPT_ENDOFOPT 0
#define OPT_IF_TSRESOL 9
#define OPT_IF_TSOFFSET 14
/* The draft's default when if_tsresol is absent: microseconds. */
#define TSRESOL_DEFAULT 6

/* type + length + trailing length */
#define BLOCK_MIN 12
/* SHB: block minimum + BOM, versions and the 64-bit section length */
#define SHB_MIN 28
#define BLOCK_BUF_MIN 4096

struct ng_iface {
	int linktype;
	uint32_t snaplen;
	uint8_t tsresol;
	int64_t tsoffset;      /* seconds added to every stamp */
};

struct pcapng {
	FILE *f;
	int be;                /* current section is big-endian */
	int in_section;
	uint64_t nblocks;      /* blocks read so far */
	uint64_t offset;       /* byte offset of the next block */
	uint64_t last_ts;      /* for Simple Packet Blocks, which carry none */
	uint8_t *buf;          /* the current block, whole */
	size_t bufcap;
	struct ng_iface *ifs;
	size_t nifs, ifcap;
	char errmsg[256];      /* sticky: set once, repeated after */
};

struct pcapng *pcapng_new(FILE *f)
{
	struct pcapng *r = calloc(1, sizeof(*r));

	if (r)
		r->f = f;
	return r;
}

void pcapng_free(struct pcapng *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r->ifs);
	free(r);
}

size_t pcapng_iface_count(const struct pcapng *r) { return r->nifs; }

int pcapng_iface_linktype(const struct pcapng *r, size_t i)
{
	return i < r->nifs ? r->ifs[i].linktype : -1;
}

/* Records the first error with the block's position and makes it sticky. */
static int fail(struct pcapng *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct pcapng *r, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(r->errmsg, sizeof(r->errmsg), "block %llu at byte %llu: %s",
		 (unsigned long long)r->nblocks + 1,
		 (unsigned long long)r->offset, why);
	return -1;
}

static int rd_u16o(struct rd *d, int be, uint16_t *v)
{
	return be ? rd_be16(d, v) : rd_le16(d, v);
}

static int rd_u32o(struct rd *d, int be, uint32_t *v)
{
	return be ? rd_be32(d, v) : rd_le32(d, v);
}

static int rd_u64o(struct rd *d, int be, uint64_t *v)
{
	uint32_t a, b;

	if (!rd_u32o(d, be, &a) || !rd_u32o(d, be, &b))
		return 0;
	*v = be ? (uint64_t)a << 32 | b : (uint64_t)b << 32 | a;
	return 1;
}

/* Packet stamps are two 32-bit words, the high one first, in either byte
 * order: not one 64-bit number. */
static int rd_ts(struct rd *d, int be, uint64_t *v)
{
	uint32_t hi, lo;

	if (!rd_u32o(d, be, &hi) || !rd_u32o(d, be, &lo))
		return 0;
	*v = (uint64_t)hi << 32 | lo;
	return 1;
}

static size_t pad4(uint32_t n)
{
	return ((size_t)n + 3) & ~(size_t)3;
}

/* fread loops until n bytes, end of file or an error, which suits pipes:
 * a short count always means one of the latter two. */
static size_t read_full(struct pcapng *r, void *p, size_t n)
{
	return fread(p, 1, n, r->f);
}

static int read_failed(struct pcapng *r, const char *what, size_t want,
		       size_t got)
{
	if (ferror(r->f))
		return fail(r, "read error in %s: %s", what, strerror(errno));
	return fail(r, "truncated %s: %zu bytes expected, the file ends after %zu",
		    what, want, got);
}

static int grow_buf(struct pcapng *r, size_t need)
{
	size_t cap = r->bufcap ? r->bufcap : BLOCK_BUF_MIN;
	uint8_t *p;

	if (need <= r->bufcap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > PCAPNG_MAX_BLOCK)
		cap = PCAPNG_MAX_BLOCK;
	p = realloc(r->buf, cap);
	if (!p)
		return fail(r, "out of memory for a %zu-byte block", need);
	r->buf = p;
	r->bufcap = cap;
	return 0;
}

/* Streams past a block we neither need nor can hold, still checking that
 * it is as long as it says (its trailing length must match). */
static int skip_block(struct pcapng *r, uint32_t total, uint32_t *first)
{
	uint8_t chunk[4096], tail[4];
	size_t left = (size_t)total - 8 - 4, got;
	uint32_t trail;
	struct rd d;
	int head = 1;

	while (left > 0) {
		size_t n = left > sizeof(chunk) ? sizeof(chunk) : left;

		got = read_full(r, chunk, n);
		if (got != n)
			return read_failed(r, "block", total, total - 4 - left + got);
		if (head) {
			/* only called for blocks far larger than one word */
			rd_init(&d, chunk, n);
			rd_u32o(&d, r->be, first);
			head = 0;
		}
		left -= n;
	}
	got = read_full(r, tail, 4);
	if (got != 4)
		return read_failed(r, "block", total, total - 4 + got);
	rd_init(&d, tail, 4);
	rd_u32o(&d, r->be, &trail);
	if (trail != total)
		return fail(r, "trailing block length %u differs from the leading %u",
			    trail, total);
	return 0;
}

static int critical_type(uint32_t type)
{
	return type == BT_SHB || type == BT_IDB || type == BT_EPB ||
	       type == BT_SPB || type == BT_PB;
}

/* Walks the options that fill the rest of a body; for an IDB it keeps the
 * clock options. Every option must fit in what is left of the block. */
static int walk_options(struct pcapng *r, struct rd *d, const char *what,
			struct ng_iface *ifc)
{
	while (rd_left(d) > 0) {
		uint16_t code, len;
		struct rd v;

		if (!rd_u16o(d, r->be, &code) || !rd_u16o(d, r->be, &len))
			return fail(r, "%s: option header cut short", what);
		if (code == OPT_ENDOFOPT)
			return 0;
		if (pad4(len) > rd_left(d))
			return fail(r, "%s: option %u claims %u bytes, block has %zu",
				    what, code, len, rd_left(d));
		rd_sub(d, len, &v);
		rd_skip(d, pad4(len) - len);
		if (!ifc)
			continue;
		if (code == OPT_IF_TSRESOL) {
			uint8_t res;

			if (len != 1 || !rd_u8(&v, &res))
				return fail(r, "%s: if_tsresol has %u bytes, not 1",
					    what, len);
			/* 10^-19 and 2^-63 are the finest a 64-bit count
			 * of units can express. */
			if ((res & 0x80) ? (res & 0x7f) > 63 : res > 19)
				return fail(r, "%s: if_tsresol 0x%02x out of range",
					    what, res);
			ifc->tsresol = res;
		} else if (code == OPT_IF_TSOFFSET) {
			uint64_t off;

			if (len != 8 || !rd_u64o(&v, r->be, &off))
				return fail(r, "%s: if_tsoffset has %u bytes, not 8",
					    what, len);
			ifc->tsoffset = (int64_t)off;
		}
	}
	return 0;
}

static uint64_t pow10u(unsigned e)
{
	uint64_t v = 1;

	while (e--)
		v *= 10;
	return v;
}

/* Units of the interface's clock to ns since the epoch; a stamp too large
 * for 64-bit ns saturates rather than wrapping. */
static uint64_t ts_to_ns(const struct ng_iface *ifc, uint64_t ts)
{
	uint64_t ns, sec, frac;
	unsigned k;

	if (!(ifc->tsresol & 0x80)) {
		unsigned e = ifc->tsresol;

		if (e > 9)
			ns = ts / pow10u(e - 9);
		else if (__builtin_mul_overflow(ts, pow10u(9 - e), &ns))
			ns = UINT64_MAX;
	} else {
		k = ifc->tsresol & 0x7f;
		sec = k ? ts >> k : ts;
		frac = k ? ts & ((UINT64_C(1) << k) - 1) : 0;
		/* frac * 10^9 must stay below 2^64: drop bits below 2^-34 s,
		 * which are finer than a ns anyway. */
		if (k > 34) {
			frac >>= k - 34;
			k = 34;
		}
		if (__builtin_mul_overflow(sec, UINT64_C(1000000000), &ns) ||
		    __builtin_add_overflow(ns, (frac * 1000000000u) >> k, &ns))
			ns = UINT64_MAX;
	}
	/* Two's complement: a negative offset subtracts. */
	return ns + (uint64_t)ifc->tsoffset * 1000000000u;
}

static int parse_shb(struct pcapng *r, struct rd *d)
{
	uint16_t major, minor;
	uint64_t seclen;

	rd_skip(d, 4);   /* byte-order magic, already checked */
	if (!rd_u16o(d, r->be, &major) || !rd_u16o(d, r->be, &minor) ||
	    !rd_u64o(d, r->be, &seclen))
		return fail(r, "section header block cut short");
	if (major != 1)
		return fail(r, "unsupported pcapng version %u.%u", major, minor);
	/* A new section starts its own interface numbering. */
	r->nifs = 0;
	r->in_section = 1;
	return walk_options(r, d, "section header block", NULL);
}

static int parse_idb(struct pcapng *r, struct rd *d)
{
	struct ng_iface ifc = { .tsresol = TSRESOL_DEFAULT };
	uint16_t lt, reserved;

	if (!rd_u16o(d, r->be, &lt) || !rd_u16o(d, r->be, &reserved) ||
	    !rd_u32o(d, r->be, &ifc.snaplen))
		return fail(r, "interface description block cut short");
	ifc.linktype = lt;
	if (walk_options(r, d, "interface description block", &ifc) < 0)
		return -1;
	if (r->nifs == PCAPNG_MAX_IFACES)
		return fail(r, "more than %d interfaces in one section",
			    PCAPNG_MAX_IFACES);
	if (r->nifs == r->ifcap) {
		size_t cap = r->ifcap ? r->ifcap * 2 : 4;
		struct ng_iface *p;

		if (cap > PCAPNG_MAX_IFACES)
			cap = PCAPNG_MAX_IFACES;
		p = realloc(r->ifs, cap * sizeof(*p));
		if (!p)
			return fail(r, "out of memory for interface %zu", r->nifs);
		r->ifs = p;
		r->ifcap = cap;
	}
	r->ifs[r->nifs++] = ifc;
	return 0;
}

static int packet_from(struct pcapng *r, struct pcapng_event *ev,
		       const char *what, uint32_t ifid, uint64_t ts,
		       uint32_t caplen, uint32_t wirelen, struct rd *d)
{
	const struct ng_iface *ifc;

	if (ifid >= r->nifs)
		return fail(r, "%s names interface %u, the section has %zu",
			    what, ifid, r->nifs);
	if (pad4(caplen) > rd_left(d))
		return fail(r, "%s claims %u bytes, block has %zu", what, caplen,
			    rd_left(d));
	ifc = &r->ifs[ifid];
	ev->kind = PCAPNG_PACKET;
	ev->data = rd_ptr(d);
	ev->ifid = ifid;
	ev->linktype = ifc->linktype;
	ev->snaplen = ifc->snaplen;
	ev->ts_ns = ts_to_ns(ifc, ts);
	ev->caplen = caplen;
	ev->wirelen = wirelen;
	r->last_ts = ev->ts_ns;
	return 1;
}

static int parse_epb(struct pcapng *r, struct rd *d, struct pcapng_event *ev)
{
	uint32_t ifid, caplen, wirelen;
	uint64_t ts;

	if (!rd_u32o(d, r->be, &ifid) || !rd_ts(d, r->be, &ts) ||
	    !rd_u32o(d, r->be, &caplen) || !rd_u32o(d, r->be, &wirelen))
		return fail(r, "enhanced packet block cut short");
	return packet_from(r, ev, "enhanced packet block", ifid, ts, caplen,
			   wirelen, d);
}

/* The obsolete Packet Block: EPB with a 16-bit interface and drop count. */
static int parse_pb(struct pcapng *r, struct rd *d, struct pcapng_event *ev)
{
	uint16_t ifid, drops;
	uint32_t caplen, wirelen;
	uint64_t ts;

	if (!rd_u16o(d, r->be, &ifid) || !rd_u16o(d, r->be, &drops) ||
	    !rd_ts(d, r->be, &ts) || !rd_u32o(d, r->be, &caplen) ||
	    !rd_u32o(d, r->be, &wirelen))
		return fail(r, "packet block cut short");
	return packet_from(r, ev, "packet block", ifid, ts, caplen, wirelen, d);
}

/* A Simple Packet Block has no stamp and no captured length: the data
 * fills the block (padded), and the time is taken from the packet before,
 * so the merge keeps it where the writer put it. */
static int parse_spb(struct pcapng *r, struct rd *d, struct pcapng_event *ev)
{
	uint32_t wirelen, caplen;
	uint64_t last = r->last_ts;
	int rc;

	if (!rd_u32o(d, r->be, &wirelen))
		return fail(r, "simple packet block cut short");
	caplen = wirelen < rd_left(d) ? wirelen : (uint32_t)rd_left(d);
	rc = packet_from(r, ev, "simple packet block", 0, 0, caplen, wirelen, d);
	if (rc == 1)
		ev->ts_ns = r->last_ts = last;
	return rc;
}

static int parse_dsb(struct pcapng *r, struct rd *d, struct pcapng_event *ev)
{
	uint32_t type, len;

	if (!rd_u32o(d, r->be, &type) || !rd_u32o(d, r->be, &len))
		return fail(r, "decryption secrets block cut short");
	if (pad4(len) > rd_left(d))
		return fail(r, "decryption secrets block claims %u bytes, block has %zu",
			    len, rd_left(d));
	ev->kind = PCAPNG_SECRETS;
	ev->data = rd_ptr(d);
	ev->secrets_type = type;
	ev->secrets_len = len;
	return 1;
}

/* Reads the 8-byte (SHB: 12-byte) head of the next block: its type and
 * total length, switching byte order at a Section Header Block. Returns 1,
 * 0 at a clean end of file, -1 on error. */
static int read_head(struct pcapng *r, uint8_t *head, uint32_t *type,
		     uint32_t *total)
{
	size_t got = read_full(r, head, 8);
	uint32_t bom;
	struct rd d;

	if (got == 0 && !ferror(r->f))
		return 0;
	if (got != 8)
		return read_failed(r, "block header", 8, got);
	rd_init(&d, head, 8);
	rd_be32(&d, type);    /* BT_SHB reads the same either way */
	if (*type == BT_SHB) {
		got = read_full(r, head + 8, 4);
		if (got != 4)
			return read_failed(r, "section header block", 12, 8 + got);
		rd_init(&d, head + 8, 4);
		rd_be32(&d, &bom);
		if (bom == BOM)
			r->be = 1;
		else if (bom == 0x4D3C2B1Au)
			r->be = 0;
		else
			return fail(r, "bad byte-order magic 0x%08x in section header block",
				    bom);
	} else if (!r->in_section) {
		return fail(r, "file does not start with a section header block");
	}
	rd_init(&d, head, 8);
	rd_u32o(&d, r->be, type);
	rd_u32o(&d, r->be, total);
	return 1;
}

int pcapng_next(struct pcapng *r, struct pcapng_event *ev, char *err,
		size_t errlen)
{
	for (;;) {
		uint8_t head[12];
		uint32_t type, total, trail, first = 0;
		size_t have, got;
		struct rd blk, body;
		int rc;

		if (r->errmsg[0])
			goto out_err;
		rc = read_head(r, head, &type, &total);
		if (rc == 0)
			return 0;
		if (rc < 0)
			goto out_err;
		have = type == BT_SHB ? 12 : 8;
		if (total < (type == BT_SHB ? SHB_MIN : BLOCK_MIN)) {
			fail(r, "block length %u is too small", total);
			goto out_err;
		}
		if (total % 4) {
			fail(r, "block length %u is not a multiple of 4", total);
			goto out_err;
		}
		if (total > PCAPNG_MAX_BLOCK) {
			if (critical_type(type)) {
				fail(r, "block of %u bytes is larger than the %u we accept",
				     total, PCAPNG_MAX_BLOCK);
				goto out_err;
			}
			if (skip_block(r, total, &first) < 0)
				goto out_err;
			memset(ev, 0, sizeof(*ev));
			ev->block = ++r->nblocks;
			ev->offset = r->offset;
			r->offset += total;
			if (type != BT_DSB)
				continue;
			/* Reported as secrets of unknown contents so that a
			 * dropped key log is counted, not lost quietly. */
			ev->kind = PCAPNG_SECRETS;
			ev->secrets_type = first;
			ev->secrets_len = total;
			return 1;
		}
		if (grow_buf(r, total) < 0)
			goto out_err;
		memcpy(r->buf, head, have);
		got = read_full(r, r->buf + have, total - have);
		if (got != total - have) {
			read_failed(r, "block", total, have + got);
			goto out_err;
		}
		rd_init(&blk, r->buf, total);
		rd_skip(&blk, 8);
		rd_sub(&blk, total - BLOCK_MIN, &body);
		rd_u32o(&blk, r->be, &trail);
		if (trail != total) {
			fail(r, "trailing block length %u differs from the leading %u",
			     trail, total);
			goto out_err;
		}
		memset(ev, 0, sizeof(*ev));
		ev->block = r->nblocks + 1;
		ev->offset = r->offset;
		switch (type) {
		case BT_SHB: rc = parse_shb(r, &body); break;
		case BT_IDB: rc = parse_idb(r, &body); break;
		case BT_EPB: rc = parse_epb(r, &body, ev); break;
		case BT_PB:  rc = parse_pb(r, &body, ev); break;
		case BT_SPB: rc = parse_spb(r, &body, ev); break;
		case BT_DSB: rc = parse_dsb(r, &body, ev); break;
		default:     rc = 0; break;   /* ISB, NRB, custom: not ours */
		}
		if (rc < 0)
			goto out_err;
		r->nblocks++;
		r->offset += total;
		if (rc == 1)
			return 1;
	}
out_err:
	snprintf(err, errlen, "%s", r->errmsg);
	return -1;
}
