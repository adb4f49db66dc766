#include <sys/mman.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "slots.h"

struct slot {
	unsigned char	 authed;
	char		 group[ADDR_STRMAX];	/* "": no client counted */
	char		 peer[ADDR_STRMAX];
};

struct slots {
	/*
	 * Robust: the parent SIGKILLs stalled handshakes (--max-startups),
	 * and one may die holding the lock.  The next owner is told
	 * (EOWNERDEAD) and carries on: every write under the lock is one
	 * slot's own strings, which that slot's release clears anyway.
	 */
	pthread_mutex_t	 lock;
	size_t		 size;
	int		 max;
	struct slot	 slot[];
};

static void
lock(struct slots *s)
{
	if (pthread_mutex_lock(&s->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&s->lock);
}

struct slots *
slots_new(int max, char *err, size_t errlen)
{
	pthread_mutexattr_t a;
	struct slots *s;
	size_t	 size = sizeof(*s) + (size_t)max * sizeof(s->slot[0]);
	int	 r;

	s = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED) {
		snprintf(err, errlen, "mmap: %s", strerror(errno));
		return NULL;
	}
	/* Anonymous mappings start zeroed: every slot empty. */
	s->size = size;
	s->max = max;
	if ((r = pthread_mutexattr_init(&a)) != 0 ||
	    (r = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED)) ||
	    (r = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)) ||
	    (r = pthread_mutex_init(&s->lock, &a)) != 0) {
		snprintf(err, errlen, "process-shared lock: %s", strerror(r));
		munmap(s, size);
		return NULL;
	}
	pthread_mutexattr_destroy(&a);
	return s;
}

void
slots_free(struct slots *s)
{
	if (s == NULL)
		return;
	pthread_mutex_destroy(&s->lock);
	munmap(s, s->size);
}

int
slots_claim(struct slots *s, int i, const char *group, const char *peer,
    int max_per_ip)
{
	int	 j, n = 0, rv = 0;

	lock(s);
	for (j = 0; max_per_ip > 0 && j < s->max; j++)
		if (j != i && strcmp(s->slot[j].group, group) == 0)
			n++;
	if (max_per_ip > 0 && n >= max_per_ip)
		rv = -1;
	else {
		snprintf(s->slot[i].group, sizeof(s->slot[i].group), "%s",
		    group);
		snprintf(s->slot[i].peer, sizeof(s->slot[i].peer), "%s", peer);
	}
	pthread_mutex_unlock(&s->lock);
	return rv;
}

int
slots_count(struct slots *s, const char *group)
{
	int	 j, n = 0;

	lock(s);
	for (j = 0; j < s->max; j++)
		if (strcmp(s->slot[j].group, group) == 0)
			n++;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* One host usually owns a whole IPv6 /64 and picks addresses in it at will. */
char *
slots_group(const struct sockaddr *sa, char *buf, size_t n)
{
	struct in6_addr a6;
	char	 text[INET6_ADDRSTRLEN];

	if (sa->sa_family != AF_INET6 || IN6_IS_ADDR_V4MAPPED(
	    &((const struct sockaddr_in6 *)sa)->sin6_addr))
		return addr_format_host(sa, buf, n);
	a6 = ((const struct sockaddr_in6 *)sa)->sin6_addr;
	memset(&a6.s6_addr[8], 0, 8);
	if (inet_ntop(AF_INET6, &a6, text, sizeof(text)) == NULL)
		snprintf(text, sizeof(text), "?");
	snprintf(buf, n, "%s/64", text);
	return buf;
}

void
slots_release(struct slots *s, int i)
{
	lock(s);
	s->slot[i].authed = 0;
	s->slot[i].group[0] = '\0';
	s->slot[i].peer[0] = '\0';
	pthread_mutex_unlock(&s->lock);
}

void
slots_set_authed(struct slots *s, int i)
{
	__atomic_store_n(&s->slot[i].authed, 1, __ATOMIC_RELEASE);
}

int
slots_authed(struct slots *s, int i)
{
	return __atomic_load_n(&s->slot[i].authed, __ATOMIC_ACQUIRE);
}

char *
slots_peer(struct slots *s, int i, char *buf, size_t n)
{
	lock(s);
	snprintf(buf, n, "%s", s->slot[i].peer);
	pthread_mutex_unlock(&s->lock);
	return buf;
}

char *
slots_group_of(struct slots *s, int i, char *buf, size_t n)
{
	lock(s);
	snprintf(buf, n, "%s", s->slot[i].group);
	pthread_mutex_unlock(&s->lock);
	return buf;
}
