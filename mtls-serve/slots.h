/*
 * slots: what the parent and the connection processes share about each
 * connection slot, in memory mapped before the first fork.  A child
 * learns its client's address only after fork when a PROXY protocol
 * header names it; so the count --max-per-ip enforces lives here, under
 * a process-shared lock, and the child itself claims its place in it.
 */
#ifndef MTLS_SLOTS_H
#define MTLS_SLOTS_H

#include <stddef.h>
#include <sys/socket.h>

#include "addr.h"

struct slots;

/* max slots, shared.  Returns NULL with a reason in err. */
struct slots *slots_new(int max, char *err, size_t errlen);

/* Unmap; slots_free(NULL) does nothing. */
void	 slots_free(struct slots *s);

/*
 * Slot i takes the client from address group group ("192.0.2.1", or
 * "2001:db8::/64"), connected from peer ("ADDR:PORT"), unless max_per_ip
 * (> 0) other slots already hold that group.  Returns 0, or -1 when the
 * group is full (slot i is then left as it was).
 */
int	 slots_claim(struct slots *s, int i, const char *group,
	    const char *peer, int max_per_ip);

/* How many slots hold clients of group. */
int	 slots_count(struct slots *s, const char *group);

/*
 * The group --max-per-ip counts by, for the client address sa: the IPv4
 * address, or for IPv6 the /64.  Returns buf.
 */
char	*slots_group(const struct sockaddr *sa, char *buf, size_t n);

/* Slot i is free again (its process has ended). */
void	 slots_release(struct slots *s, int i);

/* Slot i's client has authenticated: not a handshake in progress. */
void	 slots_set_authed(struct slots *s, int i);
int	 slots_authed(struct slots *s, int i);

/* Slot i's address group as last claimed, into buf ("" if none). */
char	*slots_group_of(struct slots *s, int i, char *buf, size_t n);

/* Slot i's peer as last claimed, copied into buf ("" if none). */
char	*slots_peer(struct slots *s, int i, char *buf, size_t n);

#endif
