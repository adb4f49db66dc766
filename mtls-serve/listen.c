#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"

static int
bind_one(const struct sockaddr *sa, socklen_t salen, int v6only,
    char *err, size_t errlen)
{
	char	 name[ADDR_STRMAX];
	int	 fd, one = 1, fl;

	addr_format(sa, name, sizeof(name));
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", name,
		    strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		    sizeof(v6only));
	/* Non-blocking: a client that leaves before accept() can't block us. */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    bind(fd, sa, salen) < 0 || listen(fd, 128) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", name,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void
record(struct listeners *l, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	getsockname(fd, (struct sockaddr *)&ss, &len);
	l->fd[l->n] = fd;
	addr_format((struct sockaddr *)&ss, l->name[l->n], ADDR_STRMAX);
	l->n++;
}

static int
bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int
listen_open(const struct addr *a, struct listeners *l, char *err,
    size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	char	 port[ADDR_PORTMAX];
	int	 fd, ret, v6only, first;

	first = l->n;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%s", a->port);

	if (a->host[0] == '\0') {
		/* All addresses: one dual-stack socket, or IPv4 alone. */
		struct sockaddr_in6 s6;
		struct sockaddr_in s4;

		memset(&s6, 0, sizeof(s6));
		s6.sin6_family = AF_INET6;
		s6.sin6_addr = in6addr_any;
		s6.sin6_port = htons((unsigned short)atoi(port));
		fd = bind_one((struct sockaddr *)&s6, sizeof(s6), 0, err,
		    errlen);
		if (fd < 0 && (errno == EAFNOSUPPORT ||
		    errno == EADDRNOTAVAIL)) {
			memset(&s4, 0, sizeof(s4));
			s4.sin_family = AF_INET;
			s4.sin_addr.s_addr = htonl(INADDR_ANY);
			s4.sin_port = s6.sin6_port;
			fd = bind_one((struct sockaddr *)&s4, sizeof(s4), 0,
			    err, errlen);
		}
		if (fd < 0 || l->n == LISTEN_MAX) {
			if (fd >= 0) {
				snprintf(err, errlen, "more than %d listening "
				    "sockets", LISTEN_MAX);
				close(fd);
			}
			return -1;
		}
		record(l, fd);
		return 0;
	}

	if ((ret = getaddrinfo(a->host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", a->host,
		    gai_strerror(ret));
		return -1;
	}
	for (ai = res; ai != NULL && l->n < LISTEN_MAX; ai = ai->ai_next) {
		/* Port 0: the first socket picks it, the others share it. */
		if (l->n > first && strcmp(a->port, "0") == 0) {
			int	 p = bound_port(l->fd[first]);

			if (ai->ai_family == AF_INET6)
				((struct sockaddr_in6 *)ai->ai_addr)->sin6_port
				    = htons((unsigned short)p);
			else
				((struct sockaddr_in *)ai->ai_addr)->sin_port =
				    htons((unsigned short)p);
		}
		v6only = 1;	/* each family gets its own socket here */
		fd = bind_one(ai->ai_addr, ai->ai_addrlen, v6only, err, errlen);
		if (fd < 0) {
			listen_close(l);
			freeaddrinfo(res);
			return -1;
		}
		record(l, fd);
	}
	freeaddrinfo(res);
	if (l->n == first) {
		snprintf(err, errlen, "cannot listen on %s: more than %d "
		    "listening sockets", a->host, LISTEN_MAX);
		return -1;
	}
	return 0;
}

int
listen_inherited(struct listeners *l, char *err, size_t errlen)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int	 n, i, fd, fl, type;
	socklen_t len = sizeof(type);

	memset(l, 0, sizeof(*l));
	if (pid == NULL || fds == NULL || atol(pid) != (long)getpid())
		return 0;
	n = atoi(fds);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (n < 1 || n > LISTEN_MAX) {
		snprintf(err, errlen, "LISTEN_FDS=%s: expected 1 to %d sockets",
		    fds, LISTEN_MAX);
		return -1;
	}
	for (i = 0; i < n; i++) {
		fd = 3 + i;
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
		    type != SOCK_STREAM) {
			snprintf(err, errlen, "LISTEN_FDS: fd %d is not a "
			    "stream socket", fd);
			return -1;
		}
		/* A socket that does not listen makes accept() fail for ever. */
		len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &type,
		    &len) < 0 || !type) {
			snprintf(err, errlen, "LISTEN_FDS: fd %d is not a "
			    "listening socket", fd);
			return -1;
		}
		len = sizeof(type);
		fl = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		record(l, fd);
	}
	return n;
}

void
listen_close(struct listeners *l)
{
	int	 i;

	for (i = 0; i < l->n; i++)
		if (l->fd[i] >= 0) {
			close(l->fd[i]);
			l->fd[i] = -1;
		}
}
