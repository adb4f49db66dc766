/*
 * probe: fetch the chain a live TLS server presents, and what it asks of
 * a client, for mtls-certinfo --connect.
 */
#ifndef MTLS_PROBE_H
#define MTLS_PROBE_H

#include <stddef.h>

#include "exit.h"
#include "show.h"
#include "tlsload.h"
#include "tlsconf.h"

/*
 * Connect to target ("HOST[:PORT]"), handshake (presenting conf's client
 * certificate if it has one), and append the server's chain to l.  The
 * chain is shown even if the handshake then fails.  servername (may be
 * NULL: the host) is sent as SNI.  Returns CERTINFO_OK (see
 * p->handshake_ok), CERTINFO_USAGE for a bad target, or CERTINFO_CONNECT
 * when no chain was received, with the reason in err.
 */
enum certinfo_exit probe_run(const char *target, const struct tlsconf *conf,
	    const char *servername, int timeout_ms, struct probe *p,
	    struct certlist *l, char *err, size_t errlen);

#endif
