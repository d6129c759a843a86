/* capture.c - packet sources: offline files merged in timestamp order (one
 * pending packet per input; classic pcap through libpcap, pcapng through our
 * walker in pcapng.c), or one live interface. Trusts libpcap and the walker
 * to frame records; the bytes themselves are the dissectors'. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "gzfile.h"
#include "pcapng.h"
#include "reader.h"
#include "layers.h"

/* The largest snap length libpcap itself uses (MAXIMUM_SNAPLEN); a file
 * claiming more gets its records cut here, as the dissectors would see a
 * snap-length cut. */
#define CAPTURE_MAX_SNAPLEN 262144
/* The kernel ring (-B). In immediate mode libpcap cuts it into fixed slots
 * as big as the largest packet the interface can hand over: 64 KiB with
 * GRO/TSO, so 8 MiB was 128 slots and a full-speed replay onto a veth lost
 * half its packets whenever we were not scheduled within a millisecond;
 * 64 MiB is 1024 such slots (tests/bench/live.sh). */
#define CAPTURE_LIVE_BUFFER (64 * 1024 * 1024)
/* How long the live loop waits in poll() for a packet before it returns
 * "idle" (capture_next's 2): the pipeline then hands on what the decode
 * thread finished meanwhile, so an enrollment is printed within this of
 * its CertRep on a quiet link. libpcap's own read timeout cannot do this:
 * libpcap 1.10 on Linux polls again on timeout and returns only with a
 * packet (pcap_next_ex never gave 0), so the handle is non-blocking and
 * the waiting is ours. */
#define CAPTURE_LIVE_TIMEOUT_MS 250
/* Kernel drop counters (pcap_stats) are read this often while live: the
 * span between two readings is where the packets counted in between were
 * lost, which the transaction table weighs against what it misses. */
#define CAPTURE_STATS_INTERVAL_NS (100ull * 1000000)
#define CAPTURE_DEFAULT_FILTER "tcp"
/* TLS key log text kept from pcapng Decryption Secrets Blocks, all inputs
 * together; a real key log is a few hundred bytes per TLS session. */
#define CAPTURE_KEYLOG_MAX (16u * 1024 * 1024)
/* Distinct link types one pcapng input may use; each holds a compiled
 * filter. Real files have one or two. */
#define CAPTURE_MAX_LINKTYPES 16
/* Several inputs: runs of merged frames kept to tell each frame's file and
 * its number there (capture_frame_origin). Files rotated by time make a
 * few runs; two captures of the same moments, interleaved, up to one per
 * frame: 2 Mi runs (48 MiB) is some millions of interleaved frames. Frames
 * past it have no origin, and their label is the merged number. */
#define CAPTURE_ORIGIN_RUNS_MAX (2u * 1024 * 1024)

/* What a pcapng input knows about one link type it has met. */
struct cap_linktype {
	int dlt;
	int filter_state;        /* 0 no filter, 1 prog compiled, -1 cannot apply */
	struct bpf_program prog;
	int warned;              /* unsupported link type already reported */
};

struct cap_input {
	pcap_t *p;               /* classic pcap, or live */
	struct pcapng *ng;       /* pcapng */
	struct gzfile *gz;       /* a .gz input's inflater, borrowed from its FILE */
	FILE *f;                 /* the file under ng; ours to close */
	char *name;
	int linktype;            /* classic and live: the one link type */
	/* classic: -f compiled here and run on each record by us, not by
	 * libpcap, so that records it skips are still counted in records */
	struct bpf_program prog;
	int has_prog;
	int nano;                /* classic and live: stamps in ns (else us) */
	size_t snap_max;         /* classic: records are cut to this */
	/* classic: the file header's snap length when widen_snaplen raised it
	 * (else 0); pcapng inputs have one per interface (pcapng_event) */
	uint32_t hdr_snaplen;
	int snap_told;           /* a record longer than its snap length was reported */
	int max_told;            /* a record cut to CAPTURE_MAX_SNAPLEN was */
	/* classic: where the next record starts, for error messages. Counted
	 * (ftell per packet was a visible cost) once the record header size is
	 * known from the first record; asked of the file again when libpcap
	 * may have skipped bytes unseen: a record as long as a snapshot-length
	 * cut. */
	long next_pos;
	int rec_hdr;             /* 0 unknown, else its size */
	/* the pending packet: libpcap's buffer (pcap_next_ex keeps it until
	 * the next call on this input) or the walker's block buffer, which
	 * likewise stays put until this input is read again; never copied */
	const uint8_t *data;
	uint64_t ts_ns;
	int pend_linktype;
	uint32_t caplen, wirelen;
	int pending;             /* the fields above hold the next packet */
	int need_read;           /* pending was handed out, read the next */
	int done;
	uint64_t count;          /* packets read from this input */
	uint64_t records;        /* packet records read, filtered or not */
	struct cap_linktype lts[CAPTURE_MAX_LINKTYPES];
	size_t nlts;
	int lts_full_warned;
	int opening;             /* first read happens inside capture_open_files */
	int filter_failed;       /* the filter did not compile for a link type */
	char *deferred;          /* error met while opening, told at the first read */
};

struct capture {
	int live;
	volatile sig_atomic_t stop;
	struct cap_input *in;
	size_t n;
	uint64_t frame;
	/* several inputs: merged frames first.. came from input file (1-based)
	 * as its records file_frame.., up to frame runs_end */
	struct origin_run {
		uint64_t first, file_frame;
		uint32_t file;
	} *runs;
	size_t n_runs, runs_cap;
	uint64_t runs_end;
	int runs_full;
	char *filter;            /* offline BPF text, compiled per pcapng link type */
	uint8_t *keylog;         /* TLS key log text from all inputs, NUL-ended */
	size_t keylog_len, keylog_cap;
	int keylog_open_line;    /* last text kept does not end in a newline */
	uint64_t keylog_capped;  /* secrets bytes not kept: over the cap */
	uint64_t secrets_other;  /* Decryption Secrets Blocks of other types */
	/* live: the handle is non-blocking and next_live polls this (-1:
	 * libpcap offers no descriptor; the handle then blocks) */
	int poll_fd;
	/* live: the kernel's drop count as last read and when, and drops
	 * not yet taken (capture_take_drops) with the span they fall in */
	uint64_t stats_ns, stats_dropped;
	uint64_t untold_dropped, untold_from_ns, untold_to_ns;
};

static void input_close(struct cap_input *in)
{
	size_t i;

	if (in->p)
		pcap_close(in->p);
	if (in->has_prog)
		pcap_freecode(&in->prog);
	pcapng_free(in->ng);
	if (in->f)
		fclose(in->f);
	for (i = 0; i < in->nlts; i++)
		if (in->lts[i].filter_state == 1)
			pcap_freecode(&in->lts[i].prog);
	free(in->name);
	free(in->deferred);
	memset(in, 0, sizeof(*in));
}

void capture_close(struct capture *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		input_close(&c->in[i]);
	free(c->in);
	free(c->runs);
	free(c->filter);
	free(c->keylog);
	free(c);
}

const uint8_t *capture_tls_keylog(struct capture *c, size_t *len)
{
	*len = c->keylog_len;
	return c->keylog_len ? c->keylog : NULL;
}

void capture_secrets_dropped(const struct capture *c, uint64_t *keylog_bytes,
			     uint64_t *other_blocks)
{
	*keylog_bytes = c->keylog_capped;
	*other_blocks = c->secrets_other;
}

static const char *display_name(const char *path)
{
	return strcmp(path, "-") ? path : "(stdin)";
}

/* Refuses link types the dissectors cannot walk, so the user learns at
 * once rather than from a summary of unsupported_link counts. */
static void linktype_name(int dlt, char *buf, size_t len)
{
	const char *dname = pcap_datalink_val_to_name(dlt);

	if (dname)
		snprintf(buf, len, "DLT_%s (%d)", dname, dlt);
	else
		snprintf(buf, len, "%d", dlt);
}

static int check_linktype(const char *name, int dlt, char *err, size_t errlen)
{
	char lname[96];

	if (link_supported(dlt))
		return 0;
	linktype_name(dlt, lname, sizeof(lname));
	snprintf(err, errlen, "%s: unsupported link type %s", name, lname);
	return -1;
}

/* pcapng stores LINKTYPE_* values; libpcap hands out DLT_* ones, which
 * differ for the few types BSDs numbered differently. The same mapping as
 * libpcap's linktype_to_dlt(), so a packet has the same link type whichever
 * reader framed it. */
static int linktype_to_dlt(int lt)
{
	switch (lt) {
	case 100: return DLT_ATM_RFC1483;
	case 101: return DLT_RAW;
	case 102: return DLT_SLIP_BSDOS;
	case 103: return DLT_PPP_BSDOS;
	case 106: return DLT_ATM_CLIP;
	default:  return lt;
	}
}

static int compile_filter(struct cap_input *in, const char *filter,
			  bpf_u_int32 netmask, struct bpf_program *prog,
			  char *err, size_t errlen)
{
	if (pcap_compile(in->p, prog, filter, 1, netmask) < 0) {
		snprintf(err, errlen, "%s: bad filter \"%s\": %s", in->name,
			 filter, pcap_geterr(in->p));
		return -1;
	}
	return 0;
}

/* Live: the kernel runs it. */
static int set_filter(struct cap_input *in, const char *filter,
		      bpf_u_int32 netmask, char *err, size_t errlen)
{
	struct bpf_program prog;

	if (compile_filter(in, filter, netmask, &prog, err, errlen) < 0)
		return -1;
	if (pcap_setfilter(in->p, &prog) < 0) {
		snprintf(err, errlen, "%s: cannot set filter \"%s\": %s",
			 in->name, filter, pcap_geterr(in->p));
		pcap_freecode(&prog);
		return -1;
	}
	pcap_freecode(&prog);
	return 0;
}

#define CAPTURE_READ_BUFFER (256u * 1024)
/* A classic pcap file header; its snap length field is at byte 16. */
#define PCAP_FILE_HEADER_LEN 24u
#define PCAP_HDR_SNAPLEN_AT 16u

/* A FILE that first replays the bytes we peeked at and then reads on from
 * the stream under it: standard input and pipes cannot seek back, and
 * libpcap and the pcapng walker both want the file from its first byte. */
struct peek_cookie {
	FILE *under;
	int own_under;           /* fclose it with us (not stdin) */
	struct rd head;          /* peeked bytes not yet replayed */
	uint8_t headbuf[PCAP_FILE_HEADER_LEN];
	uint64_t pos;            /* bytes handed out, for ftell */
};

static ssize_t peek_read(void *ck, char *buf, size_t size)
{
	struct peek_cookie *pc = ck;
	size_t n = rd_left(&pc->head) < size ? rd_left(&pc->head) : size;

	if (n > 0) {
		rd_copy(&pc->head, buf, n);
	} else {
		n = fread(buf, 1, size, pc->under);
		if (n == 0 && ferror(pc->under))
			return -1;
	}
	pc->pos += n;
	return (ssize_t)n;
}

/* Only "where are we" (ftell, which libpcap uses for error offsets). */
static int peek_seek(void *ck, off64_t *off, int whence)
{
	struct peek_cookie *pc = ck;

	if (whence != SEEK_CUR || *off != 0) {
		errno = ESPIPE;
		return -1;
	}
	*off = (off64_t)pc->pos;
	return 0;
}

static int peek_close(void *ck)
{
	struct peek_cookie *pc = ck;
	int rc = 0;

	if (pc->own_under)
		rc = fclose(pc->under);
	free(pc);
	return rc;
}

static FILE *peek_wrap(FILE *under, int own_under, const uint8_t *head,
		       size_t nhead)
{
	static const cookie_io_functions_t fns = {
		.read = peek_read, .seek = peek_seek, .close = peek_close
	};
	struct peek_cookie *pc = calloc(1, sizeof(*pc));
	FILE *f;

	if (!pc)
		return NULL;
	pc->under = under;
	pc->own_under = own_under;
	memcpy(pc->headbuf, head, nhead);
	rd_init(&pc->head, pc->headbuf, nhead);
	f = fopencookie(pc, "rb", fns);
	if (!f)
		free(pc);
	return f;
}

/* Microsecond and nanosecond pcap, either byte order. */
static int is_pcap_magic(uint32_t m)
{
	return m == 0xa1b2c3d4u || m == 0xd4c3b2a1u || m == 0xa1b23c4du || m == 0x4d3cb2a1u;
}

/* libpcap cuts every record of a classic pcap file to the snap length in
 * the file header and skips the rest unseen: a header claiming less than
 * its records hold (a tool rewrote it, or wrote it wrong) made a capture
 * of whole packets read as nothing but cut ones. The header handed to
 * libpcap claims our maximum instead, so records are read as long as they
 * are; the value the file gave goes to *hdr_snaplen (0 when it was left
 * alone), for the message when a record proves longer. */
static void widen_snaplen(uint8_t *head, size_t got, uint32_t *hdr_snaplen)
{
	uint32_t magic = 0, snap = 0;
	int be;
	struct rd d;
	size_t i;

	*hdr_snaplen = 0;
	rd_init(&d, head, got);
	if (got < PCAP_FILE_HEADER_LEN || !rd_be32(&d, &magic) || !is_pcap_magic(magic))
		return;
	be = magic == 0xa1b2c3d4u || magic == 0xa1b23c4du;
	for (i = 0; i < 4; i++)
		snap |= (uint32_t)head[PCAP_HDR_SNAPLEN_AT + i] << (be ? 8 * (3 - i) : 8 * i);
	/* 0 already means "the most" to libpcap */
	if (snap == 0 || snap >= CAPTURE_MAX_SNAPLEN)
		return;
	*hdr_snaplen = snap;
	for (i = 0; i < 4; i++)
		head[PCAP_HDR_SNAPLEN_AT + i] = (uint8_t)(CAPTURE_MAX_SNAPLEN >> (be ? 8 * (3 - i) : 8 * i));
}

/* The first bytes of path: read without moving a regular file's stdio
 * position, so that it can still be handed on from its first byte. */
static ssize_t read_head(FILE *under, int seekable, uint8_t *head, size_t len)
{
	ssize_t got;
	size_t n;

	if (!seekable) {
		n = fread(head, 1, len, under);
		return n < len && ferror(under) ? -1 : (ssize_t)n;
	}
	do
		got = pread(fileno(under), head, len, 0);
	while (got < 0 && errno == EINTR);
	return got;
}

/* Opens path ('-' is stdin) positioned at its first byte and tells
 * whether it starts like a pcapng file; a classic pcap header is widened
 * (widen_snaplen) on the way. */
/* A gzip file (.pcap.gz, .pcapng.gz, or piped in compressed): from here
 * on under is the inflated stream, ours to close, and cannot seek. The
 * first bytes were peeked: a regular file is still at its first byte, a
 * pipe replays them. */
static FILE *gunzip(FILE *under, int seekable, int own, const uint8_t *head,
		    size_t got, struct gzfile **gz)
{
	FILE *src = seekable ? under : peek_wrap(under, own, head, got);
	FILE *f;

	if (!src)
		return NULL;
	setvbuf(src, NULL, _IOFBF, CAPTURE_READ_BUFFER);
	f = gzfile_open(src, 1, gz);
	if (!f && (src != under || own))
		fclose(src);    /* a wrapper closes under with it when own */
	return f;
}

static FILE *open_peeked(const char *path, const char *name, int *is_pcapng,
			 uint32_t *hdr_snaplen, struct gzfile **gz, char *err, size_t errlen)
{
	uint8_t head[PCAP_FILE_HEADER_LEN];
	uint32_t magic = 0;
	struct stat st;
	struct rd d;
	FILE *under, *f;
	int is_stdin = !strcmp(path, "-"), seekable, own = !is_stdin;
	ssize_t got;

	*hdr_snaplen = 0;
	*gz = NULL;
	under = is_stdin ? stdin : fopen(path, "rb");
	if (!under) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	seekable = !is_stdin && fstat(fileno(under), &st) == 0 &&
		   S_ISREG(st.st_mode);
	/* stdio's default 4 kB buffer costs one read(2) per 4 kB: a
	 * gigabyte capture made a quarter million system calls */
	if (!seekable)
		setvbuf(under, NULL, _IOFBF, CAPTURE_READ_BUFFER);
	got = read_head(under, seekable, head, sizeof(head));
	if (got >= 2 && head[0] == GZFILE_MAGIC0 && head[1] == GZFILE_MAGIC1) {
		FILE *inflated = gunzip(under, seekable, own, head, (size_t)got, gz);

		if (!inflated) {
			snprintf(err, errlen, "%s: out of memory", name);
			return NULL;
		}
		under = inflated;
		own = 1;
		seekable = 0;
		got = read_head(under, 0, head, sizeof(head));
		if (got < 2 && gzfile_damage(*gz)) {
			snprintf(err, errlen, "%s: %s", name, gzfile_damage(*gz));
			fclose(under);
			return NULL;
		}
	}
	if (got < 0) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		if (own)
			fclose(under);
		return NULL;
	}
	rd_init(&d, head, (size_t)got);
	if (rd_be32(&d, &magic))
		*is_pcapng = magic == PCAPNG_MAGIC;
	else
		*is_pcapng = 0;
	/* libpcap would count the header bytes after the magic ("tried to read
	 * 24 ..., only got 6") */
	if (seekable && !*is_pcapng && is_pcap_magic(magic) && st.st_size < PCAP_FILE_HEADER_LEN) {
		snprintf(err, errlen, "%s: truncated pcap file header: %lld of %u bytes", name,
			 (long long)st.st_size, PCAP_FILE_HEADER_LEN);
		fclose(under);
		return NULL;
	}
	if (!*is_pcapng)
		widen_snaplen(head, (size_t)got, hdr_snaplen);
	if (seekable && !*hdr_snaplen) {
		setvbuf(under, NULL, _IOFBF, CAPTURE_READ_BUFFER);
		return under;
	}
	if (seekable) {
		/* the buffering moves to the wrapper: one read(2) per refill
		 * straight into its buffer, as without it */
		setvbuf(under, NULL, _IONBF, 0);
		if (fseek(under, (long)got, SEEK_SET) != 0) {
			snprintf(err, errlen, "%s: %s", name, strerror(errno));
			fclose(under);
			return NULL;
		}
	}
	f = peek_wrap(under, own, head, (size_t)got);
	if (!f) {
		snprintf(err, errlen, "%s: out of memory", name);
		if (own)
			fclose(under);
		return NULL;
	}
	if (seekable)
		setvbuf(f, NULL, _IOFBF, CAPTURE_READ_BUFFER);
	return f;
}

static int open_pcap(struct cap_input *in, FILE *f, const char *filter,
		     char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	int snap;

	/* On success pcap_close closes f; on failure it stays ours. */
	in->p = pcap_fopen_offline_with_tstamp_precision(f,
		PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!in->p) {
		fclose(f);
		snprintf(err, errlen, "%s: %s", in->name, ebuf);
		return -1;
	}
	in->nano = pcap_get_tstamp_precision(in->p) == PCAP_TSTAMP_PRECISION_NANO;
	in->linktype = pcap_datalink(in->p);
	if (check_linktype(in->name, in->linktype, err, errlen) < 0)
		return -1;
	if (filter) {
		if (compile_filter(in, filter, PCAP_NETMASK_UNKNOWN, &in->prog, err, errlen) < 0)
			return -1;
		in->has_prog = 1;
	}
	in->rec_hdr = 0;
	snap = pcap_snapshot(in->p);
	in->snap_max = snap > 0 && snap < CAPTURE_MAX_SNAPLEN ? (size_t)snap : CAPTURE_MAX_SNAPLEN;
	in->need_read = 1;
	return 0;
}

static int input_read(struct capture *c, struct cap_input *in, char *err,
		      size_t errlen);

static int any_iface_supported(const struct pcapng *ng)
{
	size_t i;

	for (i = 0; i < pcapng_iface_count(ng); i++)
		if (link_supported(linktype_to_dlt(pcapng_iface_linktype(ng, i))))
			return 1;
	return 0;
}

/* Reads up to the first packet now, so that a file whose interfaces are
 * all of unsupported link types, or a filter that cannot compile for the
 * first packet's link type, is refused at open as for classic pcap. Other
 * errors met on the way wait for the first capture_next, as they would
 * there. */
static int open_pcapng(struct capture *c, struct cap_input *in, FILE *f,
		       char *err, size_t errlen)
{
	char why[512];

	in->f = f;
	in->ng = pcapng_new(f);
	if (!in->ng) {
		snprintf(err, errlen, "%s: out of memory", in->name);
		return -1;
	}
	in->need_read = 1;
	in->opening = 1;
	if (input_read(c, in, why, sizeof(why)) < 0) {
		if (in->filter_failed) {
			snprintf(err, errlen, "%s", why);
			return -1;
		}
		in->deferred = strdup(why);
		if (!in->deferred) {
			snprintf(err, errlen, "%s: out of memory", in->name);
			return -1;
		}
	}
	in->opening = 0;
	if (in->pending && !link_supported(in->pend_linktype) &&
	    !any_iface_supported(in->ng))
		return check_linktype(in->name, in->pend_linktype, err, errlen);
	return 0;
}

static int open_one_file(struct capture *c, struct cap_input *in,
			 const char *path, char *err, size_t errlen)
{
	int is_pcapng;
	FILE *f;

	in->name = strdup(display_name(path));
	if (!in->name) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	f = open_peeked(path, in->name, &is_pcapng, &in->hdr_snaplen, &in->gz, err, errlen);
	if (!f)
		return -1;
	return is_pcapng ? open_pcapng(c, in, f, err, errlen)
			 : open_pcap(in, f, c->filter, err, errlen);
}

struct capture *capture_open_files(const char *const *paths, size_t n,
				   const char *filter, char *err, size_t errlen)
{
	struct capture *c;
	size_t i, nstdin = 0;

	if (n == 0) {
		snprintf(err, errlen, "no capture file given");
		return NULL;
	}
	for (i = 0; i < n; i++)
		nstdin += !strcmp(paths[i], "-");
	if (nstdin > 1) {
		snprintf(err, errlen, "-: standard input can be read only once");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c)
		c->in = calloc(n, sizeof(*c->in));
	if (c && c->in && filter)
		c->filter = strdup(filter);
	if (!c || !c->in || (filter && !c->filter)) {
		capture_close(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->n = n;
	for (i = 0; i < n; i++) {
		if (open_one_file(c, &c->in[i], paths[i], err, errlen) < 0) {
			capture_close(c);
			return NULL;
		}
	}
	return c;
}

static uint64_t hdr_ts_ns(const struct pcap_pkthdr *h, int nano)
{
	uint64_t sec = (uint64_t)h->ts.tv_sec;
	uint64_t frac = (uint64_t)h->ts.tv_usec;

	return sec * 1000000000ull + (nano ? frac : frac * 1000ull);
}

/* A record this long may have been cut by libpcap, the rest skipped unseen:
 * its end is asked of the file. */
#define CAPTURE_MAYBE_CUT 65535

/* Keeps in->next_pos after a record of caplen bytes that started at pos. */
static void count_pos(struct cap_input *in, FILE *f, long pos, uint32_t caplen)
{
	long now;

	if (in->rec_hdr > 0 && caplen < CAPTURE_MAYBE_CUT) {
		in->next_pos = pos + in->rec_hdr + (long)caplen;
		return;
	}
	now = f ? ftell(f) : -1;
	if (in->rec_hdr == 0 && pos >= 0 && now >= 0 && caplen < CAPTURE_MAYBE_CUT &&
	    (now - pos - (long)caplen == 16 || now - pos - (long)caplen == 24))
		in->rec_hdr = (int)(now - pos - (long)caplen);
	in->next_pos = now;
}

/* Reads the next record of a classic pcap input. Its bytes stay in
 * libpcap's buffer, valid until the next call on that handle: the merge
 * reads an input again only after handing its pending packet out. */
static int read_pcap(struct cap_input *in, char *err, size_t errlen)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	FILE *f = pcap_file(in->p);
	long pos;
	int rc;

	do {
		pos = in->rec_hdr > 0 ? in->next_pos : (f ? ftell(f) : -1);
		rc = pcap_next_ex(in->p, &h, &data);
		if (rc != 1)
			break;
		in->records++;
		count_pos(in, f, pos, h->caplen);
	} while (in->has_prog && !pcap_offline_filter(&in->prog, h, data));
	if (rc == 1) {
		in->caplen = h->caplen > in->snap_max ? (uint32_t)in->snap_max : h->caplen;
		in->data = data;
		in->wirelen = h->len;
		in->ts_ns = hdr_ts_ns(h, in->nano);
		in->pend_linktype = in->linktype;
		in->count++;
		in->pending = 1;
		/* said once, with the packet still handed on (next call) */
		if (in->hdr_snaplen && h->caplen > in->hdr_snaplen && !in->snap_told) {
			char at[32] = "";

			in->snap_told = 1;
			if (pos >= 0)
				snprintf(at, sizeof(at), " at byte %ld", pos);
			snprintf(err, errlen, "%s: packet %llu%s holds %u bytes, more than the file "
				 "header's snapshot length %u: the header is wrong; records are read whole",
				 in->name, (unsigned long long)in->count, at, h->caplen, in->hdr_snaplen);
			return -1;
		}
		return 0;
	}
	in->done = 1;
	if (rc == PCAP_ERROR_BREAK && gzfile_damage(in->gz)) {
		/* cut at a record boundary: libpcap saw a clean end */
		snprintf(err, errlen, "%s: %s after packet %llu; processed %llu packets", in->name,
			 gzfile_damage(in->gz), (unsigned long long)in->count,
			 (unsigned long long)in->count);
		return -1;
	}
	if (rc == PCAP_ERROR_BREAK)
		return 0;   /* end of file */
	if (gzfile_damage(in->gz))
		snprintf(err, errlen, "%s: %s (packet %llu); processed %llu packets", in->name,
			 gzfile_damage(in->gz), (unsigned long long)in->count + 1,
			 (unsigned long long)in->count);
	else if (pos >= 0)
		snprintf(err, errlen,
			 "%s: %s (packet %llu at byte %ld); processed %llu packets",
			 in->name, pcap_geterr(in->p),
			 (unsigned long long)in->count + 1, pos,
			 (unsigned long long)in->count);
	else
		snprintf(err, errlen,
			 "%s: %s (packet %llu); processed %llu packets",
			 in->name, pcap_geterr(in->p),
			 (unsigned long long)in->count + 1,
			 (unsigned long long)in->count);
	return -1;
}

/* Keeps TLS key log text (for decryption later in the pipeline); other
 * secrets types and what does not fit under the cap are counted. A block
 * is kept whole or not at all: half a key log line is worse than none. */
static void keep_secrets(struct capture *c, const struct pcapng_event *ev)
{
	size_t sep, need;

	if (ev->secrets_type != PCAPNG_SECRETS_TLS_KEYLOG) {
		c->secrets_other++;
		return;
	}
	if (!ev->data || ev->secrets_len == 0) {
		c->keylog_capped += ev->secrets_len;
		return;
	}
	/* Writers need not end a block with a newline; lines of the next
	 * block must not run on from it. */
	sep = c->keylog_open_line ? 1 : 0;
	if (ev->secrets_len + sep > CAPTURE_KEYLOG_MAX - c->keylog_len) {
		c->keylog_capped += ev->secrets_len;
		return;
	}
	need = c->keylog_len + sep + ev->secrets_len + 1;
	if (need > c->keylog_cap) {
		size_t cap = c->keylog_cap ? c->keylog_cap : 4096;
		uint8_t *p;

		while (cap < need)
			cap *= 2;
		if (cap > CAPTURE_KEYLOG_MAX + 1)
			cap = CAPTURE_KEYLOG_MAX + 1;
		p = realloc(c->keylog, cap);
		if (!p) {
			c->keylog_capped += ev->secrets_len;
			return;
		}
		c->keylog = p;
		c->keylog_cap = cap;
	}
	if (sep)
		c->keylog[c->keylog_len++] = '\n';
	memcpy(c->keylog + c->keylog_len, ev->data, ev->secrets_len);
	c->keylog_len += ev->secrets_len;
	c->keylog[c->keylog_len] = '\0';
	{
		struct rd d;
		uint8_t last = 0;

		rd_init(&d, ev->data, ev->secrets_len);
		rd_skip(&d, ev->secrets_len - 1);
		rd_u8(&d, &last);
		c->keylog_open_line = last != '\n';
	}
}

static struct cap_linktype *find_linktype(struct cap_input *in, int dlt)
{
	size_t i;

	for (i = 0; i < in->nlts; i++)
		if (in->lts[i].dlt == dlt)
			return &in->lts[i];
	if (in->nlts == CAPTURE_MAX_LINKTYPES)
		return NULL;
	memset(&in->lts[in->nlts], 0, sizeof(in->lts[0]));
	in->lts[in->nlts].dlt = dlt;
	return &in->lts[in->nlts++];
}

/* libpcap's filters are compiled for one link type; a pcapng input gets one
 * program per link type it uses, made the first time it meets it. */
static int compile_for(struct capture *c, struct cap_input *in,
		       struct cap_linktype *lt, char *err, size_t errlen)
{
	pcap_t *dead = pcap_open_dead(lt->dlt, CAPTURE_MAX_SNAPLEN);
	char lname[96];

	if (dead && pcap_compile(dead, &lt->prog, c->filter, 1,
				 PCAP_NETMASK_UNKNOWN) == 0) {
		pcap_close(dead);
		lt->filter_state = 1;
		return 0;
	}
	lt->filter_state = -1;
	in->filter_failed = 1;
	linktype_name(lt->dlt, lname, sizeof(lname));
	if (in->opening)
		snprintf(err, errlen, "%s: bad filter \"%s\": %s", in->name,
			 c->filter, dead ? pcap_geterr(dead) : "out of memory");
	else
		snprintf(err, errlen, "%s: bad filter \"%s\" for link type %s: %s; "
			 "packets of that link type are skipped", in->name,
			 c->filter, lname, dead ? pcap_geterr(dead) : "out of memory");
	if (dead)
		pcap_close(dead);
	return -1;
}

/* A record longer than its interface's snap length breaks the format's
 * rule: it is read whole (cutting it, as libpcap does, turned whole
 * packets into cut ones because of a wrong header). One past our maximum
 * is cut there, as libpcap would refuse it. Either is said once per
 * input; returns 1 when err holds that line. */
static int oversize_note(struct cap_input *in, const struct pcapng_event *ev,
			 char *err, size_t errlen)
{
	if (ev->caplen > CAPTURE_MAX_SNAPLEN && !in->max_told) {
		in->max_told = 1;
		snprintf(err, errlen, "%s: block %llu at byte %llu: a packet of %u bytes is cut to %u, "
			 "the most scepdump reads", in->name, (unsigned long long)ev->block,
			 (unsigned long long)ev->offset, ev->caplen, CAPTURE_MAX_SNAPLEN);
		return 1;
	}
	if (ev->snaplen > 0 && ev->caplen > ev->snaplen && !in->snap_told) {
		in->snap_told = 1;
		snprintf(err, errlen, "%s: block %llu at byte %llu holds %u bytes, more than interface "
			 "%u's snapshot length %u: the header is wrong; records are read whole",
			 in->name, (unsigned long long)ev->block, (unsigned long long)ev->offset,
			 ev->caplen, ev->ifid, ev->snaplen);
		return 1;
	}
	return 0;
}

/* Next packet of a pcapng input that passes the filter. Secrets blocks on
 * the way are kept. A packet whose link type we cannot decode is still
 * delivered (the pipeline counts it as unsupported_link), with one error
 * line per link type per input the first time: returned as -1 with the
 * packet pending, so the caller prints it and the next call hands the
 * packet on. */
static int read_pcapng(struct capture *c, struct cap_input *in, char *err,
		       size_t errlen)
{
	struct pcapng_event ev;
	struct cap_linktype *lt;
	char why[400], lname[96];
	int rc;

	for (;;) {
		rc = pcapng_next(in->ng, &ev, why, sizeof(why));
		if (rc == 0 && !gzfile_damage(in->gz)) {
			in->done = 1;
			return 0;
		}
		if (rc <= 0) {
			in->done = 1;
			if (gzfile_damage(in->gz))
				snprintf(err, errlen, "%s: %s%s%s; processed %llu packets",
					 in->name, gzfile_damage(in->gz), rc < 0 ? ": " : "",
					 rc < 0 ? why : "", (unsigned long long)in->count);
			else
				snprintf(err, errlen, "%s: %s; processed %llu packets",
					 in->name, why, (unsigned long long)in->count);
			return -1;
		}
		if (ev.kind == PCAPNG_SECRETS) {
			keep_secrets(c, &ev);
			continue;
		}
		in->records++;
		ev.linktype = linktype_to_dlt(ev.linktype);
		lt = find_linktype(in, ev.linktype);
		if (!lt) {
			if (in->lts_full_warned)
				continue;
			in->lts_full_warned = 1;
			snprintf(err, errlen, "%s: block %llu at byte %llu: more "
				 "than %d link types in one file; packets of the "
				 "others are skipped", in->name,
				 (unsigned long long)ev.block,
				 (unsigned long long)ev.offset,
				 CAPTURE_MAX_LINKTYPES);
			return -1;
		}
		if (c->filter && lt->filter_state == 0 &&
		    compile_for(c, in, lt, err, errlen) < 0)
			return -1;
		if (lt->filter_state < 0)
			continue;
		if (lt->filter_state == 1) {
			struct pcap_pkthdr h = { .caplen = ev.caplen,
						 .len = ev.wirelen };

			if (!pcap_offline_filter(&lt->prog, &h, ev.data))
				continue;
		}
		in->data = ev.data;
		in->caplen = ev.caplen > CAPTURE_MAX_SNAPLEN ? CAPTURE_MAX_SNAPLEN : ev.caplen;
		in->wirelen = ev.wirelen;
		in->ts_ns = ev.ts_ns;
		in->pend_linktype = ev.linktype;
		in->count++;
		in->pending = 1;
		if (oversize_note(in, &ev, err, errlen))
			return -1;
		if (!link_supported(ev.linktype) && !lt->warned) {
			lt->warned = 1;
			linktype_name(ev.linktype, lname, sizeof(lname));
			snprintf(err, errlen, "%s: block %llu at byte %llu: "
				 "interface %u has unsupported link type %s; its "
				 "packets are counted as unsupported, not decoded",
				 in->name, (unsigned long long)ev.block,
				 (unsigned long long)ev.offset, ev.ifid, lname);
			return -1;
		}
		return 0;
	}
}

/* A failed read either ends the input (done) or, for a warning, leaves it
 * with a pending packet or still to be read; both come back as -1 with
 * err filled, and next_offline gives one such line per call. */
static int input_read(struct capture *c, struct cap_input *in, char *err,
		      size_t errlen)
{
	in->need_read = 0;
	in->pending = 0;
	if (in->ng) {
		int rc = read_pcapng(c, in, err, errlen);

		/* a skipped link type's filter failure: read on next time */
		if (rc < 0 && !in->done && !in->pending)
			in->need_read = 1;
		return rc;
	}
	return read_pcap(in, err, errlen);
}

/* Extends the last run when frame follows it in the same input, else
 * starts a run; past CAPTURE_ORIGIN_RUNS_MAX (or out of memory) the table
 * stops, and later frames have no origin. */
static void note_origin(struct capture *c, uint64_t frame, const struct frame_origin *o)
{
	struct origin_run *last = c->n_runs ? &c->runs[c->n_runs - 1] : NULL;

	if (c->runs_full)
		return;
	if (last && last->file == o->file && last->file_frame + (frame - last->first) == o->frame) {
		c->runs_end = frame;
		return;
	}
	if (c->n_runs == c->runs_cap) {
		size_t want = c->runs_cap ? 2 * c->runs_cap : 64;
		struct origin_run *r;

		if (want > CAPTURE_ORIGIN_RUNS_MAX)
			want = CAPTURE_ORIGIN_RUNS_MAX;
		r = want > c->runs_cap ? realloc(c->runs, want * sizeof(*r)) : NULL;
		if (!r) {
			c->runs_full = 1;
			return;
		}
		c->runs = r;
		c->runs_cap = want;
	}
	c->runs[c->n_runs].first = frame;
	c->runs[c->n_runs].file_frame = o->frame;
	c->runs[c->n_runs].file = o->file;
	c->n_runs++;
	c->runs_end = frame;
}

int capture_frame_origin(const struct capture *c, uint64_t frame, struct frame_origin *o)
{
	size_t lo = 0, hi = c->n_runs;

	if (!frame || frame > c->runs_end)
		return -1;
	/* the last run starting at or before frame */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->runs[mid].first <= frame)
			lo = mid;
		else
			hi = mid;
	}
	o->file = c->runs[lo].file;
	o->frame = c->runs[lo].file_frame + (frame - c->runs[lo].first);
	return 0;
}

static int next_offline(struct capture *c, struct pkt *pkt, char *err,
			size_t errlen)
{
	struct cap_input *best = NULL;
	size_t i;

	for (i = 0; i < c->n; i++) {
		struct cap_input *in = &c->in[i];

		/* One error per call: the caller prints it and calls again. */
		if (in->deferred) {
			snprintf(err, errlen, "%s", in->deferred);
			free(in->deferred);
			in->deferred = NULL;
			return -1;
		}
		if (!in->done && in->need_read && input_read(c, in, err, errlen) < 0)
			return -1;
	}
	/* Strictly smaller wins, so ties go to the earlier input and each
	 * input's own order is kept: the merge is stable. */
	for (i = 0; i < c->n; i++) {
		struct cap_input *in = &c->in[i];

		if (in->pending && (!best || in->ts_ns < best->ts_ns))
			best = in;
	}
	if (!best)
		return 0;
	best->pending = 0;
	best->need_read = 1;
	pkt->frame = ++c->frame;
	pkt->origin.file = (uint32_t)(best - c->in) + 1;
	pkt->origin.frame = best->records;
	if (c->n > 1)
		note_origin(c, pkt->frame, &pkt->origin);
	pkt->ts_ns = best->ts_ns;
	pkt->linktype = best->pend_linktype;
	pkt->data = best->data;
	pkt->caplen = best->caplen;
	pkt->wirelen = best->wirelen;
	return 1;
}

/* Waits up to CAPTURE_LIVE_TIMEOUT_MS for the live handle to have
 * something to read. Returns 1 when it may, 0 when the time is up or a
 * signal came (the caller looks at stop), -1 with err. */
static int wait_readable(const struct capture *c, char *err, size_t errlen)
{
	struct pollfd pfd = { .fd = c->poll_fd, .events = POLLIN };
	int rc = poll(&pfd, 1, CAPTURE_LIVE_TIMEOUT_MS);

	if ((rc < 0 && errno != EINTR) || (rc > 0 && (pfd.revents & POLLNVAL))) {
		snprintf(err, errlen, "%s: waiting for packets: %s (after %llu packets)", c->in[0].name,
			 rc < 0 ? strerror(errno) : "the capture descriptor is gone",
			 (unsigned long long)c->frame);
		return -1;
	}
	/* POLLERR and the like: libpcap's next read takes the socket error
	 * (and reports it if it matters); polling at once would only spin */
	return rc > 0 && (pfd.revents & POLLIN);
}

static int next_live(struct capture *c, struct pkt *pkt, char *err,
		     size_t errlen)
{
	struct cap_input *in = &c->in[0];
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	if (in->done)
		return 0;
	while (!c->stop) {
		rc = pcap_next_ex(in->p, &h, &data);
		if (rc == 0) {
			/* the ring is empty (non-blocking), or a blocking
			 * handle's timeout */
			if (c->poll_fd < 0)
				return 2;
			rc = wait_readable(c, err, errlen);
			if (rc < 0) {
				in->done = 1;
				return -1;
			}
			if (rc == 0)
				return 2;   /* the caller may do its idle work */
			continue;
		}
		if (rc == 1) {
			/* Live packets are not merged: libpcap's buffer
			 * lives until the next call, as pkt promises. */
			pkt->frame = ++c->frame;
			pkt->origin.file = 0;
			pkt->origin.frame = 0;
			pkt->ts_ns = hdr_ts_ns(h, in->nano);
			pkt->linktype = in->linktype;
			pkt->data = data;
			pkt->caplen = h->caplen;
			pkt->wirelen = h->len;
			return 1;
		}
		in->done = 1;
		if (rc == PCAP_ERROR_BREAK)
			return 0;
		snprintf(err, errlen, "%s: %s (after %llu packets)", in->name,
			 pcap_geterr(in->p), (unsigned long long)c->frame);
		return -1;
	}
	return 0;
}

int capture_next(struct capture *c, struct pkt *pkt, char *err, size_t errlen)
{
	if (c->stop)
		return 0;
	return c->live ? next_live(c, pkt, err, errlen)
		       : next_offline(c, pkt, err, errlen);
}

int capture_linktype(const struct capture *c)
{
	return c->live && c->in[0].p ? c->in[0].linktype : -1;
}

void capture_break(struct capture *c)
{
	c->stop = 1;
	/* Only a flag store and, on Linux, an eventfd write: both safe in a
	 * signal handler. */
	if (c->live && c->in[0].p)
		pcap_breakloop(c->in[0].p);
}

int capture_stats(struct capture *c, uint64_t *received, uint64_t *dropped)
{
	struct pcap_stat st;

	if (!c->live || pcap_stats(c->in[0].p, &st) < 0)
		return -1;
	*received = st.ps_recv;
	*dropped = (uint64_t)st.ps_drop + st.ps_ifdrop;
	return 0;
}

/* Packet stamps of a live capture are the kernel's wall clock. */
static uint64_t wall_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Reads the drop counters; a growth since the last reading happened
 * between the two. */
static void read_drops(struct capture *c, uint64_t now)
{
	uint64_t received, dropped;

	if (capture_stats(c, &received, &dropped) < 0)
		return;
	if (dropped > c->stats_dropped) {
		if (!c->untold_dropped)
			c->untold_from_ns = c->stats_ns;
		c->untold_dropped += dropped - c->stats_dropped;
		c->untold_to_ns = now;
	}
	/* smaller: libpcap's 32-bit counters wrapped; count from there */
	c->stats_dropped = dropped;
	c->stats_ns = now;
}

uint64_t capture_take_drops(struct capture *c, int fresh, uint64_t *from_ns,
			    uint64_t *to_ns)
{
	uint64_t now, n;

	if (!c->live)
		return 0;
	now = wall_clock_ns();
	if (fresh || now - c->stats_ns >= CAPTURE_STATS_INTERVAL_NS)
		read_drops(c, now);
	n = c->untold_dropped;
	if (n) {
		*from_ns = c->untold_from_ns;
		*to_ns = c->untold_to_ns;
		c->untold_dropped = 0;
	}
	return n;
}

static int drop_privileges(const char *user, char *err, size_t errlen)
{
	struct passwd *pw = getpwnam(user);

	if (!pw) {
		snprintf(err, errlen, "-Z %s: no such user", user);
		return -1;
	}
	/* Groups first: once the uid is gone we could not change them. */
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		snprintf(err, errlen, "-Z %s: cannot drop privileges: %s "
			 "(run as root, or leave out -Z)", user, strerror(errno));
		return -1;
	}
	return 0;
}

static void activate_error(struct cap_input *in, int rc, char *err,
			   size_t errlen)
{
	const char *detail = pcap_geterr(in->p);

	switch (rc) {
	case PCAP_ERROR_PERM_DENIED:
		snprintf(err, errlen, "%s: %s (run as root, or once: "
			 "setcap cap_net_raw,cap_net_admin=eip $(command -v scepdump))", in->name,
			 detail[0] ? detail : "permission denied");
		break;
	case PCAP_ERROR_NO_SUCH_DEVICE:
		snprintf(err, errlen, "%s: no such interface (%s)", in->name,
			 detail);
		break;
	default:
		snprintf(err, errlen, "%s: %s%s%s", in->name, pcap_statustostr(rc),
			 detail[0] ? ": " : "", detail);
		break;
	}
}

void capture_print_listening(const struct capture *c, FILE *out)
{
	const char *name, *desc;

	if (!c || !c->live || !c->n)
		return;
	name = pcap_datalink_val_to_name(c->in[0].linktype);
	desc = pcap_datalink_val_to_description(c->in[0].linktype);
	fprintf(out, "scepdump: listening on %s, link-type %s (%s), snapshot length %d bytes\n",
		c->in[0].name, name ? name : "?", desc ? desc : "?", pcap_snapshot(c->in[0].p));
	fflush(out);
}

struct capture *capture_open_live(const struct capture_live_opts *o,
				  char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct capture *c;
	struct cap_input *in;
	bpf_u_int32 net, mask;
	int rc;

	c = calloc(1, sizeof(*c));
	if (c)
		c->in = calloc(1, sizeof(*c->in));
	if (!c || !c->in || !(c->in[0].name = strdup(o->iface))) {
		capture_close(c);
		snprintf(err, errlen, "%s: out of memory", o->iface);
		return NULL;
	}
	c->live = 1;
	c->n = 1;
	in = &c->in[0];
	in->p = pcap_create(o->iface, ebuf);
	if (!in->p) {
		snprintf(err, errlen, "%s: %s", o->iface, ebuf);
		goto fail;
	}
	pcap_set_snaplen(in->p, o->snaplen > 0 ? o->snaplen : CAPTURE_MAX_SNAPLEN);
	pcap_set_promisc(in->p, 1);
	pcap_set_immediate_mode(in->p, 1);
	pcap_set_buffer_size(in->p, o->buffer_kib && o->buffer_kib <= INT_MAX / 1024 ?
				     (int)(o->buffer_kib * 1024) : CAPTURE_LIVE_BUFFER);
	pcap_set_timeout(in->p, CAPTURE_LIVE_TIMEOUT_MS);
	/* Not every platform has ns stamps; a failure leaves us in us. */
	pcap_set_tstamp_precision(in->p, PCAP_TSTAMP_PRECISION_NANO);
	rc = pcap_activate(in->p);
	if (rc < 0) {
		activate_error(in, rc, err, errlen);
		goto fail;
	}
	if (rc > 0) {
		/* capture.h has no warning channel; a warning is not worth
		 * failing for, and the user must still see it. */
		fprintf(stderr, "scepdump: %s: warning: %s%s%s\n", in->name,
			pcap_statustostr(rc), pcap_geterr(in->p)[0] ? ": " : "",
			pcap_geterr(in->p));
	}
	in->nano = pcap_get_tstamp_precision(in->p) == PCAP_TSTAMP_PRECISION_NANO;
	in->linktype = pcap_datalink(in->p);
	if (check_linktype(in->name, in->linktype, err, errlen) < 0)
		goto fail;
	if (pcap_lookupnet(o->iface, &net, &mask, ebuf) < 0)
		mask = PCAP_NETMASK_UNKNOWN;
	if (set_filter(in, o->filter ? o->filter : CAPTURE_DEFAULT_FILTER,
		       mask, err, errlen) < 0)
		goto fail;
	if (o->drop_user && drop_privileges(o->drop_user, err, errlen) < 0)
		goto fail;
	c->poll_fd = pcap_get_selectable_fd(in->p);
	if (c->poll_fd >= 0 && pcap_setnonblock(in->p, 1, ebuf) < 0) {
		snprintf(err, errlen, "%s: %s", in->name, ebuf);
		goto fail;
	}
	/* drops are counted from here; a reading now is the baseline */
	c->stats_ns = wall_clock_ns();
	return c;
fail:
	capture_close(c);
	return NULL;
}
