/*
 * session: --session FILE, TLS session resumption across runs.
 *
 * The file holds one line "mtls-session 1 NAME" (the server name it was
 * made for) and GnuTLS's session data.  It is written mode 0600, by
 * rename, so a reader never sees half a file.
 */
#ifndef MTLS_SESSION_H
#define MTLS_SESSION_H

#include <gnutls/gnutls.h>

/*
 * Offer the session saved in path for name.  A missing, stale or foreign
 * file is not an error: it is ignored, with a note under verbose.
 */
void	 session_load(const char *path, const char *name, gnutls_session_t s,
	    int verbose);

/* Save s for name in path; a failure is a warning, not an error. */
void	 session_save(const char *path, const char *name, gnutls_session_t s,
	    int verbose);

#endif
