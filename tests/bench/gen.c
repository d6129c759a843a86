/* gen.c - writes a deterministic, gateway-like benchmark capture for
 * scepdump: many concurrent Ethernet/IPv4/TCP flows carrying HTTP/1.1
 * keep-alive exchanges (Content-Length and chunked bodies), TLS-looking
 * flows, and real SCEP enrollments spliced in by replaying the TCP payload
 * streams of the bundled captures as new flows.
 *
 * It trusts its source captures (our own, under captures/) but checks the
 * header lengths it reads from them. Fixed seed: same arguments, same bytes.
 *
 *   gen -o OUT.pcap [-m MB] [-e ENROLLMENTS] [-f FLOWS] [-s SEED] [-c] SRC.pcap...
 *
 * At MB the capture window closes and conversations under way are cut, as
 * in a real capture; the more FLOWS at once, the more of the mix is then
 * the start of conversations (requests, handshakes). With -c they run to
 * their end instead (the file grows past MB by about FLOWS half-finished
 * conversations), so mixes with different FLOWS hold the same kind of
 * traffic: only how many conversations are open at once differs.
 *
 * Prints key=value facts (bytes, packets, flows, enrollments) on stdout.
 */
#include <inttypes.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MSS 1448
#define POOL_SIZE (8u << 20) /* 4 MiB random bytes, 4 MiB text */
#define MAX_FRAME 1600

/* ---- deterministic PRNG (splitmix64) ---------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static double rnd_unit(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* Log-uniform in [lo, hi]: many small objects, a few large ones. */
static size_t rnd_logsize(size_t lo, size_t hi)
{
	return (size_t)exp(log((double)lo) + rnd_unit() * (log((double)hi) - log((double)lo)));
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("gen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

/* ---- byte buffer -------------------------------------------------------- */

struct buf {
	uint8_t *d;
	size_t len, cap;
};

static void buf_reserve(struct buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return;
	while (b->len + more > b->cap)
		b->cap = b->cap ? b->cap * 2 : 4096;
	b->d = xrealloc(b->d, b->cap);
}

static void buf_add(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->d + b->len, p, n);
	b->len += n;
}

static void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf((char *)b->d + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void buf_u8(struct buf *b, unsigned v)
{
	uint8_t c = (uint8_t)v;

	buf_add(b, &c, 1);
}

static void buf_u16(struct buf *b, unsigned v)
{
	buf_u8(b, v >> 8);
	buf_u8(b, v);
}

static void buf_u24(struct buf *b, unsigned v)
{
	buf_u8(b, v >> 16);
	buf_u16(b, v);
}

static uint8_t *pool;

/* Appends n body bytes from the pool: random (binary types) or text. */
static void buf_body(struct buf *b, size_t n, int text)
{
	size_t half = POOL_SIZE / 2;

	while (n) {
		size_t off = rnd_below((uint32_t)half), k = half - off;

		if (k > n)
			k = n;
		buf_add(b, pool + (text ? half : 0) + off, k);
		n -= k;
	}
}

static void pool_init(void)
{
	static const char *words[] = {
		"the", "device", "certificate", "<div class=\"row\">", "</div>\n", "request",
		"function", "var", "return", "{\"id\":", "\"name\":", "null,", "true", "<p>",
		"</p>\n", "lorem", "ipsum", "dolor", "sit", "amet", "gateway", "enroll",
		"<a href=\"/page/", "\">", "</a>", "=", ";\n", "    ", "server", "client",
	};
	size_t i, n = sizeof(words) / sizeof(words[0]);

	pool = xrealloc(NULL, POOL_SIZE + 64);
	for (i = 0; i < POOL_SIZE / 2; i += 8) {
		uint64_t r = rnd();
		memcpy(pool + i, &r, 8);
	}
	for (i = POOL_SIZE / 2; i < POOL_SIZE;) {
		const char *w = words[rnd_below((uint32_t)n)];
		size_t k = strlen(w);

		memcpy(pool + i, w, k);
		i += k;
		pool[i++] = ' ';
	}
}

/* ---- SCEP sources: the TCP payload turns of each flow of a capture ----- */

struct turn {
	int dir; /* 0 client to server, 1 server to client */
	uint8_t *data;
	size_t len;
};

struct src_flow {
	uint32_t a_ip, b_ip; /* a = the side that sent the SYN */
	uint16_t a_port, b_port;
	uint32_t next_seq[2];
	int seq_known[2];
	struct turn *turns;
	int n_turns;
};

static struct src_flow *srcs;
static int n_srcs;

static void src_add_payload(struct src_flow *f, int dir, uint32_t seq, const uint8_t *p, size_t n)
{
	struct turn *t;

	if (!n)
		return;
	if (f->seq_known[dir]) {
		uint32_t d = f->next_seq[dir] - seq;

		/* Retransmission or overlap: keep only bytes not yet seen. */
		if ((int32_t)d > 0) {
			if (d >= n)
				return;
			p += d, n -= d, seq += d;
		} else if (d != 0) {
			die("source capture has a gap in a TCP stream");
		}
	}
	f->seq_known[dir] = 1;
	f->next_seq[dir] = seq + (uint32_t)n;
	t = f->n_turns ? &f->turns[f->n_turns - 1] : NULL;
	if (!t || t->dir != dir) {
		f->turns = xrealloc(f->turns, sizeof(*f->turns) * (size_t)(f->n_turns + 1));
		t = &f->turns[f->n_turns++];
		t->dir = dir;
		t->data = NULL;
		t->len = 0;
	}
	t->data = xrealloc(t->data, t->len + n);
	memcpy(t->data + t->len, p, n);
	t->len += n;
}

static void load_source(const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *p;
	pcap_t *pc = pcap_open_offline(path, err);
	int first = n_srcs, rc;

	if (!pc)
		die("%s: %s", path, err);
	if (pcap_datalink(pc) != DLT_EN10MB)
		die("%s: not an Ethernet capture", path);
	while ((rc = pcap_next_ex(pc, &h, &p)) == 1) {
		size_t n = h->caplen, ihl, thl, tot;
		uint32_t sip, dip, seq;
		uint16_t sp, dp;
		int i, dir = -1;
		struct src_flow *f = NULL;

		if (n < 14 + 20 || p[12] != 0x08 || p[13] != 0x00 || (p[14] >> 4) != 4 || p[23] != 6)
			continue;
		ihl = (size_t)(p[14] & 15) * 4;
		tot = (size_t)p[16] << 8 | p[17];
		if (ihl < 20 || tot < ihl + 20 || 14 + tot > n)
			die("%s: truncated packet", path);
		thl = (size_t)(p[14 + ihl + 12] >> 4) * 4;
		if (thl < 20 || ihl + thl > tot)
			die("%s: bad TCP header", path);
		memcpy(&sip, p + 26, 4);
		memcpy(&dip, p + 30, 4);
		sp = (uint16_t)(p[14 + ihl] << 8 | p[14 + ihl + 1]);
		dp = (uint16_t)(p[14 + ihl + 2] << 8 | p[14 + ihl + 3]);
		seq = (uint32_t)p[14 + ihl + 4] << 24 | (uint32_t)p[14 + ihl + 5] << 16 |
		      (uint32_t)p[14 + ihl + 6] << 8 | p[14 + ihl + 7];
		for (i = first; i < n_srcs; i++) {
			struct src_flow *c = &srcs[i];

			if (c->a_ip == sip && c->b_ip == dip && c->a_port == sp && c->b_port == dp)
				f = c, dir = 0;
			else if (c->a_ip == dip && c->b_ip == sip && c->a_port == dp && c->b_port == sp)
				f = c, dir = 1;
			if (f)
				break;
		}
		if (!f) {
			uint8_t flags = p[14 + ihl + 13];

			if ((flags & 0x12) != 0x02) /* only a SYN starts a flow */
				continue;
			srcs = xrealloc(srcs, sizeof(*srcs) * (size_t)(n_srcs + 1));
			f = &srcs[n_srcs++];
			memset(f, 0, sizeof(*f));
			f->a_ip = sip, f->b_ip = dip, f->a_port = sp, f->b_port = dp;
			dir = 0;
		}
		if (p[14 + ihl + 13] & 0x02) { /* SYN: the data starts at seq + 1 */
			f->seq_known[dir] = 1;
			f->next_seq[dir] = seq + 1;
			continue;
		}
		src_add_payload(f, dir, seq, p + 14 + ihl + thl, tot - ihl - thl);
	}
	if (rc != PCAP_ERROR_BREAK)
		die("%s: %s", path, pcap_geterr(pc));
	pcap_close(pc);
	/* Flows without a request and a reply are not enrollments. */
	for (rc = first; rc < n_srcs; rc++)
		if (srcs[rc].n_turns < 2)
			die("%s: flow %d has no exchange", path, rc - first);
}

/* ---- conversations ------------------------------------------------------ */

enum kind { K_HTTP, K_TLS, K_SCEP };
enum state { S_SYN, S_SYNACK, S_ACK, S_DATA, S_FIN1, S_FIN2, S_LASTACK, S_DONE };

struct conv {
	enum kind kind;
	enum state state;
	uint32_t ip[2];
	uint16_t port[2];
	uint8_t mac[2][6];
	uint32_t seq[2];
	uint16_t ipid[2];
	uint32_t ts_off[2];
	struct buf turn; /* bytes of the current turn */
	size_t off;
	int dir, unacked, left, sub, src;
};

struct gen {
	pcap_dumper_t *out;
	uint64_t now_us, bytes, packets, flows, flows_by_kind[3];
	uint8_t frame[MAX_FRAME];
};

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t csum_add(uint32_t s, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

/* One frame from side d of c: Ethernet/IPv4/TCP with timestamps, correct
 * lengths and checksums. Sequence numbers advance by payload, SYN and FIN. */
static void emit(struct gen *g, struct conv *c, int d, unsigned flags, const uint8_t *pl, size_t n)
{
	uint8_t *f = g->frame, *ip = f + 14, *tcp = ip + 20;
	size_t ol = (flags & F_SYN) ? 20 : 12, len = 14 + 20 + 20 + ol + n;
	uint32_t ms = (uint32_t)(g->now_us / 1000), s;
	struct pcap_pkthdr h;

	memcpy(f, c->mac[1 - d], 6);
	memcpy(f + 6, c->mac[d], 6);
	f[12] = 0x08, f[13] = 0x00;
	ip[0] = 0x45, ip[1] = 0;
	put16(ip + 2, (unsigned)(20 + 20 + ol + n));
	put16(ip + 4, c->ipid[d]++);
	put16(ip + 6, 0x4000);
	ip[8] = d ? 57 : 64, ip[9] = 6;
	put16(ip + 10, 0);
	memcpy(ip + 12, &c->ip[d], 4);
	memcpy(ip + 16, &c->ip[1 - d], 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	put16(tcp, c->port[d]);
	put16(tcp + 2, c->port[1 - d]);
	put32(tcp + 4, c->seq[d]);
	put32(tcp + 8, (flags & F_ACK) ? c->seq[1 - d] : 0);
	tcp[12] = (uint8_t)(((20 + ol) / 4) << 4);
	tcp[13] = (uint8_t)flags;
	put16(tcp + 14, (flags & F_SYN) ? 64240 : 502);
	put16(tcp + 16, 0);
	put16(tcp + 18, 0);
	if (flags & F_SYN) {
		static const uint8_t o[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 7 };
		memcpy(tcp + 20, o, 20);
		put32(tcp + 28, ms + c->ts_off[d]);
		put32(tcp + 32, (flags & F_ACK) ? ms + c->ts_off[1 - d] : 0);
	} else {
		tcp[20] = 1, tcp[21] = 1, tcp[22] = 8, tcp[23] = 10;
		put32(tcp + 24, ms + c->ts_off[d]);
		put32(tcp + 28, ms + c->ts_off[1 - d]);
	}
	memcpy(tcp + 20 + ol, pl, n);
	s = csum_add(0, ip + 12, 8) + 6 + (uint32_t)(20 + ol + n);
	put16(tcp + 16, csum_fold(csum_add(s, tcp, 20 + ol + n)));

	h.ts.tv_sec = (time_t)(g->now_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(g->now_us % 1000000);
	h.caplen = h.len = (bpf_u_int32)len;
	pcap_dump((u_char *)g->out, &h, f);
	g->bytes += 16 + len;
	g->packets++;
	/* About 100 Mbit/s of mostly full frames: gaps of 1-200 us. */
	g->now_us += 1 + rnd_below(200);

	c->seq[d] += (uint32_t)n + ((flags & (F_SYN | F_FIN)) ? 1 : 0);
}

static const char *const hosts[] = { "www", "cdn", "api", "static", "img", "updates", "mail", "portal" };
static const char *const agents[] = {
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0",
	"curl/7.88.1", "Debian APT-HTTP/1.3 (2.6.1)", "okhttp/4.12.0",
};

/* Most objects are small; one in ten is a download of up to 2 MB, and
 * those carry most of the bytes, as on a real gateway. */
static size_t body_size(void)
{
	return rnd_below(10) ? rnd_logsize(64, 65536) : rnd_logsize(65536, 2u << 20);
}

/* An HTTP/1.1 request (sub 0) or response (sub 1). */
static void http_turn(struct conv *c, struct buf *b)
{
	if (c->sub == 0) {
		int post = rnd_below(100) < 15;
		size_t blen = post ? rnd_logsize(20, 65536) : 0;
		unsigned ck = rnd_below(400);

		switch (rnd_below(4)) {
		case 0:
			buf_printf(b, "%s /static/js/app.%08x.js HTTP/1.1\r\n", post ? "POST" : "GET", (unsigned)rnd());
			break;
		case 1:
			buf_printf(b, "%s /api/v1/items?page=%u&sort=desc&q=%08x HTTP/1.1\r\n", post ? "POST" : "GET",
				   rnd_below(50), (unsigned)rnd());
			break;
		case 2:
			buf_printf(b, "%s /images/%u.jpg HTTP/1.1\r\n", post ? "POST" : "GET", rnd_below(100000));
			break;
		default:
			buf_printf(b, "%s /index.html HTTP/1.1\r\n", post ? "POST" : "GET");
		}
		buf_printf(b, "Host: %s%u.example.com\r\nUser-Agent: %s\r\nAccept: */*\r\n"
			      "Accept-Language: en-US,en;q=0.9\r\nAccept-Encoding: gzip, deflate\r\n",
			   hosts[c->port[1] % 8], c->ip[1] & 0xff, agents[c->ip[0] % 5]);
		if (ck) {
			buf_printf(b, "Cookie: session=");
			buf_reserve(b, ck + 2);
			while (ck--)
				b->d[b->len++] = "0123456789abcdef"[rnd() & 15];
			buf_add(b, "\r\n", 2);
		}
		if (post)
			buf_printf(b, "Content-Type: application/json\r\nContent-Length: %zu\r\n", blen);
		buf_printf(b, "Connection: keep-alive\r\n\r\n");
		buf_body(b, blen, 1);
		return;
	}
	{
		unsigned r = rnd_below(100);
		int text = rnd_below(2);
		const char *ct = text ? (rnd_below(2) ? "text/html; charset=utf-8" : "application/json")
				      : (rnd_below(2) ? "image/jpeg" : "application/octet-stream");

		if (r < 8) {
			buf_printf(b, "HTTP/1.1 304 Not Modified\r\nServer: nginx\r\nETag: \"%08x\"\r\n\r\n", (unsigned)rnd());
		} else if (r < 10) {
			buf_printf(b, "HTTP/1.1 302 Found\r\nServer: nginx\r\nLocation: /login?next=%u\r\n"
				      "Content-Length: 0\r\n\r\n", rnd_below(1000));
		} else if (r < 15) {
			buf_printf(b, "HTTP/1.1 404 Not Found\r\nServer: nginx\r\nContent-Type: text/html\r\n"
				      "Content-Length: 146\r\n\r\n");
			buf_body(b, 146, 1);
		} else if (r < 45) {
			size_t total = body_size();

			buf_printf(b, "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: %s\r\n"
				      "Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n\r\n", ct);
			while (total) {
				size_t k = rnd_below(3) ? 8192 : 1 + rnd_below(16384);

				if (k > total)
					k = total;
				buf_printf(b, "%zx\r\n", k);
				buf_body(b, k, text);
				buf_printf(b, "\r\n");
				total -= k;
			}
			buf_printf(b, "0\r\n\r\n");
		} else {
			size_t n = body_size();

			buf_printf(b, "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: %s\r\n"
				      "Content-Length: %zu\r\nETag: \"%08x\"\r\nCache-Control: max-age=3600\r\n\r\n",
				   ct, n, (unsigned)rnd());
			buf_body(b, n, text);
		}
	}
}

/* TLS records of random bytes, at most 16 kB + AEAD overhead each. */
static void tls_appdata(struct buf *b, size_t n)
{
	while (n) {
		size_t k = n > 16401 ? 16401 : n;

		buf_u8(b, 23);
		buf_u16(b, 0x0303);
		buf_u16(b, (unsigned)k);
		buf_body(b, k, 0);
		n -= k;
	}
}

static void tls_client_hello(struct conv *c, struct buf *b)
{
	static const uint16_t suites[] = { 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030,
					   0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035 };
	char sni[64];
	struct buf e = { 0 };
	size_t i, hs_len, snilen;

	snilen = (size_t)snprintf(sni, sizeof(sni), "%s%u.example.net", hosts[c->port[0] % 8], c->ip[1] & 0xffff);
	/* extensions: server_name, supported_groups, supported_versions, key_share */
	buf_u16(&e, 0);
	buf_u16(&e, (unsigned)snilen + 5);
	buf_u16(&e, (unsigned)snilen + 3);
	buf_u8(&e, 0);
	buf_u16(&e, (unsigned)snilen);
	buf_add(&e, sni, snilen);
	buf_u16(&e, 10), buf_u16(&e, 8), buf_u16(&e, 6), buf_u16(&e, 29), buf_u16(&e, 23), buf_u16(&e, 24);
	buf_u16(&e, 43), buf_u16(&e, 5), buf_u8(&e, 4), buf_u16(&e, 0x0304), buf_u16(&e, 0x0303);
	buf_u16(&e, 51), buf_u16(&e, 38), buf_u16(&e, 36), buf_u16(&e, 29), buf_u16(&e, 32);
	buf_body(&e, 32, 0);

	hs_len = 2 + 32 + 1 + 32 + 2 + sizeof(suites) + 2 + 2 + e.len;
	buf_u8(b, 22);
	buf_u16(b, 0x0301);
	buf_u16(b, (unsigned)hs_len + 4);
	buf_u8(b, 1);
	buf_u24(b, (unsigned)hs_len);
	buf_u16(b, 0x0303);
	buf_body(b, 32, 0);
	buf_u8(b, 32);
	buf_body(b, 32, 0);
	buf_u16(b, (unsigned)sizeof(suites));
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		buf_u16(b, suites[i]);
	buf_u8(b, 1), buf_u8(b, 0);
	buf_u16(b, (unsigned)e.len);
	buf_add(b, e.d, e.len);
	free(e.d);
}

static void tls_turn(struct conv *c, struct buf *b)
{
	switch (c->sub) {
	case 0:
		tls_client_hello(c, b);
		return;
	case 1: /* ServerHello, ChangeCipherSpec, encrypted handshake */
		buf_u8(b, 22), buf_u16(b, 0x0303), buf_u16(b, 4 + 86);
		buf_u8(b, 2), buf_u24(b, 86), buf_u16(b, 0x0303);
		buf_body(b, 32, 0);
		buf_u8(b, 32), buf_body(b, 32, 0);
		buf_u16(b, 0x1301), buf_u8(b, 0), buf_u16(b, 16);
		buf_body(b, 16, 0);
		buf_u8(b, 20), buf_u16(b, 0x0303), buf_u16(b, 1), buf_u8(b, 1);
		tls_appdata(b, 2000 + rnd_below(3000));
		return;
	case 2:
		buf_u8(b, 20), buf_u16(b, 0x0303), buf_u16(b, 1), buf_u8(b, 1);
		tls_appdata(b, 53);
		return;
	default:
		if (c->sub % 2)
			tls_appdata(b, body_size());
		else
			tls_appdata(b, rnd_below(20) ? rnd_logsize(60, 8192) : rnd_logsize(8192, 262144));
	}
}

/* Fills c->turn with the next turn; 0 when the conversation is over. */
static int next_turn(struct conv *c)
{
	c->turn.len = 0;
	c->off = 0;
	switch (c->kind) {
	case K_SCEP:
		if (c->sub >= srcs[c->src].n_turns)
			return 0;
		c->dir = srcs[c->src].turns[c->sub].dir;
		buf_add(&c->turn, srcs[c->src].turns[c->sub].data, srcs[c->src].turns[c->sub].len);
		break;
	case K_HTTP:
		if (c->sub >= 2 * c->left)
			return 0;
		c->dir = c->sub % 2;
		http_turn(c, &c->turn);
		break;
	case K_TLS:
		if (c->sub >= 3 + 2 * c->left)
			return 0;
		c->dir = c->sub < 3 ? c->sub % 2 : (c->sub + 1) % 2;
		tls_turn(c, &c->turn);
		break;
	}
	c->sub++;
	return 1;
}

static void mac_of(uint8_t *m, uint32_t ip)
{
	m[0] = 0x02, m[1] = 0x42;
	memcpy(m + 2, &ip, 4);
}

static void conv_start(struct gen *g, struct conv *c, enum kind k, int enroll)
{
	static const uint8_t gw_mac[6] = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	uint32_t cli, srv;
	struct buf keep = c->turn;

	memset(c, 0, sizeof(*c));
	c->turn = keep;
	c->turn.len = 0;
	c->kind = k;
	c->state = S_SYN;
	/* The flow counter in the client port keeps concurrent 5-tuples unique. */
	c->port[0] = (uint16_t)(20000 + g->flows % 40000);
	g->flows++;
	g->flows_by_kind[k]++;
	switch (k) {
	case K_SCEP:
		/* One client address per enrollment; source s is sent to server
		 * enroll / n_srcs, so no two replays share a transactionID toward
		 * the same server. */
		c->src = enroll % n_srcs;
		cli = 10u << 24 | 77u << 16 | (uint32_t)(enroll / 200) << 8 | (uint32_t)(enroll % 200 + 10);
		srv = 192u << 24 | 0u << 16 | 2u << 8 | (uint32_t)(10 + enroll / n_srcs);
		c->port[1] = 80;
		break;
	case K_HTTP:
		cli = 10u << 24 | 1u << 16 | rnd_below(4000);
		srv = (rnd_below(2) ? (198u << 24 | 51u << 16 | 100u << 8) : (203u << 24 | 0u << 16 | 113u << 8)) |
		      (1 + rnd_below(250));
		c->port[1] = rnd_below(10) ? 80 : 8080;
		c->left = 1 + (int)rnd_below(6);
		break;
	default:
		cli = 10u << 24 | 1u << 16 | rnd_below(4000);
		srv = 100u << 24 | (64u + rnd_below(60)) << 16 | rnd_below(65536);
		c->port[1] = 443;
		c->left = 1 + (int)rnd_below(6);
		break;
	}
	cli = __builtin_bswap32(cli);
	srv = __builtin_bswap32(srv);
	c->ip[0] = cli, c->ip[1] = srv;
	mac_of(c->mac[0], cli);
	memcpy(c->mac[1], gw_mac, 6);
	c->seq[0] = (uint32_t)rnd(), c->seq[1] = (uint32_t)rnd();
	c->ipid[0] = (uint16_t)rnd(), c->ipid[1] = (uint16_t)rnd();
	c->ts_off[0] = (uint32_t)rnd(), c->ts_off[1] = (uint32_t)rnd();
}

/* Advances c by one step (one data segment, perhaps with its ACK). */
static void conv_step(struct gen *g, struct conv *c)
{
	switch (c->state) {
	case S_SYN:
		emit(g, c, 0, F_SYN, NULL, 0);
		c->state = S_SYNACK;
		return;
	case S_SYNACK:
		emit(g, c, 1, F_SYN | F_ACK, NULL, 0);
		c->state = S_ACK;
		return;
	case S_ACK:
		emit(g, c, 0, F_ACK, NULL, 0);
		c->state = S_DATA;
		if (!next_turn(c))
			c->state = S_FIN1;
		return;
	case S_DATA: {
		size_t n = c->turn.len - c->off;

		if (n > MSS)
			n = MSS;
		emit(g, c, c->dir, F_ACK | (c->off + n == c->turn.len ? F_PSH : 0), c->turn.d + c->off, n);
		c->off += n;
		if (++c->unacked >= 2 || c->off == c->turn.len) {
			emit(g, c, 1 - c->dir, F_ACK, NULL, 0);
			c->unacked = 0;
		}
		if (c->off == c->turn.len && !next_turn(c))
			c->state = S_FIN1;
		return;
	}
	case S_FIN1:
		emit(g, c, 0, F_FIN | F_ACK, NULL, 0);
		c->state = S_FIN2;
		return;
	case S_FIN2:
		emit(g, c, 1, F_FIN | F_ACK, NULL, 0);
		c->state = S_LASTACK;
		return;
	case S_LASTACK:
		emit(g, c, 0, F_ACK, NULL, 0);
		c->state = S_DONE;
		return;
	case S_DONE:
		return;
	}
}

static void usage(void)
{
	fputs("usage: gen -o OUT.pcap [-m MB] [-e ENROLLMENTS] [-f FLOWS] [-s SEED] [-c] SRC.pcap...\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *out = NULL;
	double mb = 450;
	int n_enroll = 400, n_slots = 800, opt, i, n_active, next_enroll = 0, draining = 0;
	int complete = 0;
	uint64_t seed = 20261125, target, first_enroll_at = 0, last_enroll_at = 0;
	struct gen g;
	struct conv *slots;
	int *active;
	pcap_t *dead;

	while ((opt = getopt(argc, argv, "o:m:e:f:s:c")) != -1) {
		switch (opt) {
		case 'c': complete = 1; break;
		case 'o': out = optarg; break;
		case 'm': mb = atof(optarg); break;
		case 'e': n_enroll = atoi(optarg); break;
		case 'f': n_slots = atoi(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (!out || optind >= argc || mb <= 0 || n_enroll < 0 || n_slots < 1)
		usage();
	for (i = optind; i < argc; i++)
		load_source(argv[i]);
	if (!n_srcs)
		die("no TCP flows in the source captures");
	rng_state = seed;
	pool_init();
	target = (uint64_t)(mb * 1e6);

	memset(&g, 0, sizeof(g));
	/* 2026-11-26 09:00:00 UTC: after the bundled captures were made, so
	 * the spliced certificates are valid at capture time. */
	g.now_us = 1795683600ull * 1000000;
	dead = pcap_open_dead(DLT_EN10MB, 65535);
	g.out = pcap_dump_open(dead, out);
	if (!g.out)
		die("%s: %s", out, pcap_geterr(dead));

	slots = xrealloc(NULL, sizeof(*slots) * (size_t)n_slots);
	memset(slots, 0, sizeof(*slots) * (size_t)n_slots);
	active = xrealloc(NULL, sizeof(*active) * (size_t)n_slots);
	for (i = 0; i < n_slots; i++) {
		conv_start(&g, &slots[i], rnd_below(2) ? K_HTTP : K_TLS, 0);
		active[i] = i;
	}
	n_active = n_slots;

	while (n_active) {
		int a = (int)rnd_below((uint32_t)n_active), burst = 1 + (int)rnd_below(8);
		struct conv *c = &slots[active[a]];

		while (burst-- && c->state != S_DONE)
			conv_step(&g, c);
		if (!draining && g.bytes >= target) {
			/* The capture window closes: other flows are cut where
			 * they are (unless -c), as in a real capture; SCEP
			 * replays (and any enrollment not yet started) run to
			 * their end. */
			draining = 1;
			for (i = n_active; i-- > 0 && !complete;)
				if (slots[active[i]].kind != K_SCEP)
					active[i] = active[--n_active];
			continue;
		}
		if (c->state != S_DONE)
			continue;
		/* Enrollment k is due once (k + 1/2) / n of the bytes are out. */
		if (next_enroll < n_enroll &&
		    (draining || g.bytes >= (uint64_t)((next_enroll + 0.5) * (double)target / n_enroll))) {
			if (!next_enroll)
				first_enroll_at = g.bytes;
			last_enroll_at = g.bytes;
			conv_start(&g, c, K_SCEP, next_enroll++);
		} else if (!draining) {
			conv_start(&g, c, rnd_below(2) ? K_HTTP : K_TLS, 0);
		} else {
			active[a] = active[--n_active];
		}
	}
	pcap_dump_close(g.out);
	pcap_close(dead);
	printf("bytes=%" PRIu64 "\npackets=%" PRIu64 "\nflows=%" PRIu64 "\nhttp_flows=%" PRIu64
	       "\ntls_flows=%" PRIu64 "\nenrollments=%d\nscep_sources=%d\nseconds=%.1f\n"
	       "first_enrollment_at=%" PRIu64 "\nlast_enrollment_at=%" PRIu64 "\n",
	       g.bytes + 24, g.packets, g.flows, g.flows_by_kind[K_HTTP], g.flows_by_kind[K_TLS],
	       next_enroll, n_srcs, (double)(g.now_us - 1795683600ull * 1000000) / 1e6,
	       first_enroll_at, last_enroll_at);
	for (i = 0; i < n_slots; i++)
		free(slots[i].turn.d);
	free(slots);
	free(active);
	return 0;
}
