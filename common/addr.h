/*
 * addr: "[ADDR]:PORT" and "HOST[:PORT]" in and out.
 *
 * Accepted forms: "HOST:PORT", "[V6ADDR]:PORT", ":PORT" (no host: all
 * addresses), "HOST", "[V6ADDR]" and a bare IPv6 literal such as "::1" (the
 * default port), and "PORT" alone when allowed.
 */
#ifndef MTLS_ADDR_H
#define MTLS_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

#define ADDR_HOSTMAX	256
#define ADDR_PORTMAX	16
/* Room for "[" + an IPv6 text form + "]:" + a port. */
#define ADDR_STRMAX	80

struct addr {
	char	 host[ADDR_HOSTMAX];	/* "" when none was given */
	char	 port[ADDR_PORTMAX];	/* decimal, 0..65535 */
};

/*
 * Parse spec into a.  defport is used when spec has no port.  If
 * port_alone is non-zero, a spec made only of digits is a port, not a host.
 * Returns 0, or -1 with a reason (no trailing period) in err.
 */
int	 addr_parse(const char *spec, const char *defport, int port_alone,
	    struct addr *a, char *err, size_t errlen);

/*
 * Can a client connect to a?  Port 0 only means "any" to a listener.
 * Returns 0, or -1 with a reason naming spec in err.
 */
int	 addr_connectable(const struct addr *a, const char *spec, char *err,
	    size_t errlen);

/* Is host an IPv4 or IPv6 literal (no brackets)? */
int	 addr_is_ip(const char *host);

/* "127.0.0.1:443" or "[::1]:443" for a socket address; returns buf. */
char	*addr_format(const struct sockaddr *sa, char *buf, size_t n);

/* The numeric host alone, for a socket address; returns buf. */
char	*addr_format_host(const struct sockaddr *sa, char *buf, size_t n);

/* An address block: "192.0.2.0/24", "2001:db8::/32", or one address. */
struct addr_cidr {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 net[16];	/* the address, host bits cleared */
	int		 bits;		/* prefix length */
};

/* Parse spec into c.  Returns 0, or -1 with a reason in err. */
int	 addr_cidr_parse(const char *spec, struct addr_cidr *c, char *err,
	    size_t errlen);

/*
 * Is sa inside c?  An IPv4-mapped IPv6 address (::ffff:192.0.2.1) counts
 * as the IPv4 address it carries.
 */
int	 addr_cidr_match(const struct addr_cidr *c, const struct sockaddr *sa);

#endif
