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

/*
 * Decode, in place, the first PEM block whose label contains want ("PRIVATE
 * KEY"): its DER bytes are left at the start of data, their count in
 * *derlen.  In place, so that no copy of a key's text or bytes is left in
 * freed memory (GnuTLS's own decoder copies the text); the caller wipes
 * data.  *encrypted says whether the block is encrypted (an "ENCRYPTED"
 * label, or a Proc-Type header).  Returns 0, 1 when there is no such
 * block, or -1 with "NAME: reason" in err.
 */
int	 file_pem_decode(const char *name, unsigned char *data, size_t len,
	    const char *want, size_t *derlen, int *encrypted, char *err,
	    size_t errlen);

#endif
