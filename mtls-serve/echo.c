#include <stdio.h>
#include <string.h>

#include "echo.h"
#include "exit.h"
#include "timefmt.h"
#include "tlssess.h"

/* How long a last close_notify may take when the peer does not read. */
#define BYE_MS	1000

static size_t
echo_raw(const char *in, size_t inlen, size_t *used, char *out, size_t room)
{
	size_t	 n = inlen < room ? inlen : room;

	memcpy(out, in, n);
	*used = n;
	return n;
}

static size_t
echo_fn(void *arg, const char *in, size_t inlen, size_t *used, char *out,
    size_t room)
{
	struct echo *e = arg;
	char	 ts[TIMEFMT_MAX], prefix[TIMEFMT_MAX + ADDR_STRMAX + 4];
	size_t	 plen = 0, o = 0, i = 0, n;
	const char *nl;

	if (e->raw)
		return echo_raw(in, inlen, used, out, room);
	while (i < inlen) {
		if (!e->mid_line) {
			/* One clock read per batch is enough. */
			if (plen == 0)
				plen = (size_t)snprintf(prefix, sizeof(prefix),
				    "%s %s ", timefmt_now(ts, sizeof(ts)),
				    e->peer);
			if (room - o < plen + 1)
				break;
			memcpy(out + o, prefix, plen);
			o += plen;
			e->mid_line = 1;
		}
		n = inlen - i;
		if (n > room - o)
			n = room - o;
		if (n == 0)
			break;
		if ((nl = memchr(in + i, '\n', n)) != NULL) {
			n = (size_t)(nl - (in + i)) + 1;
			e->mid_line = 0;
			e->lines++;
		}
		memcpy(out + o, in + i, n);
		o += n;
		i += n;
	}
	*used = i;
	return o;
}

static size_t
echo_eof(void *arg, char *out, size_t room)
{
	struct echo *e = arg;

	(void)room;
	if (e->raw || !e->mid_line)
		return 0;
	/* Every reply is a whole line, even for a last line without '\n'. */
	e->mid_line = 0;
	e->lines++;
	out[0] = '\n';
	return 1;
}

int
echo_run(struct tlssess *t, int fd, const char *peer,
    const struct serve_opts *o, const volatile sig_atomic_t *shut,
    struct pump *p, struct echo *e)
{
	struct pump_xform x;

	memset(e, 0, sizeof(*e));
	e->raw = o->raw;
	snprintf(e->peer, sizeof(e->peer), "%s", peer);
	x.fn = echo_fn;
	x.eof = echo_eof;
	x.arg = e;
	memset(p, 0, sizeof(*p));
	p->s = t;
	p->sock = fd;
	p->idle_ms = o->timeout_s * 1000;
	switch (pump_loopback(p, &x)) {
	case PUMP_DONE:
		return CONN_OK;
	case PUMP_PEER_VANISHED:
		if (!*shut)
			return CONN_BROKEN;
		/* Our own shutdown(SHUT_RD), not the peer: say goodbye. */
		tlssess_bye(t, BYE_MS);
		return CONN_OK;
	case PUMP_TIMEOUT:
		/* A close_notify still tells the client it was not cut off. */
		tlssess_bye(t, BYE_MS);
		return CONN_TIMEOUT;
	default:
		return CONN_BROKEN;
	}
}
