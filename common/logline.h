/*
 * logline: one event, one line of key=value pairs on stderr.
 *
 *	mtls-serve: time=2026-11-27T04:11:03Z conn=7 event=accepted peer=[::1]:40312
 *
 * Values that come from a peer (certificate subjects, SNI, echoed text) go
 * through logline_str(), which quotes and escapes them, so no peer can forge
 * a log line with a newline or drive a terminal with escape sequences.
 */
#ifndef MTLS_LOGLINE_H
#define MTLS_LOGLINE_H

#include <stddef.h>

#include "diag.h"

#define LOGLINE_MAX	4096

struct logline {
	char	 buf[LOGLINE_MAX];
	size_t	 len;
};

/* Start a line: program name, time, the connection id (0: none), event. */
void	logline_begin(struct logline *, unsigned long conn, const char *event);

/* Add key=value; the value is quoted and escaped as needed.  NULL: "-". */
void	logline_str(struct logline *, const char *key, const char *val);

/* Add key=value from a trusted printf format (numbers, fixed words). */
void	logline_fmt(struct logline *, const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Write the line to stderr in one write(2). */
void	logline_emit(struct logline *);

/*
 * A diag sink (diag_set_sink): die() and warn() messages as log lines,
 * "prog: time=... level=warning event=warning reason=\"...\"", and for
 * die() level=fatal event=fatal ... exit=STATUS.
 */
void	logline_diag(enum diag_level level, int status, const char *msg);

/*
 * Copy src into dst (size n) with every byte outside printable ASCII, and
 * '"' and '\\', escaped as \n, \t, \", \\ or \xHH.  Always NUL-terminates;
 * a value too long is cut with "...".  Returns dst.
 */
char	*log_escape(char *dst, size_t n, const char *src);

#endif
