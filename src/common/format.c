/* format.c - shared formatting of hex, times, durations and sizes. Times
 * are UTC, except fmt_time_zone_ns: the text output's times follow TZ, as
 * tcpdump's do, and name their zone. Nothing depends on the local clock. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "packet.h"

char *fmt_hex(const uint8_t *p, size_t len, char *out, size_t outlen)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	if (!outlen)
		return out;
	for (i = 0; i < len && 2 * i + 2 < outlen; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * i] = '\0';
	return out;
}

char *fmt_time_ns(uint64_t ts_ns, int iso, char *out, size_t outlen)
{
	time_t secs = (time_t)(ts_ns / 1000000000ull);
	unsigned long frac = (unsigned long)(ts_ns % 1000000000ull);
	struct tm tm;
	char base[32];

	gmtime_r(&secs, &tm);
	strftime(base, sizeof(base), iso ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
	if (iso)
		snprintf(out, outlen, "%s.%06luZ", base, frac / 1000ul);
	else
		snprintf(out, outlen, "%s.%03lu", base, frac / 1000000ul);
	return out;
}

char *fmt_time_zone_ns(uint64_t ts_ns, char *out, size_t outlen)
{
	time_t secs = (time_t)(ts_ns / 1000000000ull);
	unsigned long frac = (unsigned long)(ts_ns % 1000000000ull);
	struct tm tm;
	char base[32], zone[16];

	/* localtime_r need not read TZ itself (POSIX) */
	tzset();
	if (!localtime_r(&secs, &tm))
		gmtime_r(&secs, &tm);
	strftime(base, sizeof(base), "%Y-%m-%d %H:%M:%S", &tm);
	if (!strftime(zone, sizeof(zone), "%Z", &tm))
		snprintf(zone, sizeof(zone), "UTC");
	snprintf(out, outlen, "%s.%03lu %s", base, frac / 1000000ul, zone);
	return out;
}

char *fmt_time_of_day_ns(uint64_t ts_ns, int iso, char *out, size_t outlen)
{
	uint64_t s = ts_ns / 1000000000ull % 86400;
	unsigned long frac = (unsigned long)(ts_ns % 1000000000ull);

	if (iso)
		snprintf(out, outlen, "%02u:%02u:%02u.%06luZ", (unsigned)(s / 3600), (unsigned)(s / 60 % 60),
			 (unsigned)(s % 60), frac / 1000ul);
	else
		snprintf(out, outlen, "%02u:%02u:%02u.%03lu", (unsigned)(s / 3600), (unsigned)(s / 60 % 60),
			 (unsigned)(s % 60), frac / 1000000ul);
	return out;
}

char *fmt_date(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%d", &tm);
	return out;
}

char *fmt_duration_ns(uint64_t d_ns, char *out, size_t outlen)
{
	if (d_ns < 1000000ull)
		snprintf(out, outlen, "%llu us", (unsigned long long)(d_ns / 1000ull));
	else if (d_ns < 10000000000ull)
		snprintf(out, outlen, "%llu ms", (unsigned long long)(d_ns / 1000000ull));
	else if (d_ns < 600000000000ull)
		snprintf(out, outlen, "%.1f s", (double)d_ns / 1e9);
	else
		snprintf(out, outlen, "%llu min", (unsigned long long)(d_ns / 60000000000ull));
	return out;
}

char *fmt_size(uint64_t n, char *out, size_t outlen)
{
	if (n < 1000)
		snprintf(out, outlen, "%llu B", (unsigned long long)n);
	else if (n < 1000000)
		snprintf(out, outlen, "%.1f kB", (double)n / 1e3);
	else
		snprintf(out, outlen, "%.1f MB", (double)n / 1e6);
	return out;
}

char *fmt_snap_cut(uint64_t snap_length, uint64_t truncated, char *out, size_t outlen)
{
	snprintf(out, outlen, "capture cut at %llu bytes per packet (%llu packet%s truncated): re-capture with -s 0",
		 (unsigned long long)snap_length, (unsigned long long)truncated, truncated == 1 ? "" : "s");
	return out;
}

const char *fmt_signal_name(int sig)
{
	switch (sig) {
	case SIGINT:
		return "SIGINT";
	case SIGTERM:
		return "SIGTERM";
	default:
		return "a signal";
	}
}

const char *fmt_write_error(int e)
{
	return e > 0 ? strerror(e) : "write error";
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!strcmp(path, "-"))
		return "(stdin)";
	return slash && slash[1] ? slash + 1 : path;
}

char *fmt_frame_file(const char *const *files, size_t n_files, uint32_t file,
		     char *out, size_t outlen)
{
	const char *name;
	size_t i;

	if (!file || file > n_files) {
		snprintf(out, outlen, "%u", file);
		return out;
	}
	name = base_name(files[file - 1]);
	for (i = 0; i < n_files; i++)
		if (i != file - 1 && !strcmp(base_name(files[i]), name)) {
			snprintf(out, outlen, "%u", file);
			return out;
		}
	snprintf(out, outlen, "%s", name);
	return out;
}

char *fmt_frames(const char *const *files, size_t n_files, uint64_t first,
		 const struct frame_origin *first_at, uint64_t last,
		 const struct frame_origin *last_at, char *out, size_t outlen)
{
	unsigned long long a = first, b = last;
	char f1[256], f2[256];
	int one = first == last || !last;

	if (!first) {
		snprintf(out, outlen, "#-");
		return out;
	}
	if (n_files < 2 || !first_at || !first_at->file) {
		if (one)
			snprintf(out, outlen, "#%llu", a);
		else
			snprintf(out, outlen, "#%llu-%llu", a, b);
		return out;
	}
	fmt_frame_file(files, n_files, first_at->file, f1, sizeof(f1));
	a = first_at->frame;
	if (one)
		snprintf(out, outlen, "%s:%llu", f1, a);
	else if (last_at && last_at->file == first_at->file)
		snprintf(out, outlen, "%s:%llu-%llu", f1, a, (unsigned long long)last_at->frame);
	else if (last_at && last_at->file)
		snprintf(out, outlen, "%s:%llu-%s:%llu", f1, a,
			 fmt_frame_file(files, n_files, last_at->file, f2, sizeof(f2)),
			 (unsigned long long)last_at->frame);
	else
		snprintf(out, outlen, "%s:%llu-#%llu", f1, a, b);
	return out;
}
