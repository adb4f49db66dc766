#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "conn.h"
#include "echo.h"
#include "exec.h"
#include "exit.h"
#include "logline.h"
#include "proxyin.h"
#include "pump.h"
#include "sandbox.h"
#include "timefmt.h"
#include "tlssess.h"
#include "tlsx509.h"

/* Keepalive probes after 60 s of silence, every 15 s, 4 unanswered: gone. */
#define KEEPALIVE_IDLE_S	60
#define KEEPALIVE_INTVL_S	15
#define KEEPALIVE_COUNT		4

/*
 * Set by SIGTERM: the connection's socket, so the handler can end our
 * reading (shutdown(2) is async-signal-safe and wakes poll), and whether
 * it did, so we send close_notify and log why we ended.
 */
static volatile sig_atomic_t term_fd = -1;
static volatile sig_atomic_t term_seen;

void
conn_on_sigterm(int sig)
{
	(void)sig;
	term_seen = 1;
	if (term_fd >= 0)
		shutdown(term_fd, SHUT_RD);
}

/* The facts of a client whose certificate was not read: empty. */
static const struct x509_facts no_facts;

/*
 * --allow: the first rule that admits the client, or NULL.  Without rules
 * every client the CA vouches for is admitted; *rule is then "".  *f is
 * the client's certificate (no_facts when it was not read).
 */
static int
admitted(struct tlssess *t, const struct serve_opts *o, const char **rule,
    const struct x509_facts **f, char *why, size_t whylen)
{
	const struct allow_rule *r;
	char	 tmp[160];

	*rule = "";
	*f = &no_facts;
	snprintf(why, whylen, "not allowed");
	/* The echo without rules needs no facts for this. */
	if (o->nallow == 0 && o->prog == NULL)
		return 1;
	if ((*f = tlssess_peer(t)) == NULL) {
		*f = &no_facts;
		return 0;
	}
	if (o->nallow == 0)
		return 1;
	if ((r = allow_match(o->allow, o->nallow, *f)) != NULL)
		*rule = r->text;
	else
		snprintf(why, whylen, "%s", allow_why_not(o->allow, o->nallow,
		    *f, tmp, sizeof(tmp)));
	return r != NULL;
}

/* The client's certificate and the session's parameters, in one line. */
static void
log_handshake(struct tlssess *t, unsigned long id, enum verbosity v,
    const char *rule)
{
	const struct x509_facts *f;
	struct tlssess_info ti;
	struct logline l;

	tlssess_info(t, &ti);
	logline_begin(&l, id, "handshake");
	logline_str(&l, "version", ti.version);
	logline_str(&l, "cipher", ti.cipher);
	logline_str(&l, "group", ti.group);
	if (ti.resumed)
		logline_str(&l, "resumed", "yes");
	if ((f = tlssess_peer(t)) != NULL) {
		logline_str(&l, "client_subject", f->subject);
		logline_str(&l, "client_serial", f->serial);
		logline_str(&l, "client_sha256", f->sha256);
		if (v >= LOG_VERBOSE) {
			logline_str(&l, "client_issuer", f->issuer);
			logline_str(&l, "client_not_after", f->not_after_s);
			logline_fmt(&l, "client_chain", "%u", ti.peer_chain);
		}
	}
	if (*rule != '\0')
		logline_str(&l, "allow", rule);
	if (v >= LOG_VERBOSE && ti.sni[0] != '\0')
		logline_str(&l, "sni", ti.sni);
	logline_emit(&l);
}

/*
 * A refused client may still be sending (TLS 1.3: its first records follow
 * its Finished before our verdict arrives).  Closing with its data unread
 * would send a reset, and a reset can make the client's kernel throw away
 * our alert before it is read.  So: our direction closed, its data read
 * and dropped until it closes, for at most LINGER_MS.
 */
#define LINGER_MS	2000

int
conn_linger(int fd, int status)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	long long deadline = timefmt_monotonic_ms() + LINGER_MS;
	long long left;
	char	 junk[4096];

	if (status != CONN_REFUSED)
		return status;
	shutdown(fd, SHUT_WR);
	while ((left = deadline - timefmt_monotonic_ms()) > 0 &&
	    poll(&pfd, 1, (int)left) > 0 &&
	    recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
	return status;
}

void
conn_refuse(int fd, int alert)
{
	static const unsigned char internal_error[] = {
		0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x50
	};
	char	 junk[4096];
	int	 i;

	for (i = 0; i < 4 && recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0;
	    i++)
		;
	if (alert)
		(void)!send(fd, internal_error, sizeof(internal_error),
		    MSG_DONTWAIT | MSG_NOSIGNAL);
	shutdown(fd, SHUT_WR);
	close(fd);
}

/*
 * --proxy-protocol: take the header only from a --proxy-from address, read
 * it under the handshake deadline, and claim this slot for the client it
 * names (--max-per-ip counts that client, not the balancer).  Returns
 * CONN_OK with ph and client ("ADDR:PORT", or peer after a LOCAL header)
 * filled in, or the status to exit with, having logged why.
 */
static int
proxy_header(int fd, const struct sockaddr_storage *from, const char *peer,
    unsigned long id, const struct serve_opts *o, struct slots *sl, int slot,
    long long deadline, struct proxyhdr *ph, char *client, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct logline l;
	char	 why[512], group[ADDR_STRMAX];
	int	 i, r;

	if (o->nproxy_from > 0) {
		/* accept()'s word: a peer already gone has no getpeername(). */
		if (from == NULL && getpeername(fd, (struct sockaddr *)&ss,
		    &len) == 0)
			from = &ss;
		for (i = 0; from != NULL && i < o->nproxy_from; i++)
			if (addr_cidr_match(&o->proxy_from[i],
			    (const struct sockaddr *)from))
				break;
		if (from == NULL || i == o->nproxy_from) {
			logline_begin(&l, id, "refused");
			logline_str(&l, "peer", peer);
			logline_str(&l, "reason", "not a --proxy-from address");
			logline_emit(&l);
			conn_refuse(fd, 0);
			return CONN_REFUSED;
		}
	}
	if ((r = proxyin_read(fd, deadline, ph, why, sizeof(why))) < 0) {
		logline_begin(&l, id, "refused");
		logline_str(&l, "peer", peer);
		logline_str(&l, "reason", why);
		logline_emit(&l);
		conn_refuse(fd, 0);
		return r == -2 ? CONN_TIMEOUT : CONN_REFUSED;
	}
	if (ph->local) {
		snprintf(client, n, "%s", peer);
		return CONN_OK;
	}
	addr_format((struct sockaddr *)&ph->src, client, n);
	slots_group((struct sockaddr *)&ph->src, group, sizeof(group));
	if (sl != NULL && slots_claim(sl, slot, group, client,
	    o->max_per_ip) < 0) {
		/* One client cannot take every slot from the others. */
		logline_begin(&l, id, "refused");
		logline_str(&l, "peer", client);
		logline_str(&l, "via", peer);
		snprintf(why, sizeof(why), "too many connections from %s (%d)",
		    group, o->max_per_ip);
		logline_str(&l, "reason", why);
		logline_emit(&l);
		conn_refuse(fd, 1);
		return CONN_REFUSED;
	}
	return CONN_OK;
}

/*
 * TCP keepalive: with -t 0 (no idle limit) a peer that vanished without a
 * FIN or RST would otherwise hold its process for ever.
 */
static void
keepalive(int fd)
{
	int	 one = 1, idle = KEEPALIVE_IDLE_S, intvl = KEEPALIVE_INTVL_S,
		 cnt = KEEPALIVE_COUNT;

	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

/*
 * The handshake or a check after it refused the client: one log line (with
 * the client's certificate when it is known).  Returns status, for the
 * caller to return.
 */
static int
refused(unsigned long id, const char *peer, const char *why,
    const struct x509_facts *f, int status)
{
	struct logline l;

	logline_begin(&l, id, "refused");
	logline_str(&l, "peer", peer);
	logline_str(&l, "reason", why);
	if (f != NULL) {
		logline_str(&l, "client_subject", f->subject);
		logline_str(&l, "client_sha256", f->sha256);
	}
	logline_emit(&l);
	return status;
}

/*
 * The connection, from its PROXY protocol header to its end: everything
 * the client sends is read here, in the sandbox.  prog is the program's
 * prepared process (exec mode).  The caller frees t.
 */
static int
serve(struct tlssess *t, struct child *prog, int fd,
    const struct sockaddr_storage *from, const char *peer, unsigned long id,
    const struct tlsconf *conf, const struct serve_opts *o, struct slots *sl,
    int slot, long long start)
{
	const struct x509_facts *f;
	struct logline l;
	struct echo e;
	struct pump p;
	char	 why[512], progst[64];
	const char *rule;
	struct rusage ru;
	long long deadline = start + o->handshake_s * 1000LL;
	struct proxyhdr ph;
	struct tlssess_info ti;
	const char *via = peer;
	char	 client[ADDR_STRMAX];
	int	 ret, status;

	/* Behind a balancer, its header names the client. */
	memset(&ph, 0, sizeof(ph));
	if (o->proxy) {
		if ((ret = proxy_header(fd, from, peer, id, o, sl, slot,
		    deadline, &ph, client, sizeof(client))) != CONN_OK)
			return ret;
		if (ph.local && proxyin_closed(fd, deadline)) {
			/* The balancer's own health check: connect, close. */
			if (o->verbosity >= LOG_VERBOSE) {
				logline_begin(&l, id, "health-check");
				logline_str(&l, "peer", peer);
				logline_emit(&l);
			}
			return CONN_OK;
		}
		if (!ph.local)
			peer = client;
	}
	if (o->verbosity >= LOG_NORMAL) {
		logline_begin(&l, id, "accepted");
		logline_str(&l, "peer", peer);
		if (o->proxy && ph.local)
			logline_str(&l, "proxy", "local");
		else if (o->proxy) {
			logline_fmt(&l, "proxy", "v%d", ph.version);
			logline_str(&l, "via", via);
		}
		logline_emit(&l);
	}
	term_fd = fd;
	if (term_seen)		/* the signal came before we were ready */
		shutdown(fd, SHUT_RD);

	/* The header, if any, took its time from the same deadline. */
	if (tlssess_handshake(t, (int)(deadline - timefmt_monotonic_ms() > 0 ?
	    deadline - timefmt_monotonic_ms() : 1)) < 0) {
		/* The alert the specification prescribes, if any. */
		tlssess_refuse(t, 0);
		return refused(id, peer, tlssess_why(t), NULL,
		    tlssess_error(t) == TLSSESS_TIMEOUT ? CONN_TIMEOUT :
		    CONN_REFUSED);
	}
	if (tlsconf_crl_stale(conf, why, sizeof(why))) {
		/* Fail closed: without fresh revocation data, nobody. */
		tlssess_alert(t, TLSSESS_A_CERTIFICATE_UNKNOWN, 0);
		return refused(id, peer, why, NULL, CONN_REFUSED);
	}
	if (tlssess_check_deferred(t) < 0) {
		/* Revoked by an intermediate CA's CRL (see tlsconf.c). */
		tlssess_refuse(t, 0);
		return refused(id, peer, tlssess_why(t), NULL,
		    CONN_REFUSED);
	}
	/*
	 * A resumed session brings the chain verified at its first
	 * handshake: verify it again now (dates, CRLs as loaded now,
	 * purpose), refused as a full handshake would be.
	 */
	tlssess_info(t, &ti);
	if (ti.resumed && tlssess_reverify(t) < 0) {
		tlssess_refuse(t, 0);
		snprintf(why, sizeof(why), "resumed session: %s",
		    tlssess_why(t));
		return refused(id, peer, why, NULL, CONN_REFUSED);
	}
	if (!admitted(t, o, &rule, &f, why, sizeof(why))) {
		/* Verified, but not one of those --allow admits. */
		tlssess_alert(t, TLSSESS_A_ACCESS_DENIED, 0);
		return refused(id, peer, why, f, CONN_REFUSED);
	}
	/* Authenticated: no longer one of the handshakes --max-startups bounds. */
	if (sl != NULL)
		slots_set_authed(sl, slot);
	if (o->verbosity >= LOG_NORMAL)
		log_handshake(t, id, o->verbosity, rule);

	if (o->prog != NULL) {
		status = exec_run(prog, t, fd, rule, o->proxy ? &ph : NULL, o,
		    &term_seen, &p, progst, sizeof(progst));
		/*
		 * Ended by the server's shutdown: the program was cut short,
		 * so the client must not hear a clean end (no close_notify;
		 * an echo, whose every line is complete, says goodbye).
		 */
		if (term_seen)
			status = CONN_BROKEN;
	} else
		status = echo_run(t, fd, peer, o, &term_seen, &p, &e);

	if (o->verbosity >= LOG_NORMAL || status != CONN_OK) {
		logline_begin(&l, id, "closed");
		logline_str(&l, "end", term_seen ? "shutdown" :
		    pump_end_name(p.end));
		/* Our own shutdown(2) is not the peer's doing. */
		if (p.tls_err != TLSSESS_OK && !term_seen)
			logline_str(&l, "reason", tlssess_why(t));
		if (p.reneg_refused)
			logline_str(&l, "renegotiation", "refused");
		logline_fmt(&l, "bytes_in", "%llu", p.bytes_in);
		logline_fmt(&l, "bytes_out", "%llu", p.bytes_out);
		if (p.unread > 0)
			logline_fmt(&l, "unread", "%llu", p.unread);
		if (o->prog != NULL) {
			logline_str(&l, "program", progst);
			logline_str(&l, "client_subject", f->subject);
			logline_str(&l, "client_sha256", f->sha256);
		} else if (!o->raw)
			logline_fmt(&l, "lines", "%llu", e.lines);
		logline_fmt(&l, "records_in", "%llu", p.records_in);
		logline_fmt(&l, "records_out", "%llu", p.records_out);
		logline_fmt(&l, "duration_ms", "%lld",
		    timefmt_monotonic_ms() - start);
		if (getrusage(RUSAGE_SELF, &ru) == 0)
			logline_fmt(&l, "max_rss_kb", "%ld", ru.ru_maxrss);
		logline_emit(&l);
	}
	return status;
}

int
conn_serve(int fd, const struct sockaddr_storage *from, const char *peer,
    unsigned long id, const struct tlsconf *conf, const struct serve_opts *o,
    struct slots *sl, int slot)
{
	struct tlssess *t;
	struct child prog;
	struct logline l;
	char	 why[512];
	long long start = timefmt_monotonic_ms();
	int	 one = 1, status;

	/*
	 * All the process will ever fork or set up, before the sandbox:
	 * the program's process (its filter is not the program's), the
	 * socket's options, the session (its line to the key process is
	 * already open).
	 */
	if (o->prog != NULL && exec_prepare(&prog, o, why, sizeof(why)) < 0) {
		logline_begin(&l, id, "error");
		logline_str(&l, "peer", peer);
		logline_str(&l, "program", o->prog[0]);
		logline_str(&l, "reason", why);
		logline_emit(&l);
		conn_refuse(fd, 1);
		return CONN_BROKEN;
	}
	/* Replies go out as soon as they are ready: no delayed-ACK stall. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	keepalive(fd);
	if ((t = tlssess_server(conf, fd, why, sizeof(why))) == NULL) {
		logline_begin(&l, id, "error");
		logline_str(&l, "reason", why);
		logline_emit(&l);
		if (o->prog != NULL)
			child_abort(&prog);
		return CONN_BROKEN;
	}
	if (sandbox_enter(o->sandbox, o->prog != NULL ? prog.pid : 0, why,
	    sizeof(why)) < 0) {
		/* Fail closed: no client is served outside the sandbox. */
		logline_begin(&l, id, "error");
		logline_str(&l, "peer", peer);
		logline_str(&l, "reason", why);
		logline_emit(&l);
		tlssess_free(t);
		if (o->prog != NULL)
			child_abort(&prog);
		conn_refuse(fd, 1);
		return CONN_BROKEN;
	}
	status = serve(t, &prog, fd, from, peer, id, conf, o, sl, slot, start);
	/* A program not started (the client was refused) ends unrun. */
	if (o->prog != NULL)
		child_abort(&prog);
	tlssess_free(t);
	return status;
}
