/* stream.h - what TCP reassembly hands to the layers above: ordered bytes
 * per direction, explicit gaps, and the connection's end. */
#ifndef SCEPDUMP_STREAM_H
#define SCEPDUMP_STREAM_H

#include <stddef.h>
#include <stdint.h>

enum stream_dir { DIR_TO_SERVER = 0, DIR_TO_CLIENT = 1 };

enum stream_ev_kind {
	STREAM_DATA,    /* data/len: the next in-order bytes */
	STREAM_GAP,     /* len: bytes known missing before the next DATA */
	STREAM_FIN,     /* this direction ended cleanly */
	STREAM_RST,     /* the connection was reset */
	/* len: bytes already delivered were sent again, some with other
	 * content; which copy the endpoint took is unknown, so the exchange
	 * they belonged to is damaged */
	STREAM_CONFLICT
};

struct stream_event {
	enum stream_ev_kind kind;
	enum stream_dir dir;
	const uint8_t *data;  /* borrowed for the callback only */
	size_t len;
	uint64_t frame;       /* frame that completed these bytes */
	uint64_t first_frame; /* frame that carried the first of these bytes */
	uint64_t ts_ns;       /* time of 'frame' */
	uint64_t first_ts_ns; /* time of 'first_frame' */
	/* DATA: how many of these bytes had a held copy with other content
	 * (reassembly kept the first); the exchange they belong to is damaged */
	size_t conflict_bytes;
	/* GAP: these bytes were sent but not captured: the capture kept the
	 * first snaplen bytes of their packet (a snap length cut); 0: lost
	 * otherwise */
	uint32_t snaplen;
};

#endif
