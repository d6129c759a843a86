/* tcp.c - the TCP header and where its payload lies. Owns nothing; trusts
 * neither the data offset nor the IP layer's length until compared with
 * what is present. */
#include "layers.h"

#define TCP_MIN_HDR 20

uint32_t inet_sum(uint32_t sum, const struct rd *r)
{
	/* The reader bounds the span once; the loop then reads inside it. */
	const uint8_t *p = rd_ptr(r);
	size_t n = rd_left(r), i;
	uint64_t acc = sum;

	for (i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

uint16_t inet_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

int tcp_decode(struct rd *r, uint32_t wire_len, const uint32_t *pseudo_sum,
	       struct tcp_seg *seg)
{
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t off, flags;
	size_t doff;

	/* The IP header claims a segment too short for any TCP header: the
	 * bytes we have cannot be trusted to be TCP at all. */
	if (wire_len < TCP_MIN_HDR)
		return PKT_MALFORMED;
	if (pseudo_sum && rd_left(r) == wire_len)
		seg->tcp_checksum = inet_fold(inet_sum(*pseudo_sum, r)) == 0xffff ?
				    CHECKSUM_OK : CHECKSUM_BAD;
	if (!rd_be16(r, &sport) || !rd_be16(r, &dport) ||
	    !rd_be32(r, &seq) || !rd_be32(r, &ack) ||
	    !rd_u8(r, &off) || !rd_u8(r, &flags) ||
	    !rd_skip(r, 6))  /* window, checksum, urgent pointer */
		return PKT_TRUNCATED;
	doff = (size_t)(off >> 4) * 4;
	if (doff < TCP_MIN_HDR || doff > wire_len)
		return PKT_MALFORMED;
	/* Options (MSS, window scale, SACK, timestamps) are skipped: the
	 * reassembler works from sequence numbers alone and captures often
	 * miss the SYN that would give the scale. */
	if (!rd_skip(r, doff - TCP_MIN_HDR))
		return PKT_TRUNCATED;

	seg->src.port = sport;
	seg->dst.port = dport;
	seg->seq = seq;
	seg->ack = ack;
	seg->flags = flags;
	seg->len = wire_len - (uint32_t)doff;
	seg->payload = rd_ptr(r);
	seg->caplen = (uint32_t)rd_left(r);
	/* The IP layer hands us at most its own length, but stay safe should
	 * a caller pass a reader longer than wire_len. */
	if (seg->caplen > seg->len)
		seg->caplen = seg->len;
	return PKT_TCP;
}
