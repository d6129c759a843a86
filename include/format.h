/* format.h - the one place for hex, time and size formatting shared by the
 * sinks, so text and JSON say the same thing the same way. */
#ifndef SCEPDUMP_FORMAT_H
#define SCEPDUMP_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Upper-case hex of len bytes into out (2*len+1). */
char *fmt_hex(const uint8_t *p, size_t len, char *out, size_t outlen);
/* "2026-03-02 09:14:07.120" (UTC, ms) or, with iso=1, RFC 3339 UTC with
 * microseconds, "2026-03-02T09:14:07.120456Z". */
char *fmt_time_ns(uint64_t ts_ns, int iso, char *out, size_t outlen);
/* The time of day alone, for times whose date is unknown (a device log
 * line without one): "23:30:53.691" (UTC, ms) or, with iso=1, an RFC 3339
 * full-time, "23:30:53.691033Z". */
/* "2026-11-25 17:30:21.655 CET": local time as TZ says, with its zone */
char *fmt_time_zone_ns(uint64_t ts_ns, char *out, size_t outlen);
char *fmt_time_of_day_ns(uint64_t ts_ns, int iso, char *out, size_t outlen);
/* "2027-03-02" */
char *fmt_date(time_t t, char *out, size_t outlen);
/* "412 ms", "1.2 s", "3 min" */
char *fmt_duration_ns(uint64_t d_ns, char *out, size_t outlen);
/* "512 B", "3.1 kB", "1.4 MB" */
char *fmt_size(uint64_t n, char *out, size_t outlen);
/* Why bytes are missing when records were captured short of their wire
 * length: "capture cut at 200 bytes per packet (6 packets truncated):
 * re-capture with -s 0". */
char *fmt_snap_cut(uint64_t snap_length, uint64_t truncated, char *out, size_t outlen);
/* "SIGINT", "SIGTERM" (the signals that stop a run), else "a signal". */
const char *fmt_signal_name(int sig);
/* strerror(e) for an errno, "write error" when it is not known (e <= 0):
 * stdio keeps only a flag once a buffered write failed. */
const char *fmt_write_error(int e);

#endif
