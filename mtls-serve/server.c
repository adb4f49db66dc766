#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "conn.h"
#include "diag.h"
#include "exit.h"
#include "logline.h"
#include "server.h"
#include "slots.h"
#include "timefmt.h"
#include "tlskey.h"
#include "tlsx509.h"

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
	int	 nterm;		/* how many of them */
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
			g->nterm++;
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

/* How long accepting pauses after an accept() error, at first and at most. */
#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	2000

struct children {
	pid_t		*pid;		/* 0: free slot */
	unsigned long	*id;
	/*
	 * Shared with the children: each slot's client address group and
	 * peer, and whether it has authenticated (the child says so).  The
	 * parent clears a slot when its child has ended, so nothing stale
	 * outlives a child.
	 */
	struct slots	*sl;
	int		 max, n;
	pid_t		 keypid;	/* the key process */
	int		 keygone;	/* it has ended: we cannot serve */
};

/* How many children are still in their handshake (not authenticated). */
static int
count_unauthed(const struct children *c)
{
	int	 i, n = 0;

	for (i = 0; i < c->max; i++)
		if (c->pid[i] != 0 && !slots_authed(c->sl, i))
			n++;
	return n;
}

static void
slot_free(struct children *c, int i)
{
	c->pid[i] = 0;
	slots_release(c->sl, i);
	c->n--;
}

/*
 * Make room: end a child that has not authenticated yet (as sshd's
 * MaxStartups does), so stalled handshakes cannot lock out real clients.
 * The one ended is the oldest of the address group (an IPv4 address, an
 * IPv6 /64) that holds the most handshakes in progress, as sshd's
 * PerSourceMaxStartups would: stallers that reconnect as fast as they are
 * dropped then only ever evict each other, not a slow real client from
 * elsewhere.  SIGKILL and a blocking wait: the slot is free on return.
 * Returns 1 if one was dropped, 0 if every child has authenticated.
 */
static int
drop_oldest_unauthed(struct children *c, const char *why)
{
	struct logline l;
	char	 peer[ADDR_STRMAX], (*group)[ADDR_STRMAX];
	int	*slot, *count, i, j, k = 0, old = -1, st;

	/* The handshakes in progress, with their groups, read once. */
	group = calloc((size_t)c->max, sizeof(*group));
	slot = calloc((size_t)c->max, sizeof(*slot));
	count = calloc((size_t)c->max, sizeof(*count));
	if (group == NULL || slot == NULL || count == NULL) {
		/* Out of memory: the oldest of all, one group for all. */
		free(group);
		group = NULL;
	}
	for (i = 0; i < c->max; i++) {
		if (c->pid[i] == 0 || slots_authed(c->sl, i))
			continue;
		if (group == NULL) {
			if (old < 0 || c->id[i] < c->id[old])
				old = i;
			continue;
		}
		slots_group_of(c->sl, i, group[k], sizeof(group[k]));
		slot[k++] = i;
	}
	for (i = 0; i < k; i++) {
		for (j = 0; j < k; j++)
			if (strcmp(group[i], group[j]) == 0)
				count[i]++;
		if (old < 0 || count[i] > count[old] ||
		    (count[i] == count[old] && c->id[slot[i]] <
		    c->id[slot[old]]))
			old = i;
	}
	if (group != NULL && old >= 0)
		old = slot[old];
	free(group);
	free(slot);
	free(count);
	if (old < 0)
		return 0;
	kill(c->pid[old], SIGKILL);
	while (waitpid(c->pid[old], &st, 0) < 0 && errno == EINTR)
		;
	logline_begin(&l, c->id[old], "dropped");
	logline_str(&l, "peer", slots_peer(c->sl, old, peer, sizeof(peer)));
	logline_str(&l, "reason", why);
	logline_emit(&l);
	slot_free(c, old);
	return 1;
}

/*
 * SIGHUP: read every file again.  New connections get the new set; open
 * ones keep theirs (their process has its own copy).  If the certificate
 * or key cannot be read (a root-only key after --user), the CAs, CRLs and
 * OCSP response are still reloaded, with the previous certificate and key:
 * a new CRL must not wait for a restart.  If anything else is wrong, the
 * old set stays.  The log says which part failed.
 */
static void
reload(struct tlsconf **conf, const struct tlsconf_files *f)
{
	struct tlsconf *fresh;
	struct tlsconf_counts n;
	struct x509_facts pc;
	struct logline l;
	char	 err[1024], keyerr[1024];

	fresh = tlsconf_reload(f, *conf, err, sizeof(err), keyerr,
	    sizeof(keyerr));
	if (keyerr[0] != '\0') {
		logline_begin(&l, 0, "reload-failed");
		logline_str(&l, "level", "error");
		logline_str(&l, "reason", keyerr);
		logline_str(&l, "part", "certificate and key");
		logline_str(&l, "keeping", "the previous certificate and key");
		logline_emit(&l);
	}
	if (fresh == NULL) {
		logline_begin(&l, 0, "reload-failed");
		logline_str(&l, "level", "error");
		logline_str(&l, "reason", err);
		logline_str(&l, "keeping", "the previous credentials");
		logline_emit(&l);
		return;
	}
	tlsconf_free(*conf);
	*conf = fresh;
	logline_begin(&l, 0, "reloaded");
	if (tlsconf_identity(fresh, &pc) == 0) {
		logline_str(&l, "serial", pc.serial);
		logline_str(&l, "sha256", pc.sha256);
		logline_str(&l, "not_after", pc.not_after_s);
		tlsx509_free(&pc);
	}
	tlsconf_counts(fresh, &n);
	logline_fmt(&l, "trusted_cas", "%u", n.cas);
	logline_fmt(&l, "crls", "%u", n.crls);
	if (keyerr[0] != '\0')
		logline_str(&l, "key", "previous");
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

/*
 * The key process ended: no new handshake can be signed, so the server
 * stops (open connections still drain).  It never ends on its own while
 * we run; something killed it.
 */
static void
key_gone(struct children *c, int st)
{
	struct logline l;
	char	 why[128];

	if (WIFSIGNALED(st))
		snprintf(why, sizeof(why), "key process %ld ended by signal "
		    "%d (%s)", (long)c->keypid, WTERMSIG(st),
		    strsignal(WTERMSIG(st)));
	else
		snprintf(why, sizeof(why), "key process %ld exited with "
		    "status %d", (long)c->keypid, WEXITSTATUS(st));
	logline_begin(&l, 0, "fatal");
	logline_str(&l, "level", "error");
	logline_str(&l, "reason", why);
	logline_fmt(&l, "exit", "%d", 1);
	logline_emit(&l);
	c->keypid = 0;
	c->keygone = 1;
}

/* Reap every child that has ended; log the ones that did not end well. */
static void
reap(struct children *c, enum verbosity v)
{
	struct logline l;
	pid_t	 pid;
	int	 st, i;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == c->keypid) {
			key_gone(c, st);
			continue;
		}
		for (i = 0; i < c->max; i++)
			if (c->pid[i] == pid)
				break;
		if (i == c->max)
			continue;
		slot_free(c, i);
		if (WIFSIGNALED(st)) {
			/* A crash is always worth a line. */
			logline_begin(&l, c->id[i], "child-died");
			logline_str(&l, "level", "error");
			logline_fmt(&l, "pid", "%ld", (long)pid);
			logline_fmt(&l, "signal", "%d", WTERMSIG(st));
			logline_str(&l, "signame", sigabbrev_np(WTERMSIG(st)));
			/* Our filter's verdict (see sandbox.h), not a bug. */
			if (WTERMSIG(st) == SIGSYS)
				logline_str(&l, "reason", "sandbox: a system "
				    "call it does not allow");
			logline_emit(&l);
		} else if (WEXITSTATUS(st) > CONN_TIMEOUT) {
			/*
			 * Not one of conn_serve()'s statuses: something
			 * else ended the process (a sanitizer's report, an
			 * exit() in a library).  Always worth a line too.
			 */
			logline_begin(&l, c->id[i], "child-died");
			logline_str(&l, "level", "error");
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
child(int fd, const struct sockaddr_storage *from, const char *peer,
    unsigned long id, struct listeners *l, const struct tlsconf *conf,
    struct tlskey *key, const struct serve_opts *o, const sigset_t *mask,
    struct slots *sl, int slot)
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
	/* SIGTERM (the parent's second gear): close_notify, then out. */
	sa.sa_handler = conn_on_sigterm;
	sigaction(SIGTERM, &sa, NULL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	listen_close(l);
	/* Signatures only: the key process's control socket is not ours. */
	tlskey_child(key);
	_exit(conn_linger(fd, conn_serve(fd, from, peer, id, conf, o, sl,
	    slot)));
}

/*
 * Accept one connection and fork its child.  Returns 0, or -1 when accept()
 * failed in a way that will not pass by itself at once (EMFILE, ENFILE,
 * ENOBUFS, EINVAL, ...): the caller then pauses accepting.
 */
static int
accept_one(int lfd, struct listeners *l, struct children *c,
    unsigned long *next_id, const struct tlsconf *conf, struct tlskey *key,
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
		/* The client left first, or a signal: nothing to wait for. */
		if (errno == EAGAIN || errno == EINTR ||
		    errno == ECONNABORTED)
			return 0;
		return -1;
	}
	id = (*next_id)++;
	addr_format((struct sockaddr *)&ss, peer, sizeof(peer));
	/*
	 * Behind a balancer (--proxy-protocol) every connection comes from
	 * it: the child counts the client named in the header instead.
	 */
	if (o->proxy)
		ip[0] = '\0';
	else
		slots_group((struct sockaddr *)&ss, ip, sizeof(ip));
	if (!o->proxy && o->max_per_ip > 0 &&
	    slots_count(c->sl, ip) >= o->max_per_ip) {
		/* One address cannot take every slot from the others. */
		logline_begin(&lg, id, "refused");
		logline_str(&lg, "peer", peer);
		snprintf(why, sizeof(why), "too many connections from %s (%d)",
		    ip, o->max_per_ip);
		logline_str(&lg, "reason", why);
		logline_emit(&lg);
		conn_refuse(fd, 1);
		return 0;
	}
	/* Handshakes in progress have a bound of their own. */
	if (count_unauthed(c) >= o->max_startups) {
		snprintf(why, sizeof(why), "max-startups (%d): a handshake of "
		    "the busiest source dropped for %s", o->max_startups, peer);
		drop_oldest_unauthed(c, why);
	}
	if (c->n >= c->max) {
		snprintf(why, sizeof(why), "max-conns (%d): a handshake of the "
		    "busiest source dropped for %s", c->max, peer);
		drop_oldest_unauthed(c, why);
	}
	if (c->n >= c->max) {
		/* Excess is refused at once, not queued: nobody waits blind. */
		logline_begin(&lg, id, "refused");
		logline_str(&lg, "peer", peer);
		snprintf(why, sizeof(why), "too many connections (%d)",
		    c->max);
		logline_str(&lg, "reason", why);
		logline_emit(&lg);
		conn_refuse(fd, 1);
		return 0;
	}
	/* Its line to the key process, for the handshake's signature. */
	if (tlskey_channel_open(key, why, sizeof(why)) < 0) {
		logline_begin(&lg, id, "refused");
		logline_str(&lg, "peer", peer);
		logline_str(&lg, "reason", why);
		logline_emit(&lg);
		conn_refuse(fd, 1);
		return 0;
	}
	for (i = 0; i < c->max && c->pid[i] != 0; i++)
		;
	slots_claim(c->sl, i, ip, peer, 0);
	pid = fork();
	if (pid < 0) {
		logline_begin(&lg, id, "refused");
		logline_str(&lg, "peer", peer);
		logline_str(&lg, "reason", strerror(errno));
		logline_emit(&lg);
		slots_release(c->sl, i);
		tlskey_channel_close(key);
		conn_refuse(fd, 1);
		return 0;
	}
	if (pid == 0)
		child(fd, &ss, peer, id, l, conf, key, o, mask, c->sl, i);
	tlskey_channel_close(key);
	c->pid[i] = pid;
	c->id[i] = id;
	c->n++;
	close(fd);
	return 0;
}

/* How long ended children get for their close_notify before SIGKILL. */
#define END_MS	5000

/* One line about the shutdown: event, the signal, connections left. */
static void
log_stop(const char *event, const struct sigs *g, int n)
{
	struct logline lg;

	logline_begin(&lg, 0, event);
	logline_str(&lg, "signal", g->term == SIGINT ? "SIGINT" :
	    g->term == SIGTERM ? "SIGTERM" : "-");
	logline_fmt(&lg, "connections", "%d", n);
	logline_emit(&lg);
}

/*
 * The first SIGTERM/SIGINT: wait up to ms for the children to finish on
 * their own.  At the limit, or at a second SIGTERM/SIGINT, end them with
 * SIGTERM (each sends close_notify and exits), and reap them all.
 */
static void
drain(struct children *c, int ms, enum verbosity v, struct sigs *g)
{
	long long deadline = timefmt_monotonic_ms() + ms;
	struct pollfd pfd = { g->fd, POLLIN, 0 };
	long long left;
	int	 i, nterm = g->nterm;

	reap(c, v);
	log_stop("draining", g, c->n);
	while (c->n > 0 && g->nterm == nterm &&
	    (left = deadline - timefmt_monotonic_ms()) > 0) {
		poll(&pfd, 1, (int)left);	/* SIGCHLD wakes us */
		sigs_read(g);
		reap(c, v);
	}
	if (c->n == 0)
		return;
	log_stop(g->nterm != nterm ? "terminating" : "drain-timeout", g,
	    c->n);
	for (i = 0; i < c->max; i++)
		if (c->pid[i] != 0)
			kill(c->pid[i], SIGTERM);
	deadline = timefmt_monotonic_ms() + END_MS;
	while (c->n > 0 && (left = deadline - timefmt_monotonic_ms()) > 0) {
		poll(&pfd, 1, (int)left);
		sigs_read(g);
		reap(c, v);
	}
	/* A child stuck past its close_notify does not hold us up. */
	for (i = 0; i < c->max; i++)
		if (c->pid[i] != 0)
			kill(c->pid[i], SIGKILL);
	while (c->n > 0) {
		poll(&pfd, 1, 1000);
		sigs_read(g);
		reap(c, v);
	}
}

enum serve_exit
server_run(struct listeners *l, struct tlsconf **conf,
    const struct tlsconf_files *f, const struct serve_opts *o)
{
	struct children c;
	struct sigs g;
	struct pollfd pfd[LISTEN_MAX + 1];
	struct logline lg;
	sigset_t block, orig;
	unsigned long next_id = 1;
	long long resume = 0, now;
	int	 i, r, e, status = SERVE_OK, backoff = 0, wait_ms;
	char	 err[256];

	memset(&c, 0, sizeof(c));
	c.max = o->max_conns;
	c.pid = calloc((size_t)c.max, sizeof(*c.pid));
	c.id = calloc((size_t)c.max, sizeof(*c.id));
	if (c.pid == NULL || c.id == NULL)
		die(SERVE_FAILED, "out of memory");
	if ((c.sl = slots_new(c.max, err, sizeof(err))) == NULL)
		die(SERVE_FAILED, "%s", err);
	c.keypid = tlskey_pid(f->signer);

	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &orig);
	memset(&g, 0, sizeof(g));
	if ((g.fd = signalfd(-1, &block, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		die(SERVE_FAILED, "signalfd: %s", strerror(errno));

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
		/* After an accept() error the sockets rest a while. */
		now = timefmt_monotonic_ms();
		wait_ms = resume > now ? (int)(resume - now) : -1;
		for (i = 0; i < l->n; i++)
			pfd[i].fd = wait_ms >= 0 ? -1 : l->fd[i];
		r = poll(pfd, (nfds_t)l->n + 1, wait_ms);
		if (r < 0 && errno != EINTR) {
			e = errno;
			logline_begin(&lg, 0, "error");
			logline_str(&lg, "reason", strerror(e));
			logline_emit(&lg);
			status = SERVE_FAILED;
			break;
		}
		sigs_read(&g);
		/* Reap before accepting: a slot may just have come free. */
		if (g.chld || c.n > 0) {
			g.chld = 0;
			reap(&c, o->verbosity);
		}
		if (c.keygone) {
			status = 1;
			break;
		}
		if (g.hup) {
			g.hup = 0;
			reload(conf, f);
		}
		for (i = 0; r > 0 && i < l->n && !g.term; i++) {
			if (pfd[i].fd < 0 || (pfd[i].revents &
			    (POLLIN | POLLERR | POLLHUP)) == 0)
				continue;
			if (accept_one(pfd[i].fd, l, &c, &next_id, *conf,
			    f->signer, o, &orig) == 0) {
				backoff = 0;
				continue;
			}
			/* EMFILE and the like: pause, doubling, logged once. */
			e = errno;
			backoff = backoff == 0 ? BACKOFF_MIN_MS :
			    backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
			    backoff * 2;
			resume = timefmt_monotonic_ms() + backoff;
			logline_begin(&lg, 0, "accept-failed");
			logline_str(&lg, "level", "error");
			logline_str(&lg, "addr", l->name[i]);
			logline_str(&lg, "reason", strerror(e));
			logline_fmt(&lg, "retry_ms", "%d", backoff);
			logline_emit(&lg);
			break;
		}
	}

	/* Shutdown: no new clients; the current ones get time to finish. */
	listen_close(l);
	drain(&c, o->drain_s * 1000, o->verbosity, &g);
	close(g.fd);
	logline_begin(&lg, 0, "stopped");
	logline_emit(&lg);
	free(c.pid);
	free(c.id);
	slots_free(c.sl);
	return status;
}
