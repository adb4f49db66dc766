/*
 * exec: run a program for a connection (mtls-serve -- PROGRAM).  The TLS
 * engine stays in this process; the program sees only plaintext on its
 * stdin and stdout, and who the peer is in its environment.
 */
#ifndef MTLS_EXEC_H
#define MTLS_EXEC_H

#include <signal.h>
#include <stddef.h>

#include "child.h"
#include "proxyhdr.h"
#include "pump.h"
#include "opts.h"

struct tlssess;

/*
 * Before the sandbox (see sandbox.h), before the handshake: the process
 * o->prog will run in, forked, waiting for its environment (see
 * child_prepare()).  Returns 0, or -1 with the reason in err.  Once the
 * client is admitted, exec_run() starts it; otherwise child_abort() ends
 * it.
 */
int	 exec_prepare(struct child *c, const struct serve_opts *o, char *err,
	    size_t n);

/*
 * Run o->prog, prepared in c, joined to session t on socket fd.  rule is
 * the --allow rule that admitted the peer ("" for none).  ph, unless NULL
 * or local, is the PROXY protocol header whose addresses stand for the
 * socket's.  When *stop is set (the server's shutdown) the program is cut
 * off and the client gets no close_notify.  Fills p with the pump's
 * results and progst with how the program ended.  Returns an enum
 * conn_status.  Needs no call the sandbox forbids.
 */
int	 exec_run(struct child *c, struct tlssess *t, int fd,
	    const char *rule, const struct proxyhdr *ph,
	    const struct serve_opts *o, volatile sig_atomic_t *stop,
	    struct pump *p, char *progst, size_t n);

#endif
