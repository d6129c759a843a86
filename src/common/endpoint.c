/* endpoint.c - printing and comparing the addresses the IP/TCP dissectors
 * extracted; trusts only that family says how many addr bytes count. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "packet.h"

const char *endpoint_addr_str(const struct endpoint *ep, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int af = ep->family == 6 ? AF_INET6 : AF_INET;

	if (!len)
		return buf;
	if ((ep->family != 4 && ep->family != 6) ||
	    !inet_ntop(af, ep->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s", a);
	return buf;
}

const char *endpoint_str(const struct endpoint *ep, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!len)
		return buf;
	endpoint_addr_str(ep, a, sizeof(a));
	/* Brackets keep the port apart from an IPv6 address (RFC 3986). */
	if (ep->family == 6)
		snprintf(buf, len, "[%s]:%u", a, (unsigned)ep->port);
	else
		snprintf(buf, len, "%s:%u", a, (unsigned)ep->port);
	return buf;
}

void endpoint_tally_add(struct endpoint_tally *t, const struct endpoint *server, const char *name)
{
	size_t i;

	t->total++;
	for (i = 0; i < t->n_entries; i++)
		if (endpoint_eq(&t->e[i].server, server)) {
			t->e[i].n++;
			return;
		}
	if (t->n_entries == ENDPOINT_TALLY_MAX) {
		t->others++;
		return;
	}
	t->e[i].server = *server;
	snprintf(t->e[i].name, sizeof(t->e[i].name), "%s", name ? name : "");
	t->e[i].n = 1;
	t->n_entries++;
}

const char *endpoint_tally_str(const struct endpoint_tally *t, char *buf, size_t len)
{
	size_t i, at = 0;
	char ep[ENDPOINT_STRLEN];

	if (!len)
		return buf;
	snprintf(buf, len, "-");
	for (i = 0; i < t->n_entries && at < len; i++) {
		int n = snprintf(buf + at, len - at, "%s%s%s%s%s", i ? ", " : "",
				 endpoint_str(&t->e[i].server, ep, sizeof(ep)), *t->e[i].name ? " (" : "",
				 t->e[i].name, *t->e[i].name ? ")" : "");

		if (n < 0)
			break;
		at += (size_t)n;
		if (t->e[i].n > 1 && at < len) {
			n = snprintf(buf + at, len - at, " x%llu", (unsigned long long)t->e[i].n);
			at += n > 0 ? (size_t)n : 0;
		}
	}
	if (t->others && at < len)
		snprintf(buf + at, len - at, ", %llu more", (unsigned long long)t->others);
	return buf;
}
