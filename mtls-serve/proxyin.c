#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxyin.h"
#include "timefmt.h"

/* Wait for input until the deadline: 1 ready, 0 timeout, -1 error. */
static int
wait_in(int fd, long long deadline_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	long long left;
	int	 r;

	for (;;) {
		if ((left = deadline_ms - timefmt_monotonic_ms()) <= 0)
			return 0;
		r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/*
 * Look at what has arrived with MSG_PEEK, parse it after what was already
 * taken, and take from the socket only bytes that are certainly header:
 * all of them while the header is incomplete (so that poll() waits for
 * new ones), and on completion exactly up to its end.  The TLS
 * ClientHello behind it stays in the socket for GnuTLS.
 */
int
proxyin_read(int fd, long long deadline_ms, struct proxyhdr *h, char *err,
    size_t errlen)
{
	unsigned char *buf;
	size_t	 have = 0, room;
	ssize_t	 k, got;
	int	 r, rv = -1;

	if ((buf = malloc(PROXYHDR_MAX)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (;;) {
		if ((r = wait_in(fd, deadline_ms)) <= 0) {
			if (r == 0) {
				snprintf(err, errlen, "no PROXY protocol "
				    "header in time (%zu bytes of it)", have);
				rv = -2;
			} else
				snprintf(err, errlen, "poll: %s",
				    strerror(errno));
			break;
		}
		room = PROXYHDR_MAX - have;
		k = recv(fd, buf + have, room, MSG_PEEK | MSG_DONTWAIT);
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (k <= 0) {
			snprintf(err, errlen, "%s before the PROXY protocol "
			    "header ended (%zu bytes of it)", k == 0 ?
			    "connection closed" : strerror(errno), have);
			break;
		}
		r = proxyhdr_parse(buf, have + (size_t)k, h, err, errlen);
		if (r < 0)
			break;
		/* Take what is header: all of it so far, or up to its end. */
		if (r > 0)
			k = (ssize_t)((size_t)r - have);
		got = recv(fd, buf + have, (size_t)k, MSG_DONTWAIT);
		if (got != k) {
			snprintf(err, errlen, "reading the PROXY protocol "
			    "header: %s", got < 0 ? strerror(errno) :
			    "short read");
			break;
		}
		have += (size_t)k;
		if (r > 0) {
			rv = 0;
			break;
		}
	}
	free(buf);
	return rv;
}

int
proxyin_closed(int fd, long long deadline_ms)
{
	ssize_t	 r;
	char	 c;

	if (wait_in(fd, deadline_ms) <= 0)
		return 0;
	/* A checker may end with a reset rather than a FIN. */
	r = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return r == 0 || (r < 0 && errno == ECONNRESET);
}
