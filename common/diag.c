#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "diag.h"

/*
 * Where lines go: set once at start-up by diag_use_syslog(), before any
 * fork, and read-only afterwards.
 */
static int diag_syslog;

void
diag_use_syslog(void)
{
	openlog(diag_progname(), LOG_PID | LOG_NDELAY, LOG_DAEMON);
	diag_syslog = 1;
}

const char *
diag_progname(void)
{
	return program_invocation_short_name;
}

void
diag_writeline(char *line)
{
	size_t	 len = strlen(line);
	ssize_t	 w;
	char	*p = line;

	/*
	 * One write(2) per line, so lines from forked children that share
	 * stderr never interleave (stdio may split an unbuffered fprintf).
	 * The caller's buffer has room for the newline.
	 */
	if (diag_syslog) {
		/* syslog(3) adds the name and pid; the text follows ": ". */
		const char *text = strncmp(line, diag_progname(),
		    strlen(diag_progname())) == 0 && line[strlen(
		    diag_progname())] == ':' ? line + strlen(diag_progname()) +
		    1 : line;

		syslog(LOG_INFO, "%s", text + (*text == ' '));
		return;
	}
	line[len++] = '\n';
	while (len > 0) {
		w = write(STDERR_FILENO, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		p += w;
		len -= (size_t)w;
	}
}

/*
 * Where messages go instead of "prog: message" once a program has said so
 * (mtls-serve: its log is key=value throughout).  Set once at start-up,
 * before any fork, like openlog(3); never changed after.
 */
static diag_sink_fn diag_sink;

void
diag_set_sink(diag_sink_fn fn)
{
	diag_sink = fn;
}

static void
vdiag(enum diag_level level, int status, const char *fmt, va_list ap)
{
	char	 line[4096];
	int	 n;
	int	 saved = errno;

	if (diag_sink != NULL) {
		vsnprintf(line, sizeof(line), fmt, ap);
		diag_sink(level, status, line);
		errno = saved;
		return;
	}
	n = snprintf(line, sizeof(line), "%s: ", diag_progname());
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	diag_writeline(line);
	errno = saved;
}

void
die(int status, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vdiag(DIAG_FATAL, status, fmt, ap);
	va_end(ap);
	exit(status);
}

void
warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vdiag(DIAG_WARNING, 0, fmt, ap);
	va_end(ap);
}
