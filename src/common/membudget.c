/* membudget.c - the run's one memory budget (membudget.h). */
#include "membudget.h"

static const char *const kind_names[MEM_KINDS] = {
#define MEM_KIND_NAME(name, text) #name,
	MEM_KINDS_LIST(MEM_KIND_NAME)
#undef MEM_KIND_NAME
};

static const char *const kind_texts[MEM_KINDS] = {
#define MEM_KIND_TEXT(name, text) text,
	MEM_KINDS_LIST(MEM_KIND_TEXT)
#undef MEM_KIND_TEXT
};

const char *mem_kind_name(enum mem_kind kind)
{
	return kind < MEM_KINDS ? kind_names[kind] : "?";
}

const char *mem_kind_text(enum mem_kind kind)
{
	return kind < MEM_KINDS ? kind_texts[kind] : "?";
}

static int fits(const struct mem_budget *b, size_t n)
{
	return !b->limit || (b->used <= b->limit && n <= b->limit - b->used);
}

int mem_charge(struct mem_budget *b, enum mem_kind kind, size_t n)
{
	if (!b || !n)
		return 0;
	/* Shedding closes other connections, whose own releases and charges
	 * come back here: they must not shed in turn. */
	if (!fits(b, n) && b->shed && !b->shedding) {
		b->shedding = 1;
		b->shed(b->shed_arg, b->used + n - b->limit);
		b->shedding = 0;
	}
	if (!fits(b, n)) {
		b->refused[kind]++;
		return -1;
	}
	b->used += n;
	b->held[kind] += n;
	if (b->used > b->peak)
		b->peak = b->used;
	return 0;
}

void mem_release(struct mem_budget *b, enum mem_kind kind, size_t n)
{
	if (!b)
		return;
	/* a release past what was charged is a bookkeeping bug: clamp so the
	 * budget stays usable */
	n = n > b->held[kind] ? b->held[kind] : n;
	b->held[kind] -= n;
	b->used -= n;
}

int mem_resize(struct mem_budget *b, enum mem_kind kind, size_t old_size, size_t new_size)
{
	if (new_size >= old_size)
		return mem_charge(b, kind, new_size - old_size);
	mem_release(b, kind, old_size - new_size);
	return 0;
}
