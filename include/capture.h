/* capture.h - packet sources: offline files (pcap/pcapng, '-' for stdin)
 * merged in timestamp order, or a live interface. */
#ifndef SCEPDUMP_CAPTURE_H
#define SCEPDUMP_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "packet.h"

struct capture;

struct capture_live_opts {
	const char *iface;
	const char *filter;         /* BPF, NULL for the default */
	int snaplen;
	const char *drop_user;      /* -Z */
	size_t buffer_kib;          /* -B, kernel ring in KiB; 0: CAPTURE_LIVE_BUFFER */
};

/* Opens every file (paths[i] == "-" is stdin); the first four bytes choose
 * the reader: pcapng goes to our block walker (interfaces of any mix of
 * link types, Decryption Secrets Blocks kept), classic pcap to libpcap.
 * filter (BPF, may be NULL) applies to both, compiled per link type for
 * pcapng. On failure returns NULL and writes one line naming the file and
 * the reason into err: no such file, unknown format, a bad filter, or only
 * unsupported link types. */
struct capture *capture_open_files(const char *const *paths, size_t n,
				   const char *filter, char *err, size_t errlen);
struct capture *capture_open_live(const struct capture_live_opts *o,
				  char *err, size_t errlen);
/* tcpdump's "listening on IFACE, link-type ..., snapshot length N bytes"
 * for a live capture (nothing for files), so a user or a script knows the
 * capture is up. */
void capture_print_listening(const struct capture *c, FILE *out);

/* Next packet in timestamp order across all inputs. Returns 1 with pkt
 * filled (borrowed until the next call), 0 at the end of all inputs, 2
 * when a live capture had nothing for a quarter of a second, or a signal
 * came (no packet; do the idle work, call again), -1 on
 * a read error: err says which file, which packet (pcapng: which block at
 * which byte), what; the caller may call again, the failed input is then
 * skipped. A pcapng interface whose link type the dissectors cannot walk
 * also gives -1, once per link type and input, at its first packet; that
 * input goes on, and its packets of that type are still returned (so the
 * pipeline counts them as unsupported_link). */
int capture_next(struct capture *c, struct pkt *pkt, char *err, size_t errlen);
/* Where merged frame number frame (pkt.frame) came from when several
 * files are read: its input and its record number there. 0 with *o
 * filled; -1 for one input, live, a frame not read yet, or one read after
 * the table of origins reached its cap (some millions of frames from
 * files interleaved in time; a label then shows the merged number). */
int capture_frame_origin(const struct capture *c, uint64_t frame, struct frame_origin *o);
/* TLS key log text ("CLIENT_RANDOM ..." lines) from the pcapng Decryption
 * Secrets Blocks read so far, all inputs in the order read, NUL-terminated;
 * NULL with *len 0 when there is none. Valid until the next capture_next.
 * At most 16 MiB is kept. */
const uint8_t *capture_tls_keylog(struct capture *c, size_t *len);
/* Secrets not kept: key log bytes over the cap (a block is kept whole or
 * not at all) and Decryption Secrets Blocks of other secrets types. */
void capture_secrets_dropped(const struct capture *c, uint64_t *keylog_bytes,
			     uint64_t *other_blocks);
/* The link type of a live capture (its one interface); -1 for files. */
int capture_linktype(const struct capture *c);
/* Makes capture_next return 0 soon; safe from a signal handler. */
void capture_break(struct capture *c);
/* Kernel counters for live captures; returns -1 when not available. */
int capture_stats(struct capture *c, uint64_t *received, uint64_t *dropped);
/* Live: packets the kernel dropped (ps_drop + ps_ifdrop) not told by an
 * earlier call, and the span of capture time they were lost in, between
 * *from_ns and *to_ns: the reading of the counters before they grew and
 * the one where they had (packets are stamped with the same wall clock).
 * The counters are read at most every 100 ms, or now when fresh is set
 * (at the end of the capture). Returns the count, 0 when there is none
 * (*from_ns and *to_ns then untouched) and for files. */
uint64_t capture_take_drops(struct capture *c, int fresh, uint64_t *from_ns,
			    uint64_t *to_ns);
void capture_close(struct capture *c);

#endif
