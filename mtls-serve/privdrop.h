/*
 * privdrop: become an unprivileged user once the privileged work (binding
 * a low port, reading root-only keys) is done.
 */
#ifndef MTLS_PRIVDROP_H
#define MTLS_PRIVDROP_H

#include <stddef.h>

/*
 * Does user exist (and is it not root)?  0, or -1 with err set, naming
 * the option opt ("--user").
 */
int	 privdrop_check(const char *opt, const char *user, char *err,
	    size_t errlen);

/*
 * Switch groups, group and user to those of user, and check that root
 * cannot be regained.  Returns 0, or -1 with the reason in err.
 */
int	 privdrop(const char *opt, const char *user, char *err,
	    size_t errlen);

#endif
