/* reasm.h - one direction of a TCP connection turned into ordered bytes,
 * explicit gaps and an end (FIN/RST). Internal to the flow module: only
 * src/stream/flow.c and the unit tests use it. Semantics: see the top of reasm.c. */
#ifndef SCEPDUMP_REASM_H
#define SCEPDUMP_REASM_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "stream.h"

struct counters;
struct mem_budget;
struct reasm_chunk;

/* Delivered bytes kept to tell a conflicting retransmission from an exact
 * one; older delivered bytes are no longer compared. */
#define REASM_HISTORY 256

/* What every held chunk costs against the caps besides its bytes, so a
 * flood of one-byte segments is bounded too. */
#define REASM_CHUNK_COST 64

struct reasm {
	enum stream_dir dir;
	int have_base;          /* next_seq is known (SYN or first data) */
	/* Started by data, not a SYN: what is held is not delivered until the
	 * start is settled (reasm.c), as a merged capture can put a data
	 * segment before its connection's SYN. */
	int provisional;
	uint64_t provisional_ts_ns;
	int syn_seen;
	int fin_seen;           /* fin_abs is known; FIN not yet delivered */
	int ended;              /* FIN or RST delivered: nothing more */
	uint32_t isn;           /* valid if syn_seen */
	uint32_t next_seq;      /* sequence number of next_abs */
	uint64_t next_abs;      /* offset of the next byte to deliver */
	uint64_t fin_abs;       /* offset of the FIN */
	uint64_t fin_frame, fin_ts_ns;
	struct reasm_chunk *head, *tail;  /* held, sorted, non-overlapping */
	size_t held;            /* charged against the caps */
	uint64_t hist_from;     /* history is valid from this offset on */
	int no_history;         /* nobody reads the bytes: none kept (reasm_stop_history) */
	/* REASM_HISTORY bytes from the first delivery until reasm_release
	 * (none after reasm_stop_history):
	 * a closed flow's lingering entry is 350 bytes without the two of
	 * its directions, not 850 */
	uint8_t *hist;
};

/* Shared by all reassemblers of a table: caps, counters and where events
 * go. emit() gets events with dir set; data is borrowed for the call. */
struct reasm_ctx {
	struct counters *cnt;
	size_t max_held;        /* per direction */
	size_t max_total;       /* all directions of all flows */
	size_t *total_held;
	struct mem_budget *mem;  /* held chunks and history are charged here */
	/* the other direction of the connection: data that acknowledges its
	 * bytes waits for them (NULL: nothing waits, as at flush) */
	const struct reasm *peer;
	void (*emit)(void *arg, const struct stream_event *ev);
	void *emit_arg;
};

void reasm_init(struct reasm *r, enum stream_dir dir);
/* Takes the sequence space, payload, SYN and FIN of seg (RST and ACK are
 * the caller's: see reasm_ack and reasm_reset). */
void reasm_push_segment(struct reasm *r, const struct reasm_ctx *c,
			const struct tcp_seg *seg);
/* The other direction delivered more: what waited for it may go. */
void reasm_peer_moved(struct reasm *r, const struct reasm_ctx *c, uint64_t frame,
		      uint64_t ts_ns);
/* The peer's SYN-ACK acknowledged this direction's SYN: the stream starts
 * at seq (ISN+1), whether or not the SYN was captured. */
void reasm_start_at(struct reasm *r, const struct reasm_ctx *c, uint32_t seq,
		    uint64_t frame, uint64_t ts_ns);
/* The peer acknowledged up to ack: held data beyond a hole the peer has
 * already received is released with the hole as a gap. */
void reasm_ack(struct reasm *r, const struct reasm_ctx *c, uint32_t ack,
	       uint64_t frame, uint64_t ts_ns);
/* Connection reset: held data out with gaps, then STREAM_RST (unless the
 * direction already ended). */
void reasm_reset(struct reasm *r, const struct reasm_ctx *c,
		 uint64_t frame, uint64_t ts_ns);
/* No more input: held data out with gaps, and a FIN already seen. */
void reasm_flush(struct reasm *r, const struct reasm_ctx *c);
/* Nobody will read this direction's bytes again: delivered bytes are no
 * longer kept to compare retransmissions with. */
void reasm_stop_history(struct reasm *r, const struct reasm_ctx *c);
/* Frees what is held (no events) and returns its charge to the total. */
void reasm_release(struct reasm *r, const struct reasm_ctx *c);
/* Nothing was delivered yet: the direction can still change roles. */
int reasm_untouched(const struct reasm *r);
/* Serial-number distance b - a in (-2^31, 2^31]. */
int64_t reasm_seq_diff(uint32_t a, uint32_t b);

#endif
