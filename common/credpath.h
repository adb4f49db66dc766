/*
 * credpath: where a program finds its credentials when no flag names them.
 *
 * The default files keep their names (server-cert.pem, client-key.pem,
 * ca-cert.pem, ...) and are looked for, each on its own, in this order:
 *
 *	$MTLS_DIR			(when set and not empty)
 *	./certs				(the demo PKI in a source tree)
 *	${XDG_CONFIG_HOME:-$HOME/.config}/mtls
 *	/etc/mtls
 *
 * A flag always wins: it is used as given and never looked up.
 */
#ifndef MTLS_CREDPATH_H
#define MTLS_CREDPATH_H

#include <stddef.h>

#define CREDPATH_MAX	4096

/*
 * The first place holding the file name (a bare file name).  Returns 0 with
 * the path in out (size n), or -1 with one line in err naming the file and
 * every place looked in, ending with how to name it (flag, e.g. "-c FILE").
 */
int	 credpath_find(const char *name, const char *flag, char *out, size_t n,
	    char *err, size_t errlen);

#endif
