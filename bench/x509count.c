/*
 * bench/x509count.c - an LD_PRELOAD shim that counts the certificate
 * parsing mtls-serve's connection processes ask GnuTLS for (issue 14:
 * the peer's certificate is read once per session).  Each call of
 * gnutls_x509_crt_import(), gnutls_x509_crt_get_dn3() and
 * gnutls_x509_crt_get_fingerprint() that our program makes (not GnuTLS
 * itself, which calls its own functions directly) appends "PID NAME
 * CALLER" to $X509COUNT_FILE.  Built and used by bench/x509count.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

/* One line: our pid, what was called, and the object that called it. */
static void
note(const char *what, void *ra)
{
	const char *path = getenv("X509COUNT_FILE"), *obj = "?", *slash;
	char	 line[256];
	Dl_info	 di;
	int	 fd, n;

	if (path == NULL)
		return;
	if (dladdr(ra, &di) && di.dli_fname != NULL)
		obj = (slash = strrchr(di.dli_fname, '/')) ? slash + 1 :
		    di.dli_fname;
	n = snprintf(line, sizeof(line), "%ld %s %s\n", (long)getpid(), what,
	    obj);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600)) < 0)
		return;
	(void)!write(fd, line, (size_t)n);
	close(fd);
}

#define REAL(name)	(dlsym(RTLD_NEXT, name))

int
gnutls_x509_crt_import(gnutls_x509_crt_t c, const gnutls_datum_t *d,
    gnutls_x509_crt_fmt_t fmt)
{
	int	(*real)(gnutls_x509_crt_t, const gnutls_datum_t *,
		    gnutls_x509_crt_fmt_t) = REAL("gnutls_x509_crt_import");

	note("import", __builtin_return_address(0));
	return real(c, d, fmt);
}

int
gnutls_x509_crt_get_dn3(gnutls_x509_crt_t c, gnutls_datum_t *dn,
    unsigned int flags)
{
	int	(*real)(gnutls_x509_crt_t, gnutls_datum_t *, unsigned int) =
		    REAL("gnutls_x509_crt_get_dn3");

	note("get_dn3", __builtin_return_address(0));
	return real(c, dn, flags);
}

int
gnutls_x509_crt_get_fingerprint(gnutls_x509_crt_t c,
    gnutls_digest_algorithm_t algo, void *buf, size_t *len)
{
	int	(*real)(gnutls_x509_crt_t, gnutls_digest_algorithm_t, void *,
		    size_t *) = REAL("gnutls_x509_crt_get_fingerprint");

	note("fingerprint", __builtin_return_address(0));
	return real(c, algo, buf, len);
}
