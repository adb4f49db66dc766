/*
 * mtls-serve: a fork-per-connection mutual-TLS echo server.
 */
#include <sys/socket.h>

#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "addr.h"
#include "child.h"
#include "conn.h"
#include "cli.h"
#include "credpath.h"
#include "diag.h"
#include "listen.h"
#include "logline.h"
#include "peer.h"
#include "privdrop.h"
#include "serve.h"
#include "server.h"
#include "tlsconf.h"

#define DEFAULT_LISTEN		":9443"
#define DEFAULT_PORT		"9443"
/* Looked up in $MTLS_DIR, ./certs, ~/.config/mtls, /etc/mtls (credpath). */
#define DEFAULT_CERT		"server-cert.pem"
#define DEFAULT_KEY		"server-key.pem"
#define DEFAULT_CA		"ca-cert.pem"
#define DEFAULT_TIMEOUT		30
#define DEFAULT_DRAIN		30
#define DEFAULT_MAX_CONNS	64

enum {
	OPT_ALLOW = 256, OPT_CRL, OPT_DRAIN, OPT_MAX_PER_IP, OPT_OCSP,
	OPT_STRICT
};

static const char synopsis[] =
    "usage: mtls-serve [-hiqrVv] [--strict] [-C cafile] [-c certfile]\n"
    "                  [-k keyfile] [-l [addr]:port] [-m maxconns]\n"
    "                  [-p priority] [-t seconds] [-u user] [--allow rule]\n"
    "                  [--crl file] [--drain-timeout seconds]\n"
    "                  [--max-per-ip n]\n"
    "                  [--ocsp-response file] [-- program [arg ...]]\n";

static const char options_help[] =
    "      --allow RULE      admit only clients matching a rule (repeatable):\n"
    "                        cn:GLOB ou:GLOB dns:GLOB uri:GLOB email:GLOB\n"
    "                        sha256:HEX pin-sha256:BASE64\n"
    "  -C, --ca FILE         trusted CAs for client certificates\n"
    "                        (default " DEFAULT_CA ", see below)\n"
    "  -c, --cert FILE       server certificate chain, leaf first, or a\n"
    "                        pkcs11: URI (default " DEFAULT_CERT ")\n"
    "      --crl FILE        refuse clients this CRL revokes (repeatable)\n"
    "      --drain-timeout SECONDS\n"
    "                        at SIGTERM/SIGINT, wait this long for open\n"
    "                        connections (default 30); a second signal\n"
    "                        ends them at once\n"
    "  -h, --help            show this help and exit\n"
    "  -i, --inetd           serve the one connection on stdin and exit\n"
    "  -k, --key FILE        server private key, or a pkcs11: URI\n"
    "                        (default " DEFAULT_KEY ")\n"
    "  -l, --listen [ADDR]:PORT\n"
    "                        where to listen (default " DEFAULT_LISTEN
    ", all addresses;\n"
    "                        port 0 picks a free port; repeatable)\n"
    "  -m, --max-conns N     serve at most N clients at once; more are\n"
    "                        closed at once and logged (default 64)\n"
    "      --max-per-ip N    serve at most N clients from one address\n"
    "      --ocsp-response FILE\n"
    "                        staple this DER OCSP response\n"
    "  -p, --priority STRING GnuTLS priority string replacing the default\n"
    "  -q, --quiet           log only refusals and errors\n"
    "  -r, --raw             echo bytes exactly instead of decorated lines\n"
    "      --strict          a private key others can read is fatal\n"
    "  -t, --timeout SECONDS handshake and idle limit (default 30)\n"
    "  -u, --user USER       run as USER once listening\n"
    "  -V, --version         show the version and exit\n"
    "  -v, --verbose         log more detail per connection\n"
    "  -- PROGRAM [ARG...]   run PROGRAM per connection, joined to the\n"
    "                        decrypted stream, instead of echoing\n"
    "Default files are looked for in $MTLS_DIR, ./certs,\n"
    "${XDG_CONFIG_HOME:-~/.config}/mtls and /etc/mtls, in that order.\n";

/* The server's own certificate, once, so the log says what it serves. */
static void
log_identity(const struct tlsconf *conf, const char *certpath)
{
	struct peer_cert pc;
	struct logline l;

	if (conf->nchain == 0 || peer_describe(conf->chain[0], &pc) < 0)
		return;
	logline_begin(&l, 0, "certificate");
	logline_str(&l, "file", certpath);
	peer_log(&l, "", &pc);
	logline_fmt(&l, "chain", "%u", conf->nchain);
	logline_fmt(&l, "trusted_cas", "%u", conf->nca);
	logline_fmt(&l, "crls", "%u", conf->ncrl);
	logline_emit(&l);
	if (pc.not_after < time(NULL) || pc.not_before > time(NULL)) {
		/* Every client will refuse it: say so before the first. */
		logline_begin(&l, 0, "certificate-invalid");
		logline_str(&l, "level", "warning");
		logline_str(&l, "file", certpath);
		if (pc.not_after < time(NULL))
			logline_str(&l, "expired", pc.not_after_s);
		else
			logline_str(&l, "not_before", pc.not_before_s);
		logline_emit(&l);
	}
}

/* A default credential file, from the first place that has it. */
static const char *
find_default(const char *given, const char *name, const char *flag,
    char *buf, size_t n)
{
	char	 err[1024];

	if (given != NULL)
		return given;
	if (credpath_find(name, flag, buf, n, err, sizeof(err)) < 0)
		die(2, "%s", err);
	return buf;
}

/* The peer of a connection on stdin, from the socket or the super-server. */
static const char *
inetd_peer(char *buf, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const char *ip = getenv("TCPREMOTEIP"), *port = getenv("TCPREMOTEPORT");

	if (getpeername(STDIN_FILENO, (struct sockaddr *)&ss, &len) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
		return addr_format((struct sockaddr *)&ss, buf, n);
	if (ip == NULL) {
		ip = getenv("SOCAT_PEERADDR");
		port = getenv("SOCAT_PEERPORT");
	}
	snprintf(buf, n, "%s%s%s", ip ? ip : "unknown", port ? ":" : "",
	    port ? port : "");
	return buf;
}

static void
log_user(const char *user)
{
	struct logline l;

	logline_begin(&l, 0, "privileges-dropped");
	logline_str(&l, "user", user);
	logline_fmt(&l, "uid", "%ld", (long)getuid());
	logline_fmt(&l, "gid", "%ld", (long)getgid());
	logline_emit(&l);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "allow",	required_argument,	NULL, OPT_ALLOW },
		{ "ca",		required_argument,	NULL, 'C' },
		{ "cert",	required_argument,	NULL, 'c' },
		{ "crl",	required_argument,	NULL, OPT_CRL },
		{ "drain-timeout", required_argument,	NULL, OPT_DRAIN },
		{ "help",	no_argument,		NULL, 'h' },
		{ "inetd",	no_argument,		NULL, 'i' },
		{ "key",	required_argument,	NULL, 'k' },
		{ "listen",	required_argument,	NULL, 'l' },
		{ "max-conns",	required_argument,	NULL, 'm' },
		{ "max-per-ip",	required_argument,	NULL, OPT_MAX_PER_IP },
		{ "ocsp-response", required_argument,	NULL, OPT_OCSP },
		{ "priority",	required_argument,	NULL, 'p' },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "raw",	no_argument,		NULL, 'r' },
		{ "strict",	no_argument,		NULL, OPT_STRICT },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "user",	required_argument,	NULL, 'u' },
		{ "version",	no_argument,		NULL, 'V' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ NULL,		0,			NULL, 0 }
	};
	struct serve_opts o;
	struct tlsconf_files f;
	struct tlsconf *conf;
	struct listeners l;
	struct addr a;
	const char *crls[SERVE_MAX_CRLS];
	const char *listen_at[LISTEN_MAX];
	char	 certbuf[CREDPATH_MAX], keybuf[CREDPATH_MAX];
	char	 cabuf[CREDPATH_MAX];
	char	 err[1024], peer[ADDR_STRMAX];
	int	 ch, status, ret, nlisten = 0, i;

	/* Descriptors 0-2 open before anything else is. */
	cli_sane_fds();

	/* Options. */
	memset(&o, 0, sizeof(o));
	memset(&f, 0, sizeof(f));
	o.timeout_s = DEFAULT_TIMEOUT;
	o.drain_s = DEFAULT_DRAIN;
	o.max_conns = DEFAULT_MAX_CONNS;
	f.server = 1;
	f.crls = crls;
	opterr = 0;	/* our own messages, named by the short program name */
	while ((ch = getopt_long(argc, argv, ":C:c:hik:l:m:p:qrt:u:Vv", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case OPT_ALLOW:
			if (o.nallow == SERVE_MAX_RULES)
				die(2, "--allow: at most %d rules",
				    SERVE_MAX_RULES);
			if (allow_parse(optarg, &o.allow[o.nallow], err,
			    sizeof(err)) < 0)
				die(2, "%s", err);
			o.nallow++;
			break;
		case 'C':
			f.ca = optarg;
			break;
		case OPT_CRL:
			if (f.ncrls == SERVE_MAX_CRLS)
				die(2, "--crl: at most %d files",
				    SERVE_MAX_CRLS);
			crls[f.ncrls++] = optarg;
			break;
		case OPT_DRAIN:
			o.drain_s = cli_number(optarg, "--drain-timeout", 0,
			    86400);
			break;
		case OPT_MAX_PER_IP:
			o.max_per_ip = cli_number(optarg, "--max-per-ip", 1,
			    100000);
			break;
		case OPT_OCSP:
			f.ocsp = optarg;
			break;
		case OPT_STRICT:
			f.strict = 1;
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'c':
			f.cert = optarg;
			break;
		case 'h':
			cli_help(synopsis, options_help);
			return 0;
		case 'i':
			o.inetd = 1;
			break;
		case 'k':
			f.key = optarg;
			break;
		case 'l':
			if (nlisten == LISTEN_MAX)
				die(2, "--listen: at most %d addresses",
				    LISTEN_MAX);
			listen_at[nlisten++] = optarg;
			break;
		case 'm':
			o.max_conns = cli_number(optarg, "--max-conns", 1, 100000);
			break;
		case 'p':
			f.priority = optarg;
			break;
		case 'q':
			o.verbosity = LOG_QUIET;
			break;
		case 'r':
			o.raw = 1;
			break;
		case 't':
			o.timeout_s = cli_number(optarg, "--timeout", 1, 86400);
			break;
		case 'V':
			cli_version();
			return 0;
		case 'v':
			o.verbosity = LOG_VERBOSE;
			break;
		default:
			cli_bad_option(ch, argv, synopsis);
		}
	}
	argc -= optind;
	argv += optind;

	/* Sanity checks. */
	if (argc > 0 && strcmp(argv[-1], "--") != 0)
		die(2, "unexpected argument \"%s\" (to run a program, put -- "
		    "before it)", argv[0]);
	if (argc > 0)
		o.prog = argv;
	if (nlisten == 0)
		listen_at[nlisten++] = DEFAULT_LISTEN;
	for (i = 0; i < nlisten; i++)
		if (addr_parse(listen_at[i], DEFAULT_PORT, 1, &a, err,
		    sizeof(err)) < 0)
			die(2, "--listen %s", err);
	if (o.user != NULL && privdrop_check(o.user, err, sizeof(err)) < 0)
		die(2, "%s", err);
	if (o.prog != NULL && child_check(o.prog[0], err, sizeof(err)) < 0)
		die(2, "%s", err);

	/* Writing to a vanished peer must be an error, not a death. */
	cli_ignore_sigpipe();

	/*
	 * Usage errors are behind us: from here on everything mtls-serve
	 * writes to stderr is a log line, key=value, fatal errors and
	 * warnings too.
	 */
	diag_set_sink(logline_diag);

	/* Defaults: the first place that has each file; a flag wins. */
	f.cert = find_default(f.cert, DEFAULT_CERT, "-c FILE", certbuf,
	    sizeof(certbuf));
	f.key = find_default(f.key, DEFAULT_KEY, "-k FILE", keybuf,
	    sizeof(keybuf));
	f.ca = find_default(f.ca, DEFAULT_CA, "-C FILE", cabuf,
	    sizeof(cabuf));

	/* Credentials: once, before any fork; children only read them. */
	if ((conf = tlsconf_load(&f, err, sizeof(err))) == NULL)
		die(2, "%s", err);

	/* One connection on stdin (a super-server accepted it). */
	if (o.inetd) {
		if (o.user != NULL && privdrop(o.user, err, sizeof(err)) < 0)
			die(1, "%s", err);
		status = conn_serve(STDIN_FILENO, inetd_peer(peer,
		    sizeof(peer)), 1, conf, &o);
		tlsconf_free(conf);
		return status;
	}

	/* Bind, or take the sockets a service manager passed. */
	if ((ret = listen_inherited(&l, err, sizeof(err))) < 0)
		die(1, "%s", err);
	for (i = 0; ret == 0 && i < nlisten; i++) {
		/* Parsed above; each -l adds its sockets. */
		addr_parse(listen_at[i], DEFAULT_PORT, 1, &a, err,
		    sizeof(err));
		if (listen_open(&a, &l, err, sizeof(err)) < 0)
			die(1, "%s", err);
	}
	log_identity(conf, f.cert);

	/* Privileges: none needed from here on. */
	if (o.user != NULL) {
		if (privdrop(o.user, err, sizeof(err)) < 0)
			die(1, "%s", err);
		log_user(o.user);
	}

	/* Serve until told to stop. */
	status = server_run(&l, &conf, &f, &o);

	/* Cleanup. */
	tlsconf_free(conf);
	return status;
}
