#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/sockios.h>

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "child.h"
#include "diag.h"
#include "exec.h"
#include "exit.h"
#include "logline.h"
#include "privdrop.h"
#include "timefmt.h"
#include "tlsenv.h"
#include "tlssess.h"

/* How long a last close_notify, or a program's last breath, may take. */
#define BYE_MS		1000
#define GRACE_MS	2000

/* --exec-user: the program's process becomes that user before exec. */
static int
become(void *user)
{
	char	 err[256];

	if (privdrop("--exec-user", user, err, sizeof(err)) < 0) {
		warn("%s", err);
		return -1;
	}
	return 0;
}

/* Host and port of a socket address, or the fallbacks. */
static void
endpoint(const struct sockaddr_storage *ss, int ok, const char *envhost,
    const char *envport, char *host, size_t hn, char *port, size_t pn)
{
	const char *h = NULL, *p = NULL;

	if (ok && (ss->ss_family == AF_INET || ss->ss_family == AF_INET6)) {
		addr_format_host((const struct sockaddr *)ss, host, hn);
		snprintf(port, pn, "%u", ntohs(ss->ss_family == AF_INET ?
		    ((const struct sockaddr_in *)ss)->sin_port :
		    ((const struct sockaddr_in6 *)ss)->sin6_port));
		return;
	}
	/* Not a TCP socket (a super-server's socketpair): its word. */
	if (envhost != NULL) {
		h = getenv(envhost);
		p = getenv(envport);
		if (h == NULL && strcmp(envhost, "TCPREMOTEIP") == 0) {
			h = getenv("SOCAT_PEERADDR");
			p = getenv("SOCAT_PEERPORT");
		}
	}
	snprintf(host, hn, "%s", h ? h : "unknown");
	snprintf(port, pn, "%s", p ? p : "0");
}

/*
 * The program did not read all the client sent.  The client must learn
 * that, and it cannot from a close_notify, which says only that our
 * output is complete: once our output (and close_notify) has reached the
 * client's kernel, the connection is reset instead of closed.
 */
static void
reset_after_drain(int fd)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	struct linger lg = { 1, 0 };
	long long deadline = timefmt_monotonic_ms() + GRACE_MS;
	int	 queued;

	while (ioctl(fd, SIOCOUTQ, &queued) == 0 && queued > 0 &&
	    timefmt_monotonic_ms() < deadline)
		nanosleep(&ts, NULL);
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

int
exec_prepare(struct child *c, const struct serve_opts *o, char *err,
    size_t n)
{
	return child_prepare(c, o->prog, 1, o->exec_user ? become : NULL,
	    (void *)o->exec_user, err, n);
}

int
exec_run(struct child *c, struct tlssess *t, int fd, const char *rule,
    const struct proxyhdr *ph, const struct serve_opts *o,
    volatile sig_atomic_t *stop, struct pump *p, char *progst, size_t n)
{
	struct sockaddr_storage ls, rs;
	socklen_t llen = sizeof(ls), rlen = sizeof(rs);
	struct tlsenv e;
	struct logline l;
	char	 lip[ADDR_STRMAX], lport[16], rip[ADDR_STRMAX], rport[16];
	char	 err[256], **envp;
	int	 lok, rok, status, grace;

	memset(&e, 0, sizeof(e));
	if (ph != NULL && !ph->local) {
		/* Behind a balancer: the client, and where it connected. */
		ls = ph->dst;
		rs = ph->src;
		lok = rok = 1;
	} else {
		lok = getsockname(fd, (struct sockaddr *)&ls, &llen) == 0;
		rok = getpeername(fd, (struct sockaddr *)&rs, &rlen) == 0;
	}
	endpoint(&ls, lok, "TCPLOCALIP", "TCPLOCALPORT", lip, sizeof(lip),
	    lport, sizeof(lport));
	endpoint(&rs, rok, "TCPREMOTEIP", "TCPREMOTEPORT", rip, sizeof(rip),
	    rport, sizeof(rport));
	tlsenv_tcp(&e, lip, lport, rip, rport);
	tlsenv_session(&e, t, "CLIENT");
	if (*rule != '\0')
		tlsenv_set(&e, "MTLS_ALLOW_RULE", rule);
	/* Never a partial identity: a variable that did not fit is fatal. */
	envp = NULL;
	if (e.lost > 0)
		snprintf(err, sizeof(err), "environment: %d variables did not "
		    "fit", e.lost);
	else if ((envp = tlsenv_environ(&e)) == NULL)
		snprintf(err, sizeof(err), "out of memory");
	if (envp == NULL || child_start(c, envp, err, sizeof(err)) < 0) {
		/* Its process runs nothing, and is gone. */
		child_abort(c);
		logline_begin(&l, 0, "error");
		logline_str(&l, "program", o->prog[0]);
		logline_str(&l, "reason", err);
		logline_emit(&l);
		free(envp);
		tlsenv_free(&e);
		tlssess_bye(t, BYE_MS);
		snprintf(progst, n, "not started");
		return CONN_BROKEN;
	}
	free(envp);
	tlsenv_free(&e);

	/*
	 * Both ways at once, a half-close per direction: the program's stdin
	 * closes at the client's close_notify, our close_notify follows the
	 * end of its stdout.  A program that stops reading still gets all
	 * its output through.  In TLS 1.2 a close_notify ends the whole
	 * session, so ours waits until the program exited or the client
	 * closed; in TLS 1.3 it closes our direction only (RFC 8446 6.1).
	 */
	memset(p, 0, sizeof(*p));
	p->s = t;
	p->sock = fd;
	p->idle_ms = o->timeout_s * 1000;
	/* The server's shutdown cuts the program off: no close_notify. */
	p->stop = stop;
	pump_program(p, c, 1);
	close(c->from_fd);
	if (!p->out_closed)
		close(c->to_fd);

	grace = GRACE_MS;
	switch (p->end) {
	case PUMP_DONE:
		status = CONN_OK;
		if (p->unread > 0)
			reset_after_drain(fd);
		/*
		 * Both directions ended cleanly, but the program may still
		 * be at work (sh -c 'sort > out' closed its stdout early):
		 * it gets the idle timeout to finish, not a short grace.
		 */
		if (o->timeout_s == 0)
			grace = INT_MAX;
		else if (o->timeout_s * 1000 > grace)
			grace = o->timeout_s * 1000;
		break;
	case PUMP_TIMEOUT:
		/*
		 * No close_notify: the program is cut off, and its output
		 * may be incomplete.  The client must not see a clean end.
		 */
		status = CONN_TIMEOUT;
		break;
	default:
		/* A program killed by a signal: no close_notify. */
		status = CONN_BROKEN;
	}
	child_status(child_reap(c, grace), progst, n);
	return status;
}
