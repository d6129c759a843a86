/* layers.h - private hand-offs between the link, IP and TCP dissectors
 * (link.c, ip.c, tcp.c) and capture.c's open-time link type check.
 * Everything here reads through struct rd; nothing trusts the wire. */
#ifndef SCEPDUMP_LAYERS_H
#define SCEPDUMP_LAYERS_H

#include <stdint.h>

#include "packet.h"
#include "reader.h"

/* What the link layer says comes next. */
enum link_next {
	LINK_NEXT_IPV4,
	LINK_NEXT_IPV6,
	LINK_NEXT_IP_ANY,     /* raw IP: the version nibble decides */
	LINK_NEXT_OTHER       /* ARP, LLC, ... nothing for us */
};

/* 1 if link_decode knows linktype (a DLT_* value), else 0. */
int link_supported(int linktype);

/* Consumes the link header(s) of r (VLAN tags included). Returns 0 with
 * *next set and r positioned at the network header, or a PKT_* error. */
int link_decode(int linktype, struct rd *r, enum link_next *next);

/* Parses a TCP header and its payload. r holds the bytes present of the
 * IP payload, wire_len its length according to the IP header, pseudo_sum
 * the IP pseudo-header's part of the checksum (inet_sum of it), or NULL
 * when checksums are not wanted (a pass over every payload). Returns
 * PKT_TCP with seg's TCP fields filled (addresses are the caller's), or a
 * PKT_* error. The checksum is checked when the whole segment is present
 * and only recorded in seg->tcp_checksum: offloaded captures are full of
 * wrong ones, so nothing is dropped for it. */
int tcp_decode(struct rd *r, uint32_t wire_len, const uint32_t *pseudo_sum,
	       struct tcp_seg *seg);

/* Adds the bytes of r (not consumed) to a ones' complement sum (RFC 1071). */
uint32_t inet_sum(uint32_t sum, const struct rd *r);
/* Folds a sum to 16 bits; a correct checksummed block folds to 0xffff. */
uint16_t inet_fold(uint32_t sum);

#endif
