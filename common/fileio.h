/*
 * fileio: whole files into memory, with errors that name the file.
 */
#ifndef MTLS_FILEIO_H
#define MTLS_FILEIO_H

#include <stddef.h>

/* Files larger than this are refused: no certificate file is this big. */
#define FILEIO_MAX	(64u * 1024 * 1024)

/*
 * Read all of path ("-": standard input) into a NUL-terminated buffer that
 * the caller frees.  Returns 0, or -1 with "PATH: reason" in err.
 */
int	 file_read(const char *path, unsigned char **data, size_t *len,
	    char *err, size_t errlen);

/*
 * A PEM file cut short: a "-----BEGIN" line with no "-----END" line after
 * it.  GnuTLS only says "Base64 unexpected header error" then.  Returns 0
 * (complete, or not PEM at all), or -1 with "NAME: truncated PEM: no END
 * line for the BEGIN at line N" in err.
 */
int	 file_pem_check(const char *name, const unsigned char *data,
	    size_t len, char *err, size_t errlen);

#endif
