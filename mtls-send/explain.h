/*
 * explain: why a handshake (or, with TLS 1.3, the first read after it)
 * failed, in plain words, and which exit status that is.
 *
 * GnuTLS's error string alone does not tell a user whether the server
 * rejected their certificate or they rejected the server's; this does.
 */
#ifndef MTLS_EXPLAIN_H
#define MTLS_EXPLAIN_H

#include <stddef.h>

#include <gnutls/gnutls.h>

#include "exit.h"
#include "tlssess.h"

/*
 * Fill msg with the reason err ended session s, given what the server's
 * certificate request asked (req) and the name we expected (name).
 * Returns the exit status it means.
 */
enum send_exit explain_failure(gnutls_session_t s, int err,
	    const struct tlssess_certreq *req, const char *name, char *msg,
	    size_t n);

/*
 * Fill msg with why the server's certificate was not accepted, given the
 * verification status.  Certificate text in msg is escaped.  Returns
 * SEND_IDENTITY.
 */
enum send_exit explain_identity(gnutls_session_t s, unsigned int status,
	    const char *name, char *msg, size_t n);

#endif
