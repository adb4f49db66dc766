#include <sys/socket.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

static int
port_valid(const char *p)
{
	char	*end;
	long	 v;

	if (*p == '\0' || strlen(p) >= ADDR_PORTMAX ||
	    strspn(p, "0123456789") != strlen(p))
		return 0;
	v = strtol(p, &end, 10);
	return v >= 0 && v <= 65535;
}

int
addr_is_ip(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1;
}

int
addr_parse(const char *spec, const char *defport, int port_alone,
    struct addr *a, char *err, size_t errlen)
{
	const char *host = spec, *port = NULL, *colon;
	size_t	 hostlen;

	memset(a, 0, sizeof(*a));
	if (*spec == '\0') {
		snprintf(err, errlen, "empty address");
		return -1;
	}
	if ((colon = strstr(spec, "://")) != NULL) {
		/* https://db1:443 would otherwise read as host "https". */
		host = colon + 3;
		snprintf(err, errlen, "%s: URLs are not addresses (give "
		    "HOST:PORT%s%.*s)", spec, *host ? ", such as " : "",
		    (int)strcspn(host, "/?#"), host);
		return -1;
	}
	if (*spec == '[') {
		const char *close = strchr(spec, ']');

		if (close == NULL) {
			snprintf(err, errlen, "%s: missing ']'", spec);
			return -1;
		}
		host = spec + 1;
		hostlen = (size_t)(close - host);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0') {
			snprintf(err, errlen, "%s: expected ':' after ']'",
			    spec);
			return -1;
		}
		if (hostlen >= sizeof(a->host)) {
			snprintf(err, errlen, "%s: address too long", spec);
			return -1;
		}
		memcpy(a->host, host, hostlen);
		if (!addr_is_ip(a->host) ||
		    strchr(a->host, ':') == NULL) {
			snprintf(err, errlen, "%s: \"%s\" is not an IPv6 "
			    "address", spec, a->host);
			return -1;
		}
	} else if (port_alone && strspn(spec, "0123456789") == strlen(spec)) {
		port = spec;
	} else if ((colon = strchr(spec, ':')) != NULL &&
	    strchr(colon + 1, ':') != NULL) {
		/* Two colons or more: a bare IPv6 literal, no port. */
		if (!addr_is_ip(spec)) {
			snprintf(err, errlen, "%s: not an IPv6 address "
			    "(write [ADDR]:PORT)", spec);
			return -1;
		}
		if (strlen(spec) >= sizeof(a->host)) {
			snprintf(err, errlen, "%s: address too long", spec);
			return -1;
		}
		strcpy(a->host, spec);
	} else {
		hostlen = colon ? (size_t)(colon - spec) : strlen(spec);
		if (hostlen >= sizeof(a->host)) {
			snprintf(err, errlen, "%s: host name too long", spec);
			return -1;
		}
		memcpy(a->host, spec, hostlen);
		if (colon)
			port = colon + 1;
	}
	if (port == NULL)
		port = defport;
	if (!port_valid(port)) {
		snprintf(err, errlen, "%s: bad port \"%s\" (0 to 65535)", spec,
		    port);
		return -1;
	}
	strcpy(a->port, port);
	return 0;
}

char *
addr_format_host(const struct sockaddr *sa, char *buf, size_t n)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	/* A dual-stack socket sees IPv4 peers as ::ffff:a.b.c.d; show a.b.c.d. */
	if (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		if (inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf,
		    (socklen_t)n) == NULL)
			snprintf(buf, n, "?");
		return buf;
	}
	if (getnameinfo(sa, sa->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
	    buf, n, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(buf, n, "?");
	return buf;
}

char *
addr_format(const struct sockaddr *sa, char *buf, size_t n)
{
	char	 host[INET6_ADDRSTRLEN + 8];
	unsigned port;

	addr_format_host(sa, host, sizeof(host));
	if (sa->sa_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	else
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	/* Brackets only around a real IPv6 text (not a v4-mapped one). */
	if (strchr(host, ':') != NULL)
		snprintf(buf, n, "[%s]:%u", host, port);
	else
		snprintf(buf, n, "%s:%u", host, port);
	return buf;
}

int
addr_connectable(const struct addr *a, const char *spec, char *err,
    size_t errlen)
{
	if (strcmp(a->port, "0") == 0) {
		snprintf(err, errlen, "%s: port 0 is not a port to connect to",
		    spec);
		return -1;
	}
	return 0;
}

int
addr_cidr_parse(const char *spec, struct addr_cidr *c, char *err,
    size_t errlen)
{
	char	 host[INET6_ADDRSTRLEN], *end;
	const char *slash = strchr(spec, '/');
	size_t	 hl = slash ? (size_t)(slash - spec) : strlen(spec);
	long	 bits;
	int	 max, i;

	memset(c, 0, sizeof(*c));
	if (hl == 0 || hl >= sizeof(host))
		goto bad;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, c->net) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, c->net) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else
		goto bad;
	bits = max;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9')
			goto bad;
		bits = strtol(slash + 1, &end, 10);
		if (*end != '\0' || bits > max)
			goto bad;
	}
	c->bits = (int)bits;
	/* Host bits off, so that a match is one comparison. */
	for (i = 0; i < max / 8; i++)
		if (i * 8 >= c->bits)
			c->net[i] = 0;
		else if (i * 8 + 8 > c->bits)
			c->net[i] &= (unsigned char)(0xff << (8 - (c->bits -
			    i * 8)));
	return 0;
bad:
	snprintf(err, errlen, "\"%s\": not an address or address/prefix",
	    spec);
	return -1;
}

int
addr_cidr_match(const struct addr_cidr *c, const struct sockaddr *sa)
{
	const unsigned char *a;
	int	 family = sa->sa_family, i, rest;

	if (family == AF_INET)
		a = (const unsigned char *)
		    &((const struct sockaddr_in *)sa)->sin_addr;
	else if (family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(
		    &((const struct sockaddr_in6 *)sa)->sin6_addr)) {
			family = AF_INET;
			a += 12;
		}
	} else
		return 0;
	if (family != c->family)
		return 0;
	for (i = 0; i < c->bits / 8; i++)
		if (a[i] != c->net[i])
			return 0;
	rest = c->bits % 8;
	return rest == 0 ||
	    (a[i] & (unsigned char)(0xff << (8 - rest))) == c->net[i];
}
