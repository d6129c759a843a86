/* extract.c - -w FILE: a second read of the input files keeps the packets
 * of the connections that carried SCEP. A second pass (rather than holding
 * every packet until its connection proves to be SCEP) keeps memory flat
 * on a gateway's capture; it is why -w needs files, not stdin or live. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "counters.h"
#include "extract.h"
#include "format.h"

int extract_add(struct extract_list *l, const struct endpoint *client,
		const struct endpoint *server, uint64_t first_ts_ns, uint64_t last_ts_ns)
{
	struct extract_flow *f = realloc(l->flows, (l->n + 1) * sizeof(*f));

	if (!f)
		return -1;
	l->flows = f;
	f += l->n++;
	f->client = *client;
	f->server = *server;
	f->first_ts_ns = first_ts_ns;
	f->last_ts_ns = last_ts_ns;
	return 0;
}

/* The flow table closes a connection at its FINs; the last ACKs come just
 * after. They are kept for this long, unless a new SYN reuses the ports. */
#define EXTRACT_TAIL_NS (60ull * 1000000000ull)

static int same_tuple(const struct extract_flow *f, const struct tcp_seg *seg)
{
	return (endpoint_eq(&seg->src, &f->client) && endpoint_eq(&seg->dst, &f->server)) ||
	       (endpoint_eq(&seg->src, &f->server) && endpoint_eq(&seg->dst, &f->client));
}

static int wanted(const struct extract_list *l, uint8_t *reused, const struct tcp_seg *seg)
{
	int syn_only = (seg->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct extract_flow *f = &l->flows[i];

		if (seg->ts_ns < f->first_ts_ns || !same_tuple(f, seg))
			continue;
		if (seg->ts_ns <= f->last_ts_ns)
			return 1;
		if (syn_only)
			reused[i] = 1;
		if (!reused[i] && seg->ts_ns - f->last_ts_ns <= EXTRACT_TAIL_NS)
			return 1;
	}
	return 0;
}

/* The -w file as it is being written: what is on disk is always the pcap
 * header and whole records (the first `whole` bytes). */
struct dump {
	const struct extract_out *out;
	pcap_t *dead;
	pcap_dumper_t *d;           /* owns out->f once opened */
	int regular;                /* a regular file: it can be cut back and removed */
	int linktype;               /* of the header written, -1 before */
	off_t whole;
	long written;               /* packets on disk */
	long lost;                  /* packets to keep that were not written */
	int err;                    /* errno of the failed write; 0 while all went */
	int no_header;              /* not even the header was written */
	int f_gone;                 /* out->f was taken by a failed pcap_dump_fopen */
	int tail;                   /* part of the failed record may follow the whole ones */
};

/* Records of 16 bytes of header plus the packet (pcap-savefile(5)) after a
 * 24-byte file header. */
#define PCAP_FILE_HEADER_LEN 24
#define PCAP_RECORD_HEADER_LEN 16

/* A write failed: the file is cut back to its whole records and nothing
 * more is written (the bytes stdio still holds are dropped, so closing
 * cannot append them after the cut). */
static void dump_failed(struct dump *dm, int err)
{
	dm->err = err;
	__fpurge(dm->out->f);
	dm->tail = !dm->regular || ftruncate(fileno(dm->out->f), dm->whole) < 0;
}

/* 0 when all reached the file, else the errno of the write that failed
 * (-1: not known). errno must be zeroed before the piece was written:
 * stdio keeps only a flag, and a record it could not write is sometimes
 * retried here (a fresh errno) and sometimes dropped. */
static int flush_error(FILE *f)
{
	int e = errno, bad = ferror(f);

	errno = 0;
	if (fflush(f) == EOF)
		return errno ? errno : e ? e : -1;
	return bad ? (e ? e : -1) : 0;
}

/* The header, once the link type is known; the file is emptied first (it
 * was opened without truncating, so a run that fails before this point
 * leaves a previous file as it was). */
static void dump_open(struct dump *dm, int linktype)
{
	FILE *f = dm->out->f;
	int e;

	dm->linktype = linktype;
	if (dm->regular && ftruncate(fileno(f), 0) < 0) {
		dm->err = errno;
		dm->no_header = 1;
		return;
	}
	dm->dead = pcap_open_dead_with_tstamp_precision(linktype, 262144, PCAP_TSTAMP_PRECISION_NANO);
	if (!dm->dead) {
		dm->err = ENOMEM;
		dm->no_header = 1;
		return;
	}
	errno = 0;
	dm->d = pcap_dump_fopen(dm->dead, f);
	if (!dm->d) {
		/* libpcap closes the stream when the header write fails and not
		 * when it refuses the link type: it is not ours to touch again */
		dm->err = errno ? errno : -1;
		dm->no_header = 1;
		dm->f_gone = 1;
		return;
	}
	e = flush_error(f);
	if (e) {
		dm->no_header = 1;
		dump_failed(dm, e);
		return;
	}
	dm->whole = PCAP_FILE_HEADER_LEN;
}

static void dump_record(struct dump *dm, const struct pkt *p)
{
	struct pcap_pkthdr h;
	int e;

	if (dm->err) {
		dm->lost++;
		return;
	}
	h.ts.tv_sec = (time_t)(p->ts_ns / 1000000000ull);
	h.ts.tv_usec = (suseconds_t)(p->ts_ns % 1000000000ull);   /* ns: nano dumper */
	h.caplen = p->caplen;
	h.len = p->wirelen;
	errno = 0;
	pcap_dump((u_char *)dm->d, &h, p->data);
	/* one record at a time: a full disk then cuts between records, and
	 * the file read back is a valid capture */
	e = flush_error(dm->out->f);
	if (e) {
		dm->lost++;
		dump_failed(dm, e);
		return;
	}
	dm->whole += PCAP_RECORD_HEADER_LEN + (off_t)p->caplen;
	dm->written++;
}

/* Closes the file and says, in one line, what went wrong and what the
 * file holds. -1 when a write failed. */
static int dump_close(struct dump *dm)
{
	const char *path = dm->out->path;
	const char *fate = "";

	if (dm->d)
		pcap_dump_close(dm->d);   /* closes out->f; every byte was flushed or dropped */
	else if (!dm->f_gone)
		fclose(dm->out->f);
	if (dm->dead)
		pcap_close(dm->dead);
	if (!dm->err)
		return 0;
	if (dm->no_header) {
		if (dm->regular)
			fate = unlink(path) == 0 ? "; the file is removed" : "; the file is left empty";
		fprintf(stderr, "scepdump: -w %s: %s: not even the pcap file header could be written%s "
			"(%ld packets of the SCEP connections not written)\n", path, fmt_write_error(dm->err), fate, dm->lost);
	} else {
		fprintf(stderr, "scepdump: -w %s: %s: the file ends after %ld whole packets%s; %ld more packets of the SCEP connections not written\n",
			path, fmt_write_error(dm->err), dm->written,
			dm->tail ? " (it could not be cut back: part of the next one may follow)" : "", dm->lost);
	}
	return -1;
}

long extract_write(const struct extract_list *l, const char *const *paths, size_t n_paths,
		   const struct extract_out *out)
{
	struct counters scratch;
	struct ip_reasm *ipr = ip_reasm_new(1u << 20);
	struct capture *cap;
	struct dump dm;
	struct stat st;
	char err[512];
	struct pkt p;
	struct tcp_seg seg;
	long other_link = 0;
	int first_linktype = -1, rc;
	uint8_t *reused = calloc(l->n ? l->n : 1, 1);

	memset(&dm, 0, sizeof(dm));
	dm.out = out;
	dm.linktype = -1;
	dm.regular = fstat(fileno(out->f), &st) == 0 && S_ISREG(st.st_mode);
	cap = ipr && reused ? capture_open_files(paths, n_paths, NULL, err, sizeof(err)) : NULL;
	if (!cap) {
		fprintf(stderr, "scepdump: -w %s: reading the input again: %s; nothing written\n", out->path,
			ipr && reused ? err : "out of memory");
		fclose(out->f);
		ip_reasm_free(ipr);
		free(reused);
		return -1;
	}
	memset(&scratch, 0, sizeof(scratch));
	while (!(out->stop && *out->stop) && (rc = capture_next(cap, &p, err, sizeof(err))) != 0) {
		if (rc != 1)
			continue;   /* errors: reported on the first pass already */
		if (out->until_ts_ns && p.ts_ns > out->until_ts_ns)
			break;      /* past where the first pass was stopped */
		if (first_linktype < 0)
			first_linktype = p.linktype;
		if (pkt_decode_tcp(&p, ipr, &scratch, &seg) != PKT_TCP || !wanted(l, reused, &seg))
			continue;
		if (dm.linktype < 0 && !dm.err)
			dump_open(&dm, p.linktype);
		if (!dm.err && p.linktype != dm.linktype) {
			other_link++;
			continue;
		}
		dump_record(&dm, &p);
	}
	/* nothing to keep still leaves a valid (empty) capture */
	if (dm.linktype < 0 && !dm.err)
		dump_open(&dm, first_linktype >= 0 ? first_linktype : DLT_EN10MB);
	if (!dm.written && !dm.lost)
		fprintf(stderr, "scepdump: -w %s: no connection carried SCEP; the file holds no packets\n", out->path);
	if (other_link)
		fprintf(stderr, "scepdump: -w %s: %ld packets left out: their link type differs from the first one written (%s)\n",
			out->path, other_link, pcap_datalink_val_to_name(dm.linktype));
	if (out->stop && *out->stop && !dm.err)
		fprintf(stderr, "scepdump: -w %s: interrupted by %s: the file holds the first %ld packets of the SCEP connections (whole records)\n",
			out->path, fmt_signal_name(*out->stop), dm.written);
	rc = dump_close(&dm);
	capture_close(cap);
	ip_reasm_free(ipr);
	free(reused);
	return rc < 0 ? -1 : dm.written;
}

void extract_free(struct extract_list *l)
{
	free(l->flows);
	l->flows = NULL;
	l->n = 0;
}
