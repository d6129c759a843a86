/* devlog_evtx.c - Windows .evtx files, the binary log the MDM client's
 * DeviceManagement-Enterprise-Diagnostics-Provider/Admin channel is kept
 * in, as copied off a device. libevtx renders each record to the XML that
 * wevtutil would export, and devlog_windows.c reads that XML: one event
 * grammar for both. Before libevtx sees the file, a bounded walk of its own
 * (struct rd) checks chunk signatures, checksums and record framing, so
 * damage is counted and named: libevtx only says "corrupted", and drops a
 * cut record without a word. Trusts nothing in the file. Built without
 * libevtx, an .evtx is recognised and refused with what to do instead. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devlog_reader.h"

#ifdef HAVE_LIBEVTX
#include <libbfio.h>
#include <libevtx.h>
#include <zlib.h>
#endif

static const uint8_t EVTX_MAGIC[8] = { 'E', 'l', 'f', 'F', 'i', 'l', 'e', 0 };

int devlog_evtx_probe(const uint8_t *buf, size_t len)
{
	return buf && len >= sizeof(EVTX_MAGIC) && !memcmp(buf, EVTX_MAGIC, sizeof(EVTX_MAGIC));
}

#ifndef HAVE_LIBEVTX

int devlog_evtx_supported(void)
{
	return 0;
}

int devlog_evtx_read(struct devlog_ctx *c, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	(void)c;
	(void)buf;
	(void)len;
	snprintf(err, errlen,
		 "this scepdump was built without libevtx: export the log as XML with "
		 "'wevtutil qe <log> /f:xml' or rebuild with libevtx-dev");
	return DEVLOG_E_FORMAT;
}

#else /* HAVE_LIBEVTX */

/* Layout from libyal's "Windows XML Event Log (EVTX) format": a 4096-byte
 * file header, then 64 KiB chunks of a 512-byte header and records. */
#define EVTX_HEADER_SIZE 4096u
#define EVTX_CHUNK_SIZE 65536u
#define EVTX_CHUNK_HEADER 512u
#define EVTX_RECORD_MIN 28u             /* signature, size, ID, time, size copy */
#define EVTX_RECORD_MAGIC 0x00002a2au
/* A record's XML can be far bigger than its bytes (a template repeats its
 * values): past this it is counted as damaged, not rendered. */
#define EVTX_XML_MAX (1024u * 1024)

int devlog_evtx_supported(void)
{
	return 1;
}

/* libevtx 20181227 (Debian 12) leaks the half-built XML tags of a record
 * whose binary XML fails to parse (libfwevt's error paths; the unit test's
 * bit flips find them): bounded by the file, not ours to free. Sanitizer
 * builds (make check, the fuzzer) are told so, or every damaged record
 * would fail them. */
#if defined(__SANITIZE_ADDRESS__)
#define DEVLOG_EVTX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DEVLOG_EVTX_ASAN 1
#endif
#endif
#ifdef DEVLOG_EVTX_ASAN
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libevtx.so\n";
}
#endif

/* Little-endian 32 bits at off in r, 0 past its end (never read). */
static uint32_t le32_at(const struct rd *r, size_t off)
{
	struct rd t = *r;
	uint32_t v = 0;

	if (!rd_skip(&t, off) || !rd_le32(&t, &v))
		return 0;
	return v;
}

/* CRC-32 of n bytes at off in r (n checked against what is there). */
static uint32_t crc32_at(const struct rd *r, uint32_t crc, size_t off, size_t n)
{
	struct rd t = *r, span;

	if (!rd_skip(&t, off) || !rd_sub(&t, n, &span))
		return ~crc;    /* cannot match a stored checksum of these bytes */
	/* zlib's crc32 is the CRC-32 of RFC 1952 that the headers carry */
	return (uint32_t)crc32(crc, rd_ptr(&span), (uInt)rd_left(&span));
}

/* What the walk found: damage counted in the list, the first one kept. */
struct evtx_damage {
	struct devlog_list *out;
	char first[160];
};

static void damage(struct evtx_damage *d, const char *what, size_t chunk, size_t off)
{
	if (d->first[0])
		return;
	if (chunk == SIZE_MAX)
		snprintf(d->first, sizeof(d->first), "%s", what);
	else
		snprintf(d->first, sizeof(d->first), "chunk %zu (file offset 0x%zx): %s", chunk, off, what);
}

/* Records of one chunk, [512, free): signature, size within what is left,
 * size copy at the end. The first bad one ends the walk of the chunk (the
 * next one's start is unknown) and counts as one damaged record. */
static void walk_records(struct evtx_damage *d, struct rd chunk, size_t idx, size_t base, uint32_t free_off)
{
	struct rd recs = chunk;
	char what[96];

	rd_skip(&recs, EVTX_CHUNK_HEADER);
	recs.len = free_off - EVTX_CHUNK_HEADER;
	while (rd_left(&recs) > 0) {
		size_t at = EVTX_CHUNK_HEADER + (free_off - EVTX_CHUNK_HEADER - rd_left(&recs));
		uint32_t magic = 0, size = 0;
		struct rd r = recs;

		if (!rd_le32(&r, &magic) || magic != EVTX_RECORD_MAGIC) {
			snprintf(what, sizeof(what), "no record signature at chunk offset 0x%zx", at);
		} else if (!rd_le32(&r, &size) || size < EVTX_RECORD_MIN || size > rd_left(&recs)) {
			snprintf(what, sizeof(what), "record at chunk offset 0x%zx cut short (size %u, %zu bytes left)",
				 at, size, rd_left(&recs));
		} else if (le32_at(&recs, size - 4) != size) {
			snprintf(what, sizeof(what), "record at chunk offset 0x%zx: size copy differs", at);
		} else {
			rd_skip(&recs, size);
			continue;
		}
		d->out->records_damaged++;
		d->out->unparsed_lines++;
		d->out->lines++;
		damage(d, what, idx, base);
		return;
	}
}

/* One in-use chunk: signature, header checksum (bytes 0-120 and 128-512),
 * free space offset, records checksum, then its records. */
static void walk_chunk(struct evtx_damage *d, struct rd chunk, size_t idx, size_t base)
{
	struct rd sig = chunk;
	uint32_t free_off, crc;
	int bad = 0;

	if (!devlog_rd_lit(&sig, "ElfChnk")) {
		d->out->chunks_damaged++;
		damage(d, "no chunk signature", idx, base);
		return;
	}
	crc = crc32_at(&chunk, 0, 0, 120);
	crc = crc32_at(&chunk, crc, 128, EVTX_CHUNK_HEADER - 128);
	if (crc != le32_at(&chunk, 124)) {
		bad = 1;
		damage(d, "chunk header checksum mismatch (its records are read as libevtx finds them)", idx, base);
	}
	free_off = le32_at(&chunk, 48);
	if (free_off < EVTX_CHUNK_HEADER || free_off > EVTX_CHUNK_SIZE) {
		d->out->chunks_damaged++;
		damage(d, "free space offset outside the chunk", idx, base);
		return;
	}
	if (crc32_at(&chunk, 0, EVTX_CHUNK_HEADER, free_off - EVTX_CHUNK_HEADER) != le32_at(&chunk, 52)) {
		bad = 1;
		damage(d, "records checksum mismatch (its records are read as libevtx finds them)", idx, base);
	}
	d->out->chunks_damaged += (uint64_t)bad;
	walk_records(d, chunk, idx, base, free_off);
}

/* The file header's checksum and chunk count, then every chunk in use. */
static void walk_file(struct evtx_damage *d, const uint8_t *buf, size_t len)
{
	struct rd r;
	uint16_t n_chunks = 0;
	size_t i;

	rd_init(&r, buf, len);
	if (crc32_at(&r, 0, 0, 120) != le32_at(&r, 124))
		damage(d, "file header checksum mismatch", SIZE_MAX, 0);
	if (!rd_skip(&r, 42) || !rd_le16(&r, &n_chunks))
		return;
	for (i = 0; i < n_chunks; i++) {
		size_t base = EVTX_HEADER_SIZE + i * EVTX_CHUNK_SIZE;
		struct rd chunk;

		rd_init(&chunk, buf, len);
		if (!rd_skip(&chunk, base) || rd_left(&chunk) < EVTX_CHUNK_SIZE) {
			/* a copy taken before the file was whole */
			d->out->chunks_damaged += n_chunks - i;
			damage(d, "chunk cut short or missing: the file ends first", i, base);
			return;
		}
		chunk.len = EVTX_CHUNK_SIZE;
		walk_chunk(d, chunk, i, base);
	}
}

/* libevtx's error as one printable line: its first line names the
 * innermost failure. */
static void evtx_error_line(libevtx_error_t *e, char *out, size_t n)
{
	char text[512];
	size_t i;

	text[0] = '\0';
	if (e)
		libevtx_error_sprint(e, text, sizeof(text));
	for (i = 0; text[i] && text[i] != '\n' && i + 1 < n; i++)
		out[i] = (unsigned char)text[i] >= 0x20 && (unsigned char)text[i] < 0x7f ? text[i] : '?';
	out[i] = '\0';
}

/* One record: its identifier as line_no, its XML to the event reader. */
static void read_record(struct devlog_ctx *c, struct evtx_damage *d, libevtx_record_t *rec)
{
	libevtx_error_t *e = NULL;
	uint64_t id = 0;
	size_t size = 0;
	uint8_t *xml;
	char what[128];

	c->out->lines++;
	if (libevtx_record_get_identifier(rec, &id, &e) != 1 ||
	    libevtx_record_get_utf8_xml_string_size(rec, &size, &e) != 1 || size == 0 ||
	    size > EVTX_XML_MAX) {
		if (size > EVTX_XML_MAX)
			snprintf(what, sizeof(what), "record %llu: its XML (%zu bytes) is over the %u-byte cap",
				 (unsigned long long)id, size, EVTX_XML_MAX);
		else
			snprintf(what, sizeof(what), "record %llu: libevtx cannot render it", (unsigned long long)id);
		damage(d, what, SIZE_MAX, 0);
		libevtx_error_free(&e);
		c->out->records_damaged++;
		c->out->unparsed_lines++;
		return;
	}
	xml = malloc(size);
	if (!xml) {
		c->nomem = 1;
		return;
	}
	if (libevtx_record_get_utf8_xml_string(rec, xml, size, &e) != 1) {
		snprintf(what, sizeof(what), "record %llu: libevtx cannot render it", (unsigned long long)id);
		damage(d, what, SIZE_MAX, 0);
		libevtx_error_free(&e);
		c->out->records_damaged++;
		c->out->unparsed_lines++;
	} else {
		c->line_no = id;
		/* size counts the terminating NUL */
		if (!devlog_windows_event(c, xml, size - 1))
			c->out->unparsed_lines++;
	}
	free(xml);
}

/* Every record libevtx lists, in file order. The records it recovers from
 * slack space are left out: they are overwritten, older events, no longer
 * part of the log. */
static void read_records(struct devlog_ctx *c, struct evtx_damage *d, libevtx_file_t *file)
{
	uint64_t max = c->o->max_lines ? c->o->max_lines : DEVLOG_LINES_MAX;
	libevtx_error_t *e = NULL;
	int n = 0, i;

	if (libevtx_file_get_number_of_records(file, &n, &e) != 1) {
		libevtx_error_free(&e);
		return;
	}
	for (i = 0; i < n && !c->nomem; i++) {
		libevtx_record_t *rec = NULL;
		char what[64];

		if (c->out->lines >= max) {
			c->out->lines_capped += (uint64_t)(n - i);
			break;
		}
		if (libevtx_file_get_record_by_index(file, i, &rec, &e) != 1) {
			snprintf(what, sizeof(what), "record index %d: libevtx cannot read it", i);
			damage(d, what, SIZE_MAX, 0);
			libevtx_error_free(&e);
			c->out->lines++;
			c->out->records_damaged++;
			c->out->unparsed_lines++;
			continue;
		}
		read_record(c, d, rec);
		libevtx_record_free(&rec, NULL);
	}
}

int devlog_evtx_read(struct devlog_ctx *c, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct evtx_damage d;
	libbfio_handle_t *io = NULL;
	libbfio_error_t *be = NULL;
	libevtx_file_t *file = NULL;
	libevtx_error_t *e = NULL;
	char why[256];
	int rc = 0;

	memset(&d, 0, sizeof(d));
	d.out = c->out;
	walk_file(&d, buf, len);
	/* libevtx reads the 4 KiB header and whole 64 KiB chunks, and Debian
	 * 12's libbfio (20170123) copies a whole read even past the end of a
	 * memory range (a heap over-read the fuzzer found). So libevtx gets
	 * whole blocks only: no file shorter than its header, and a chunk cut
	 * short left out (walk_file has counted it). */
	if (len < EVTX_HEADER_SIZE) {
		snprintf(err, errlen, "not a readable .evtx file: it ends inside its %u-byte file header (%zu bytes)",
			 EVTX_HEADER_SIZE, len);
		return DEVLOG_E_FORMAT;
	}
	len -= (len - EVTX_HEADER_SIZE) % EVTX_CHUNK_SIZE;
	/* From memory, so a buffer (stdin, tests, the fuzzer) reads like a
	 * file. libbfio takes a non-const pointer but only reads through it. */
	if (libbfio_memory_range_initialize(&io, &be) != 1 ||
	    libbfio_memory_range_set(io, (uint8_t *)(uintptr_t)buf, len, &be) != 1) {
		libbfio_error_free(&be);
		libbfio_handle_free(&io, NULL);
		snprintf(err, errlen, "out of memory opening .evtx");
		return DEVLOG_E_NOMEM;
	}
	if (libevtx_file_initialize(&file, &e) != 1) {
		libevtx_error_free(&e);
		libbfio_handle_free(&io, NULL);
		snprintf(err, errlen, "out of memory opening .evtx");
		return DEVLOG_E_NOMEM;
	}
	if (libevtx_file_open_file_io_handle(file, io, LIBEVTX_OPEN_READ, &e) != 1) {
		evtx_error_line(e, why, sizeof(why));
		libevtx_error_free(&e);
		snprintf(err, errlen, "not a readable .evtx file%s%s%s%s", why[0] ? " (libevtx: " : "", why,
			 why[0] ? ")" : "", d.first[0] ? "; " : "");
		if (d.first[0] && strlen(err) + 1 < errlen)
			snprintf(err + strlen(err), errlen - strlen(err), "%s", d.first);
		rc = DEVLOG_E_FORMAT;
	} else {
		read_records(c, &d, file);
		libevtx_file_close(file, NULL);
	}
	libevtx_file_free(&file, NULL);
	libbfio_handle_free(&io, NULL);
	if (rc == 0 && d.first[0])
		snprintf(c->out->note, sizeof(c->out->note),
			 "%llu damaged chunk%s, %llu unreadable record%s; first: %s",
			 (unsigned long long)c->out->chunks_damaged, c->out->chunks_damaged == 1 ? "" : "s",
			 (unsigned long long)c->out->records_damaged, c->out->records_damaged == 1 ? "" : "s",
			 d.first);
	return rc;
}

#endif /* HAVE_LIBEVTX */
