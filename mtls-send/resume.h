/*
 * resume: --session FILE, TLS session resumption across runs.
 *
 * The file holds one line "mtls-session 2 TRUST NAME" and GnuTLS's session
 * data.  NAME is the server name the session was made for; TRUST is the
 * SHA-256 (hex) of what decided to trust that server: the CA certificates,
 * the --pin values, --require-ocsp and the name.  A session is offered only
 * under the same TRUST, and the caller verifies the server's chain again
 * after a resumption (with today's CRLs and clock).  The file is written
 * mode 0600, by rename, so a reader never sees half a file.
 */
#ifndef MTLS_RESUME_H
#define MTLS_RESUME_H

#include <stddef.h>

struct tlsconf;
struct tlssess;

struct resume_file {
	const char	*path;
	char		 trust[65];	/* hex SHA-256 of the trust settings */
	int		 writable;	/* absent, or one of ours: may save */
	unsigned char	*data;		/* the saved session, until offered */
	size_t		 len;
};

/* The most pins resume_trust() takes (mtls-send's --pin limit). */
#define RESUME_PINS_MAX	16

/*
 * The digest of the trust settings for name into sf->trust: the CAs, our
 * own certificate chain, the priority string (NULL: the default), the
 * pins, --require-ocsp and the name.  Returns 0, or -1 with the reason in
 * err.
 */
int	 resume_trust(struct resume_file *sf, const struct tlsconf *conf,
	    const char *priority, char pins[][45], int npins,
	    int require_ocsp, const char *name, char *err, size_t errlen);

/*
 * Look at sf->path before connecting.  A file that exists and is not one
 * of ours (no "mtls-session " line) is an error: -1 with the reason in
 * err, for the caller to exit with.  A symbolic link, a file that is not
 * a regular file we own, writable by others, or made for another name or
 * other trust settings, is ignored with a warning.  Otherwise the saved
 * session is kept in sf for resume_offer().  Returns 0.
 */
int	 resume_load(struct resume_file *sf, const char *name, int verbose,
	    char *err, size_t errlen);

/* Offer the session resume_load() found on t, and forget it. */
void	 resume_offer(struct resume_file *sf, struct tlssess *t,
	    int verbose);

/* Save t for name; a failure is a warning, not an error. */
void	 resume_save(const struct resume_file *sf, const char *name,
	    struct tlssess *t, int verbose);

#endif
