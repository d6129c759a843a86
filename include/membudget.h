/* membudget.h - the one memory budget of the run (--max-memory): every
 * buffer that grows with input charges its bytes here before it grows and
 * gives them back when it shrinks or is freed. A charge past the budget
 * first asks the flow table to shed connections (membudget.c says which
 * go first); when nothing more can go, the charge is refused and the
 * caller caps its buffer as it does at its own limit, and counts it.
 *
 * Single-threaded: only the packet thread charges and releases (the decode
 * thread works on buffers charged before they were handed over). */
#ifndef SCEPDUMP_MEMBUDGET_H
#define SCEPDUMP_MEMBUDGET_H

#include <stddef.h>
#include <stdint.h>

/* What holds the memory; the summary lists refusals by these. */
#define MEM_KINDS_LIST(X) \
	X(flows, "TCP connection state")           \
	X(reasm, "TCP reassembly")                 \
	X(http_lines, "HTTP header lines")         \
	X(http_bodies, "HTTP bodies")              \
	X(hpack, "HTTP/2 header tables")           \
	X(tls, "TLS handshake and records")        \
	X(decode, "SCEP decode queue")             \
	X(keylog, "TLS key logs")                  \
	X(devlog, "device logs")

enum mem_kind {
#define MEM_KIND_ENUM(name, text) MEM_##name,
	MEM_KINDS_LIST(MEM_KIND_ENUM)
#undef MEM_KIND_ENUM
	MEM_KINDS
};

struct mem_budget {
	size_t limit;                 /* 0: no budget */
	size_t used, peak;
	size_t held[MEM_KINDS];       /* what each kind holds now */
	uint64_t refused[MEM_KINDS];  /* charges refused after shedding */
	/* Frees at least need bytes elsewhere if it can; returns what it
	 * freed. Set by the flow table; never called from inside itself. */
	size_t (*shed)(void *arg, size_t need);
	void *shed_arg;
	int shedding;
};

/* 0: the n bytes are charged to kind. -1: over the budget even after
 * shedding; nothing charged, refused[kind] counted. A NULL budget always
 * succeeds (unit tests and fuzz harnesses run without one). */
int mem_charge(struct mem_budget *b, enum mem_kind kind, size_t n);
void mem_release(struct mem_budget *b, enum mem_kind kind, size_t n);
/* For a buffer going from old_size to new_size bytes. */
int mem_resize(struct mem_budget *b, enum mem_kind kind, size_t old_size, size_t new_size);
const char *mem_kind_name(enum mem_kind kind);   /* "http_bodies" */
const char *mem_kind_text(enum mem_kind kind);   /* "HTTP bodies" */

#endif
