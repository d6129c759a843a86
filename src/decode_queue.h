/* decode_queue.h - SCEP exchanges decoded on a second thread, handed back
 * in the order they were given.
 *
 * OpenSSL's decoding of a pkiMessage (certificates, CMS signature, the
 * envelope) costs about a millisecond; on a gateway capture it was half of
 * the run. With a worker thread the capture thread goes on with the packets
 * meanwhile. Everything but the decode stays on the capture thread, and
 * events come out strictly in push order, so the output is the same byte for
 * byte as decoding inline (threads = 0), whatever the timing. */
#ifndef SCEPDUMP_DECODE_QUEUE_H
#define SCEPDUMP_DECODE_QUEUE_H

#include "http.h"

struct decode_queue;
struct scep_event;
struct scep_keys;
struct scep_tls;

/* threads: 0 decodes inside decode_queue_push, 1 on a worker thread
 * (started at the first push; when it cannot be, inline). */
struct decode_queue *decode_queue_new(int threads);
struct mem_budget;

/* The run's budget (membudget.h, MEM_decode) is charged for each copy an
 * exchange waits in; NULL (the default): no budget. */
void decode_queue_set_budget(struct decode_queue *q, struct mem_budget *mem);
/* Copies x (strings and bodies) for decoding with keys, which must stay
 * valid until the event comes out; tls (owned, may be NULL) is attached to
 * the event. When the budget refuses the copy, x is decoded at once on the
 * calling thread instead (after the worker's queue), keeping its place.
 * Returns -1 when out of memory (tls freed). */
int decode_queue_push(struct decode_queue *q, const struct http_exchange *x,
		      const struct scep_keys *keys, struct scep_tls *tls);
/* An event that needs no decoding keeps its place among the others. */
int decode_queue_push_event(struct decode_queue *q, struct scep_event *ev);
/* The oldest event once it is decoded (waiting for it when wait is set),
 * else NULL; also NULL when the queue is empty. An exchange whose decode
 * ran out of memory comes out as no event: *dropped is set. */
struct scep_event *decode_queue_pop(struct decode_queue *q, int wait, int *dropped);
/* Events pushed and not yet popped. */
size_t decode_queue_pending(const struct decode_queue *q);
/* 1 when the queue holds more than it should before the next push: pop
 * with wait until it does not. */
int decode_queue_full(const struct decode_queue *q);
/* Stops the worker and frees whatever was not popped. */
void decode_queue_free(struct decode_queue *q);

#endif
