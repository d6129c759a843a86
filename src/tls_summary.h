/* tls_summary.h - what a TLS connection said, in the SCEP layer's terms. */
#ifndef SCEPDUMP_TLS_SUMMARY_H
#define SCEPDUMP_TLS_SUMMARY_H

struct scep_tls;
struct tls_conn;

/* A copy (the TLS state goes when its connection closes); NULL when out of
 * memory. Freed with the event that carries it. */
struct scep_tls *tls_summary(const struct tls_conn *tls);

#endif
