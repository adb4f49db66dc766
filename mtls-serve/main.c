/*
 * mtls-serve: a fork-per-connection mutual-TLS echo server.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "child.h"
#include "conn.h"
#include "cli.h"
#include "credpath.h"
#include "diag.h"
#include "exit.h"
#include "listen.h"
#include "logline.h"
#include "opts.h"
#include "privdrop.h"
#include "sandbox.h"
#include "server.h"
#include "tlsconf.h"
#include "tlskey.h"
#include "tlsx509.h"

#define DEFAULT_LISTEN		":9443"
#define DEFAULT_PORT		"9443"
/* Looked up in $MTLS_DIR, ./certs, ~/.config/mtls, /etc/mtls (credpath). */
#define DEFAULT_CERT		"server-cert.pem"
#define DEFAULT_KEY		"server-key.pem"
#define DEFAULT_CA		"ca-cert.pem"
#define DEFAULT_TIMEOUT		30
#define DEFAULT_HANDSHAKE	10
#define DEFAULT_DRAIN		30
#define DEFAULT_MAX_CONNS	64
#define DEFAULT_MAX_STARTUPS	32

enum {
	OPT_ALLOW = 256, OPT_CRL, OPT_DRAIN, OPT_EXEC_USER, OPT_HANDSHAKE,
	OPT_MAX_PER_IP, OPT_MAX_STARTUPS, OPT_OCSP, OPT_STRICT, OPT_PROXY,
	OPT_PROXY_FROM, OPT_TICKET_KEY, OPT_GEN_TICKET_KEY, OPT_REUSEPORT
};

static const char synopsis[] =
    "usage: mtls-serve [-hiqrVv] [--proxy-protocol] [--reuseport]\n"
    "                  [--strict] [-C cafile] [-c certfile]\n"
    "                  [-k keyfile] [-l [addr]:port] [-m maxconns]\n"
    "                  [-p priority] [-t seconds] [-u user] [--allow rule]\n"
    "                  [--crl file] [--drain-timeout seconds]\n"
    "                  [--exec-user user] [--handshake-timeout seconds]\n"
    "                  [--max-per-ip n] [--max-startups n]\n"
    "                  [--ocsp-response file] [--proxy-from cidr]\n"
    "                  [--ticket-key file] [-- program [arg ...]]\n"
    "       mtls-serve --generate-ticket-key\n";

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
    "      --exec-user USER  run the program of -- as USER (needs root)\n"
    "      --generate-ticket-key\n"
    "                        print a new --ticket-key file's contents\n"
    "  -h, --help            show this help and exit\n"
    "      --handshake-timeout SECONDS\n"
    "                        time a client has to authenticate (default 10)\n"
    "  -i, --inetd           serve the one connection on stdin and exit\n"
    "  -k, --key FILE        server private key, or a pkcs11: URI\n"
    "                        (default " DEFAULT_KEY ")\n"
    "  -l, --listen [ADDR]:PORT\n"
    "                        where to listen (default " DEFAULT_LISTEN
    ", all addresses;\n"
    "                        port 0 picks a free port; repeatable)\n"
    "  -m, --max-conns N     serve at most N clients at once; more are\n"
    "                        refused with an alert and logged (default 64)\n"
    "      --max-per-ip N    serve at most N clients from one address\n"
    "                        (IPv6: from one /64)\n"
    "      --max-startups N  at most N connections still in their handshake;\n"
    "                        the oldest is dropped for a new one (default 32)\n"
    "      --ocsp-response FILE\n"
    "                        staple this DER OCSP response\n"
    "  -p, --priority STRING GnuTLS priority string replacing the default\n"
    "      --proxy-protocol  every connection starts with a PROXY protocol\n"
    "                        header (v1 or v2) naming the client\n"
    "      --proxy-from CIDR take connections only from these balancer\n"
    "                        addresses (repeatable; needs --proxy-protocol)\n"
    "  -q, --quiet           log only refusals and errors\n"
    "  -r, --raw             echo bytes exactly instead of decorated lines\n"
    "      --reuseport       share the port with other instances\n"
    "                        (SO_REUSEPORT: the kernel spreads connections)\n"
    "      --strict          a private key others can read is fatal\n"
    "      --ticket-key FILE session ticket master key shared by instances\n"
    "                        (reread on SIGHUP)\n"
    "  -t, --timeout SECONDS idle limit once connected, 0 for none\n"
    "                        (default 30)\n"
    "  -u, --user USER       run as USER once listening\n"
    "  -V, --version         show the version and exit\n"
    "  -v, --verbose         log more detail per connection\n"
    "  -- PROGRAM [ARG...]   run PROGRAM per connection, joined to the\n"
    "                        decrypted stream, instead of echoing\n"
    "Default files are looked for in $MTLS_DIR, ./certs,\n"
    "${XDG_CONFIG_HOME:-~/.config}/mtls and /etc/mtls, in that order.\n";

/* The server's own certificate, once, so the log says what it serves. */
static void
log_identity(const struct tlsconf *conf, const char *certpath, pid_t keypid)
{
	struct x509_facts pc;
	struct tlsconf_counts n;
	struct logline l;

	if (tlsconf_identity(conf, &pc) < 0)
		return;
	tlsconf_counts(conf, &n);
	logline_begin(&l, 0, "certificate");
	logline_str(&l, "file", certpath);
	tlsx509_log(&l, "", &pc);
	logline_fmt(&l, "chain", "%u", n.chain);
	logline_fmt(&l, "key_pid", "%ld", (long)keypid);
	logline_fmt(&l, "trusted_cas", "%u", n.cas);
	logline_fmt(&l, "crls", "%u", n.crls);
	if (n.deferred > 0)
		/* Issued by CAs not in --ca: checked against client chains. */
		logline_fmt(&l, "crls_deferred", "%u", n.deferred);
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
	tlsx509_free(&pc);
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
		die(SERVE_USAGE, "%s", err);
	return buf;
}

static void
pin_free(char *pin)
{
	if (pin == NULL)
		return;
	explicit_bzero(pin, strlen(pin));
	free(pin);
}

#ifndef MTLS_NO_KEYPROC
/* In the key process, once it has the key: the same --user as ours. */
static int
key_setup(void *user, char *err, size_t errlen)
{
	return user == NULL ? 0 : privdrop("--user", user, err, errlen);
}
#endif

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

/*
 * Under inetd (or systemd's Accept=yes) descriptors 0, 1 and 2 may all be
 * the client's connection: a log line on stderr would reach the client in
 * clear, before the handshake.  Then log to syslog, and give stderr (which
 * a program run with -- inherits) /dev/null.
 */
static void
inetd_stderr(void)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct stat st;
	int	 fd;

	if (fstat(STDERR_FILENO, &st) < 0 || !S_ISSOCK(st.st_mode) ||
	    getsockname(STDERR_FILENO, (struct sockaddr *)&ss, &len) < 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		return;
	diag_use_syslog();
	if ((fd = open("/dev/null", O_WRONLY)) >= 0) {
		dup2(fd, STDERR_FILENO);
		if (fd != STDERR_FILENO)
			close(fd);
	}
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
		{ "exec-user",	required_argument,	NULL, OPT_EXEC_USER },
		{ "generate-ticket-key", no_argument,	NULL,
		    OPT_GEN_TICKET_KEY },
		{ "handshake-timeout", required_argument, NULL, OPT_HANDSHAKE },
		{ "help",	no_argument,		NULL, 'h' },
		{ "inetd",	no_argument,		NULL, 'i' },
		{ "key",	required_argument,	NULL, 'k' },
		{ "listen",	required_argument,	NULL, 'l' },
		{ "max-conns",	required_argument,	NULL, 'm' },
		{ "max-per-ip",	required_argument,	NULL, OPT_MAX_PER_IP },
		{ "max-startups", required_argument,	NULL, OPT_MAX_STARTUPS },
		{ "ocsp-response", required_argument,	NULL, OPT_OCSP },
		{ "priority",	required_argument,	NULL, 'p' },
		{ "proxy-from",	required_argument,	NULL, OPT_PROXY_FROM },
		{ "proxy-protocol", no_argument,	NULL, OPT_PROXY },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "raw",	no_argument,		NULL, 'r' },
		{ "reuseport",	no_argument,		NULL, OPT_REUSEPORT },
		{ "strict",	no_argument,		NULL, OPT_STRICT },
		{ "ticket-key",	required_argument,	NULL, OPT_TICKET_KEY },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "user",	required_argument,	NULL, 'u' },
		{ "version",	no_argument,		NULL, 'V' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ NULL,		0,			NULL, 0 }
	};
	struct serve_opts o;
	struct tlsconf_files f;
	struct tlsconf *conf;
	struct sandbox *sb;
	struct listeners l;
	struct addr a;
	const char *crls[SERVE_MAX_CRLS];
	const char *listen_at[LISTEN_MAX];
	char	 certbuf[CREDPATH_MAX], keybuf[CREDPATH_MAX];
	char	 cabuf[CREDPATH_MAX];
	char	 err[1024], peer[ADDR_STRMAX], *pin;
	char	 key[2 * TLSCONF_TICKET_KEY_SIZE + 1];
	int	 ch, status, ret, nlisten = 0, i, genkey = 0;

	/* Descriptors 0-2 open before anything else is. */
	cli_sane_fds();

	/*
	 * Not dumpable: no core file with the key in it, and a process of
	 * the same user (a program run with --) cannot read our memory or
	 * environment through /proc or ptrace.
	 */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	/* Options. */
	memset(&o, 0, sizeof(o));
	memset(&f, 0, sizeof(f));
	o.timeout_s = DEFAULT_TIMEOUT;
	o.handshake_s = DEFAULT_HANDSHAKE;
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
				die(SERVE_USAGE, "--allow: at most %d rules",
				    SERVE_MAX_RULES);
			if (allow_parse(optarg, &o.allow[o.nallow], err,
			    sizeof(err)) < 0)
				die(SERVE_USAGE, "%s", err);
			o.nallow++;
			break;
		case 'C':
			f.ca = optarg;
			break;
		case OPT_CRL:
			if (f.ncrls == SERVE_MAX_CRLS)
				die(SERVE_USAGE, "--crl: at most %d files",
				    SERVE_MAX_CRLS);
			crls[f.ncrls++] = optarg;
			break;
		case OPT_DRAIN:
			o.drain_s = cli_number(optarg, "--drain-timeout", 0,
			    86400);
			break;
		case OPT_EXEC_USER:
			o.exec_user = optarg;
			break;
		case OPT_GEN_TICKET_KEY:
			genkey = 1;
			break;
		case OPT_PROXY:
			o.proxy = 1;
			break;
		case OPT_PROXY_FROM:
			if (o.nproxy_from == SERVE_MAX_PROXY_FROM)
				die(SERVE_USAGE, "--proxy-from: at most %d "
				    "blocks", SERVE_MAX_PROXY_FROM);
			if (addr_cidr_parse(optarg,
			    &o.proxy_from[o.nproxy_from], err,
			    sizeof(err)) < 0)
				die(SERVE_USAGE, "--proxy-from %s", err);
			o.nproxy_from++;
			break;
		case OPT_REUSEPORT:
			o.reuseport = 1;
			break;
		case OPT_TICKET_KEY:
			f.ticket_key = optarg;
			break;
		case OPT_HANDSHAKE:
			o.handshake_s = cli_number(optarg,
			    "--handshake-timeout", 1, 3600);
			break;
		case OPT_MAX_STARTUPS:
			o.max_startups = cli_number(optarg, "--max-startups", 1,
			    100000);
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
			return SERVE_OK;
		case 'i':
			o.inetd = 1;
			break;
		case 'k':
			f.key = optarg;
			break;
		case 'l':
			if (nlisten == LISTEN_MAX)
				die(SERVE_USAGE, "--listen: at most %d "
				    "addresses", LISTEN_MAX);
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
			o.timeout_s = cli_number(optarg, "--timeout", 0, 86400);
			break;
		case 'V':
			cli_version();
			return SERVE_OK;
		case 'v':
			o.verbosity = LOG_VERBOSE;
			break;
		default:
			cli_bad_option(ch, argv, synopsis);
		}
	}
	argc -= optind;
	argv += optind;

	/* A key for --ticket-key, on stdout: nothing else to do. */
	if (genkey) {
		if (argc > 0)
			die(SERVE_USAGE, "--generate-ticket-key takes no other "
			    "arguments");
		if (tlsconf_ticket_key_generate(key, sizeof(key), err,
		    sizeof(err)) < 0)
			die(SERVE_FAILED, "--generate-ticket-key: %s", err);
		printf("%s\n", key);
		explicit_bzero(key, sizeof(key));
		if (fflush(stdout) != 0 || ferror(stdout))
			die(SERVE_FAILED, "stdout: write error");
		return SERVE_OK;
	}

	/* The log's destination first: nothing may reach an inetd client. */
	if (o.inetd)
		inetd_stderr();

	/* Sanity checks. */
	if (argc > 0 && strcmp(argv[-1], "--") != 0)
		die(SERVE_USAGE, "unexpected argument \"%s\" (to run a program, "
		    "put -- before it)", argv[0]);
	if (argc > 0)
		o.prog = argv;
	if (o.max_startups > o.max_conns)
		die(SERVE_USAGE, "--max-startups %d exceeds --max-conns %d "
		    "(lower it, or raise -m)", o.max_startups, o.max_conns);
	if (o.max_startups == 0)
		o.max_startups = o.max_conns < DEFAULT_MAX_STARTUPS ?
		    o.max_conns : DEFAULT_MAX_STARTUPS;
	if (o.nproxy_from > 0 && !o.proxy)
		die(SERVE_USAGE, "--proxy-from needs --proxy-protocol");
	if (o.reuseport && o.inetd)
		die(SERVE_USAGE, "--reuseport cannot be combined with -i (there "
		    "is no socket to bind)");
	if (o.exec_user != NULL && o.prog == NULL)
		die(SERVE_USAGE, "--exec-user needs a program to run "
		    "(-- PROGRAM)");
	if (o.exec_user != NULL && o.user != NULL)
		die(SERVE_USAGE, "--exec-user cannot be combined with --user "
		    "(switching users per connection needs root)");
	if (o.exec_user != NULL && geteuid() != 0)
		die(SERVE_USAGE, "--exec-user %s: needs root", o.exec_user);
	if (o.exec_user != NULL && privdrop_check("--exec-user", o.exec_user,
	    err, sizeof(err)) < 0)
		die(SERVE_USAGE, "%s", err);
	if (nlisten == 0)
		listen_at[nlisten++] = DEFAULT_LISTEN;
	for (i = 0; i < nlisten; i++)
		if (addr_parse(listen_at[i], DEFAULT_PORT, 1, &a, err,
		    sizeof(err)) < 0)
			die(SERVE_USAGE, "--listen %s", err);
	if (o.user != NULL && privdrop_check("--user", o.user, err, sizeof(err)) < 0)
		die(SERVE_USAGE, "%s", err);
	if (o.prog != NULL && child_check(o.prog[0], err, sizeof(err)) < 0)
		die(SERVE_USAGE, "%s", err);

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

	/* The token PIN leaves the environment before anything can read it. */
	pin = tlsconf_take_pin();

	/*
	 * The private key: read by a process of its own, which only signs
	 * for the others; it never enters this process, nor any connection's.
	 */
#ifndef MTLS_NO_KEYPROC
	/* The key process switches to -u first: only root can. */
	if (o.user != NULL && geteuid() != 0)
		die(SERVE_FAILED, "--user %s: %s", o.user, strerror(EPERM));
	if ((f.signer = tlskey_start(f.key, pin, f.strict, key_setup,
	    (void *)o.user, err, sizeof(err))) == NULL)
		die(SERVE_USAGE, "%s", err);
	/* The PIN is the key process's alone. */
	pin_free(pin);
	pin = NULL;
#else
	/* bench/ only: the key in every process, to measure what it costs. */
	f.pin = pin;
#endif

	/*
	 * The sandbox of every connection's process, compiled once; and the
	 * time zone read now (syslog(3)'s timestamps), not inside it.
	 */
	if ((sb = sandbox_new(o.prog != NULL, err, sizeof(err))) == NULL)
		die(SERVE_FAILED, "%s", err);
	o.sandbox = sb;
	tzset();

	/* Credentials: once, before any fork; children only read them. */
	if ((conf = tlsconf_load(&f, err, sizeof(err))) == NULL)
		die(SERVE_USAGE, "%s", err);

	/* One connection on stdin (a super-server accepted it). */
	if (o.inetd) {
		if (o.user != NULL && privdrop("--user", o.user, err, sizeof(err)) < 0)
			die(SERVE_FAILED, "%s", err);
		/* This process is the connection's: a channel, no control. */
		if (tlskey_channel_open(f.signer, err, sizeof(err)) < 0)
			die(SERVE_FAILED, "%s", err);
		tlskey_child(f.signer);
		status = conn_linger(STDIN_FILENO, conn_serve(STDIN_FILENO,
		    NULL, inetd_peer(peer, sizeof(peer)), 1, conf, &o, NULL,
		    0));
		tlsconf_free(conf);
		tlskey_stop(f.signer);
		pin_free(pin);
		sandbox_free(sb);
		return status;
	}

	/* Bind, or take the sockets a service manager passed. */
	if ((ret = listen_inherited(&l, err, sizeof(err))) < 0)
		die(SERVE_USAGE, "%s", err);
	for (i = 0; ret == 0 && i < nlisten; i++) {
		/* Parsed above; each -l adds its sockets. */
		addr_parse(listen_at[i], DEFAULT_PORT, 1, &a, err,
		    sizeof(err));
		if (listen_open(&a, o.reuseport, &l, err,
		    sizeof(err)) < 0)
			die(SERVE_FAILED, "%s", err);
	}
	log_identity(conf, f.cert, tlskey_pid(f.signer));

	/* Privileges: none needed from here on. */
	if (o.user != NULL) {
		if (privdrop("--user", o.user, err, sizeof(err)) < 0)
			die(SERVE_FAILED, "%s", err);
		log_user(o.user);
	}

	/* Serve until told to stop. */
	status = server_run(&l, &conf, &f, &o);

	/* Cleanup. */
	tlsconf_free(conf);
	tlskey_stop(f.signer);
	pin_free(pin);
	sandbox_free(sb);
	return status;
}
