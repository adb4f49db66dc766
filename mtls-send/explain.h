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

#include "exit.h"

struct tlssess;

/*
 * Fill msg with the reason the last failure of t (tlssess_error()) ended
 * it, given what the server's certificate request asked and the name we
 * expected (name).  Returns the exit status it means.
 */
enum send_exit explain_failure(struct tlssess *t, const char *name,
	    char *msg, size_t n);

/*
 * Fill msg with why the server's certificate was not accepted (the last
 * failure of t was TLSSESS_VERIFY).  Certificate text in msg is escaped.
 * Returns SEND_IDENTITY.
 */
enum send_exit explain_identity(struct tlssess *t, const char *name,
	    char *msg, size_t n);

#endif
