/* decode_queue.c - SCEP decoding on a worker thread; see decode_queue.h.
 *
 * The job list is linked and unlinked by the capture thread only, under the
 * mutex; the worker walks it from next_todo and sets decoded. A job holds
 * its own copy of the exchange, because the HTTP layer frees its strings and
 * bodies when the callback returns. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "decode_queue.h"
#include "membudget.h"
#include "scep.h"
#include "strutil.h"

/* What may wait for the worker before the capture thread waits too: enough
 * to cover a burst of enrollments, little next to the flow table. */
#define QUEUE_MAX_JOBS 64
#define QUEUE_MAX_BYTES (32u << 20)

struct job {
	struct job *next;
	struct http_exchange x;     /* a deep copy: every string and body ours */
	const struct scep_keys *keys;
	struct scep_tls *tls;
	struct scep_event *ev;
	int needs_decode;
	int decoded;                /* under the mutex */
	size_t bytes;
	size_t charged;             /* of bytes, to the run's budget */
};

struct decode_queue {
	pthread_mutex_t mu;
	pthread_cond_t work;        /* the worker waits: a job, or stop */
	pthread_cond_t done;        /* the capture thread waits: a job decoded */
	struct job *head, *tail;
	struct job *next_todo;      /* the first job the worker has not taken */
	size_t n_jobs, bytes;       /* capture thread only */
	size_t undecoded;           /* under the mutex: jobs the worker owes */
	int threads, started, stop;
	pthread_t worker;
	struct mem_budget *mem;     /* charged for the copies held; may be NULL */
};

static void exchange_free(struct http_exchange *x)
{
	free((char *)x->host);
	free((char *)x->method);
	free((char *)x->uri);
	free((char *)x->path);
	free((char *)x->query);
	free((char *)x->status_text);
	free((char *)x->server_header);
	free((char *)x->location);
	free((char *)x->connection);
	free((char *)x->error_text);
	free((char *)x->reset);
	free((char *)x->req.body);
	free((char *)x->req.content_type);
	free((char *)x->req.content_length);
	free((char *)x->res.body);
	free((char *)x->res.content_type);
	free((char *)x->res.content_length);
}

/* str_dup_or_null, remembering in *ok that a copy failed */
static const char *dup_str(const char *s, int *ok)
{
	char *d = str_dup_or_null(s);

	if (s && !d)
		*ok = 0;
	return d;
}

static void side_copy(struct http_side *to, const struct http_side *from, int *ok)
{
	uint8_t *b = NULL;

	*to = *from;
	to->content_type = dup_str(from->content_type, ok);
	to->content_length = dup_str(from->content_length, ok);
	if (from->body && from->body_len) {
		if (!(b = malloc(from->body_len)))
			*ok = 0;
		else
			memcpy(b, from->body, from->body_len);
	}
	to->body = b;
}

/* 0, or -1 with whatever was copied freed. */
static int exchange_copy(struct http_exchange *to, const struct http_exchange *x)
{
	int ok = 1;

	*to = *x;
	to->host = dup_str(x->host, &ok);
	to->method = dup_str(x->method, &ok);
	to->uri = dup_str(x->uri, &ok);
	to->path = dup_str(x->path, &ok);
	to->query = dup_str(x->query, &ok);
	to->status_text = dup_str(x->status_text, &ok);
	to->server_header = dup_str(x->server_header, &ok);
	to->location = dup_str(x->location, &ok);
	to->connection = dup_str(x->connection, &ok);
	to->error_text = dup_str(x->error_text, &ok);
	to->reset = dup_str(x->reset, &ok);
	side_copy(&to->req, &x->req, &ok);
	side_copy(&to->res, &x->res, &ok);
	if (!ok) {
		exchange_free(to);
		return -1;
	}
	return 0;
}

static void job_free(struct job *j)
{
	if (j->needs_decode)
		exchange_free(&j->x);
	scep_tls_free(j->tls);
	scep_event_free(j->ev);
	free(j);
}

static void decode(struct job *j)
{
	j->ev = scep_event_from_exchange(&j->x, j->keys);
	/* the bodies are not needed any more: give the memory back early */
	exchange_free(&j->x);
	j->needs_decode = 0;
}

static void *worker_main(void *arg)
{
	struct decode_queue *q = arg;
	struct job *j;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->stop && !q->next_todo)
			pthread_cond_wait(&q->work, &q->mu);
		if (q->stop)
			break;
		j = q->next_todo;
		q->next_todo = j->next;
		if (j->decoded)
			continue;   /* pushed decoded (decode_queue_push_event) */
		pthread_mutex_unlock(&q->mu);
		decode(j);
		pthread_mutex_lock(&q->mu);
		j->decoded = 1;
		q->undecoded--;
		pthread_cond_broadcast(&q->done);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

struct decode_queue *decode_queue_new(int threads)
{
	struct decode_queue *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->threads = threads > 0;
	if (pthread_mutex_init(&q->mu, NULL) != 0) {
		free(q);
		return NULL;
	}
	pthread_cond_init(&q->work, NULL);
	pthread_cond_init(&q->done, NULL);
	return q;
}

/* The worker starts with the first exchange: most captures have few or
 * none, and a run without SCEP needs no thread. */
static void start_worker(struct decode_queue *q)
{
	if (q->started || !q->threads)
		return;
	if (pthread_create(&q->worker, NULL, worker_main, q) == 0)
		q->started = 1;
	else
		q->threads = 0;   /* decode inline: slower, same output */
}

static void append(struct decode_queue *q, struct job *j)
{
	pthread_mutex_lock(&q->mu);
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	if (!q->next_todo)
		q->next_todo = j;
	q->n_jobs++;
	q->bytes += j->bytes;
	if (!j->decoded) {
		q->undecoded++;
		pthread_cond_signal(&q->work);
	}
	pthread_mutex_unlock(&q->mu);
}

void decode_queue_set_budget(struct decode_queue *q, struct mem_budget *mem)
{
	if (q)
		q->mem = mem;
}

/* Until the worker has decoded everything it was given. */
static void wait_worker_idle(struct decode_queue *q)
{
	pthread_mutex_lock(&q->mu);
	while (q->undecoded)
		pthread_cond_wait(&q->done, &q->mu);
	pthread_mutex_unlock(&q->mu);
}

/* Past the budget the exchange is not copied: it is decoded here, from
 * the caller's buffers, once the worker is idle (the two never decode at
 * once: they share the keys). Slower, and nothing is lost. */
static int push_decoded_here(struct decode_queue *q, const struct http_exchange *x,
			     const struct scep_keys *keys, struct scep_tls *tls)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j) {
		scep_tls_free(tls);
		return -1;
	}
	if (q->started)
		wait_worker_idle(q);
	j->ev = scep_event_from_exchange(x, keys);
	j->tls = tls;
	j->decoded = 1;
	j->bytes = sizeof(*j);
	append(q, j);
	return 0;
}

int decode_queue_push(struct decode_queue *q, const struct http_exchange *x,
		      const struct scep_keys *keys, struct scep_tls *tls)
{
	size_t bytes = sizeof(struct job) + x->req.body_len + x->res.body_len;
	struct job *j;

	if (mem_charge(q->mem, MEM_decode, bytes) < 0)
		return push_decoded_here(q, x, keys, tls);
	j = calloc(1, sizeof(*j));
	if (!j || exchange_copy(&j->x, x) < 0) {
		free(j);
		mem_release(q->mem, MEM_decode, bytes);
		scep_tls_free(tls);
		return -1;
	}
	j->keys = keys;
	j->tls = tls;
	j->needs_decode = 1;
	j->bytes = j->charged = bytes;
	start_worker(q);
	if (!q->started) {
		decode(j);
		j->decoded = 1;
	}
	append(q, j);
	return 0;
}

int decode_queue_push_event(struct decode_queue *q, struct scep_event *ev)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j) {
		scep_event_free(ev);
		return -1;
	}
	j->ev = ev;
	j->decoded = 1;
	j->bytes = sizeof(*j);
	append(q, j);
	return 0;
}

struct scep_event *decode_queue_pop(struct decode_queue *q, int wait, int *dropped)
{
	struct scep_event *ev;
	struct job *j;

	*dropped = 0;
	pthread_mutex_lock(&q->mu);
	j = q->head;
	while (j && !j->decoded) {
		if (!wait) {
			pthread_mutex_unlock(&q->mu);
			return NULL;
		}
		pthread_cond_wait(&q->done, &q->mu);
	}
	if (!j) {
		pthread_mutex_unlock(&q->mu);
		return NULL;
	}
	q->head = j->next;
	if (!q->head)
		q->tail = NULL;
	if (q->next_todo == j)
		q->next_todo = j->next;
	q->n_jobs--;
	q->bytes -= j->bytes;
	pthread_mutex_unlock(&q->mu);
	mem_release(q->mem, MEM_decode, j->charged);
	ev = j->ev;
	j->ev = NULL;
	if (ev && j->tls) {
		ev->tls = j->tls;
		j->tls = NULL;
	} else if (!ev) {
		*dropped = 1;
	}
	job_free(j);
	return ev;
}

size_t decode_queue_pending(const struct decode_queue *q)
{
	return q->n_jobs;
}

int decode_queue_full(const struct decode_queue *q)
{
	return q->n_jobs >= QUEUE_MAX_JOBS || q->bytes >= QUEUE_MAX_BYTES;
}

void decode_queue_free(struct decode_queue *q)
{
	struct job *j, *next;

	if (!q)
		return;
	if (q->started) {
		pthread_mutex_lock(&q->mu);
		q->stop = 1;
		pthread_cond_signal(&q->work);
		pthread_mutex_unlock(&q->mu);
		pthread_join(q->worker, NULL);
	}
	for (j = q->head; j; j = next) {
		next = j->next;
		mem_release(q->mem, MEM_decode, j->charged);
		job_free(j);
	}
	pthread_cond_destroy(&q->work);
	pthread_cond_destroy(&q->done);
	pthread_mutex_destroy(&q->mu);
	free(q);
}
