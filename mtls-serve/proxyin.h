/*
 * proxyin: read a connection's PROXY protocol header off its socket,
 * taking exactly the header's bytes and leaving the TLS ones.
 */
#ifndef MTLS_PROXYIN_H
#define MTLS_PROXYIN_H

#include <stddef.h>

#include "proxyhdr.h"

/*
 * Read the header from fd, waiting until the monotonic time deadline_ms
 * (timefmt_monotonic_ms()).  Returns 0 with h filled in; -1 with a reason
 * in err (no header, a malformed one, the peer left); -2 when the deadline
 * passed.
 */
int	 proxyin_read(int fd, long long deadline_ms, struct proxyhdr *h,
	    char *err, size_t errlen);

/*
 * After a LOCAL header (a health check): wait until the deadline for the
 * balancer's next move.  Returns 1 if it closed without sending a byte,
 * else 0.
 */
int	 proxyin_closed(int fd, long long deadline_ms);

#endif
