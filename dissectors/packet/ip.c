/* ip.c - IPv4 (options, fragment reassembly) and IPv6 (extension headers,
 * fragment reassembly), and pkt_decode_tcp, the walk from link to TCP.
 * Owns struct ip_reasm; trusts no length or offset from the wire. */
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "layers.h"

#define IP_PROTO_HOPOPTS  0
#define IP_PROTO_TCP      6
#define IP_PROTO_ROUTING  43
#define IP_PROTO_FRAGMENT 44
#define IP_PROTO_AH       51
#define IP_PROTO_NONE     59
#define IP_PROTO_DSTOPTS  60
#define IP_PROTO_MOBILITY 135
#define IP_PROTO_HIP      139
#define IP_PROTO_SHIM6    140

/* Bounds the extension header walk: RFC 8200 chains are a handful long,
 * longer ones are an attack on middleboxes, not traffic we want. */
#define IPV6_MAX_EXT_HDRS 16

/* Fragment offsets count 8-byte blocks; no datagram exceeds 65535 bytes
 * (no jumbograms in fragments: RFC 2675 forbids it). */
#define IPR_MAX_DGRAM   65535u
#define IPR_BLOCKS      ((IPR_MAX_DGRAM + 7) / 8)
#define IPR_MAX_HELD    256
/* Linux's ipfrag_time default: a sender retransmits rather than wait. */
#define IPR_TIMEOUT_NS  (30ull * 1000000000ull)

struct ipr_dgram {
	int used;
	uint8_t family;
	uint8_t proto;
	uint8_t src[16], dst[16];
	uint32_t id;
	uint64_t first_ts_ns;
	uint64_t nfrags;
	uint8_t *buf;
	size_t cap;              /* bytes of buf, counted in ipr->held_bytes */
	uint32_t total;          /* known once the last fragment (MF=0) came */
	int have_total;
	uint32_t nfilled;        /* blocks set in filled */
	uint8_t filled[(IPR_BLOCKS + 7) / 8];
};

struct ip_reasm {
	int verify_checksums;    /* --checksums: a full pass over every payload */
	size_t max_bytes;
	size_t held_bytes;
	struct ipr_dgram d[IPR_MAX_HELD];
	uint8_t *out;            /* completed datagram, lent until next call */
};

struct frag_key {
	uint8_t family;
	uint8_t proto;
	const uint8_t *src, *dst;
	uint32_t id;
};

struct ip_reasm *ip_reasm_new(size_t max_bytes)
{
	struct ip_reasm *ipr = calloc(1, sizeof(*ipr));

	if (ipr)
		ipr->max_bytes = max_bytes;
	return ipr;
}

void ip_reasm_verify_checksums(struct ip_reasm *ipr, int on)
{
	if (ipr)
		ipr->verify_checksums = on;
}

static void ipr_release(struct ip_reasm *ipr, struct ipr_dgram *d)
{
	ipr->held_bytes -= d->cap;
	free(d->buf);
	memset(d, 0, sizeof(*d));
}

/* Drops a datagram that will not complete; its fragments are lost. */
static void ipr_drop(struct ip_reasm *ipr, struct ipr_dgram *d,
		     struct counters *cnt)
{
	if (cnt)
		cnt->ip_frag_dropped += d->nfrags;
	ipr_release(ipr, d);
}

void ip_reasm_free(struct ip_reasm *ipr)
{
	size_t i;

	if (!ipr)
		return;
	for (i = 0; i < IPR_MAX_HELD; i++)
		if (ipr->d[i].used)
			ipr_release(ipr, &ipr->d[i]);
	free(ipr->out);
	free(ipr);
}

static void ipr_expire(struct ip_reasm *ipr, uint64_t now_ns,
		       struct counters *cnt)
{
	size_t i;

	for (i = 0; i < IPR_MAX_HELD; i++) {
		struct ipr_dgram *d = &ipr->d[i];

		/* Merged inputs can step back in time: never expire on that. */
		if (d->used && now_ns > d->first_ts_ns &&
		    now_ns - d->first_ts_ns > IPR_TIMEOUT_NS)
			ipr_drop(ipr, d, cnt);
	}
}

static struct ipr_dgram *ipr_find(struct ip_reasm *ipr,
				  const struct frag_key *k, uint64_t now_ns,
				  struct counters *cnt)
{
	size_t alen = k->family == 4 ? 4 : 16;
	struct ipr_dgram *free_slot = NULL, *oldest = NULL;
	size_t i;

	for (i = 0; i < IPR_MAX_HELD; i++) {
		struct ipr_dgram *d = &ipr->d[i];

		if (!d->used) {
			if (!free_slot)
				free_slot = d;
			continue;
		}
		if (d->family == k->family && d->proto == k->proto &&
		    d->id == k->id && !memcmp(d->src, k->src, alen) &&
		    !memcmp(d->dst, k->dst, alen))
			return d;
		if (!oldest || d->first_ts_ns < oldest->first_ts_ns)
			oldest = d;
	}
	if (!free_slot) {
		/* Full: the oldest is the likeliest to never complete. */
		ipr_drop(ipr, oldest, cnt);
		free_slot = oldest;
	}
	free_slot->used = 1;
	free_slot->family = k->family;
	free_slot->proto = k->proto;
	free_slot->id = k->id;
	memcpy(free_slot->src, k->src, alen);
	memcpy(free_slot->dst, k->dst, alen);
	free_slot->first_ts_ns = now_ns;
	return free_slot;
}

static int block_filled(const struct ipr_dgram *d, uint32_t b)
{
	return d->filled[b / 8] & (1u << (b % 8));
}

/* Grows d's buffer to hold end bytes within the memory cap. */
static int ipr_reserve(struct ip_reasm *ipr, struct ipr_dgram *d, uint32_t end)
{
	size_t want;
	uint8_t *nb;

	if (end <= d->cap)
		return 0;
	/* Fragments usually arrive in order: doubling keeps reallocs few. */
	want = d->cap * 2 > end ? d->cap * 2 : end;
	if (want > IPR_MAX_DGRAM)
		want = IPR_MAX_DGRAM;
	if (want - d->cap > ipr->max_bytes - ipr->held_bytes) {
		want = end;
		if (want - d->cap > ipr->max_bytes - ipr->held_bytes)
			return -1;
	}
	nb = realloc(d->buf, want);
	if (!nb)
		return -1;
	ipr->held_bytes += want - d->cap;
	d->buf = nb;
	d->cap = want;
	return 0;
}

/*
 * Adds one fragment. Returns 1 when the datagram is complete (out and outlen
 * lent until the next pkt_decode_tcp), 0 when held, or a PKT_* error when
 * the fragment was dropped (counted in ip_frag_dropped).
 */
static int ipr_add(struct ip_reasm *ipr, const struct frag_key *k,
		   uint32_t off, const uint8_t *data, uint32_t len, int more,
		   uint64_t now_ns, struct counters *cnt,
		   const uint8_t **out, uint32_t *outlen)
{
	struct ipr_dgram *d;
	uint32_t end = off + len, b, first, last;

	/* RFC 791/8200: all but the last fragment carry whole 8-byte blocks;
	 * anything else, or a datagram past 64 KiB, is an attack or damage. */
	if (end > IPR_MAX_DGRAM || (more && (len == 0 || len % 8))) {
		if (cnt)
			cnt->ip_frag_dropped++;
		return PKT_MALFORMED;
	}
	ipr_expire(ipr, now_ns, cnt);
	d = ipr_find(ipr, k, now_ns, cnt);
	d->nfrags++;

	/* Overlapping bytes keep the copy that came first, so a later
	 * fragment cannot rewrite what was already seen (RFC 5722 would drop
	 * the whole IPv6 datagram; an inspector would rather show it). A
	 * second last fragment that disagrees about the end is discarded. */
	if (d->have_total && (end > d->total || (!more && end != d->total)))
		goto drop_fragment;
	if (!more && !d->have_total) {
		for (b = (end + 7) / 8; b < IPR_BLOCKS; b++)
			if (block_filled(d, b))
				goto drop_fragment;
	}
	if (ipr_reserve(ipr, d, end) < 0) {
		/* Cap reached: this datagram can no longer complete. */
		ipr_drop(ipr, d, cnt);
		return PKT_FRAGMENT;
	}
	if (!more) {
		d->total = end;
		d->have_total = 1;
	}
	first = off / 8;
	last = (end + 7) / 8;
	for (b = first; b < last; b++) {
		uint32_t from = b * 8, to = from + 8 > end ? end : from + 8;

		if (block_filled(d, b))
			continue;
		memcpy(d->buf + from, data + (from - off), to - from);
		d->filled[b / 8] |= (uint8_t)(1u << (b % 8));
		d->nfilled++;
	}
	if (!d->have_total || d->nfilled != (d->total + 7) / 8)
		return 0;

	free(ipr->out);
	ipr->out = d->buf;
	*out = d->buf;
	*outlen = d->total;
	ipr->held_bytes -= d->cap;
	memset(d, 0, sizeof(*d));
	if (cnt)
		cnt->ip_reassembled++;
	return 1;

drop_fragment:
	d->nfrags--;
	if (cnt)
		cnt->ip_frag_dropped++;
	if (d->nfrags == 0)
		ipr_release(ipr, d);
	return PKT_FRAGMENT;
}

/* Common entry for a fragment of either family. *r is replaced by the
 * reassembled datagram when it completes (return 1). */
static int frag_input(struct ip_reasm *ipr, const struct frag_key *k,
		      uint32_t off, int more, struct rd *r, uint32_t wire_len,
		      uint64_t now_ns, struct counters *cnt)
{
	const uint8_t *out;
	uint32_t outlen;
	int rc;

	/* A fragment cut by the snap length cannot be put back together. */
	if (rd_left(r) < wire_len) {
		if (cnt)
			cnt->ip_frag_dropped++;
		return PKT_TRUNCATED;
	}
	if (!ipr) {
		if (cnt)
			cnt->ip_frag_dropped++;
		return PKT_FRAGMENT;
	}
	rc = ipr_add(ipr, k, off, rd_ptr(r), wire_len, more, now_ns, cnt,
		     &out, &outlen);
	if (rc == 1)
		rd_init(r, out, outlen);
	return rc == 0 ? PKT_FRAGMENT : rc;
}

static void set_addrs(struct tcp_seg *seg, uint8_t family,
		      const uint8_t *src, const uint8_t *dst, size_t alen)
{
	seg->src.family = family;
	seg->dst.family = family;
	memcpy(seg->src.addr, src, alen);
	memcpy(seg->dst.addr, dst, alen);
}

/* The TCP checksum covers a pseudo-header: both addresses, the protocol
 * and the TCP length (RFC 9293 section 3.1, RFC 8200 section 8.1). */
static uint32_t pseudo_header_sum(const uint8_t *src, const uint8_t *dst,
				  size_t alen, uint32_t tcp_len)
{
	struct rd a;
	uint32_t sum;

	rd_init(&a, src, alen);
	sum = inet_sum(0, &a);
	rd_init(&a, dst, alen);
	sum = inet_sum(sum, &a);
	return sum + IP_PROTO_TCP + (tcp_len >> 16) + (tcp_len & 0xffff);
}

static int ipv4_decode(struct rd *r, struct ip_reasm *ipr,
		       struct counters *cnt, uint64_t now_ns,
		       struct tcp_seg *seg)
{
	uint8_t vihl, proto;
	uint16_t total, id, frag;
	uint8_t src[4], dst[4];
	size_t hl;
	uint32_t wire, off, pseudo;
	struct rd payload, at_hdr = *r, hdr;

	if (!rd_u8(r, &vihl))
		return PKT_TRUNCATED;
	hl = (size_t)(vihl & 0x0f) * 4;
	if (vihl >> 4 != 4 || hl < 20)
		return PKT_MALFORMED;
	if (!rd_skip(r, 1) || !rd_be16(r, &total) || !rd_be16(r, &id) ||
	    !rd_be16(r, &frag) || !rd_skip(r, 1) || !rd_u8(r, &proto) ||
	    !rd_skip(r, 2) || !rd_copy(r, src, 4) || !rd_copy(r, dst, 4) ||
	    !rd_skip(r, hl - 20))  /* options: nothing in them concerns us */
		return PKT_TRUNCATED;
	if (ipr && ipr->verify_checksums) {
		rd_sub(&at_hdr, hl, &hdr);
		seg->ip_checksum = inet_fold(inet_sum(0, &hdr)) == 0xffff ? CHECKSUM_OK : CHECKSUM_BAD;
	}
	/* Captured on the sending host with segmentation offload, the
	 * kernel leaves total length 0: the frame is the datagram. */
	if (total == 0)
		wire = rd_left(r) > 0xffff ? 0xffff : (uint32_t)rd_left(r);
	else if (total < hl)
		return PKT_MALFORMED;
	else
		wire = total - (uint32_t)hl;
	/* Less than wire: cut by the snap length; more: link padding. */
	if (!rd_sub(r, rd_left(r) < wire ? rd_left(r) : wire, &payload))
		return PKT_TRUNCATED;
	set_addrs(seg, 4, src, dst, 4);

	off = (uint32_t)(frag & 0x1fff) * 8;
	if (off || (frag & 0x2000)) {
		struct frag_key k = { 4, proto, src, dst, id };
		int rc;

		if (cnt)
			cnt->ip_fragments++;
		/* Only TCP is ever reassembled: other protocols' fragments
		 * would spend the cap on traffic we never look at. */
		if (proto != IP_PROTO_TCP)
			return PKT_NOT_TCP;
		rc = frag_input(ipr, &k, off, frag & 0x2000, &payload, wire,
				now_ns, cnt);
		if (rc != 1)
			return rc;
		wire = (uint32_t)rd_left(&payload);
	}
	if (proto != IP_PROTO_TCP)
		return PKT_NOT_TCP;
	if (!ipr || !ipr->verify_checksums)
		return tcp_decode(&payload, wire, NULL, seg);
	pseudo = pseudo_header_sum(src, dst, 4, wire);
	return tcp_decode(&payload, wire, &pseudo, seg);
}

static int ipv6_decode(struct rd *r, struct ip_reasm *ipr,
		       struct counters *cnt, uint64_t now_ns,
		       struct tcp_seg *seg)
{
	uint32_t vtf, wire;
	uint16_t plen;
	uint8_t nh, src[16], dst[16];
	struct rd payload;
	int nhdrs, reassembled = 0;

	if (!rd_be32(r, &vtf))
		return PKT_TRUNCATED;
	if (vtf >> 28 != 6)
		return PKT_MALFORMED;
	if (!rd_be16(r, &plen) || !rd_u8(r, &nh) || !rd_skip(r, 1) ||
	    !rd_copy(r, src, 16) || !rd_copy(r, dst, 16))
		return PKT_TRUNCATED;
	/* 0 means a jumbogram (RFC 2675) or a segmentation-offload capture
	 * (Linux BIG TCP): in both the frame is the datagram. */
	wire = plen ? plen : (uint32_t)rd_left(r);
	if (!rd_sub(r, rd_left(r) < wire ? rd_left(r) : wire, &payload))
		return PKT_TRUNCATED;
	set_addrs(seg, 6, src, dst, 16);

	for (nhdrs = 0; nhdrs < IPV6_MAX_EXT_HDRS; nhdrs++) {
		uint8_t next, hlen;
		size_t skip;

		switch (nh) {
		case IP_PROTO_TCP:
		{
			uint32_t pseudo6;

			if (!ipr || !ipr->verify_checksums)
				return tcp_decode(&payload, wire, NULL, seg);
			pseudo6 = pseudo_header_sum(src, dst, 16, wire);
			return tcp_decode(&payload, wire, &pseudo6, seg);
		}
		case IP_PROTO_HOPOPTS:
		case IP_PROTO_ROUTING:
		case IP_PROTO_DSTOPTS:
		case IP_PROTO_MOBILITY:
		case IP_PROTO_HIP:
		case IP_PROTO_SHIM6:
		case IP_PROTO_AH:
			if (!rd_u8(&payload, &next) || !rd_u8(&payload, &hlen))
				return PKT_TRUNCATED;
			/* AH counts 4-byte words less 2 (RFC 4302), the rest
			 * 8-byte units less 1 (RFC 8200 section 4). */
			skip = nh == IP_PROTO_AH ? ((size_t)hlen + 2) * 4
						 : ((size_t)hlen + 1) * 8;
			if (skip > wire)
				return PKT_MALFORMED;
			if (!rd_skip(&payload, skip - 2))
				return PKT_TRUNCATED;
			wire -= (uint32_t)skip;
			nh = next;
			break;
		case IP_PROTO_FRAGMENT: {
			uint16_t offflags;
			uint32_t id;
			struct frag_key k;
			int rc;

			if (reassembled)
				return PKT_MALFORMED;
			if (!rd_u8(&payload, &next) || !rd_skip(&payload, 1) ||
			    !rd_be16(&payload, &offflags) ||
			    !rd_be32(&payload, &id))
				return PKT_TRUNCATED;
			if (wire < 8)
				return PKT_MALFORMED;
			wire -= 8;
			nh = next;
			/* An atomic fragment (RFC 6946) is a whole datagram. */
			if ((offflags & 0xfff8) == 0 && !(offflags & 1))
				break;
			if (cnt)
				cnt->ip_fragments++;
			if (next != IP_PROTO_TCP && next != IP_PROTO_DSTOPTS)
				return PKT_NOT_TCP;
			k.family = 6;
			k.proto = next;
			k.src = src;
			k.dst = dst;
			k.id = id;
			rc = frag_input(ipr, &k, offflags & 0xfff8,
					offflags & 1, &payload, wire, now_ns,
					cnt);
			if (rc != 1)
				return rc;
			wire = (uint32_t)rd_left(&payload);
			reassembled = 1;
			break;
		}
		default:
			/* No Next Header, ESP, UDP, ICMPv6...: not ours. */
			return PKT_NOT_TCP;
		}
	}
	return PKT_MALFORMED;
}

/* A record captured short of its wire length counts as truncated whether
 * or not its headers survived; its captured length is the snap length. */
static void count_result(struct counters *cnt, int rc, uint32_t snaplen)
{
	if (!cnt)
		return;
	if (snaplen) {
		cnt->truncated_packets++;
		if (snaplen > cnt->snap_length)
			cnt->snap_length = snaplen;
	}
	switch (rc) {
	case PKT_TCP:
		cnt->tcp_segments++;
		break;
	case PKT_NOT_TCP:
		cnt->not_tcp++;
		break;
	case PKT_TRUNCATED:
		if (!snaplen)
			cnt->truncated_packets++;
		break;
	case PKT_MALFORMED:
		cnt->malformed_packets++;
		break;
	case PKT_UNSUPPORTED_LINK:
		cnt->unsupported_link++;
		break;
	default:
		break;  /* fragments are counted by reassembly */
	}
}

int pkt_decode_tcp(const struct pkt *pkt, struct ip_reasm *ipr,
		   struct counters *cnt, struct tcp_seg *seg)
{
	struct rd r, peek;
	enum link_next next;
	uint8_t v;
	int rc;
	uint32_t snaplen = pkt->caplen < pkt->wirelen ? pkt->caplen : 0;

	memset(seg, 0, sizeof(*seg));
	seg->frame = pkt->frame;
	seg->ts_ns = pkt->ts_ns;
	if (ipr && ipr->out) {
		/* The last reassembled datagram was lent until this call. */
		free(ipr->out);
		ipr->out = NULL;
	}
	rd_init(&r, pkt->data, pkt->caplen);
	rc = link_decode(pkt->linktype, &r, &next);
	if (rc == 0 && next == LINK_NEXT_IP_ANY) {
		peek = r;
		if (!rd_u8(&peek, &v))
			rc = PKT_TRUNCATED;
		else if (v >> 4 == 4)
			next = LINK_NEXT_IPV4;
		else if (v >> 4 == 6)
			next = LINK_NEXT_IPV6;
		else
			rc = PKT_MALFORMED;
	}
	if (rc == 0) {
		switch (next) {
		case LINK_NEXT_IPV4:
			rc = ipv4_decode(&r, ipr, cnt, pkt->ts_ns, seg);
			break;
		case LINK_NEXT_IPV6:
			rc = ipv6_decode(&r, ipr, cnt, pkt->ts_ns, seg);
			break;
		default:
			rc = PKT_NOT_TCP;
			break;
		}
	}
	if (rc == PKT_TCP)
		seg->snaplen = snaplen;
	count_result(cnt, rc, snaplen);
	return rc;
}
