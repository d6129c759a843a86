/* format.h - the one place for hex, time and size formatting shared by the
 * sinks, so text and JSON say the same thing the same way. */
#ifndef SCEPDUMP_FORMAT_H
#define SCEPDUMP_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct frame_origin;

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
/* The frames that carried one side of an exchange, as listings name them:
 * "#10", "#10-11", "#-" (none: first is 0). With several -r files
 * (n_files > 1, files as given) each frame is named by its file and its
 * number there, as Wireshark opens that file: "wrong-challenge.pcap:13-14",
 * "a.pcap:99-b.pcap:2" for a message across a file rotation. A file is
 * its base name ("(stdin)" for -), or its place on the command line
 * ("2:13") when another input has the same base name; a frame whose origin
 * is not known (file 0) keeps its merged number ("#182"). */
char *fmt_frames(const char *const *files, size_t n_files, uint64_t first,
		 const struct frame_origin *first_at, uint64_t last,
		 const struct frame_origin *last_at, char *out, size_t outlen);
/* The name fmt_frames gives input file (1-based) of files: its base name
 * or its place. */
char *fmt_frame_file(const char *const *files, size_t n_files, uint32_t file,
		     char *out, size_t outlen);
/* "SIGINT", "SIGTERM" (the signals that stop a run), else "a signal". */
const char *fmt_signal_name(int sig);
/* strerror(e) for an errno, "write error" when it is not known (e <= 0):
 * stdio keeps only a flag once a buffered write failed. */
const char *fmt_write_error(int e);

#endif
