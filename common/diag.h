/*
 * diag: the one way every mtls program reports a failure.
 *
 * Messages go to stderr as "PROGRAM: message", err(3) style: the thing, then
 * the reason, no trailing period.  The program name is the one the C library
 * already holds (program_invocation_short_name), so there is nothing to set.
 */
#ifndef MTLS_DIAG_H
#define MTLS_DIAG_H

/* Print "prog: message" on stderr and exit with status. */
void	die(int status, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

/* Print "prog: message" on stderr and carry on. */
void	warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

enum diag_level { DIAG_WARNING, DIAG_FATAL };

/* A sink gets the formatted message (no program name) and die's status. */
typedef void (*diag_sink_fn)(enum diag_level level, int status,
    const char *msg);

/*
 * Send every later die()/warn() message to fn instead of "prog: message"
 * (NULL: back to that).  Call once, at start-up, before any fork.
 */
void	diag_set_sink(diag_sink_fn fn);

/* The short program name, for messages built elsewhere. */
const char *diag_progname(void);

/*
 * Write a NUL-terminated line plus '\n' to stderr in one write(2).  The
 * buffer must have one spare byte after the NUL-terminated text.  After
 * diag_use_syslog(), the line goes to syslog(3) instead.
 */
void	diag_writeline(char *line);

/*
 * From now on, send every line to syslog (LOG_DAEMON) instead of stderr:
 * for a server whose stderr is its client's connection (inetd).  Called
 * once, at start-up, before any child is forked.
 */
void	diag_use_syslog(void);

#endif
