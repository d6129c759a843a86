/* pcapng.h - our own pcapng block walker (draft-ietf-opsawg-pcapng), used
 * for every pcapng input because libpcap 1.10 refuses interfaces of mixed
 * link types and drops Decryption Secrets Blocks. Trusts nothing in the file. */
#ifndef SCEPDUMP_PCAPNG_H
#define SCEPDUMP_PCAPNG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* First four bytes of every pcapng file (the Section Header Block type);
 * the same in both byte orders. */
#define PCAPNG_MAGIC 0x0A0D0D0Au
/* A block larger than this is refused when we need its contents and
 * skipped unread otherwise; far above any real packet (libpcap's own
 * MAXIMUM_SNAPLEN is 256 KiB). */
#define PCAPNG_MAX_BLOCK (16u * 1024 * 1024)
/* Interfaces per section: each costs a few bytes, but the count is the
 * file's to choose. */
#define PCAPNG_MAX_IFACES 4096
/* Decryption Secrets Block secrets type for a TLS key log ("TLSK"). */
#define PCAPNG_SECRETS_TLS_KEYLOG 0x544c534bu

enum pcapng_kind { PCAPNG_PACKET = 1, PCAPNG_SECRETS = 2 };

/* One thing worth reporting from the file. data points into the walker's
 * block buffer and is valid until the next pcapng_next or pcapng_free. */
struct pcapng_event {
	int kind;
	uint64_t block;        /* 1-based block number in the file */
	uint64_t offset;       /* byte offset of that block */
	const uint8_t *data;   /* packet bytes, or secrets (NULL if skipped) */
	/* PCAPNG_PACKET */
	uint32_t ifid;         /* interface index within the section */
	int linktype;          /* LINKTYPE_* of that interface */
	uint32_t snaplen;      /* that interface's snaplen, 0 = none given */
	uint64_t ts_ns;        /* ns since the epoch, if_tsresol/if_tsoffset applied */
	uint32_t caplen;       /* bytes at data */
	uint32_t wirelen;      /* original length */
	/* PCAPNG_SECRETS */
	uint32_t secrets_type;
	size_t secrets_len;    /* bytes at data; when data is NULL the block was
	                        * over PCAPNG_MAX_BLOCK and this is its size */
};

struct pcapng;

/* Starts a walker on f, positioned at the first byte of the file; f stays
 * the caller's to close. Returns NULL only when out of memory. */
struct pcapng *pcapng_new(FILE *f);
/* Reads blocks until the next packet or secrets block. Returns 1 with ev
 * filled, 0 at the end of the file, -1 when a block is damaged or cannot be
 * read: err then holds "block N at byte B: reason" and every later call
 * returns -1 again with the same text. */
int pcapng_next(struct pcapng *r, struct pcapng_event *ev, char *err,
		size_t errlen);
/* Interfaces of the current section (reset by each Section Header Block). */
size_t pcapng_iface_count(const struct pcapng *r);
int pcapng_iface_linktype(const struct pcapng *r, size_t i);
void pcapng_free(struct pcapng *r);

#endif
