/* link.c - link-layer headers: Ethernet (802.1Q/802.1ad tags, SNAP), Linux
 * cooked SLL/SLL2, BSD loopback (DLT_NULL/DLT_LOOP) and raw IP. Owns no
 * state; trusts nothing in the frame, every read goes through struct rd. */
#include <pcap/dlt.h>

#include "layers.h"

/* pcap files written as LINKTYPE_RAW are mapped to DLT_RAW by libpcap, but
 * tests and other tools may hand us the LINKTYPE value itself. */
#define LINKTYPE_RAW 101

#define ETHERTYPE_IPV4  0x0800
#define ETHERTYPE_IPV6  0x86dd
#define ETHERTYPE_VLAN  0x8100  /* 802.1Q */
#define ETHERTYPE_QINQ  0x88a8  /* 802.1ad service tag */
#define ETHERTYPE_QINQ1 0x9100  /* pre-standard QinQ still seen on switches */
#define ETHERTYPE_QINQ2 0x9200

/* The BSD loopback header carries the sender's AF_INET6, which differs
 * between the systems that write such captures. */
#define BSD_AF_INET          2
#define BSD_AF_INET6_LINUX  10
#define BSD_AF_INET6_WIN    23
#define BSD_AF_INET6_BSD    24
#define BSD_AF_INET6_FREEBSD 28
#define BSD_AF_INET6_DARWIN 30

int link_supported(int linktype)
{
	switch (linktype) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_RAW:
	case LINKTYPE_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return 1;
	default:
		return 0;
	}
}

static int rd_result(const struct rd *r)
{
	return r->err == RD_TRUNCATED ? PKT_TRUNCATED : PKT_MALFORMED;
}

/* Walks VLAN tags until a protocol ethertype, then names the next layer. */
static int ethertype_dispatch(struct rd *r, uint16_t type, enum link_next *next)
{
	for (;;) {
		switch (type) {
		case ETHERTYPE_IPV4:
			*next = LINK_NEXT_IPV4;
			return 0;
		case ETHERTYPE_IPV6:
			*next = LINK_NEXT_IPV6;
			return 0;
		case ETHERTYPE_VLAN:
		case ETHERTYPE_QINQ:
		case ETHERTYPE_QINQ1:
		case ETHERTYPE_QINQ2:
			/* Tag control (PCP/DEI/VID) is of no use to us; every
			 * tag consumes 4 bytes, so the loop ends with the frame. */
			if (!rd_skip(r, 2) || !rd_be16(r, &type))
				return rd_result(r);
			continue;
		default:
			*next = LINK_NEXT_OTHER;
			return 0;
		}
	}
}

static int ether_decode(struct rd *r, enum link_next *next)
{
	uint16_t type;
	uint8_t dsap, ssap, ctl;

	if (!rd_skip(r, 12) || !rd_be16(r, &type))
		return rd_result(r);
	if (type > 1500)
		return ethertype_dispatch(r, type, next);
	/* 802.3 length field: only LLC/SNAP with an ethertype can carry IP. */
	if (!rd_u8(r, &dsap) || !rd_u8(r, &ssap) || !rd_u8(r, &ctl))
		return rd_result(r);
	if (dsap != 0xaa || ssap != 0xaa || ctl != 0x03) {
		*next = LINK_NEXT_OTHER;
		return 0;
	}
	if (!rd_skip(r, 3) || !rd_be16(r, &type))  /* OUI, then ethertype */
		return rd_result(r);
	return ethertype_dispatch(r, type, next);
}

static int sll_decode(struct rd *r, enum link_next *next)
{
	uint16_t proto;

	/* packet type, ARPHRD type, address length, 8 address bytes */
	if (!rd_skip(r, 14) || !rd_be16(r, &proto))
		return rd_result(r);
	/* Values up to 1500 are Linux pseudo-protocols (802.2, CAN...). */
	if (proto <= 1500) {
		*next = LINK_NEXT_OTHER;
		return 0;
	}
	return ethertype_dispatch(r, proto, next);
}

static int sll2_decode(struct rd *r, enum link_next *next)
{
	uint16_t proto;

	/* protocol first; then reserved, ifindex, ARPHRD type, packet type,
	 * address length and 8 address bytes */
	if (!rd_be16(r, &proto) || !rd_skip(r, 18))
		return rd_result(r);
	if (proto <= 1500) {
		*next = LINK_NEXT_OTHER;
		return 0;
	}
	return ethertype_dispatch(r, proto, next);
}

static int null_decode(struct rd *r, enum link_next *next)
{
	uint32_t fam;

	/* DLT_NULL is in the byte order of the capturing host and some
	 * writers got DLT_LOOP wrong too; every family fits in 16 bits, so a
	 * value with high bits set is the other byte order. */
	if (!rd_be32(r, &fam))
		return rd_result(r);
	if (fam & 0xffff0000u)
		fam = (fam >> 24) | ((fam >> 8) & 0xff00u) |
		      ((fam << 8) & 0xff0000u) | (fam << 24);
	switch (fam) {
	case BSD_AF_INET:
		*next = LINK_NEXT_IPV4;
		break;
	case BSD_AF_INET6_LINUX:
	case BSD_AF_INET6_WIN:
	case BSD_AF_INET6_BSD:
	case BSD_AF_INET6_FREEBSD:
	case BSD_AF_INET6_DARWIN:
		*next = LINK_NEXT_IPV6;
		break;
	default:
		*next = LINK_NEXT_OTHER;
		break;
	}
	return 0;
}

int link_decode(int linktype, struct rd *r, enum link_next *next)
{
	switch (linktype) {
	case DLT_EN10MB:
		return ether_decode(r, next);
	case DLT_LINUX_SLL:
		return sll_decode(r, next);
	case DLT_LINUX_SLL2:
		return sll2_decode(r, next);
	case DLT_NULL:
	case DLT_LOOP:
		return null_decode(r, next);
	case DLT_RAW:
	case LINKTYPE_RAW:
		*next = LINK_NEXT_IP_ANY;
		return 0;
	case DLT_IPV4:
		*next = LINK_NEXT_IPV4;
		return 0;
	case DLT_IPV6:
		*next = LINK_NEXT_IPV6;
		return 0;
	default:
		return PKT_UNSUPPORTED_LINK;
	}
}
