/* packet.h - a captured frame and the TCP segment the link/IP/TCP
 * dissectors extract from it. Both borrow the capture buffer. */
#ifndef SCEPDUMP_PACKET_H
#define SCEPDUMP_PACKET_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct counters;

/* Where a frame sits in the -r input it came from, numbered as Wireshark
 * numbers that file (every record counts, also those a filter skipped):
 * with several inputs the merged frame number (pkt.frame) is found in no
 * file. */
struct frame_origin {
	uint32_t file;        /* 1-based index of the input; 0: not known */
	uint64_t frame;       /* 1-based record number within it */
};

struct pkt {
	uint64_t frame;       /* 1-based frame number across all inputs */
	struct frame_origin origin;  /* files only; live: file 0 */
	uint64_t ts_ns;       /* capture time, ns since the epoch */
	int linktype;         /* DLT_* of the interface the frame came from */
	const uint8_t *data;
	uint32_t caplen;      /* bytes present */
	uint32_t wirelen;     /* bytes on the wire */
};

struct endpoint {
	uint8_t family;       /* 4 or 6 */
	uint8_t addr[16];     /* IPv4 uses the first 4 bytes */
	uint16_t port;
};

enum {
	TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04,
	TCP_PSH = 0x08, TCP_ACK = 0x10
};

enum checksum_state { CHECKSUM_UNCHECKED = 0, CHECKSUM_OK, CHECKSUM_BAD };

struct tcp_seg {
	struct endpoint src, dst;
	uint32_t seq, ack;
	uint8_t flags;
	const uint8_t *payload;
	uint32_t caplen;      /* payload bytes present in the capture */
	uint32_t len;         /* payload bytes on the wire (>= caplen) */
	/* the frame was cut by a snap length: its captured bytes (the snap
	 * length itself for every frame longer than it); 0: captured whole */
	uint32_t snaplen;
	uint64_t frame;
	uint64_t ts_ns;
	/* Verified always, acted on never: offloaded captures carry wrong
	 * checksums; --checksums only reports them. */
	enum checksum_state ip_checksum, tcp_checksum;
};

enum pkt_result {
	PKT_TCP = 0,          /* seg filled in */
	PKT_NOT_TCP = 1,      /* valid, but nothing for us (UDP, ARP...) */
	PKT_FRAGMENT = 2,     /* held for IP reassembly */
	PKT_TRUNCATED = -1,
	PKT_MALFORMED = -2,
	PKT_UNSUPPORTED_LINK = -3
};

struct ip_reasm;

/* Walks link, IP and TCP headers of pkt. Returns a PKT_* value; on PKT_TCP
 * seg borrows pkt's bytes (or ipr's buffer for a reassembled datagram). */
int pkt_decode_tcp(const struct pkt *pkt, struct ip_reasm *ipr,
		   struct counters *cnt, struct tcp_seg *seg);

/* IPv4 fragment reassembly state (dissectors/packet/ip.c). */
struct ip_reasm *ip_reasm_new(size_t max_bytes);
void ip_reasm_free(struct ip_reasm *ipr);
/* --checksums: verify IPv4 and TCP checksums into tcp_seg (off by default:
 * it costs a pass over every payload, and offloaded captures fail it). */
void ip_reasm_verify_checksums(struct ip_reasm *ipr, int on);

/* "192.0.2.1:80" or "[2001:db8::1]:443"; buf at least ENDPOINT_STRLEN. */
#define ENDPOINT_STRLEN 56
const char *endpoint_str(const struct endpoint *ep, char *buf, size_t len);
/* Address only, no port. */
const char *endpoint_addr_str(const struct endpoint *ep, char *buf, size_t len);
/* The servers connections went to, by count: the first ENDPOINT_TALLY_MAX
 * servers are named (with the name the client asked for, SNI or Host),
 * the connections to any other are counted in others. */
#define ENDPOINT_TALLY_MAX 4
struct endpoint_tally {
	struct {
		struct endpoint server;
		char name[64];
		uint64_t n;
	} e[ENDPOINT_TALLY_MAX];
	size_t n_entries;
	uint64_t total, others;
};
void endpoint_tally_add(struct endpoint_tally *t, const struct endpoint *server, const char *name);
/* "127.0.0.1:443 (scep.example) x3, 10.0.0.2:80, 2 more" or "-" */
const char *endpoint_tally_str(const struct endpoint_tally *t, char *buf, size_t len);

/* Inline: the flow lookup compares endpoints for every packet. */
static inline int endpoint_eq(const struct endpoint *a, const struct endpoint *b)
{
	if (a->family != b->family || a->port != b->port)
		return 0;
	return a->family == 6 ? !memcmp(a->addr, b->addr, 16) : !memcmp(a->addr, b->addr, 4);
}

#endif
