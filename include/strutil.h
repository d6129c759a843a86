/* strutil.h - the one copy of the string helpers every layer needs:
 * formatted allocation and making wire bytes safe to print. */
#ifndef SCEPDUMP_STRUTIL_H
#define SCEPDUMP_STRUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <stdarg.h>

/* Returns a new string, or NULL when memory runs out. */
char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *str_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* The value of one hex digit, or -1. */
int str_hex_digit(uint8_t c);
/* c with A-Z made a-z and every other value as it is: wire text is
 * compared in ASCII whatever the locale (tolower() follows LC_CTYPE).
 * Inline: scans call it for every byte of a request line. */
static inline int str_ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}
/* Copies at most max bytes of untrusted text; bytes outside printable
 * ASCII (and backslash) become \xHH so wire data cannot forge output
 * lines or terminal escapes. */
char *str_printable(const uint8_t *p, size_t n, size_t max);
/* strdup that passes NULL through (NULL also when memory runs out). */
char *str_dup_or_null(const char *s);
/* Appends s (taken over) to the list *list of *n strings; s NULL, or no
 * memory to grow the list, adds nothing (s is freed). */
void str_list_add(char ***list, size_t *n, char *s);
/* Frees the n strings of list and list itself. */
void str_list_free(char **list, size_t n);

#endif
