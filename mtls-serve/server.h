/*
 * server: the parent process.  It only accepts, forks and reaps; each
 * connection is served by a child of its own.
 */
#ifndef MTLS_SERVER_H
#define MTLS_SERVER_H

#include "exit.h"
#include "listen.h"
#include "opts.h"
#include "tlsconf.h"

/*
 * Accept on every socket in l until SIGTERM or SIGINT, then stop
 * accepting, give the children drain_s seconds to finish (a second
 * SIGTERM or SIGINT cuts that short), end the rest with SIGTERM, and reap
 * them all.  SIGHUP loads f again into *conf (the
 * old set stays if the new one fails).  Returns the program's exit status:
 * SERVE_OK, or SERVE_FAILED if the loop itself failed.
 */
enum serve_exit server_run(struct listeners *l, struct tlsconf **conf,
	    const struct tlsconf_files *f, const struct serve_opts *o);

#endif
