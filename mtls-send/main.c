/*
 * mtls-send: standard input through mutual TLS to a server, its replies to
 * standard output.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "child.h"
#include "cli.h"
#include "connect.h"
#include "credpath.h"
#include "diag.h"
#include "exit.h"
#include "explain.h"
#include "pump.h"
#include "resume.h"
#include "textesc.h"
#include "timefmt.h"
#include "tlsconf.h"
#include "tlsenv.h"
#include "tlssess.h"
#include "tlsx509.h"

#define DEFAULT_TARGET	"localhost:9443"
#define DEFAULT_PORT	"9443"
/* Looked up in $MTLS_DIR, ./certs, ~/.config/mtls, /etc/mtls (credpath). */
#define DEFAULT_CERT	"client-cert.pem"
#define DEFAULT_KEY	"client-key.pem"
#define DEFAULT_CA	"ca-cert.pem"
#define DEFAULT_TIMEOUT	30
#define BYE_MS		5000
#define STOP_BYE_MS	2000	/* a signal's close_notify: quickly */
#define END_MS		1000	/* for the server's TCP end after ours */

#define MAX_PINS	RESUME_PINS_MAX
#define MAX_CRLS	16

enum { OPT_CRL = 256, OPT_PIN, OPT_REQUIRE_OCSP, OPT_SESSION, OPT_STRICT };

static const char synopsis[] =
    "usage: mtls-send [-hVv] [--require-ocsp] [--strict] [-C cafile]\n"
    "                 [-c certfile] [-k keyfile] [-n servername]\n"
    "                 [-p priority] [-t seconds] [--crl file]\n"
    "                 [--pin sha256//base64] [--session file]\n"
    "                 [host[:port] | host port] [-- program [arg ...]]\n";

static const char options_help[] =
    "  -C, --ca FILE         trusted CAs for the server's certificate\n"
    "                        (default " DEFAULT_CA ")\n"
    "  -c, --cert FILE       client certificate chain, leaf first, or a\n"
    "                        pkcs11: URI (default " DEFAULT_CERT ")\n"
    "      --crl FILE        refuse a server this CRL revokes (repeatable)\n"
    "  -h, --help            show this help and exit\n"
    "  -k, --key FILE        client private key, or a pkcs11: URI\n"
    "                        (default " DEFAULT_KEY ")\n"
    "  -n, --servername NAME name the server's certificate must carry\n"
    "                        (default: the host given)\n"
    "      --pin sha256//BASE64\n"
    "                        the server's public key must match a pin\n"
    "                        (repeatable), besides normal verification\n"
    "  -p, --priority STRING GnuTLS priority string replacing the default\n"
    "      --require-ocsp    the server must staple a valid OCSP response\n"
    "      --session FILE    resume the TLS session saved in FILE (made\n"
    "                        under the same trust settings), and save the\n"
    "                        new one there (mode 0600)\n"
    "      --strict          a private key others can read is fatal\n"
    "  -t, --timeout SECONDS bound connect and handshake (default 30), and\n"
    "                        idle waits when given\n"
    "  -V, --version         show the version and exit\n"
    "  -v, --verbose         show connection details on stderr\n"
    "  -- PROGRAM [ARG...]   PROGRAM talks to the server: its stdout is\n"
    "                        sent, the replies are its stdin\n"
    "Default files are looked for in $MTLS_DIR, ./certs,\n"
    "${XDG_CONFIG_HOME:-~/.config}/mtls and /etc/mtls, in that order.\n";

/* A default credential file, from the first place that has it. */
static const char *
find_default(const char *given, const char *name, const char *flag,
    char *buf, size_t n)
{
	char	 err[1024];

	if (given != NULL)
		return given;
	if (credpath_find(name, flag, buf, n, err, sizeof(err)) < 0)
		die(SEND_USAGE, "%s", err);
	return buf;
}

/* The signal that asks us to end (SIGHUP, SIGINT, SIGTERM), or 0. */
static volatile sig_atomic_t stop_signal;

static void
on_stop(int sig)
{
	stop_signal = sig;
}

/*
 * From here on SIGHUP, SIGINT and SIGTERM are held, and only the pump's
 * wait (with *waitmask) lets them in: they end it at a known point, where
 * our close_notify can still be sent.
 */
static void
catch_stop_signals(sigset_t *waitmask)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGTERM };
	struct sigaction sa;
	sigset_t block;
	size_t	 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(&block, sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &block, waitmask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigdelset(waitmask, sigs[i]);
}

/* How long telling the server why we refuse it may take. */
#define REFUSE_MS	1000

/*
 * After both close_notify: did the server close the TCP connection with
 * a reset?  That is how a server that stopped reading our input tells us
 * (a clean one closes with FIN).  Waits at most ms for the server's end.
 */
static int
ended_with_reset(int fd, int ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char	 c;
	ssize_t	 r;

	if (poll(&pfd, 1, ms) != 1)
		return 0;
	r = recv(fd, &c, 1, 0);
	return r < 0 && errno == ECONNRESET;
}

/* -v: what was negotiated and who the server is. */
static void
show_session(struct tlssess *t)
{
	const struct x509_facts *f;
	struct tlssess_info ti;
	char	 esc[1024];

	tlssess_info(t, &ti);
	warn("%s, %s, group %s, session %s", ti.version, ti.cipher, ti.group,
	    ti.resumed ? "resumed" : "new");
	if ((f = tlssess_peer(t)) != NULL) {
		warn("server subject: %s", textesc(esc, sizeof(esc),
		    f->subject));
		warn("server issuer: %s", textesc(esc, sizeof(esc),
		    f->issuer));
		warn("server validity: %s to %s", f->not_before_s,
		    f->not_after_s);
		warn("server serial: %s", f->serial);
		warn("server sha256: %s", f->sha256);
	}
}

/* "sha256//BASE64" (or the bare BASE64) into out.  0, or -1 and err. */
static int
pin_parse(const char *text, char out[45], char *err, size_t errlen)
{
	const char *v = text;

	if (strncmp(v, "sha256//", 8) == 0)
		v += 8;
	if (strlen(v) != 44 || v[43] != '=' || strspn(v,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
	    != 44) {
		snprintf(err, errlen, "--pin \"%s\": not a SHA-256 pin "
		    "(sha256// and 44 base64 characters)", text);
		return -1;
	}
	memcpy(out, v, 45);
	return 0;
}

/*
 * What normal verification does not cover: a stale CRL (fail closed),
 * --pin (the server's key must match one) and --require-ocsp (a valid
 * stapled response).  A stapled
 * "revoked" response already failed the handshake.  Returns SEND_OK, or
 * SEND_IDENTITY with the reason in err.
 */
static enum send_exit
check_extra(struct tlssess *t, const struct tlsconf *conf, char pins[][45],
    int npins, int require_ocsp, enum tlssess_alert *alert, char *err,
    size_t errlen)
{
	const struct x509_facts *f;
	int	 i;

	*alert = TLSSESS_A_CERTIFICATE_UNKNOWN;
	if (tlsconf_crl_stale(conf, err, errlen))
		return SEND_IDENTITY;
	*alert = TLSSESS_A_BAD_CERTIFICATE;
	if (require_ocsp && !tlssess_ocsp_ok(t)) {
		snprintf(err, errlen, "server stapled no valid OCSP response "
		    "(--require-ocsp)");
		return SEND_IDENTITY;
	}
	if (npins == 0)
		return SEND_OK;
	if ((f = tlssess_peer(t)) == NULL) {
		snprintf(err, errlen, "no server certificate to check --pin");
		return SEND_IDENTITY;
	}
	if (f->spki_sha256[0] == '\0') {
		snprintf(err, errlen, "server certificate: its public key "
		    "cannot be read");
		return SEND_IDENTITY;
	}
	for (i = 0; i < npins; i++)
		if (strcmp(pins[i], f->spki_sha256) == 0)
			return SEND_OK;
	snprintf(err, errlen, "server key matches no --pin (its pin is "
	    "sha256//%s)", f->spki_sha256);
	return SEND_IDENTITY;
}

/*
 * -- PROGRAM: start it with the server's identity in SSL_SERVER_* and the
 * TCP endpoints in TCP*, joined to the session by pipes.
 */
static int
spawn_program(char **prog, struct tlssess *t, int fd, struct child *c,
    char *err, size_t errlen)
{
	struct sockaddr_storage ls, rs;
	socklen_t llen = sizeof(ls), rlen = sizeof(rs);
	struct tlsenv e;
	char	 lip[ADDR_STRMAX], rip[ADDR_STRMAX], lport[16], rport[16];
	char	**envp;
	int	 rv;

	memset(&e, 0, sizeof(e));
	if (getsockname(fd, (struct sockaddr *)&ls, &llen) < 0 ||
	    getpeername(fd, (struct sockaddr *)&rs, &rlen) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	addr_format_host((struct sockaddr *)&ls, lip, sizeof(lip));
	addr_format_host((struct sockaddr *)&rs, rip, sizeof(rip));
	snprintf(lport, sizeof(lport), "%u", ntohs(ls.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&ls)->sin_port :
	    ((struct sockaddr_in6 *)&ls)->sin6_port));
	snprintf(rport, sizeof(rport), "%u", ntohs(rs.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&rs)->sin_port :
	    ((struct sockaddr_in6 *)&rs)->sin6_port));
	tlsenv_tcp(&e, lip, lport, rip, rport);
	tlsenv_session(&e, t, "SERVER");
	if ((envp = tlsenv_environ(&e)) == NULL) {
		snprintf(err, errlen, "out of memory");
		tlsenv_free(&e);
		return -1;
	}
	rv = child_spawn(c, prog, envp, 0, err, errlen);
	free(envp);
	tlsenv_free(&e);
	return rv;
}

/*
 * The program's end: close our ends, reap it.  A sound connection gives
 * the program's own status (128 + N for signal N), as env(1) and
 * timeout(1) do; a failed one keeps ours.
 */
static int
end_program(struct child *c, const struct pump *p, int status, int verbose)
{
	char	 how[64];
	int	 st;

	close(c->from_fd);
	if (!p->out_closed)
		close(c->to_fd);
	st = child_reap(c, 2000);
	if (verbose || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		warn("program: %s", child_status(st, how, sizeof(how)));
	if (status != SEND_OK)
		return status;
	if (WIFSIGNALED(st))
		return SEND_SIGNAL + WTERMSIG(st);
	return WIFEXITED(st) ? WEXITSTATUS(st) : SEND_NETWORK;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "ca",		required_argument,	NULL, 'C' },
		{ "cert",	required_argument,	NULL, 'c' },
		{ "crl",	required_argument,	NULL, OPT_CRL },
		{ "help",	no_argument,		NULL, 'h' },
		{ "key",	required_argument,	NULL, 'k' },
		{ "servername",	required_argument,	NULL, 'n' },
		{ "pin",	required_argument,	NULL, OPT_PIN },
		{ "priority",	required_argument,	NULL, 'p' },
		{ "require-ocsp", no_argument,		NULL, OPT_REQUIRE_OCSP },
		{ "session",	required_argument,	NULL, OPT_SESSION },
		{ "strict",	no_argument,		NULL, OPT_STRICT },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "version",	no_argument,		NULL, 'V' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ NULL,		0,			NULL, 0 }
	};
	struct tlsconf_files f;
	struct tlsconf *conf;
	struct tlssess *t;
	struct tlssess_info ti;
	struct addr a;
	struct pump p;
	const char *target = DEFAULT_TARGET, *name = NULL;
	const char *crls[MAX_CRLS];
	char	 pins[MAX_PINS][45], **prog = NULL;
	struct resume_file sf = { NULL, "", 0, NULL, 0 };
	enum tlssess_alert alert;
	sigset_t waitmask;
	char	 hostport[ADDR_HOSTMAX + ADDR_PORTMAX + 4];
	int	 npins = 0, require_ocsp = 0, i;
	struct child c;
	char	 err[1024], peer[ADDR_STRMAX];
	char	 certbuf[CREDPATH_MAX], keybuf[CREDPATH_MAX];
	char	 cabuf[CREDPATH_MAX];
	int	 ch, fd, status, verbose = 0, idle_s = 0;
	int	 timeout_s = DEFAULT_TIMEOUT;

	/* Descriptors 0-2 open before anything else is. */
	cli_sane_fds();

	/*
	 * "-- PROGRAM [ARG...]" first: what follows the first "--" is the
	 * program's, whatever getopt would make of it.
	 */
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			prog = i + 1 < argc ? &argv[i + 1] : NULL;
			if (prog == NULL)
				die(SEND_USAGE, "-- must be followed by a "
				    "program");
			argv[i] = NULL;
			argc = i;
			break;
		}

	/* Options. */
	memset(&f, 0, sizeof(f));
	f.crls = crls;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":C:c:hk:n:p:t:Vv", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'C':
			f.ca = optarg;
			break;
		case OPT_CRL:
			if (f.ncrls == MAX_CRLS)
				die(SEND_USAGE, "--crl: at most %d files",
				    MAX_CRLS);
			crls[f.ncrls++] = optarg;
			break;
		case OPT_PIN:
			if (npins == MAX_PINS)
				die(SEND_USAGE, "--pin: at most %d pins",
				    MAX_PINS);
			if (pin_parse(optarg, pins[npins], err,
			    sizeof(err)) < 0)
				die(SEND_USAGE, "%s", err);
			npins++;
			break;
		case OPT_REQUIRE_OCSP:
			require_ocsp = 1;
			break;
		case OPT_SESSION:
			sf.path = optarg;
			break;
		case OPT_STRICT:
			f.strict = 1;
			break;
		case 'c':
			f.cert = optarg;
			break;
		case 'h':
			cli_help(synopsis, options_help);
			return SEND_OK;
		case 'k':
			f.key = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'p':
			f.priority = optarg;
			break;
		case 't':
			timeout_s = idle_s = cli_number(optarg, "--timeout", 1,
			    86400);
			break;
		case 'V':
			cli_version();
			return SEND_OK;
		case 'v':
			verbose = 1;
			break;
		default:
			cli_bad_option(ch, argv, synopsis);
		}
	}
	argc -= optind;
	argv += optind;

	/* Defaults and sanity checks. */
	if (argc == 2 && strspn(argv[1], "0123456789") == strlen(argv[1]) &&
	    argv[1][0] != '\0') {
		/*
		 * HOST PORT, as nc and ssh's ProxyCommand %h %p have it; git
		 * passes an IPv6 address without brackets.
		 */
		if (argv[0][0] != '[' && strchr(argv[0], ':') != NULL)
			snprintf(hostport, sizeof(hostport), "[%s]:%s", argv[0],
			    argv[1]);
		else if (argv[0][0] != '[' || strchr(argv[0], ']') == NULL ||
		    strchr(argv[0], ']')[1] == '\0')
			snprintf(hostport, sizeof(hostport), "%s:%s", argv[0],
			    argv[1]);
		else
			die(SEND_USAGE, "%s: a port given twice", argv[0]);
		target = hostport;
	} else if (argc > 1)
		die(SEND_USAGE, "unexpected argument \"%s\" (to run a "
		    "program, put -- before it)", argv[1]);
	else if (argc == 1)
		target = argv[0];
	if (addr_parse(target, DEFAULT_PORT, 0, &a, err, sizeof(err)) < 0 ||
	    addr_connectable(&a, target, err, sizeof(err)) < 0)
		die(SEND_USAGE, "%s", err);
	if (a.host[0] == '\0')
		snprintf(a.host, sizeof(a.host), "localhost");
	if (name == NULL)
		name = a.host;
	if (*name == '\0')
		die(SEND_USAGE, "--servername: empty name");

	/* Writing to a closed stdout is an error to report, not a death. */
	cli_ignore_sigpipe();

	/* Credentials: a flag wins, else the first place that has each. */
	f.cert = find_default(f.cert, DEFAULT_CERT, "-c FILE", certbuf,
	    sizeof(certbuf));
	f.key = find_default(f.key, DEFAULT_KEY, "-k FILE", keybuf,
	    sizeof(keybuf));
	f.ca = find_default(f.ca, DEFAULT_CA, "-C FILE", cabuf, sizeof(cabuf));
	if ((conf = tlsconf_load(&f, err, sizeof(err))) == NULL)
		die(SEND_USAGE, "%s", err);
	if (sf.path != NULL && (resume_trust(&sf, conf, f.priority, pins,
	    npins, require_ocsp, name, err, sizeof(err)) < 0 ||
	    resume_load(&sf, name, verbose, err, sizeof(err)) < 0))
		die(SEND_USAGE, "%s", err);

	/* Connect and handshake. */
	if ((fd = connect_to(&a, timeout_s * 1000, verbose, peer,
	    sizeof(peer), err, sizeof(err))) < 0)
		die(SEND_NETWORK, "%s", err);
	if ((t = tlssess_client(conf, fd, name, err, sizeof(err))) == NULL)
		die(SEND_NETWORK, "%s: %s", peer, err);
	resume_offer(&sf, t, verbose);
	if (tlssess_handshake(t, timeout_s * 1000) < 0) {
		status = explain_failure(t, name, err, sizeof(err));
		/* Tell the server why we refuse it, as gnutls-cli does. */
		if (tlssess_error(t) == TLSSESS_VERIFY)
			tlssess_refuse(t, REFUSE_MS);
		die(status, "%s: %s", peer, err);
	}
	if (verbose)
		show_session(t);
	/*
	 * A resumed session brings no certificate: GnuTLS has verified
	 * nothing.  The chain it stored is judged again, now, as a full
	 * handshake would judge it (CRLs, dates, name, purpose).
	 */
	tlssess_info(t, &ti);
	if (ti.resumed && tlssess_reverify(t) < 0) {
		status = explain_identity(t, name, err, sizeof(err));
		tlssess_refuse(t, REFUSE_MS);
		die(status, "%s: %s (resumed session)", peer, err);
	}
	if ((status = check_extra(t, conf, pins, npins, require_ocsp, &alert,
	    err, sizeof(err))) != SEND_OK) {
		tlssess_alert(t, alert, REFUSE_MS);
		die(status, "%s: %s", peer, err);
	}

	/* With a program: it talks to the server instead of stdin/stdout. */
	if (prog != NULL && spawn_program(prog, t, fd, &c, err,
	    sizeof(err)) < 0)
		die(SEND_NETWORK, "%s", err);

	/* Signals from here on end us with our close_notify sent. */
	catch_stop_signals(&waitmask);

	/*
	 * Data, both ways at once, until both sides have closed.  TLS 1.3
	 * closes one direction at a time: after the server's close_notify
	 * our input still goes out.  TLS 1.2's close_notify ends both.
	 */
	memset(&p, 0, sizeof(p));
	p.s = t;
	p.sock = fd;
	p.idle_ms = idle_s * 1000;
	p.stop = &stop_signal;
	p.sigmask = &waitmask;
	if (prog != NULL)
		pump_program(&p, &c, 0);
	else
		pump_stdio(&p, STDIN_FILENO, STDOUT_FILENO);
	status = SEND_OK;
	switch (p.end) {
	case PUMP_DONE:
		if (p.unsent > 0) {
			warn("%s: server closed the connection before all "
			    "input was sent: not delivered (%llu bytes sent, "
			    "at least %zu more not)", peer, p.bytes_out,
			    p.unsent);
			status = SEND_NETWORK;
		} else if (ended_with_reset(fd, END_MS)) {
			warn("%s: server stopped reading: some input not "
			    "delivered (connection reset after its "
			    "close_notify)", peer);
			status = SEND_NETWORK;
		}
		break;
	case PUMP_TLS_ERROR:
		/*
		 * With TLS 1.3 the server judges our certificate after our
		 * handshake is done: its refusal arrives here.
		 */
		if (p.tls_err == TLSSESS_ALERT && p.bytes_in == 0) {
			status = explain_failure(t, name, err, sizeof(err));
			warn("%s: %s", peer, err);
			break;
		}
		warn("%s: %s", peer, tlssess_why(t));
		status = SEND_NETWORK;
		break;
	case PUMP_PEER_VANISHED:
		if (p.peer_closed)
			warn("%s: server stopped reading: some input not "
			    "delivered (%llu bytes sent, at least %zu "
			    "more not)", peer, p.bytes_out, p.unsent);
		else
			warn("%s: connection closed without close_notify; "
			    "replies may be truncated", peer);
		status = SEND_NETWORK;
		break;
	case PUMP_TIMEOUT:
		warn("%s: no data for %d seconds", peer, idle_s);
		tlssess_bye(t, BYE_MS);
		status = SEND_NETWORK;
		break;
	case PUMP_STOPPED:
		/* Asked to end: the server still hears a clean end. */
		tlssess_bye(t, STOP_BYE_MS);
		status = SEND_SIGNAL + stop_signal;
		break;
	case PUMP_PROGRAM_KILLED:
		/* Without close_notify: the server must not see a clean end. */
		status = SEND_OK;	/* end_program gives 128 + signal */
		break;
	case PUMP_LOCAL_ERROR:
		tlssess_bye(t, BYE_MS);
		if (p.local_out && p.local_errno == EPIPE)
			warn("%s went away (replies not all written)",
			    prog ? prog[0] : "the reader of standard output");
		else
			warn("%s: %s", prog ? prog[0] : p.local_out ?
			    "standard output" : "standard input",
			    strerror(p.local_errno));
		status = SEND_NETWORK;
		break;
	}
	if (verbose && status == SEND_OK)
		warn("%llu bytes sent, %llu received, closed with close_notify",
		    p.bytes_out, p.bytes_in);
	if (sf.path != NULL && status == SEND_OK)
		resume_save(&sf, name, t, verbose);
	if (prog != NULL && p.unread > 0)
		warn("%s: did not read the last %llu bytes of replies", prog[0],
		    p.unread);
	if (prog != NULL)
		status = end_program(&c, &p, status, verbose);

	/* Cleanup. */
	tlssess_free(t);
	close(fd);
	tlsconf_free(conf);
	return status;
}
