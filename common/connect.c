#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "connect.h"
#include "diag.h"

/* One address: non-blocking connect, bounded wait.  -1 and errno set. */
static int
try_one(const struct addrinfo *ai, int timeout_ms)
{
	struct pollfd pfd;
	socklen_t len;
	int	 fd, r, soerr, one = 1;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS)
			goto fail;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		do
			r = poll(&pfd, 1, timeout_ms > 0 ? timeout_ms : -1);
		while (r < 0 && errno == EINTR);
		if (r == 0) {
			errno = ETIMEDOUT;
			goto fail;
		}
		len = sizeof(soerr);
		if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
		    &len) < 0)
			goto fail;
		if (soerr != 0) {
			errno = soerr;
			goto fail;
		}
	}
	/* Lines go out as they are ready: no Nagle delay for a person. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
fail:
	r = errno;
	close(fd);
	errno = r;
	return -1;
}

int
connect_to(const struct addr *a, int timeout_ms, int verbose, char *peer,
    size_t peerlen, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	char	 name[ADDR_STRMAX];
	int	 fd = -1, ret, e = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((ret = getaddrinfo(a->host, a->port, &hints, &res)) != 0) {
		snprintf(err, errlen, "could not resolve %s: %s", a->host,
		    ret == EAI_SYSTEM ? strerror(errno) : gai_strerror(ret));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		addr_format(ai->ai_addr, name, sizeof(name));
		if ((fd = try_one(ai, timeout_ms)) >= 0) {
			snprintf(peer, peerlen, "%s", name);
			if (verbose)
				warn("connected to %s", name);
			break;
		}
		e = errno;
		if (verbose)
			warn("%s: %s", name, strerror(e));
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "could not connect to %s%s%s:%s: %s",
		    strchr(a->host, ':') ? "[" : "", a->host,
		    strchr(a->host, ':') ? "]" : "", a->port, strerror(e));
	return fd;
}
