#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "diag.h"
#include "tlsconf.h"

#ifndef MTLS_VERSION
#define MTLS_VERSION "unknown"
#endif

void
cli_usage(const char *synopsis)
{
	fputs(synopsis, stderr);
	exit(CLI_USAGE_STATUS);
}

void
cli_help(const char *synopsis, const char *options)
{
	fputs(synopsis, stdout);
	fputs(options, stdout);
}

void
cli_version(void)
{
	printf("%s %s (GnuTLS %s)\n", diag_progname(), MTLS_VERSION,
	    tlsconf_version());
}

void
cli_bad_option(int ch, char *const argv[], const char *synopsis)
{
	if (ch == ':')
		warn("option %s needs an argument", argv[optind - 1]);
	else
		warn("unknown option %s", argv[optind - 1]);
	cli_usage(synopsis);
}

int
cli_number(const char *s, const char *what, int min, int max)
{
	char	*end;
	long	 v;

	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < min || v > max)
		die(CLI_USAGE_STATUS, "%s: \"%s\" is not a number from %d to "
		    "%d", what, s, min, max);
	return (int)v;
}

void
cli_ignore_sigpipe(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

void
cli_sane_fds(void)
{
	int	 fd;

	/*
	 * A descriptor 0, 1 or 2 left closed by our caller would be the
	 * next thing we open: a socket on 1 would get decrypted replies in
	 * clear, a key file on 2 our messages.  /dev/null fills the gaps.
	 */
	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			_exit(CLI_USAGE_STATUS);	/* nowhere to say why */
	}
}
