/*
 * mtls-send: standard input through mutual TLS to a server, its replies to
 * standard output.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "addr.h"
#include "cli.h"
#include "connect.h"
#include "diag.h"
#include "explain.h"
#include "peer.h"
#include "pump.h"
#include "send.h"
#include "tlsconf.h"
#include "tlssess.h"

#define DEFAULT_TARGET	"localhost:9443"
#define DEFAULT_PORT	"9443"
#define DEFAULT_CERT	"certs/client-cert.pem"
#define DEFAULT_KEY	"certs/client-key.pem"
#define DEFAULT_CA	"certs/ca-cert.pem"
#define DEFAULT_TIMEOUT	30
#define BYE_MS		5000

static const char synopsis[] =
    "usage: mtls-send [-hVv] [-C cafile] [-c certfile] [-k keyfile]\n"
    "                 [-n servername] [-p priority] [-t seconds]\n"
    "                 [host[:port]]\n";

static const char options_help[] =
    "  -C, --ca FILE         trusted CAs for the server's certificate\n"
    "                        (default " DEFAULT_CA ")\n"
    "  -c, --cert FILE       client certificate chain, leaf first\n"
    "                        (default " DEFAULT_CERT ")\n"
    "  -h, --help            show this help and exit\n"
    "  -k, --key FILE        client private key (default " DEFAULT_KEY ")\n"
    "  -n, --servername NAME name the server's certificate must carry\n"
    "                        (default: the host given)\n"
    "  -p, --priority STRING GnuTLS priority string replacing the default\n"
    "  -t, --timeout SECONDS bound connect and handshake (default 30), and\n"
    "                        idle waits when given\n"
    "  -V, --version         show the version and exit\n"
    "  -v, --verbose         show connection details on stderr\n";

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

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "ca",		required_argument,	NULL, 'C' },
		{ "cert",	required_argument,	NULL, 'c' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "key",	required_argument,	NULL, 'k' },
		{ "servername",	required_argument,	NULL, 'n' },
		{ "priority",	required_argument,	NULL, 'p' },
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
	char	 err[1024], peer[ADDR_STRMAX];
	int	 ch, fd, ret, status, verbose = 0, idle_s = 0;
	int	 timeout_s = DEFAULT_TIMEOUT;

	/* Options. */
	memset(&f, 0, sizeof(f));
	f.cert = DEFAULT_CERT;
	f.key = DEFAULT_KEY;
	f.ca = DEFAULT_CA;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":C:c:hk:n:p:t:Vv", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'C':
			f.ca = optarg;
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
		die(SEND_USAGE, "unexpected argument \"%s\" (see --help)",
		    argv[1]);
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
	if ((ret = tlssess_handshake(s, fd, timeout_s * 1000)) < 0) {
		status = explain_failure(s, ret, &req, name, err, sizeof(err));
		die(status, "%s: %s", peer, err);
	}
	if (verbose)
		show_session(s);

	/* Data, both ways at once, until both sides have closed. */
	memset(&p, 0, sizeof(p));
	p.s = s;
	p.sock = fd;
	p.in_fd = STDIN_FILENO;
	p.out_fd = STDOUT_FILENO;
	p.idle_ms = idle_s * 1000;
	p.stop_at_peer_eof = 1;
	status = SEND_OK;
	switch (pump_run(&p)) {
	case PUMP_DONE:
		if (p.unsent > 0) {
			warn("%s: server closed the connection with %zu bytes "
			    "of input not sent", peer, p.unsent);
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
		warn("standard %s: %s", p.local_errno == EPIPE ? "output" :
		    "input or output", strerror(p.local_errno));
		status = SEND_NETWORK;
		break;
	}
	if (verbose && status == SEND_OK)
		warn("%llu bytes sent, %llu received, closed with close_notify",
		    p.bytes_out, p.bytes_in);

	/* Cleanup. */
	gnutls_deinit(s);
	close(fd);
	tlsconf_free(conf);
	return status;
}
