#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "proxyhdr.h"

static const unsigned char v2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};
static const char v1sig[] = "PROXY ";

/* A decimal port, 0..65535, without leading zeros; -1 if not one. */
static long
v1_port(const char *s)
{
	long	 v = 0;
	size_t	 i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0') || strlen(s) > 5)
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v > 65535 ? -1 : v;
}

/* One address and port into ss; 0, or -1. */
static int
v1_endpoint(int family, const char *ip, const char *port,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	long	 p;

	memset(ss, 0, sizeof(*ss));
	if ((p = v1_port(port)) < 0)
		return -1;
	if (family == AF_INET) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)p);
		return inet_pton(AF_INET, ip, &s4->sin_addr) == 1 ? 0 : -1;
	}
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons((unsigned short)p);
	return inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1 ? 0 : -1;
}

/*
 * "PROXY TCP4 SRC DST SPORT DPORT\r\n", "PROXY TCP6 ...", or
 * "PROXY UNKNOWN[ anything]\r\n"; single spaces, 107 bytes at most.
 */
static int
parse_v1(const unsigned char *b, size_t n, struct proxyhdr *h, char *err,
    size_t errlen)
{
	char	 line[PROXYHDR_V1_MAX + 1], *f[6], *p;
	size_t	 i, len;
	int	 nf, family;

	for (i = 0; i < n && i < PROXYHDR_V1_MAX; i++) {
		if (b[i] == '\n') {
			snprintf(err, errlen, "PROXY v1 header: line feed "
			    "without carriage return");
			return -1;
		}
		if (b[i] == '\r')
			break;
		if (b[i] < 0x20 || b[i] > 0x7e) {
			snprintf(err, errlen, "PROXY v1 header: byte 0x%02x "
			    "at offset %zu", b[i], i);
			return -1;
		}
	}
	if (i == PROXYHDR_V1_MAX || (i + 1 == PROXYHDR_V1_MAX && i < n)) {
		/* No room left for the CRLF. */
		snprintf(err, errlen, "PROXY v1 header longer than %d bytes",
		    PROXYHDR_V1_MAX);
		return -1;
	}
	if (i + 1 >= n)
		return 0;	/* no CR yet, or no byte after it yet */
	if (b[i + 1] != '\n') {
		snprintf(err, errlen, "PROXY v1 header: carriage return "
		    "without line feed");
		return -1;
	}
	len = i + 2;
	memcpy(line, b, i);
	line[i] = '\0';
	h->version = 1;
	if (strncmp(line, "PROXY UNKNOWN", 13) == 0 &&
	    (line[13] == '\0' || line[13] == ' ')) {
		/* The rest of the line is to be ignored. */
		h->local = 1;
		return (int)len;
	}
	/* Split on single spaces: PROXY PROTO SRC DST SPORT DPORT. */
	nf = 0;
	for (p = line; nf < 6; nf++) {
		f[nf] = p;
		if ((p = strchr(p, ' ')) == NULL) {
			nf++;
			break;
		}
		*p++ = '\0';
	}
	if (nf != 6 || p != NULL) {
		snprintf(err, errlen, "PROXY v1 header: %s fields (want 6)",
		    nf != 6 ? "too few" : "too many");
		return -1;
	}
	if (strcmp(f[1], "TCP4") == 0)
		family = AF_INET;
	else if (strcmp(f[1], "TCP6") == 0)
		family = AF_INET6;
	else {
		snprintf(err, errlen, "PROXY v1 header: unknown protocol "
		    "\"%.16s\"", f[1]);
		return -1;
	}
	if (v1_endpoint(family, f[2], f[4], &h->src) < 0 ||
	    v1_endpoint(family, f[3], f[5], &h->dst) < 0) {
		snprintf(err, errlen, "PROXY v1 header: bad %s address or "
		    "port", f[1]);
		return -1;
	}
	return (int)len;
}

/*
 * 12 bytes of signature, version and command, family and protocol, a
 * 16-bit length, then that many bytes: addresses, then TLVs (ignored).
 */
static int
parse_v2(const unsigned char *b, size_t n, struct proxyhdr *h, char *err,
    size_t errlen)
{
	struct sockaddr_in *s4, *d4;
	struct sockaddr_in6 *s6, *d6;
	size_t	 len;

	if (n < 16)
		return 0;
	if ((b[12] >> 4) != 2) {
		snprintf(err, errlen, "PROXY v2 header: version %d",
		    b[12] >> 4);
		return -1;
	}
	if ((b[12] & 0x0f) > 1) {
		snprintf(err, errlen, "PROXY v2 header: unknown command %d",
		    b[12] & 0x0f);
		return -1;
	}
	len = (size_t)b[14] << 8 | b[15];
	if (n < 16 + len)
		return 0;
	h->version = 2;
	if ((b[12] & 0x0f) == 0) {
		/* LOCAL: the balancer speaks for itself; skip the block. */
		h->local = 1;
		return (int)(16 + len);
	}
	switch (b[13]) {
	case 0x00:
		/* UNSPEC: no addresses we can use (spec: real endpoints). */
		h->local = 1;
		return (int)(16 + len);
	case 0x11:	/* TCP over IPv4 */
		if (len < 12)
			break;
		s4 = (struct sockaddr_in *)&h->src;
		d4 = (struct sockaddr_in *)&h->dst;
		s4->sin_family = d4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, b + 16, 4);
		memcpy(&d4->sin_addr, b + 20, 4);
		memcpy(&s4->sin_port, b + 24, 2);
		memcpy(&d4->sin_port, b + 26, 2);
		return (int)(16 + len);
	case 0x21:	/* TCP over IPv6 */
		if (len < 36)
			break;
		s6 = (struct sockaddr_in6 *)&h->src;
		d6 = (struct sockaddr_in6 *)&h->dst;
		s6->sin6_family = d6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, b + 16, 16);
		memcpy(&d6->sin6_addr, b + 32, 16);
		memcpy(&s6->sin6_port, b + 48, 2);
		memcpy(&d6->sin6_port, b + 50, 2);
		return (int)(16 + len);
	default:
		/* UDP or UNIX sockets: nothing a TLS server over TCP serves. */
		snprintf(err, errlen, "PROXY v2 header: unsupported address "
		    "family and protocol 0x%02x", b[13]);
		return -1;
	}
	snprintf(err, errlen, "PROXY v2 header: address block of %zu bytes "
	    "too short for family 0x%02x", len, b[13]);
	return -1;
}

int
proxyhdr_parse(const unsigned char *b, size_t n, struct proxyhdr *h,
    char *err, size_t errlen)
{
	size_t	 m;

	memset(h, 0, sizeof(*h));
	if (n == 0)
		return 0;
	m = n < sizeof(v2sig) ? n : sizeof(v2sig);
	if (memcmp(b, v2sig, m) == 0)
		return m < sizeof(v2sig) ? 0 :
		    parse_v2(b, n, h, err, errlen);
	m = n < sizeof(v1sig) - 1 ? n : sizeof(v1sig) - 1;
	if (memcmp(b, v1sig, m) == 0)
		return m < sizeof(v1sig) - 1 ? 0 :
		    parse_v1(b, n, h, err, errlen);
	snprintf(err, errlen, "no PROXY protocol header (first byte 0x%02x%s)",
	    b[0], b[0] == 0x16 ? ": a TLS handshake" : "");
	return -1;
}
