/* capture.c - packet sources through libpcap: offline files merged in
 * timestamp order (one pending packet copied per input), or one live
 * interface. Trusts libpcap to frame records; the bytes are the dissectors'. */
#include <errno.h>
#include <grp.h>
#include <pcap/pcap.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "../dissectors/layers.h"

/* The largest snap length libpcap itself uses (MAXIMUM_SNAPLEN); a file
 * claiming more gets its records cut here, as the dissectors would see a
 * snap-length cut. */
#define CAPTURE_MAX_SNAPLEN 262144
#define CAPTURE_LIVE_BUFFER (8 * 1024 * 1024)
/* Wakes pcap_next_ex often enough to notice capture_break on systems
 * where pcap_breakloop cannot interrupt a blocking read. */
#define CAPTURE_LIVE_TIMEOUT_MS 250
#define CAPTURE_DEFAULT_FILTER "tcp"

struct cap_input {
	pcap_t *p;
	char *name;
	int linktype;
	int nano;                /* timestamps in ns (else us) */
	uint8_t *buf;            /* copy of the pending packet */
	size_t bufcap;
	struct pcap_pkthdr hdr;
	int pending;             /* hdr/buf hold the next packet */
	int need_read;           /* pending was handed out, read the next */
	int done;
	uint64_t count;          /* packets read from this input */
};

struct capture {
	int live;
	volatile sig_atomic_t stop;
	struct cap_input *in;
	size_t n;
	uint64_t frame;
};

static void input_close(struct cap_input *in)
{
	if (in->p)
		pcap_close(in->p);
	free(in->buf);
	free(in->name);
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
	free(c);
}

static const char *display_name(const char *path)
{
	return strcmp(path, "-") ? path : "(stdin)";
}

/* Refuses link types the dissectors cannot walk, so the user learns at
 * once rather than from a summary of unsupported_link counts. */
static int check_linktype(struct cap_input *in, char *err, size_t errlen)
{
	const char *dname;

	if (link_supported(in->linktype))
		return 0;
	dname = pcap_datalink_val_to_name(in->linktype);
	if (dname)
		snprintf(err, errlen, "%s: unsupported link type DLT_%s (%d)",
			 in->name, dname, in->linktype);
	else
		snprintf(err, errlen, "%s: unsupported link type %d",
			 in->name, in->linktype);
	return -1;
}

static int set_filter(struct cap_input *in, const char *filter,
		      bpf_u_int32 netmask, char *err, size_t errlen)
{
	struct bpf_program prog;

	if (pcap_compile(in->p, &prog, filter, 1, netmask) < 0) {
		snprintf(err, errlen, "%s: bad filter \"%s\": %s", in->name,
			 filter, pcap_geterr(in->p));
		return -1;
	}
	if (pcap_setfilter(in->p, &prog) < 0) {
		snprintf(err, errlen, "%s: cannot set filter \"%s\": %s",
			 in->name, filter, pcap_geterr(in->p));
		pcap_freecode(&prog);
		return -1;
	}
	pcap_freecode(&prog);
	return 0;
}

static int open_one_file(struct cap_input *in, const char *path,
			 const char *filter, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	size_t plen = strlen(path);
	int snap;

	in->name = strdup(display_name(path));
	if (!in->name) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	if (!strcmp(path, "-"))
		in->p = pcap_fopen_offline_with_tstamp_precision(stdin,
			PCAP_TSTAMP_PRECISION_NANO, ebuf);
	else
		in->p = pcap_open_offline_with_tstamp_precision(path,
			PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!in->p) {
		/* libpcap already names the file when fopen fails. */
		if (!strncmp(ebuf, path, plen) && ebuf[plen] == ':')
			snprintf(err, errlen, "%s", ebuf);
		else
			snprintf(err, errlen, "%s: %s", in->name, ebuf);
		return -1;
	}
	in->nano = pcap_get_tstamp_precision(in->p) == PCAP_TSTAMP_PRECISION_NANO;
	in->linktype = pcap_datalink(in->p);
	if (check_linktype(in, err, errlen) < 0)
		return -1;
	if (filter && set_filter(in, filter, PCAP_NETMASK_UNKNOWN, err, errlen) < 0)
		return -1;
	snap = pcap_snapshot(in->p);
	in->bufcap = snap > 0 && snap < CAPTURE_MAX_SNAPLEN ? (size_t)snap
							    : CAPTURE_MAX_SNAPLEN;
	in->buf = malloc(in->bufcap);
	if (!in->buf) {
		snprintf(err, errlen, "%s: out of memory", in->name);
		return -1;
	}
	in->need_read = 1;
	return 0;
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
	if (!c || !c->in) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->n = n;
	for (i = 0; i < n; i++) {
		if (open_one_file(&c->in[i], paths[i], filter, err, errlen) < 0) {
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

/* libpcap 1.10 cannot read a pcapng whose interfaces differ in link type;
 * its message does not say that this is the limitation being hit. */
static const char *mixed_link_hint(const char *msg)
{
	if (strstr(msg, "different from the type of the first interface"))
		return "; pcapng files with interfaces of different link types"
		       " are not supported yet";
	return "";
}

/* Reads the next record of in into its own buffer: libpcap's is only
 * valid until the next call on that handle, and the merge holds one
 * packet per input across calls. */
static int input_read(struct cap_input *in, char *err, size_t errlen)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	FILE *f = pcap_file(in->p);
	long pos = f ? ftell(f) : -1;
	int rc;

	in->need_read = 0;
	in->pending = 0;
	rc = pcap_next_ex(in->p, &h, &data);
	if (rc == 1) {
		in->hdr = *h;
		if (in->hdr.caplen > in->bufcap)
			in->hdr.caplen = (bpf_u_int32)in->bufcap;
		memcpy(in->buf, data, in->hdr.caplen);
		in->count++;
		in->pending = 1;
		return 0;
	}
	in->done = 1;
	if (rc == PCAP_ERROR_BREAK)
		return 0;   /* end of file */
	{
		const char *msg = pcap_geterr(in->p);

		if (pos >= 0)
			snprintf(err, errlen,
				 "%s: %s (packet %llu at byte %ld); processed %llu packets%s",
				 in->name, msg, (unsigned long long)in->count + 1,
				 pos, (unsigned long long)in->count,
				 mixed_link_hint(msg));
		else
			snprintf(err, errlen,
				 "%s: %s (packet %llu); processed %llu packets%s",
				 in->name, msg, (unsigned long long)in->count + 1,
				 (unsigned long long)in->count,
				 mixed_link_hint(msg));
	}
	return -1;
}

static int next_offline(struct capture *c, struct pkt *pkt, char *err,
			size_t errlen)
{
	struct cap_input *best = NULL;
	uint64_t best_ts = 0;
	size_t i;

	for (i = 0; i < c->n; i++) {
		struct cap_input *in = &c->in[i];

		/* One error per call: the caller prints it and calls again. */
		if (!in->done && in->need_read && input_read(in, err, errlen) < 0)
			return -1;
	}
	/* Strictly smaller wins, so ties go to the earlier input and each
	 * input's own order is kept: the merge is stable. */
	for (i = 0; i < c->n; i++) {
		struct cap_input *in = &c->in[i];
		uint64_t ts;

		if (!in->pending)
			continue;
		ts = hdr_ts_ns(&in->hdr, in->nano);
		if (!best || ts < best_ts) {
			best = in;
			best_ts = ts;
		}
	}
	if (!best)
		return 0;
	best->pending = 0;
	best->need_read = 1;
	pkt->frame = ++c->frame;
	pkt->ts_ns = best_ts;
	pkt->linktype = best->linktype;
	pkt->data = best->buf;
	pkt->caplen = best->hdr.caplen;
	pkt->wirelen = best->hdr.len;
	return 1;
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
		if (rc == 0)
			continue;   /* timeout: look at stop again */
		if (rc == 1) {
			/* Live packets are not merged: libpcap's buffer
			 * lives until the next call, as pkt promises. */
			pkt->frame = ++c->frame;
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
		snprintf(err, errlen, "%s: %s (run as root or give the "
			 "program CAP_NET_RAW and CAP_NET_ADMIN)", in->name,
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
	pcap_set_buffer_size(in->p, CAPTURE_LIVE_BUFFER);
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
	if (check_linktype(in, err, errlen) < 0)
		goto fail;
	if (pcap_lookupnet(o->iface, &net, &mask, ebuf) < 0)
		mask = PCAP_NETMASK_UNKNOWN;
	if (set_filter(in, o->filter ? o->filter : CAPTURE_DEFAULT_FILTER,
		       mask, err, errlen) < 0)
		goto fail;
	if (o->drop_user && drop_privileges(o->drop_user, err, errlen) < 0)
		goto fail;
	return c;
fail:
	capture_close(c);
	return NULL;
}
