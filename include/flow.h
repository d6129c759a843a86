/* flow.h - bidirectional TCP flows keyed by the 5-tuple, each with a
 * reassembler per direction, and the interface the application layer
 * attaches to. */
#ifndef SCEPDUMP_FLOW_H
#define SCEPDUMP_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "stream.h"

struct counters;
struct mem_budget;

struct flow_limits {
	size_t max_flows;          /* flows kept at once */
	size_t max_flow_buffer;    /* out-of-order bytes held per direction */
	size_t max_total_buffer;   /* out-of-order bytes held in all flows */
	uint64_t idle_timeout_ns;  /* idle flows are closed (gaps flushed) */
	/* The run's budget (NULL: none): flows and held bytes are charged to
	 * it, and the table sheds connections when a charge would pass it. */
	struct mem_budget *mem;
};

struct flow {
	uint64_t id;               /* 1-based, in order of first packet */
	struct endpoint client;    /* sender of SYN, else of the first packet */
	struct endpoint server;
	uint64_t first_ts_ns, last_ts_ns;
	uint64_t first_frame, last_frame;
	int saw_syn;
};

/* What event() returns: FLOW_BYTES_READ normally; FLOW_BYTES_UNREAD once the
 * application will not read this flow's bytes again (not HTTP or TLS, TLS
 * without keys past its handshake): their framing may still be followed,
 * but a retransmission that differs from what was delivered no longer
 * matters, so no history of delivered bytes is copied or kept. */
enum { FLOW_BYTES_READ = 0, FLOW_BYTES_UNREAD = 1 };

/* The application layer above TCP. open() returns the per-flow state passed
 * to event() and close(); event data is borrowed for the call only. */
struct flow_app_ops {
	void *(*open)(void *arg, const struct flow *f);
	int (*event)(void *app, const struct flow *f, const struct stream_event *ev);
	void (*close)(void *app, const struct flow *f);
	/* 1 once the connection carried or started anything that looked like
	 * SCEP: under memory pressure the others are shed first. */
	int (*looked_like_scep)(void *app);
};

struct flow_table;

struct flow_table *flow_table_new(const struct flow_limits *lim,
				  struct counters *cnt,
				  const struct flow_app_ops *ops, void *ops_arg);
/* Looks up or creates the flow of seg, reassembles, dispatches events. */
int flow_table_input(struct flow_table *ft, const struct tcp_seg *seg);
/* Closes flows idle since before now_ns - idle_timeout, and forgets closed
 * entries quiet for a minute (flow.c). */
void flow_table_expire(struct flow_table *ft, uint64_t now_ns);
/* End of input: flush what is held (as gaps + data) and close every flow. */
void flow_table_flush(struct flow_table *ft);
void flow_table_free(struct flow_table *ft);

#endif
