/*
 * ndes-responder.c - a test fixture that answers SCEP the way Microsoft NDES
 * (mscep.dll behind IIS) does, so that real third-party SCEP clients can be
 * captured against an NDES-shaped server.  It is not part of scepdump; it
 * only has to produce traffic.  It trusts nothing it reads, but it is not
 * hardened either: run it on loopback inside a private network namespace.
 *
 * What is NDES-shaped here:
 *  - paths /certsrv/mscep/mscep.dll and /certsrv/mscep/mscep.dll/pkiclient.exe;
 *  - GetCACaps answers NDES's capability list (see NDES_CAPS below);
 *  - GetCACert answers application/x-x509-ca-ra-cert: a degenerate PKCS#7
 *    holding the CA and two RA certificates, a signing one ("Exchange
 *    Enrollment Agent (Offline request)" template, keyUsage
 *    digitalSignature) and an encryption one ("CEP Encryption" template,
 *    keyUsage keyEncipherment);
 *  - requests are decrypted with the RA encryption key; CertReps are signed
 *    by the RA signing key and carry NO certificates in the SignedData (the
 *    published NDES replies carry none either);
 *  - CertReps carry the Microsoft signed attributes 1.3.6.1.4.1.311.21.38
 *    (a UTF8String status text) and, on FAILURE, 1.3.6.1.4.1.311.21.33 (a
 *    PrintableString holding the HRESULT in decimal);
 *  - PENDING and FAILURE CertReps have no envelope: their content is a single
 *    0x00 byte, as seen in NDES-shaped replies (RFC 8894 would omit it).
 *
 * Modes (-m):
 *   issue              SUCCESS at once
 *   pending:N          PENDING for the first N answers of a transaction, then SUCCESS
 *   pending-failure:N  PENDING for the first N answers, then FAILURE badRequest
 *                      with HRESULT CERTSRV_E_ADMIN_DENIED_REQUEST (an administrator
 *                      denied the pending request)
 *   pending-forever    always PENDING
 *   ra-renewed         the "CEP Encryption" certificate is renewed after the first
 *                      SUCCESS: from then on GetCACert returns the NEW RA encryption
 *                      certificate and the old private key is gone.  A client that
 *                      kept the old certificate (strongSwan's --cacert-enc file,
 *                      certmonger's cached CA data) encrypts to a certificate the
 *                      server can no longer decrypt for; it is answered with CertRep
 *                      FAILURE badMessageCheck and HRESULT NTE_BAD_DATA (0x80090005,
 *                      the "cannot decrypt the client's PKCS7 message ... Bad Data"
 *                      error NDES logs).  This is a choice of this fixture: real NDES
 *                      may instead keep the old key in its store.
 *
 * An "answer" of a transaction is any PKIOperation that names its
 * transactionID: a CertPoll (GetCertInitial, messageType 20), or a PKCSReq
 * re-sent with the same transactionID (certmonger resubmits a fresh PKCSReq
 * with a new senderNonce; micromdm scepclient re-sends the same bytes).  So
 * pending:2 answers PENDING, PENDING, SUCCESS whatever the client polls with.
 *
 * One log line per HTTP request goes to stdout.
 *
 * usage: ndes-responder -p PORT -d PKIDIR [-m MODE]
 *   PKIDIR holds ca.pem ca.key ra-sign.pem ra-sign.key ra-enc.pem ra-enc.key
 *   and, for ra-renewed, ra-enc-new.pem ra-enc-new.key (all PEM).
 *
 * build: cc -O2 -Wall -o ndes-responder ndes-responder.c -lssl -lcrypto
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/*
 * NDES's GetCACaps answer (Windows Server 2012 R2 and later; the list quoted
 * in NDES troubleshooting write-ups and in the project's issue 19), plus
 * "AES": strongSwan 5.9.8's pki refuses to use 3DES unless the server also
 * announces AES, and certmonger prefers AES when it is offered.
 */
static const char NDES_CAPS[] =
    "POSTPKIOperation\nRenewal\nSHA-512\nSHA-256\nSHA-1\nDES3\nAES\n";

/* Microsoft HRESULTs, sent in decimal as NDES does (PrintableString). */
#define HR_ADMIN_DENIED "-2146877420" /* 0x80094014 CERTSRV_E_ADMIN_DENIED_REQUEST */
#define HR_BAD_DATA     "-2146893819" /* 0x80090005 NTE_BAD_DATA */
#define HR_NO_REQUEST   "-2146877437" /* 0x80094003 CERTSRV_E_BAD_REQUESTSTATUS */

enum mode { MODE_ISSUE, MODE_PENDING, MODE_PENDING_FAILURE, MODE_PENDING_FOREVER,
            MODE_RA_RENEWED };
enum { ST_SUCCESS = 0, ST_FAILURE = 2, ST_PENDING = 3 };
enum { FI_BADALG = 0, FI_BADMESSAGECHECK = 1, FI_BADREQUEST = 2, FI_BADTIME = 3,
       FI_BADCERTID = 4 };

struct pki {
    X509 *ca, *ra_sign, *ra_enc, *ra_enc_new;
    EVP_PKEY *ca_key, *ra_sign_key, *ra_enc_key, *ra_enc_new_key;
};

struct txn {
    char *id;
    X509_REQ *csr;
    X509 *issued;
    int answers;
    struct txn *next;
};

struct server {
    struct pki pki;
    enum mode mode;
    int pending_n;
    int renewed;          /* ra-renewed: the old RA encryption key is retired */
    long next_serial;
    struct txn *txns;
    int nid_msgtype, nid_status, nid_failinfo, nid_snonce, nid_rnonce, nid_txid;
    int nid_ms_hresult, nid_ms_status;
};

static void die(const char *what)
{
    fprintf(stderr, "ndes-responder: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

static X509 *load_cert(const char *dir, const char *name)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "r");
    if (!f)
        return NULL;
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return x;
}

static EVP_PKEY *load_key(const char *dir, const char *name)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "r");
    if (!f)
        return NULL;
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return k;
}

static void hex(const unsigned char *p, int n, char *out, size_t outsz)
{
    size_t o = 0;
    for (int i = 0; i < n && o + 3 < outsz; i++)
        o += snprintf(out + o, outsz - o, "%02x", p[i]);
    out[o] = 0;
}

/* ------------------------------------------------------------- DER helpers */

/* a degenerate (certs-only) PKCS#7 SignedData, as `openssl crl2pkcs7` makes */
static int degenerate_p7(STACK_OF(X509) *certs, unsigned char **der)
{
    PKCS7 *p7 = PKCS7_new();
    if (!p7 || !PKCS7_set_type(p7, NID_pkcs7_signed))
        return -1;
    p7->d.sign->contents->type = OBJ_nid2obj(NID_pkcs7_data);
    for (int i = 0; i < sk_X509_num(certs); i++)
        PKCS7_add_certificate(p7, sk_X509_value(certs, i));
    *der = NULL;
    int n = i2d_PKCS7(p7, der);
    PKCS7_free(p7);
    return n;
}

static const char *attr_string(PKCS7_SIGNER_INFO *si, int nid, char *buf, size_t sz)
{
    ASN1_TYPE *t = PKCS7_get_signed_attribute(si, nid);
    if (!t || (t->type != V_ASN1_PRINTABLESTRING && t->type != V_ASN1_UTF8STRING &&
               t->type != V_ASN1_IA5STRING))
        return NULL;
    int n = ASN1_STRING_length(t->value.asn1_string);
    if ((size_t)n >= sz)
        n = (int)sz - 1;
    memcpy(buf, ASN1_STRING_get0_data(t->value.asn1_string), n);
    buf[n] = 0;
    return buf;
}

static ASN1_OCTET_STRING *attr_octets(PKCS7_SIGNER_INFO *si, int nid)
{
    ASN1_TYPE *t = PKCS7_get_signed_attribute(si, nid);
    if (!t || t->type != V_ASN1_OCTET_STRING)
        return NULL;
    return t->value.octet_string;
}

static int add_str_attr(PKCS7_SIGNER_INFO *si, int nid, int type, const char *s)
{
    ASN1_STRING *v = ASN1_STRING_type_new(type);
    if (!v || !ASN1_STRING_set(v, s, (int)strlen(s)))
        return 0;
    return PKCS7_add_signed_attribute(si, nid, type, v);
}

static int add_octet_attr(PKCS7_SIGNER_INFO *si, int nid, const unsigned char *p, int n)
{
    ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
    if (!v || !ASN1_OCTET_STRING_set(v, p, n))
        return 0;
    return PKCS7_add_signed_attribute(si, nid, V_ASN1_OCTET_STRING, v);
}

/* ------------------------------------------------------------- issuing */

static X509 *issue_cert(struct server *s, X509_REQ *csr)
{
    X509 *x = X509_new();
    EVP_PKEY *pub = X509_REQ_get0_pubkey(csr);
    if (!x || !pub)
        return NULL;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), s->next_serial++);
    X509_set_subject_name(x, X509_REQ_get_subject_name(csr));
    X509_set_issuer_name(x, X509_get_subject_name(s->pki.ca));
    X509_set_pubkey(x, pub);
    X509_gmtime_adj(X509_getm_notBefore(x), -300);
    X509_gmtime_adj(X509_getm_notAfter(x), 365L * 24 * 3600);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, s->pki.ca, x, NULL, NULL, 0);
    static const char *exts[][2] = {
        { "basicConstraints", "critical,CA:FALSE" },
        { "keyUsage", "critical,digitalSignature,keyEncipherment" },
        { "extendedKeyUsage", "clientAuth" },
        { "subjectKeyIdentifier", "hash" },
        { "authorityKeyIdentifier", "keyid:always" },
    };
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        X509_EXTENSION *e = X509V3_EXT_conf(NULL, &ctx, exts[i][0], exts[i][1]);
        if (!e)
            return NULL;
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    if (!X509_sign(x, s->pki.ca_key, EVP_sha256()))
        return NULL;
    return x;
}

static struct txn *txn_find(struct server *s, const char *id)
{
    for (struct txn *t = s->txns; t; t = t->next)
        if (strcmp(t->id, id) == 0)
            return t;
    return NULL;
}

/* ------------------------------------------------------------- CertRep */

struct reply {
    int status, failinfo;
    const char *ms_status;   /* 1.3.6.1.4.1.311.21.38 */
    const char *ms_hresult;  /* 1.3.6.1.4.1.311.21.33, FAILURE only */
};

/*
 * Build the CertRep: SignedData by the RA signing key, no certificates,
 * content = envelope (SUCCESS) or a single 0x00 byte (PENDING, FAILURE).
 */
static int make_certrep(struct server *s, const struct reply *r, const char *txid,
                        ASN1_OCTET_STRING *rnonce, const EVP_MD *md,
                        const unsigned char *content, int clen,
                        unsigned char **der, char *snonce_hex, size_t hexsz)
{
    PKCS7 *p7 = PKCS7_new();
    if (!p7 || !PKCS7_set_type(p7, NID_pkcs7_signed))
        return -1;
    PKCS7_SIGNER_INFO *si = PKCS7_add_signature(p7, s->pki.ra_sign, s->pki.ra_sign_key, md);
    if (!si)
        return -1;
    char num[16];
    unsigned char snonce[16];
    RAND_bytes(snonce, sizeof snonce);
    hex(snonce, sizeof snonce, snonce_hex, hexsz);
    PKCS7_add_signed_attribute(si, NID_pkcs9_contentType, V_ASN1_OBJECT,
                               OBJ_nid2obj(NID_pkcs7_data));
    add_str_attr(si, s->nid_txid, V_ASN1_PRINTABLESTRING, txid);
    add_str_attr(si, s->nid_msgtype, V_ASN1_PRINTABLESTRING, "3");
    snprintf(num, sizeof num, "%d", r->status);
    add_str_attr(si, s->nid_status, V_ASN1_PRINTABLESTRING, num);
    if (r->status == ST_FAILURE) {
        snprintf(num, sizeof num, "%d", r->failinfo);
        add_str_attr(si, s->nid_failinfo, V_ASN1_PRINTABLESTRING, num);
    }
    add_octet_attr(si, s->nid_snonce, snonce, sizeof snonce);
    if (rnonce)
        add_octet_attr(si, s->nid_rnonce, ASN1_STRING_get0_data(rnonce),
                       ASN1_STRING_length(rnonce));
    if (r->ms_hresult)
        add_str_attr(si, s->nid_ms_hresult, V_ASN1_PRINTABLESTRING, r->ms_hresult);
    if (r->ms_status)
        add_str_attr(si, s->nid_ms_status, V_ASN1_UTF8STRING, r->ms_status);
    if (!PKCS7_content_new(p7, NID_pkcs7_data))
        return -1;
    BIO *b = PKCS7_dataInit(p7, NULL);
    if (!b || BIO_write(b, content, clen) != clen || BIO_flush(b) != 1 ||
        !PKCS7_dataFinal(p7, b))
        return -1;
    BIO_free_all(b);
    *der = NULL;
    int n = i2d_PKCS7(p7, der);
    PKCS7_free(p7);
    return n;
}

/* ------------------------------------------------------------- HTTP */

struct buf { unsigned char *p; size_t n, cap; };

static void buf_add(struct buf *b, const void *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            die("out of memory");
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            return;
        }
        c += w;
        n -= (size_t)w;
    }
}

static void respond(int fd, int code, const char *reason, const char *ctype,
                    const void *body, size_t n)
{
    char h[512];
    int hl = snprintf(h, sizeof h,
                      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                      "Server: Microsoft-IIS/10.0\r\nX-Powered-By: ASP.NET\r\n"
                      "Connection: close\r\n\r\n", code, reason, ctype, n);
    send_all(fd, h, (size_t)hl);
    send_all(fd, body, n);
}

static int unhex(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* percent-decoding only: a raw '+' in base64 stays '+' (IIS does the same) */
static size_t pct_decode(const char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '%' && i + 2 < n && unhex(in[i + 1]) >= 0 && unhex(in[i + 2]) >= 0) {
            out[o++] = (char)(unhex(in[i + 1]) * 16 + unhex(in[i + 2]));
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = 0;
    return o;
}

static unsigned char *b64_decode(const char *in, size_t n, int *outlen)
{
    char *clean = malloc(n + 4);
    unsigned char *out = malloc(n + 4);
    size_t c = 0;
    if (!clean || !out)
        die("out of memory");
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)in[i]))
            clean[c++] = in[i];
    clean[c] = 0;
    int len = EVP_DecodeBlock(out, (unsigned char *)clean, (int)c);
    if (len < 0) {
        free(clean);
        free(out);
        return NULL;
    }
    if (c >= 1 && clean[c - 1] == '=') len--;
    if (c >= 2 && clean[c - 2] == '=') len--;
    free(clean);
    *outlen = len;
    return out;
}

static const char *query_param(const char *q, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t seg = amp ? (size_t)(amp - q) : strlen(q);
        if (seg > nl && strncmp(q, name, nl) == 0 && q[nl] == '=') {
            *len = seg - nl - 1;
            return q + nl + 1;
        }
        q = amp ? amp + 1 : NULL;
    }
    return NULL;
}

static const char *msgtype_name(const char *mt)
{
    if (!mt) return "?";
    switch (atoi(mt)) {
    case 3: return "CertRep";
    case 17: return "RenewalReq";
    case 19: return "PKCSReq";
    case 20: return "CertPoll";
    case 21: return "GetCert";
    case 22: return "GetCRL";
    }
    return "?";
}

static const char *status_name(int st)
{
    return st == ST_SUCCESS ? "SUCCESS" : st == ST_FAILURE ? "FAILURE" : "PENDING";
}

/* ------------------------------------------------------------- PKIOperation */

static void pki_operation(struct server *s, int fd, const char *method,
                          const unsigned char *msg, int mlen)
{
    const unsigned char *p = msg;
    PKCS7 *p7 = d2i_PKCS7(NULL, &p, mlen);
    if (!p7 || !PKCS7_type_is_signed(p7)) {
        printf("PKIOperation %s: not a SignedData (%d bytes) -> HTTP 500\n", method, mlen);
        respond(fd, 500, "Internal Server Error", "text/plain", "bad message\n", 12);
        PKCS7_free(p7);
        return;
    }
    STACK_OF(PKCS7_SIGNER_INFO) *sis = PKCS7_get_signer_info(p7);
    PKCS7_SIGNER_INFO *si = sk_PKCS7_SIGNER_INFO_value(sis, 0);
    char mt[16], txid[256], nhex[80] = "-", shex[80];
    if (!si || !attr_string(si, s->nid_msgtype, mt, sizeof mt) ||
        !attr_string(si, s->nid_txid, txid, sizeof txid)) {
        printf("PKIOperation %s: no messageType/transactionID -> HTTP 500\n", method);
        respond(fd, 500, "Internal Server Error", "text/plain", "bad message\n", 12);
        PKCS7_free(p7);
        return;
    }
    ASN1_OCTET_STRING *snonce = attr_octets(si, s->nid_snonce);
    if (snonce)
        hex(ASN1_STRING_get0_data(snonce), ASN1_STRING_length(snonce), nhex, sizeof nhex);

    /* the signer certificate (self-signed for a PKCSReq): CertReps are enveloped to it */
    X509 *signer = NULL;
    PKCS7_ISSUER_AND_SERIAL *ias = si->issuer_and_serial;
    if (p7->d.sign->cert && ias)
        signer = X509_find_by_issuer_and_serial(p7->d.sign->cert, ias->issuer, ias->serial);
    const EVP_MD *md = EVP_get_digestbyobj(si->digest_alg->algorithm);
    if (!md)
        md = EVP_sha256();

    /* decrypt the pkcsPKIEnvelope with the RA encryption key ("CEP Encryption") */
    BIO *plain = NULL;
    const char *keyname = "-";
    const EVP_CIPHER *cipher = NULL;
    ASN1_OCTET_STRING *ec = NULL;
    if (PKCS7_type_is_data(p7->d.sign->contents))
        ec = p7->d.sign->contents->d.data;
    if (ec) {
        const unsigned char *q = ASN1_STRING_get0_data(ec);
        PKCS7 *env = d2i_PKCS7(NULL, &q, ASN1_STRING_length(ec));
        if (env && PKCS7_type_is_enveloped(env)) {
            cipher = EVP_get_cipherbyobj(env->d.enveloped->enc_data->algorithm->algorithm);
            struct { X509 *c; EVP_PKEY *k; const char *name; } try[2] = {
                { s->pki.ra_enc, s->pki.ra_enc_key, "ra-enc" },
                { s->pki.ra_enc_new, s->pki.ra_enc_new_key, "ra-enc-new" },
            };
            if (s->renewed) {   /* the old key is gone */
                try[0] = try[1];
                try[1].c = NULL;
            }
            for (int i = 0; i < 2 && !plain; i++) {
                if (!try[i].c)
                    continue;
                BIO *out = BIO_new(BIO_s_mem());
                if (PKCS7_decrypt(env, try[i].k, try[i].c, out, 0) == 1) {
                    plain = out;
                    keyname = try[i].name;
                } else {
                    BIO_free(out);
                }
                ERR_clear_error();
            }
        }
        PKCS7_free(env);
    }
    if (!cipher)
        cipher = EVP_aes_256_cbc();

    int msgtype = atoi(mt);
    struct txn *t = txn_find(s, txid);
    struct reply r = { ST_PENDING, -1, "Pending", NULL };
    unsigned char *content = NULL;
    int clen = 0;
    unsigned char zero = 0;

    if (!plain) {
        r = (struct reply){ ST_FAILURE, FI_BADMESSAGECHECK, "Denied", HR_BAD_DATA };
    } else if ((msgtype == 19 || msgtype == 17) && !t) {
        unsigned char *d = NULL;
        long dl = BIO_get_mem_data(plain, &d);
        const unsigned char *q = d;
        X509_REQ *csr = d2i_X509_REQ(NULL, &q, dl);
        if (!csr) {
            r = (struct reply){ ST_FAILURE, FI_BADREQUEST, "Denied", HR_NO_REQUEST };
        } else {
            t = calloc(1, sizeof *t);
            t->id = strdup(txid);
            t->csr = csr;
            t->next = s->txns;
            s->txns = t;
        }
    } else if (msgtype != 19 && msgtype != 17 && msgtype != 20) {
        r = (struct reply){ ST_FAILURE, FI_BADREQUEST, "Denied", HR_NO_REQUEST };
    } else if (!t) {   /* a CertPoll for a transaction never seen */
        r = (struct reply){ ST_FAILURE, FI_BADCERTID, "Denied", HR_NO_REQUEST };
    }

    int answer = 0;
    if (t && plain) {
        answer = ++t->answers;
        int pending = 0, fail = 0;
        switch (s->mode) {
        case MODE_ISSUE: case MODE_RA_RENEWED: break;
        case MODE_PENDING: pending = answer <= s->pending_n; break;
        case MODE_PENDING_FAILURE: pending = answer <= s->pending_n; fail = !pending; break;
        case MODE_PENDING_FOREVER: pending = 1; break;
        }
        if (t->issued) {
            pending = fail = 0;
        }
        if (pending)
            r = (struct reply){ ST_PENDING, -1, "Pending", NULL };
        else if (fail)
            r = (struct reply){ ST_FAILURE, FI_BADREQUEST, "Denied", HR_ADMIN_DENIED };
        else
            r = (struct reply){ ST_SUCCESS, -1, "Issued", NULL };
    }

    if (r.status == ST_SUCCESS) {
        if (!t->issued)
            t->issued = issue_cert(s, t->csr);
        if (!t->issued || !signer) {
            r = (struct reply){ ST_FAILURE, FI_BADREQUEST, "Denied", HR_NO_REQUEST };
        } else {
            STACK_OF(X509) *one = sk_X509_new_null();
            sk_X509_push(one, t->issued);
            unsigned char *inner = NULL;
            int il = degenerate_p7(one, &inner);
            sk_X509_free(one);
            STACK_OF(X509) *rcpt = sk_X509_new_null();
            sk_X509_push(rcpt, signer);
            BIO *in = BIO_new_mem_buf(inner, il);
            /* the envelope uses the request's own cipher */
            PKCS7 *env = PKCS7_encrypt(rcpt, in, cipher, PKCS7_BINARY);
            BIO_free(in);
            sk_X509_free(rcpt);
            OPENSSL_free(inner);
            if (!env)
                die("PKCS7_encrypt");
            clen = i2d_PKCS7(env, &content);
            PKCS7_free(env);
            if (s->mode == MODE_RA_RENEWED && !s->renewed)
                s->renewed = 1;   /* renewed right after this enrollment */
        }
    }
    int ownc = content != NULL;
    if (!content) {
        content = &zero;
        clen = 1;
    }
    unsigned char *der = NULL;
    int dl = make_certrep(s, &r, txid, snonce, md, content, clen, &der, shex, sizeof shex);
    if (ownc)
        OPENSSL_free(content);
    if (dl <= 0)
        die("cannot build CertRep");
    respond(fd, 200, "OK", "application/x-pki-message", der, (size_t)dl);
    char serial[32] = "";
    if (r.status == ST_SUCCESS)
        snprintf(serial, sizeof serial, " issued-serial=%ld",
                 ASN1_INTEGER_get(X509_get0_serialNumber(t->issued)));
    printf("PKIOperation %s messageType=%s(%s) transactionID=%s senderNonce=%s "
           "decrypted-with=%s answer=%d -> CertRep pkiStatus=%d(%s)%s%s%s "
           "senderNonce=%s ms-status=\"%s\"%s%s%s\n",
           method, mt, msgtype_name(mt), txid, nhex, keyname, answer, r.status,
           status_name(r.status), r.status == ST_FAILURE ? " failInfo=" : "",
           r.status == ST_FAILURE ? (char[]){ (char)('0' + r.failinfo), 0 } : "",
           serial, shex, r.ms_status, r.ms_hresult ? " ms-hresult=" : "",
           r.ms_hresult ? r.ms_hresult : "", s->mode == MODE_RA_RENEWED && s->renewed ?
           " (RA encryption certificate now renewed)" : "");
    OPENSSL_free(der);
    BIO_free(plain);
    PKCS7_free(p7);
}

/* ------------------------------------------------------------- dispatch */

static void handle(struct server *s, int fd)
{
    struct buf in = { 0 };
    char tmp[16384];
    size_t hdr_end = 0;
    long clen = 0;
    for (;;) {
        ssize_t r = read(fd, tmp, sizeof tmp);
        if (r <= 0)
            break;
        buf_add(&in, tmp, (size_t)r);
        if (!hdr_end) {
            char *e = strstr((char *)in.p, "\r\n\r\n");
            if (e) {
                hdr_end = (size_t)(e - (char *)in.p) + 4;
                for (char *l = strstr((char *)in.p, "\r\n"); l && l < e; l = strstr(l + 2, "\r\n"))
                    if (strncasecmp(l + 2, "Content-Length:", 15) == 0)
                        clen = strtol(l + 17, NULL, 10);
            }
        }
        if (hdr_end && in.n >= hdr_end + (size_t)clen)
            break;
        if (in.n > (8u << 20))
            break;
    }
    if (!hdr_end) {
        free(in.p);
        return;
    }
    char method[16] = "", target[65536] = "";
    sscanf((char *)in.p, "%15s %65535s", method, target);
    char *q = strchr(target, '?');
    if (q)
        *q++ = 0;
    if (strcmp(target, "/certsrv/mscep/mscep.dll") != 0 &&
        strcmp(target, "/certsrv/mscep/mscep.dll/pkiclient.exe") != 0) {
        printf("%s %s -> HTTP 404\n", method, target);
        static const char nf[] = "<html><head><title>404 - File or directory not found.</title>"
                                 "</head><body>Not Found</body></html>\n";
        respond(fd, 404, "Not Found", "text/html", nf, sizeof nf - 1);
        free(in.p);
        return;
    }
    size_t oplen = 0, mlen = 0;
    const char *op = query_param(q, "operation", &oplen);
    const char *m = query_param(q, "message", &mlen);
    char opname[64] = "";
    if (op && oplen < sizeof opname)
        memcpy(opname, op, oplen);
    char mshow[40] = "";
    if (m)
        snprintf(mshow, sizeof mshow, " message=%.*s", (int)(mlen > 24 ? 24 : mlen), m);

    if (strcasecmp(opname, "GetCACaps") == 0) {
        printf("%s GetCACaps%s -> 200 text/plain\n", method, mshow);
        respond(fd, 200, "OK", "text/plain", NDES_CAPS, sizeof NDES_CAPS - 1);
    } else if (strcasecmp(opname, "GetCACert") == 0) {
        STACK_OF(X509) *c = sk_X509_new_null();
        sk_X509_push(c, s->pki.ca);
        sk_X509_push(c, s->pki.ra_sign);
        sk_X509_push(c, s->renewed ? s->pki.ra_enc_new : s->pki.ra_enc);
        unsigned char *der = NULL;
        int n = degenerate_p7(c, &der);
        sk_X509_free(c);
        printf("%s GetCACert%s -> 200 application/x-x509-ca-ra-cert (CA, RA-Sign, %s)\n",
               method, mshow, s->renewed ? "RA-Enc NEW" : "RA-Enc");
        respond(fd, 200, "OK", "application/x-x509-ca-ra-cert", der, (size_t)n);
        OPENSSL_free(der);
    } else if (strcasecmp(opname, "PKIOperation") == 0) {
        unsigned char *msg = NULL;
        int ml = 0;
        if (strcmp(method, "POST") == 0) {
            const unsigned char *body = in.p + hdr_end;
            size_t bl = in.n - hdr_end;
            if (bl && body[0] == 0x30) {
                msg = malloc(bl);
                memcpy(msg, body, bl);
                ml = (int)bl;
            } else {
                msg = b64_decode((const char *)body, bl, &ml);
            }
        } else if (m) {
            char *dec = malloc(mlen + 1);
            size_t dn = pct_decode(m, mlen, dec);
            msg = b64_decode(dec, dn, &ml);
            free(dec);
        }
        if (!msg) {
            printf("%s PKIOperation: no message -> HTTP 500\n", method);
            respond(fd, 500, "Internal Server Error", "text/plain", "no message\n", 11);
        } else {
            pki_operation(s, fd, method, msg, ml);
        }
        free(msg);
    } else {
        printf("%s operation=%s -> HTTP 400\n", method, opname);
        respond(fd, 400, "Bad Request", "text/plain", "unknown operation\n", 18);
    }
    free(in.p);
}

int main(int argc, char **argv)
{
    struct server s = { 0 };
    const char *dir = NULL, *mode = "issue";
    int port = 0, opt;
    while ((opt = getopt(argc, argv, "p:d:m:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'd': dir = optarg; break;
        case 'm': mode = optarg; break;
        default: goto usage;
        }
    }
    if (!dir || port <= 0)
        goto usage;
    if (strcmp(mode, "issue") == 0) {
        s.mode = MODE_ISSUE;
    } else if (strncmp(mode, "pending:", 8) == 0) {
        s.mode = MODE_PENDING;
        s.pending_n = atoi(mode + 8);
    } else if (strncmp(mode, "pending-failure:", 16) == 0) {
        s.mode = MODE_PENDING_FAILURE;
        s.pending_n = atoi(mode + 16);
    } else if (strcmp(mode, "pending-forever") == 0) {
        s.mode = MODE_PENDING_FOREVER;
    } else if (strcmp(mode, "ra-renewed") == 0) {
        s.mode = MODE_RA_RENEWED;
    } else {
        goto usage;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    /* requests may come DES-encrypted (micromdm scepclient): legacy provider */
    if (!OSSL_PROVIDER_load(NULL, "default") || !OSSL_PROVIDER_load(NULL, "legacy"))
        die("cannot load the default and legacy providers");

    s.pki.ca = load_cert(dir, "ca.pem");
    s.pki.ca_key = load_key(dir, "ca.key");
    s.pki.ra_sign = load_cert(dir, "ra-sign.pem");
    s.pki.ra_sign_key = load_key(dir, "ra-sign.key");
    s.pki.ra_enc = load_cert(dir, "ra-enc.pem");
    s.pki.ra_enc_key = load_key(dir, "ra-enc.key");
    if (!s.pki.ca || !s.pki.ca_key || !s.pki.ra_sign || !s.pki.ra_sign_key ||
        !s.pki.ra_enc || !s.pki.ra_enc_key)
        die("cannot load the CA/RA certificates and keys");
    if (s.mode == MODE_RA_RENEWED) {
        s.pki.ra_enc_new = load_cert(dir, "ra-enc-new.pem");
        s.pki.ra_enc_new_key = load_key(dir, "ra-enc-new.key");
        if (!s.pki.ra_enc_new || !s.pki.ra_enc_new_key)
            die("ra-renewed needs ra-enc-new.pem and ra-enc-new.key");
    }
    /* issued serials start well above those of the CA and RA certificates */
    s.next_serial = 0x1000;

    s.nid_msgtype = OBJ_create("2.16.840.1.113733.1.9.2", "messageType", "messageType");
    s.nid_status = OBJ_create("2.16.840.1.113733.1.9.3", "pkiStatus", "pkiStatus");
    s.nid_failinfo = OBJ_create("2.16.840.1.113733.1.9.4", "failInfo", "failInfo");
    s.nid_snonce = OBJ_create("2.16.840.1.113733.1.9.5", "senderNonce", "senderNonce");
    s.nid_rnonce = OBJ_create("2.16.840.1.113733.1.9.6", "recipientNonce", "recipientNonce");
    s.nid_txid = OBJ_create("2.16.840.1.113733.1.9.7", "transactionID", "transactionID");
    s.nid_ms_hresult = OBJ_create("1.3.6.1.4.1.311.21.33", "msRequestHresult", "msRequestHresult");
    s.nid_ms_status = OBJ_create("1.3.6.1.4.1.311.21.38", "msStatusText", "msStatusText");

    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 64) != 0)
        die("cannot listen");
    printf("ndes-responder: listening on 127.0.0.1:%d, mode %s\n", port, mode);
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            die("accept");
        }
        handle(&s, fd);
        close(fd);
    }
usage:
    fprintf(stderr, "usage: ndes-responder -p PORT -d PKIDIR "
            "[-m issue|pending:N|pending-failure:N|pending-forever|ra-renewed]\n");
    return 2;
}
