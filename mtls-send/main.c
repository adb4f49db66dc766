/*
 * mtls-send: standard input through mutual TLS to a server, its replies to
 * standard output.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "addr.h"
#include "child.h"
#include "cli.h"
#include "connect.h"
#include "diag.h"
#include "explain.h"
#include "peer.h"
#include "pump.h"
#include "send.h"
#include "session.h"
#include "tlsconf.h"
#include "tlsenv.h"
#include "tlssess.h"

#define DEFAULT_TARGET	"localhost:9443"
#define DEFAULT_PORT	"9443"
#define DEFAULT_CERT	"certs/client-cert.pem"
#define DEFAULT_KEY	"certs/client-key.pem"
#define DEFAULT_CA	"certs/ca-cert.pem"
#define DEFAULT_TIMEOUT	30
#define BYE_MS		5000

#define MAX_PINS	16
#define MAX_CRLS	16

enum { OPT_CRL = 256, OPT_PIN, OPT_REQUIRE_OCSP, OPT_SESSION, OPT_STRICT };

static const char synopsis[] =
    "usage: mtls-send [-hVv] [--require-ocsp] [--strict] [-C cafile]\n"
    "                 [-c certfile] [-k keyfile] [-n servername]\n"
    "                 [-p priority] [-t seconds] [--crl file]\n"
    "                 [--pin sha256//base64] [--session file]\n"
    "                 [host[:port]] [-- program [arg ...]]\n";

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
    "      --session FILE    resume the TLS session saved in FILE, and save\n"
    "                        the new one there (mode 0600)\n"
    "      --strict          a private key others can read is fatal\n"
    "  -t, --timeout SECONDS bound connect and handshake (default 30), and\n"
    "                        idle waits when given\n"
    "  -V, --version         show the version and exit\n"
    "  -v, --verbose         show connection details on stderr\n"
    "  -- PROGRAM [ARG...]   PROGRAM talks to the server: its stdout is\n"
    "                        sent, the replies are its stdin\n";

/* -v: what was negotiated and who the server is. */
static void
show_session(gnutls_session_t s)
{
	const gnutls_datum_t *chain;
	unsigned int n = 0;
	struct tlssess_info ti;
	struct peer_cert pc;

	tlssess_info(s, &ti);
	warn("%s, %s, group %s, session %s", ti.version, ti.cipher, ti.group,
	    ti.resumed ? "resumed" : "new");
	chain = gnutls_certificate_get_peers(s, &n);
	if (n > 0 && peer_describe_der(&chain[0], &pc) == 0) {
		warn("server subject: %s", pc.subject);
		warn("server issuer: %s", pc.issuer);
		warn("server validity: %s to %s", pc.not_before_s,
		    pc.not_after_s);
		warn("server serial: %s", pc.serial);
		warn("server sha256: %s", pc.sha256);
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
static int
check_extra(gnutls_session_t s, const struct tlsconf *conf, char pins[][45],
    int npins, int require_ocsp, char *err, size_t errlen)
{
	const gnutls_datum_t *chain;
	gnutls_x509_crt_t crt;
	unsigned int n = 0;
	char	 pin[45];
	int	 i, ret;

	if (tlsconf_crl_stale(conf, err, errlen))
		return SEND_IDENTITY;
	if (require_ocsp && !gnutls_ocsp_status_request_is_checked(s, 0)) {
		snprintf(err, errlen, "server stapled no valid OCSP response "
		    "(--require-ocsp)");
		return SEND_IDENTITY;
	}
	if (npins == 0)
		return SEND_OK;
	chain = gnutls_certificate_get_peers(s, &n);
	if (n == 0 || gnutls_x509_crt_init(&crt) < 0) {
		snprintf(err, errlen, "no server certificate to check --pin");
		return SEND_IDENTITY;
	}
	ret = gnutls_x509_crt_import(crt, &chain[0], GNUTLS_X509_FMT_DER);
	if (ret == 0)
		ret = peer_spki_sha256(crt, pin, NULL);
	gnutls_x509_crt_deinit(crt);
	if (ret < 0) {
		snprintf(err, errlen, "server certificate: %s",
		    gnutls_strerror(ret));
		return SEND_IDENTITY;
	}
	for (i = 0; i < npins; i++)
		if (strcmp(pins[i], pin) == 0)
			return SEND_OK;
	snprintf(err, errlen, "server key matches no --pin (its pin is "
	    "sha256//%s)", pin);
	return SEND_IDENTITY;
}

/*
 * -- PROGRAM: start it with the server's identity in SSL_SERVER_* and the
 * TCP endpoints in TCP*, joined to the session by pipes.
 */
static int
spawn_program(char **prog, gnutls_session_t s, int fd, struct child *c,
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
	tlsenv_session(&e, s, "SERVER");
	if ((envp = tlsenv_environ(&e)) == NULL) {
		snprintf(err, errlen, "out of memory");
		tlsenv_free(&e);
		return -1;
	}
	rv = child_spawn(c, prog, envp, err, errlen);
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
	st = child_reap(c->pid, 2000);
	if (verbose || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		warn("program: %s", child_status(st, how, sizeof(how)));
	if (status != SEND_OK)
		return status;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
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
	struct tlssess_certreq req;
	struct addr a;
	struct pump p;
	gnutls_session_t s;
	const char *target = DEFAULT_TARGET, *name = NULL;
	const char *crls[MAX_CRLS];
	char	 pins[MAX_PINS][45], **prog = NULL;
	const char *sessfile = NULL;
	int	 npins = 0, require_ocsp = 0, i;
	struct child c;
	char	 err[1024], peer[ADDR_STRMAX];
	int	 ch, fd, ret, status, verbose = 0, idle_s = 0;
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
	f.cert = DEFAULT_CERT;
	f.key = DEFAULT_KEY;
	f.ca = DEFAULT_CA;
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
			sessfile = optarg;
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
	if (argc > 1)
		die(SEND_USAGE, "unexpected argument \"%s\" (to run a "
		    "program, put -- before it)", argv[1]);
	if (argc == 1)
		target = argv[0];
	if (addr_parse(target, DEFAULT_PORT, 0, &a, err, sizeof(err)) < 0)
		die(SEND_USAGE, "%s", err);
	if (a.host[0] == '\0')
		snprintf(a.host, sizeof(a.host), "localhost");
	if (name == NULL)
		name = a.host;
	if (*name == '\0')
		die(SEND_USAGE, "--servername: empty name");

	/* Writing to a closed stdout is an error to report, not a death. */
	cli_ignore_sigpipe();

	/* Credentials. */
	if ((conf = tlsconf_load(&f, err, sizeof(err))) == NULL)
		die(SEND_USAGE, "%s", err);

	/* Connect and handshake. */
	if ((fd = connect_to(&a, timeout_s * 1000, verbose, peer,
	    sizeof(peer), err, sizeof(err))) < 0)
		die(SEND_NETWORK, "%s", err);
	if ((ret = tlssess_client(&s, conf, fd, name, &req)) < 0)
		die(SEND_NETWORK, "%s: %s", peer, gnutls_strerror(ret));
	if (sessfile != NULL)
		session_load(sessfile, name, s, verbose);
	if ((ret = tlssess_handshake(s, fd, timeout_s * 1000)) < 0) {
		status = explain_failure(s, ret, &req, name, err, sizeof(err));
		die(status, "%s: %s", peer, err);
	}
	if (verbose)
		show_session(s);
	if ((status = check_extra(s, conf, pins, npins, require_ocsp, err,
	    sizeof(err))) != SEND_OK)
		die(status, "%s: %s", peer, err);

	/* With a program: it talks to the server instead of stdin/stdout. */
	if (prog != NULL && spawn_program(prog, s, fd, &c, err,
	    sizeof(err)) < 0)
		die(SEND_NETWORK, "%s", err);

	/* Data, both ways at once, until both sides have closed. */
	memset(&p, 0, sizeof(p));
	p.s = s;
	p.sock = fd;
	p.in_fd = prog ? c.from_fd : STDIN_FILENO;
	p.out_fd = prog ? c.to_fd : STDOUT_FILENO;
	p.idle_ms = idle_s * 1000;
	p.stop_at_peer_eof = prog == NULL;
	p.close_out = prog != NULL;
	p.out_nonblock = prog != NULL;
	status = SEND_OK;
	switch (pump_run(&p)) {
	case PUMP_DONE:
		if (p.unsent > 0) {
			warn("%s: server closed the connection before all "
			    "input was sent", peer);
			status = SEND_NETWORK;
		}
		break;
	case PUMP_TLS_ERROR:
		/*
		 * With TLS 1.3 the server judges our certificate after our
		 * handshake is done: its refusal arrives here.
		 */
		if (p.tls_err == GNUTLS_E_FATAL_ALERT_RECEIVED &&
		    p.bytes_in == 0) {
			status = explain_failure(s, p.tls_err, &req, name, err,
			    sizeof(err));
			warn("%s: %s", peer, err);
			break;
		}
		warn("%s: %s", peer, tlssess_why(s, p.tls_err, err,
		    sizeof(err)));
		status = SEND_NETWORK;
		break;
	case PUMP_PEER_VANISHED:
		warn("%s: connection closed without close_notify; replies may "
		    "be truncated", peer);
		status = SEND_NETWORK;
		break;
	case PUMP_TIMEOUT:
		warn("%s: no data for %d seconds", peer, idle_s);
		tlssess_bye(s, fd, BYE_MS);
		status = SEND_NETWORK;
		break;
	case PUMP_LOCAL_ERROR:
		if (prog != NULL && p.local_errno == EPIPE) {
			/* The program stopped reading: it has had its say. */
			tlssess_bye(s, fd, BYE_MS);
			break;
		}
		warn("%s: %s", prog ? prog[0] : "standard input or output",
		    strerror(p.local_errno));
		status = SEND_NETWORK;
		break;
	}
	if (verbose && status == SEND_OK)
		warn("%llu bytes sent, %llu received, closed with close_notify",
		    p.bytes_out, p.bytes_in);
	if (sessfile != NULL && status == SEND_OK)
		session_save(sessfile, name, s, verbose);
	if (prog != NULL)
		status = end_program(&c, &p, status, verbose);

	/* Cleanup. */
	gnutls_deinit(s);
	close(fd);
	tlsconf_free(conf);
	return status;
}
