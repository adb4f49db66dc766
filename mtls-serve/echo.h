/*
 * echo: the server's reply to what a client sends, as a pump xform.
 *
 * Decorated: each line comes back as "TIME ADDR:PORT LINE\n", TIME being
 * the UTC time (RFC 3339, milliseconds) at which the line began to arrive.
 * Lines are streamed, never held whole: a 1 GiB line without a newline
 * costs no more memory than a short one.  A last line without a newline
 * gets one.  Raw: the bytes come back exactly.
 */
#ifndef MTLS_ECHO_H
#define MTLS_ECHO_H

#include "addr.h"
#include "pump.h"

struct echo {
	int	 raw;
	int	 mid_line;		/* the current line's prefix is out */
	char	 peer[ADDR_STRMAX];
	unsigned long long lines;
};

/* Set e up for a client at peer; returns the xform that uses it. */
struct pump_xform echo_xform(struct echo *e, const char *peer, int raw);

#endif
