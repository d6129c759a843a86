/* capture.h - packet sources: offline files (pcap/pcapng, '-' for stdin)
 * merged in timestamp order, or a live interface. */
#ifndef SCEPDUMP_CAPTURE_H
#define SCEPDUMP_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"

struct capture;

struct capture_live_opts {
	const char *iface;
	const char *filter;         /* BPF, NULL for the default */
	int snaplen;
	const char *drop_user;      /* -Z */
};

/* Opens every file (paths[i] == "-" is stdin). On failure returns NULL and
 * writes one line naming the file and the reason into err. */
struct capture *capture_open_files(const char *const *paths, size_t n,
				   const char *filter, char *err, size_t errlen);
struct capture *capture_open_live(const struct capture_live_opts *o,
				  char *err, size_t errlen);

/* Next packet in timestamp order across all inputs. Returns 1 with pkt
 * filled (borrowed until the next call), 0 at the end of all inputs, -1 on
 * a read error: err says which file, which packet, what; the caller may
 * call again, the failed input is then skipped. */
int capture_next(struct capture *c, struct pkt *pkt, char *err, size_t errlen);
/* Makes capture_next return 0 soon; safe from a signal handler. */
void capture_break(struct capture *c);
/* Kernel counters for live captures; returns -1 when not available. */
int capture_stats(struct capture *c, uint64_t *received, uint64_t *dropped);
void capture_close(struct capture *c);

#endif
