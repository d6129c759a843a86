/* strutil.c - formatted allocation and printable copies of wire text. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"
#include "strutil.h"

char *str_vprintf(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	return s;
}

char *str_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = str_vprintf(fmt, ap);
	va_end(ap);
	return s;
}

int str_hex_digit(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *str_printable(const uint8_t *p, size_t n, size_t max)
{
	struct rd r;
	char *out, *o;
	uint8_t c;

	if (n > max)
		n = max;
	out = malloc(n * 4 + 1);
	if (!out)
		return NULL;
	o = out;
	rd_init(&r, p, n);
	while (rd_u8(&r, &c)) {
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			*o++ = (char)c;
		} else {
			snprintf(o, 5, "\\x%02x", c);
			o += 4;
		}
	}
	*o = '\0';
	return out;
}

void str_list_add(char ***list, size_t *n, char *s)
{
	char **grown;

	if (!s)
		return;
	grown = realloc(*list, (*n + 1) * sizeof(*grown));
	if (!grown) {
		free(s);
		return;
	}
	*list = grown;
	grown[(*n)++] = s;
}

void str_list_free(char **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

char *str_dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}
