/*
 * proxyhdr: the PROXY protocol header (versions 1 and 2) a TCP load
 * balancer puts before the client's bytes, as haproxy's
 * proxy-protocol.txt specifies it.
 */
#ifndef MTLS_PROXYHDR_H
#define MTLS_PROXYHDR_H

#include <stddef.h>
#include <sys/socket.h>

/* The longest header: version 2's 16 bytes and a 16-bit length. */
#define PROXYHDR_MAX	(16 + 65535)
/* Version 1's longest line, CRLF included. */
#define PROXYHDR_V1_MAX	107

struct proxyhdr {
	int	 version;		/* 1 or 2 */
	/*
	 * Non-zero when the header carries no addresses to use: version 2's
	 * LOCAL command (the balancer's own health check), version 2's
	 * UNSPEC family, version 1's UNKNOWN.  The spec says the receiver
	 * then uses the connection's real endpoints.
	 */
	int	 local;
	struct sockaddr_storage src;	/* the client */
	struct sockaddr_storage dst;	/* the address it connected to */
};

/*
 * Parse the n bytes at b, which begin the connection.  Returns the
 * header's length L (1 <= L <= n) with h filled in when a whole header is
 * there; 0 when b is the start of a header but not all of it (read more:
 * every one of the n bytes belongs to the header); or -1 with a reason in
 * err when b cannot begin a valid header.
 */
int	 proxyhdr_parse(const unsigned char *b, size_t n, struct proxyhdr *h,
	    char *err, size_t errlen);

#endif
