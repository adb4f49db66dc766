/*
 * cli: what every mtls program's command line shares: usage, --help,
 * --version, numbers, option errors.  Usage errors exit with status 2 in
 * every program.
 */
#ifndef MTLS_CLI_H
#define MTLS_CLI_H

#define CLI_USAGE_STATUS	2

/* The synopsis on stderr, exit 2. */
void	 cli_usage(const char *synopsis) __attribute__((noreturn));

/* --help: the synopsis and the options on stdout. */
void	 cli_help(const char *synopsis, const char *options);

/* --version: "PROGRAM VERSION (GnuTLS VERSION)" on stdout. */
void	 cli_version(void);

/*
 * An option getopt_long() rejected (ch is ':' for a missing argument,
 * else '?'): one line naming it, then the usage; exits 2.
 */
void	 cli_bad_option(int ch, char *const argv[], const char *synopsis)
	    __attribute__((noreturn));

/* s as a number from min to max, or exit 2 naming the option (what). */
int	 cli_number(const char *s, const char *what, int min, int max);

/*
 * Before anything else is opened: descriptors 0, 1 and 2 are open, on
 * /dev/null if our caller closed them.  Exits 2 if that cannot be done.
 */
void	 cli_sane_fds(void);

/* Writing to a vanished peer or reader is an error to report, not death. */
void	 cli_ignore_sigpipe(void);

#endif
