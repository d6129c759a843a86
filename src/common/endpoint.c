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
