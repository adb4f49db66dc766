#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "conn.h"
#include "diag.h"
#include "logline.h"
#include "peer.h"
#include "server.h"
#include "timefmt.h"

/*
 * The signals the parent acts on.  They stay blocked and are read from a
 * signalfd in the same poll() as the listening sockets: ppoll() would not
 * deliver them while connections keep the sockets ready (Linux restores
 * the mask without delivering when poll() returns events), so under load
 * children would go unreaped and SIGTERM unheard.
 */
struct sigs {
	int	 fd;
	int	 term;		/* SIGTERM or SIGINT received (its number) */
	int	 hup;
	int	 chld;
};

/* Read what the signalfd holds. */
static void
sigs_read(struct sigs *g)
{
	struct signalfd_siginfo si;

	while (read(g->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			g->term = (int)si.ssi_signo;
			break;
		case SIGHUP:
			g->hup = 1;
			break;
		case SIGCHLD:
			g->chld = 1;
			break;
		}
	}
}

struct children {
	pid_t		*pid;		/* 0: free slot */
	unsigned long	*id;
	char		(*ip)[ADDR_STRMAX];	/* the client's address */
	int		 max, n;
};

/* How many children serve clients from ip. */
static int
count_ip(const struct children *c, const char *ip)
{
	int	 i, n = 0;

	for (i = 0; i < c->max; i++)
		if (c->pid[i] != 0 && strcmp(c->ip[i], ip) == 0)
			n++;
	return n;
}

/*
 * SIGHUP: read every file again.  New connections get the new set; open
 * ones keep theirs (their process has its own copy).  If anything is
 * wrong, the old set stays and the log says why.
 */
static void
reload(struct tlsconf **conf, const struct tlsconf_files *f)
{
	struct tlsconf *fresh;
	struct peer_cert pc;
	struct logline l;
	char	 err[1024];

	if ((fresh = tlsconf_load(f, err, sizeof(err))) == NULL) {
		logline_begin(&l, 0, "reload-failed");
		logline_str(&l, "reason", err);
		logline_str(&l, "keeping", "the previous credentials");
		logline_emit(&l);
		return;
	}
	tlsconf_free(*conf);
	*conf = fresh;
	logline_begin(&l, 0, "reloaded");
	if (fresh->nchain > 0 && peer_describe(fresh->chain[0], &pc) == 0) {
		logline_str(&l, "serial", pc.serial);
		logline_str(&l, "sha256", pc.sha256);
		logline_str(&l, "not_after", pc.not_after_s);
	}
	logline_fmt(&l, "trusted_cas", "%u", fresh->nca);
	logline_fmt(&l, "crls", "%u", fresh->ncrl);
	logline_emit(&l);
}

static const char *
conn_status_name(int status)
{
	switch (status) {
	case CONN_OK:
		return "ok";
	case CONN_BROKEN:
		return "broken";
	case CONN_REFUSED:
		return "refused";
	case CONN_TIMEOUT:
		return "timeout";
	}
	return "?";
}

/* Reap every child that has ended; log the ones that did not end well. */
static void
reap(struct children *c, enum verbosity v)
{
	struct logline l;
	pid_t	 pid;
	int	 st, i;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (i = 0; i < c->max; i++)
			if (c->pid[i] == pid)
				break;
		if (i == c->max)
			continue;
		c->pid[i] = 0;
		c->n--;
		if (WIFSIGNALED(st)) {
			/* A crash is always worth a line. */
			logline_begin(&l, c->id[i], "child-died");
			logline_fmt(&l, "pid", "%ld", (long)pid);
			logline_fmt(&l, "signal", "%d", WTERMSIG(st));
			logline_emit(&l);
		} else if (WEXITSTATUS(st) > CONN_TIMEOUT) {
			/*
			 * Not one of conn_serve()'s statuses: something
			 * else ended the process (a sanitizer's report, an
			 * exit() in a library).  Always worth a line too.
			 */
			logline_begin(&l, c->id[i], "child-died");
			logline_fmt(&l, "pid", "%ld", (long)pid);
			logline_fmt(&l, "status", "%d", WEXITSTATUS(st));
			logline_emit(&l);
		} else if (v >= LOG_VERBOSE) {
			logline_begin(&l, c->id[i], "child-exit");
			logline_fmt(&l, "pid", "%ld", (long)pid);
			logline_fmt(&l, "status", "%d", WEXITSTATUS(st));
			logline_str(&l, "result",
			    conn_status_name(WEXITSTATUS(st)));
			logline_emit(&l);
		}
	}
}

/* The child's life: default signals, no listening sockets, one client. */
static void
child(int fd, const char *peer, unsigned long id, struct listeners *l,
    const struct tlsconf *conf, const struct serve_opts *o,
    const sigset_t *mask)
{
	struct sigaction sa;

	/*
	 * The parent's signals were blocked for its signalfd; the child
	 * takes them by default again, except ^C at a terminal, which
	 * reaches the whole group: the parent decides about that.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	listen_close(l);
	_exit(conn_serve(fd, peer, id, conf, o));
}

static void
accept_one(int lfd, struct listeners *l, struct children *c,
    unsigned long *next_id, const struct tlsconf *conf,
    const struct serve_opts *o, const sigset_t *mask)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct logline lg;
	char	 peer[ADDR_STRMAX], ip[ADDR_STRMAX], why[160];
	unsigned long id;
	pid_t	 pid;
	int	 fd, i;

	fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
	if (fd < 0) {
		/* EAGAIN: the client left first; EMFILE etc.: try later. */
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED) {
			logline_begin(&lg, 0, "accept-failed");
			logline_str(&lg, "reason", strerror(errno));
			logline_emit(&lg);
		}
		return;
	}
	id = (*next_id)++;
	addr_format((struct sockaddr *)&ss, peer, sizeof(peer));
	addr_format_host((struct sockaddr *)&ss, ip, sizeof(ip));
	if (o->max_per_ip > 0 && count_ip(c, ip) >= o->max_per_ip) {
		/* One address cannot take every slot from the others. */
		logline_begin(&lg, id, "refused");
		logline_str(&lg, "peer", peer);
		snprintf(why, sizeof(why), "too many connections from %s (%d)",
		    ip, o->max_per_ip);
		logline_str(&lg, "reason", why);
		logline_emit(&lg);
		close(fd);
		return;
	}
	if (c->n >= c->max) {
		/* Excess is closed at once, not queued: nobody waits blind. */
		logline_begin(&lg, id, "refused");
		logline_str(&lg, "peer", peer);
		snprintf(why, sizeof(why), "too many connections (%d)",
		    c->max);
		logline_str(&lg, "reason", why);
		logline_emit(&lg);
		close(fd);
		return;
	}
	for (i = 0; i < c->max && c->pid[i] != 0; i++)
		;
	pid = fork();
	if (pid < 0) {
		logline_begin(&lg, id, "refused");
		logline_str(&lg, "peer", peer);
		logline_str(&lg, "reason", strerror(errno));
		logline_emit(&lg);
		close(fd);
		return;
	}
	if (pid == 0)
		child(fd, peer, id, l, conf, o, mask);
	c->pid[i] = pid;
	c->id[i] = id;
	snprintf(c->ip[i], sizeof(c->ip[i]), "%s", ip);
	c->n++;
	close(fd);
}

/* Wait up to ms for the children, then end the rest and reap them. */
static void
drain(struct children *c, int ms, enum verbosity v, struct sigs *g)
{
	long long deadline = timefmt_monotonic_ms() + ms;
	struct pollfd pfd = { g->fd, POLLIN, 0 };
	long long left;
	int	 i;

	reap(c, v);
	while (c->n > 0 && (left = deadline - timefmt_monotonic_ms()) > 0) {
		poll(&pfd, 1, (int)left);	/* SIGCHLD wakes us */
		sigs_read(g);
		reap(c, v);
	}
	for (i = 0; i < c->max; i++)
		if (c->pid[i] != 0)
			kill(c->pid[i], SIGTERM);
	while (c->n > 0) {
		poll(&pfd, 1, 1000);
		sigs_read(g);
		reap(c, v);
	}
}

int
server_run(struct listeners *l, struct tlsconf **conf,
    const struct tlsconf_files *f, const struct serve_opts *o)
{
	struct children c;
	struct sigs g;
	struct pollfd pfd[LISTEN_MAX + 1];
	struct logline lg;
	sigset_t block, orig;
	unsigned long next_id = 1;
	int	 i, r, e, status = 0;

	memset(&c, 0, sizeof(c));
	c.max = o->max_conns;
	c.pid = calloc((size_t)c.max, sizeof(*c.pid));
	c.id = calloc((size_t)c.max, sizeof(*c.id));
	c.ip = calloc((size_t)c.max, sizeof(*c.ip));
	if (c.pid == NULL || c.id == NULL || c.ip == NULL)
		die(1, "out of memory");

	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &orig);
	memset(&g, 0, sizeof(g));
	if ((g.fd = signalfd(-1, &block, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		die(1, "signalfd: %s", strerror(errno));

	for (i = 0; i < l->n; i++) {
		pfd[i].fd = l->fd[i];
		pfd[i].events = POLLIN;
		logline_begin(&lg, 0, "listening");
		logline_str(&lg, "addr", l->name[i]);
		logline_fmt(&lg, "pid", "%ld", (long)getpid());
		logline_emit(&lg);
	}

	pfd[l->n].fd = g.fd;
	pfd[l->n].events = POLLIN;
	while (!g.term) {
		r = poll(pfd, (nfds_t)l->n + 1, -1);
		if (r < 0 && errno != EINTR) {
			e = errno;
			logline_begin(&lg, 0, "error");
			logline_str(&lg, "reason", strerror(e));
			logline_emit(&lg);
			status = 1;
			break;
		}
		sigs_read(&g);
		/* Reap before accepting: a slot may just have come free. */
		if (g.chld || c.n > 0) {
			g.chld = 0;
			reap(&c, o->verbosity);
		}
		if (g.hup) {
			g.hup = 0;
			reload(conf, f);
		}
		for (i = 0; r > 0 && i < l->n && !g.term; i++)
			if (pfd[i].revents & POLLIN)
				accept_one(pfd[i].fd, l, &c, &next_id, *conf,
				    o, &orig);
	}

	/* Shutdown: no new clients; the current ones get time to finish. */
	listen_close(l);
	logline_begin(&lg, 0, "shutdown");
	logline_str(&lg, "signal", g.term == SIGINT ? "SIGINT" :
	    g.term == SIGTERM ? "SIGTERM" : "-");
	logline_fmt(&lg, "children", "%d", c.n);
	logline_emit(&lg);
	drain(&c, o->timeout_s * 1000, o->verbosity, &g);
	close(g.fd);
	logline_begin(&lg, 0, "stopped");
	logline_emit(&lg);
	free(c.pid);
	free(c.id);
	free(c.ip);
	return status;
}
