/*
 * echo: the server's reply to what a client sends (mtls-serve without a
 * program).
 *
 * Decorated: each line comes back as "TIME ADDR:PORT LINE\n", TIME being
 * the UTC time (RFC 3339, milliseconds) at which the line began to arrive.
 * Lines are streamed, never held whole: a 1 GiB line without a newline
 * costs no more memory than a short one.  A last line without a newline
 * gets one.  Raw: the bytes come back exactly.
 */
#ifndef MTLS_ECHO_H
#define MTLS_ECHO_H

#include <signal.h>

#include "addr.h"
#include "opts.h"
#include "pump.h"

struct echo {
	int	 raw;
	int	 mid_line;		/* the current line's prefix is out */
	char	 peer[ADDR_STRMAX];
	unsigned long long lines;
};

/*
 * Echo what the client at peer sends on session t (socket fd) back to it
 * until both sides closed, it vanished, or it was idle for -t seconds.
 * *shut set says the server's shutdown ended our reading, not the client:
 * it still gets our close_notify.  Fills p with the pump's results and e
 * with the lines echoed.  Returns an enum conn_status.
 */
int	 echo_run(struct tlssess *t, int fd, const char *peer,
	    const struct serve_opts *o, const volatile sig_atomic_t *shut,
	    struct pump *p, struct echo *e);

#endif
