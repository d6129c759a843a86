/* livew.h - -w FILE on a live capture: each new connection's packets are
 * held until the app layer says whether it carries SCEP; then they and the
 * rest of the connection go to the pcap (outrot.h), or they are dropped. */
#ifndef SCEPDUMP_LIVEW_H
#define SCEPDUMP_LIVEW_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "outrot.h"
#include "packet.h"

/* The packets held of a connection not yet known to carry SCEP: per
 * connection and in all (record bytes: 16 + captured length). Packets past
 * them are not held, and counted. A SCEP connection shows SCEP within its
 * first exchange, a few kB (a 4 kB GET PKIOperation, its CertRep; a TLS
 * handshake before them), so 64 KiB a connection lets a gateway's long
 * non-SCEP transfers take at most a thousandth each of the total, not
 * fill it (at 1 MiB, 64 of them kept the SCEP connections' packets out). */
#define LIVEW_HOLD_CONN_BYTES (64u << 10)
#define LIVEW_HOLD_TOTAL_BYTES (64u << 20)

/* Packets past the caps are counted with their connection and settled
 * with it: a connection that turns out to carry SCEP lost them (evidence
 * missing from the file), one that does not never needed them. */
struct livew_stats {
	uint64_t held_capped, held_capped_bytes;      /* of SCEP connections, past the caps */
	uint64_t not_scep, not_scep_bytes;            /* of connections without SCEP, not written */
};

struct livew;

/* out: the pcap file, owned from here on. NULL: out of memory. */
struct livew *livew_new(struct outrot *out, uint64_t idle_timeout_ns);
/* The pcap header for linktype and snaplen, into the file outrot_start
 * made and every later one. */
void livew_set_linktype(struct livew *w, int linktype, int snaplen);
/* A TCP packet (seg decoded from p): held, written or dropped according
 * to its connection. Call it before the flow table reads the segment, so
 * the packet that shows SCEP is among those written. */
void livew_packet(struct livew *w, const struct pkt *p, const struct tcp_seg *seg);
/* The connection between a and b carries SCEP: what is held is written,
 * and the rest of the connection will be. */
void livew_scep(struct livew *w, const struct endpoint *a, const struct endpoint *b);
/* The flow table closed it: SCEP or not is final. */
void livew_closed(struct livew *w, const struct endpoint *a, const struct endpoint *b, int scep);
/* Connections quiet for long are forgotten (held packets dropped). */
void livew_expire(struct livew *w, uint64_t now_ns);
struct outrot *livew_out(struct livew *w);
const struct livew_stats *livew_stats(const struct livew *w);
void livew_free(struct livew *w);

#endif
