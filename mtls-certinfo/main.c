/*
 * mtls-certinfo: certificate chains, read, checked and explained.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "asn1dump.h"
#include "cli.h"
#include "diag.h"
#include "exit.h"
#include "fileio.h"
#include "probe.h"
#include "show.h"
#include "tlschain.h"
#include "tlsconf.h"
#include "tlsfacts.h"
#include "tlsload.h"

#define MAX_CRLS	16
#define PASSWORD_ENV	"MTLS_PASSWORD"

enum {
	OPT_ASN1 = 256, OPT_CONNECT, OPT_CRL, OPT_EXPIRES, OPT_JSON,
	OPT_PASSFILE, OPT_PINS, OPT_PURPOSE
};

static const char synopsis[] =
    "usage: mtls-certinfo [-hV] [--asn1] [--json] [--pins] [-C cafile]\n"
    "                     [-c certfile] [-k keyfile] [-n servername]\n"
    "                     [-p priority] [-t seconds] [--connect host[:port]]\n"
    "                     [--crl file] [--expires-within days]\n"
    "                     [--password-file file] [--purpose server|client]\n"
    "                     [file ...]\n";

static const char options_help[] =
    "      --asn1            dump the DER structure of each certificate\n"
    "  -C, --ca FILE         verify the chain against these CAs\n"
    "  -c, --cert FILE       with --connect: client certificate to present\n"
    "      --connect HOST[:PORT]\n"
    "                        show the chain a live server presents\n"
    "                        (port 9443 by default)\n"
    "      --crl FILE        CRL to check revocation with (repeatable)\n"
    "      --expires-within DAYS\n"
    "                        exit 1 if a certificate expires within DAYS\n"
    "  -h, --help            show this help and exit\n"
    "      --json            print one JSON document\n"
    "  -k, --key FILE        the leaf's private key: check it matches;\n"
    "                        with --connect, the client key\n"
    "  -n, --servername NAME check the leaf is valid for NAME (and, with\n"
    "                        --connect, send it as SNI)\n"
    "  -p, --priority STRING with --connect: GnuTLS priority string\n"
    "      --password-file FILE\n"
    "                        PKCS#12 password (else $" PASSWORD_ENV ")\n"
    "      --pins            print the SPKI pin in curl, HPKP and DANE forms\n"
    "      --purpose server|client\n"
    "                        check the leaf's extended key usage\n"
    "  -t, --timeout SECONDS with --connect: connect and handshake limit\n"
    "                        (default 10)\n"
    "  -V, --version         show the version and exit\n";

/* The PKCS#12 password: a file's first line, or the environment. */
static char *
read_password(const char *passfile)
{
	unsigned char *data;
	size_t	 len;
	char	 err[512];

	if (passfile == NULL) {
		const char *env = getenv(PASSWORD_ENV);

		return env ? strdup(env) : NULL;
	}
	if (file_read(passfile, &data, &len, err, sizeof(err)) < 0)
		die(CERTINFO_USAGE, "%s", err);
	data[strcspn((char *)data, "\r\n")] = '\0';
	return (char *)data;
}

static void
dump_asn1(const struct certlist *l)
{
	unsigned char *der;
	size_t	 len;
	char	 err[256];
	unsigned int i;

	for (i = 0; i < l->n; i++) {
		printf("Certificate #%u (%s)\n", i, l->source[i]);
		if (tlsload_export(l, i, &der, &len) < 0)
			die(CERTINFO_USAGE, "%s: cannot re-encode "
			    "certificate #%u", l->source[i], i);
		if (asn1dump(stdout, der, len, err, sizeof(err)) < 0)
			die(CERTINFO_USAGE, "%s: certificate #%u: %s",
			    l->source[i], i, err);
		free(der);
		if (i + 1 < l->n)
			putchar('\n');
	}
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "asn1",		no_argument,		NULL, OPT_ASN1 },
		{ "ca",			required_argument,	NULL, 'C' },
		{ "cert",		required_argument,	NULL, 'c' },
		{ "connect",		required_argument,	NULL, OPT_CONNECT },
		{ "crl",		required_argument,	NULL, OPT_CRL },
		{ "expires-within",	required_argument,	NULL, OPT_EXPIRES },
		{ "help",		no_argument,		NULL, 'h' },
		{ "json",		no_argument,		NULL, OPT_JSON },
		{ "key",		required_argument,	NULL, 'k' },
		{ "password-file",	required_argument,	NULL, OPT_PASSFILE },
		{ "pins",		no_argument,		NULL, OPT_PINS },
		{ "priority",		required_argument,	NULL, 'p' },
		{ "purpose",		required_argument,	NULL, OPT_PURPOSE },
		{ "servername",		required_argument,	NULL, 'n' },
		{ "timeout",		required_argument,	NULL, 't' },
		{ "version",		no_argument,		NULL, 'V' },
		{ NULL,			0,			NULL, 0 }
	};
	const char *cafile = NULL, *certfile = NULL, *keyfile = NULL;
	const char *connect = NULL, *passfile = NULL, *priority = NULL;
	const char *crls[MAX_CRLS];
	struct certlist certs;
	struct report r;
	struct probe probe;
	struct tlschain_trust *trust = NULL;
	char	 err[1024], *password;
	int	 ch, i, ncrl = 0, json = 0, asn1 = 0, timeout_s = 10, status;
	unsigned int k;

	/* Descriptors 0-2 open before anything else is. */
	cli_sane_fds();

	/* Options. */
	memset(&r, 0, sizeof(r));
	memset(&certs, 0, sizeof(certs));
	r.expires_within = -1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":C:c:hk:n:p:t:V", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case OPT_ASN1:
			asn1 = 1;
			break;
		case 'C':
			cafile = optarg;
			break;
		case 'c':
			certfile = optarg;
			break;
		case OPT_CONNECT:
			connect = optarg;
			break;
		case OPT_CRL:
			if (ncrl == MAX_CRLS)
				die(CERTINFO_USAGE, "--crl: at most %d files",
				    MAX_CRLS);
			crls[ncrl++] = optarg;
			break;
		case OPT_EXPIRES:
			r.expires_within = cli_number(optarg,
			    "--expires-within", 0, 100000);
			break;
		case 'h':
			cli_help(synopsis, options_help);
			return CERTINFO_OK;
		case OPT_JSON:
			json = 1;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'n':
			r.verdict.servername = optarg;
			break;
		case 'p':
			priority = optarg;
			break;
		case OPT_PASSFILE:
			passfile = optarg;
			break;
		case OPT_PINS:
			r.pins = 1;
			break;
		case OPT_PURPOSE:
			if (strcmp(optarg, "server") != 0 &&
			    strcmp(optarg, "client") != 0)
				die(CERTINFO_USAGE, "--purpose: \"%s\" is neither "
				    "server nor client", optarg);
			r.verdict.purpose = optarg;
			break;
		case 't':
			timeout_s = cli_number(optarg, "--timeout", 1, 3600);
			break;
		case 'V':
			cli_version();
			return CERTINFO_OK;
		default:
			cli_bad_option(ch, argv, synopsis);
		}
	}
	argc -= optind;
	argv += optind;

	/* Sanity checks. */
	if (json && asn1)
		die(CERTINFO_USAGE, "--json and --asn1 cannot be used together");
	if (connect != NULL && argc > 0)
		die(CERTINFO_USAGE, "--connect takes no FILE arguments");
	if (connect == NULL && certfile != NULL)
		die(CERTINFO_USAGE, "-c is for --connect; to check a key against "
		    "a certificate use FILE with -k");
	if (connect != NULL && (certfile == NULL) != (keyfile == NULL))
		die(CERTINFO_USAGE, "--connect needs both -c and -k to present a "
		    "client certificate");
	if (ncrl > 0 && cafile == NULL)
		die(CERTINFO_USAGE, "--crl needs -C: a CRL is checked against the "
		    "CAs that signed it");
	if ((r.verdict.servername != NULL || r.verdict.purpose != NULL) &&
	    cafile == NULL)
		die(CERTINFO_USAGE, "-n and --purpose need -C to verify against");
	cli_ignore_sigpipe();
	r.now = time(NULL);

	/* Input: files (or stdin), or a live server. */
	password = read_password(passfile);
	if (connect != NULL) {
		struct tlsconf_files f;
		struct tlsconf *conf;

		memset(&f, 0, sizeof(f));
		f.cert = certfile;
		f.key = keyfile;
		f.priority = priority;

		if ((conf = tlsconf_load(&f, err, sizeof(err))) == NULL)
			die(CERTINFO_USAGE, "%s", err);
		status = probe_run(connect, conf, r.verdict.servername,
		    timeout_s * 1000, &probe, &certs, err, sizeof(err));
		tlsconf_free(conf);
		if (status != CERTINFO_OK)
			die(status, "%s", err);
		r.probe = &probe;
		keyfile = NULL;	/* it was the client's key */
	} else if (argc == 0) {
		/* As cat(1) would, but a person at a terminal is told. */
		if (isatty(STDIN_FILENO))
			warn("reading a certificate from standard input "
			    "(paste it and end with Ctrl-D, or give a file)");
		if (tlsload_file(&certs, "-", password, err, sizeof(err)) < 0)
			die(CERTINFO_USAGE, "%s", err);
	} else
		for (i = 0; i < argc; i++)
			if (tlsload_file(&certs, argv[i], password, err,
			    sizeof(err)) < 0)
				die(CERTINFO_USAGE, "%s", err);
	free(password);
	r.certs = &certs;

	/* Facts, chain diagnostics, verification, expiry. */
	if ((r.facts = calloc(certs.n, sizeof(*r.facts))) == NULL)
		die(CERTINFO_USAGE, "out of memory");
	for (k = 0; k < certs.n; k++)
		if (tlsfacts_get(&certs, k, r.now, &r.facts[k]) < 0)
			die(CERTINFO_USAGE, "%s: certificate #%u cannot be "
			    "read", certs.source[k], k);
	if (cafile != NULL) {
		trust = tlschain_trust(cafile, &certs, crls, ncrl,
		    &r.verdict.crls, err, sizeof(err));
		if (trust == NULL)
			die(CERTINFO_USAGE, "%s", err);
	}
	if (tlschain_diagnose(&certs, keyfile, trust, &r.chain, err,
	    sizeof(err)) < 0)
		die(CERTINFO_USAGE, "%s", err);
	if (trust != NULL)
		tlschain_verify(&certs, trust, &r.verdict);
	if (r.expires_within >= 0)
		for (k = 0; k < certs.n; k++)
			if (r.facts[k].id.not_after - r.now <
			    (time_t)r.expires_within * 86400)
				r.expiring++;

	/* Output. */
	if (asn1)
		dump_asn1(&certs);
	else if (json)
		show_json(stdout, &r);
	else
		show_text(stdout, &r);
	if (fflush(stdout) != 0 || ferror(stdout))
		die(CERTINFO_USAGE, "standard output: write error");
	status = CERTINFO_OK;
	if ((r.verdict.done && !r.verdict.ok) || r.expiring > 0)
		status = CERTINFO_CHECK;
	/* A key that does not match is as wrong as a failed check. */
	for (k = 0; k < (unsigned int)r.chain.n; k++)
		if (strcmp(r.chain.d[k].code, "key-mismatch") == 0)
			status = CERTINFO_CHECK;

	/* Cleanup. */
	for (k = 0; k < certs.n; k++)
		tlsfacts_free(&r.facts[k]);
	free(r.facts);
	tlschain_trust_free(trust);
	tlsload_free(&certs);
	return status;
}
