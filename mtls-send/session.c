#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "diag.h"
#include "fileio.h"
#include "session.h"

#define MAGIC	"mtls-session 1 "

void
session_load(const char *path, const char *name, gnutls_session_t s,
    int verbose)
{
	unsigned char *data, *nl;
	size_t	 len, hlen;
	char	 err[512];
	gnutls_datum_t d;
	int	 ret;

	if (file_read(path, &data, &len, err, sizeof(err)) < 0) {
		if (verbose && errno != ENOENT)
			warn("%s (no session resumed)", err);
		return;
	}
	nl = memchr(data, '\n', len);
	hlen = strlen(MAGIC);
	if (nl == NULL || (size_t)(nl - data) < hlen ||
	    memcmp(data, MAGIC, hlen) != 0 ||
	    (size_t)(nl - data) - hlen != strlen(name) ||
	    memcmp(data + hlen, name, strlen(name)) != 0) {
		if (verbose)
			warn("%s: not a session for %s; ignored", path, name);
		goto out;
	}
	d.data = nl + 1;
	d.size = (unsigned int)(len - (size_t)(nl + 1 - data));
	if ((ret = gnutls_session_set_data(s, d.data, d.size)) < 0 &&
	    verbose)
		warn("%s: %s; ignored", path, gnutls_strerror(ret));
out:
	gnutls_memset(data, 0, len);
	free(data);
}

void
session_save(const char *path, const char *name, gnutls_session_t s,
    int verbose)
{
	gnutls_datum_t d = { NULL, 0 };
	char	 tmp[4096];
	FILE	*f;
	int	 fd, ret, ok;

	/* TLS 1.3: the data is there once the server's ticket arrived. */
	if ((ret = gnutls_session_get_data2(s, &d)) < 0 || d.size == 0) {
		if (verbose)
			warn("%s: no session to save (%s)", path,
			    ret < 0 ? gnutls_strerror(ret) : "no ticket");
		gnutls_free(d.data);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		warn("%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		gnutls_free(d.data);
		return;
	}
	ok = fprintf(f, "%s%s\n", MAGIC, name) > 0 &&
	    fwrite(d.data, 1, d.size, f) == d.size;
	ok = fclose(f) == 0 && ok;
	gnutls_memset(d.data, 0, d.size);
	gnutls_free(d.data);
	if (!ok || rename(tmp, path) < 0) {
		warn("%s: %s", path, strerror(errno));
		unlink(tmp);
	}
}
