#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "diag.h"
#include "keymsg.h"
#include "tlsfile.h"
#include "tlskeyd.h"

/*
 * One loaded key.  Channels hold a reference to the key that was current
 * when they opened: a reload never changes the key under a handshake that
 * already sent the old certificate.
 */
struct keygen {
	gnutls_privkey_t key;
	struct keyinfo	 info;
	unsigned int	 refs;
};

struct chan {
	int		 fd;
	struct keygen	*gen;
};

struct keyd {
	int		 ctl;		/* -1 once the parent has gone */
	const char	*path;
	const char	*pin;
	int		 strict;
	struct keygen	*cur;
	struct keygen	*pend;
	struct chan	*ch;
	size_t		 nch, cap;
};

/*
 * The most a handshake signs whole: TLS 1.3's CertificateVerify input is
 * 64 + 34 + 64 bytes, TLS 1.2's ServerKeyExchange two randoms and the
 * ECDHE parameters (under 300 bytes for P-521).
 */
#define SIGN_DATA_MAX	512

/* The flags a handshake's signature may carry; anything else is refused. */
#define SIGN_FLAGS	(GNUTLS_PRIVKEY_SIGN_FLAG_RSA_PSS | \
			 GNUTLS_PRIVKEY_FLAG_REPRODUCIBLE | \
			 GNUTLS_PRIVKEY_FLAG_RSA_PSS_FIXED_SALT_LENGTH)

static void
keygen_free(struct keygen *g)
{
	if (g == NULL)
		return;
	gnutls_privkey_deinit(g->key);
	free(g);
}

/* Drop a reference; the last one of a key that is no longer used frees it. */
static void
keygen_put(struct keyd *d, struct keygen *g)
{
	if (--g->refs == 0 && g != d->cur && g != d->pend)
		keygen_free(g);
}

/*
 * Which signature algorithms the key can make, found by making one of
 * each (a token's RSA key may not do PSS); insecure ones are left out.
 */
static void
probe_algorithms(gnutls_privkey_t key, struct keyinfo *info)
{
	static const unsigned char probe[] = "mtls key probe";
	const gnutls_sign_algorithm_t *s;
	gnutls_datum_t data = { (unsigned char *)probe, sizeof(probe) - 1 };
	gnutls_datum_t sig;

	for (s = gnutls_sign_list(); *s != 0; s++) {
		if ((unsigned int)*s >= KEYMSG_NSIGN ||
		    !gnutls_sign_is_secure(*s) ||
		    !gnutls_sign_supports_pk_algorithm(*s,
		    (gnutls_pk_algorithm_t)info->pk))
			continue;
		if (gnutls_privkey_sign_data2(key, *s, 0, &data, &sig) < 0)
			continue;
		gnutls_free(sig.data);
		info->sign[*s / 8] |= (unsigned char)(1u << (*s % 8));
	}
	/* TLS 1.2's PKCS#1 v1.5 comes as a DigestInfo, "RSA-RAW". */
	if (info->pk == GNUTLS_PK_RSA) {
		unsigned char di[19 + 32] = {
			0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
			0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
			0x20
		};
		gnutls_datum_t d = { di, sizeof(di) };

		if (gnutls_privkey_sign_hash(key, 0,
		    GNUTLS_PRIVKEY_SIGN_FLAG_TLS1_RSA, &d, &sig) == 0) {
			gnutls_free(sig.data);
			info->sign[GNUTLS_SIGN_RSA_RAW / 8] |= (unsigned char)
			    (1u << (GNUTLS_SIGN_RSA_RAW % 8));
		}
	}
}

/* Load the key; a new keygen, or NULL with the reason in err. */
static struct keygen *
load(const struct keyd *d, char *err, size_t errlen)
{
	struct keygen *g;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t der = { NULL, 0 };
	unsigned int bits = 0;
	int	 ret, pk;

	if ((g = calloc(1, sizeof(*g))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (tlsconf_load_key(&g->key, d->path, d->pin, d->strict, err,
	    errlen) < 0) {
		gnutls_privkey_deinit(g->key);
		free(g);
		return NULL;
	}
	if ((pk = gnutls_privkey_get_pk_algorithm(g->key, &bits)) < 0 ||
	    (ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_privkey(pub, g->key, 0, 0)) < 0 ||
	    (ret = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER,
	    &der)) < 0 || der.size > sizeof(g->info.spki)) {
		snprintf(err, errlen, "%.*s: %s", (int)strcspn(d->path, "?"),
		    d->path, pk < 0 ? gnutls_strerror(pk) :
		    "cannot read its public key");
		gnutls_free(der.data);
		gnutls_pubkey_deinit(pub);
		keygen_free(g);
		return NULL;
	}
	g->info.pk = (uint32_t)pk;
	g->info.bits = bits;
	g->info.spki_len = der.size;
	memcpy(g->info.spki, der.data, der.size);
	gnutls_free(der.data);
	gnutls_pubkey_deinit(pub);
	probe_algorithms(g->key, &g->info);
	return g;
}

/*
 * An answer; seq (in the flags field) echoes a LOAD's, so that the parent
 * can tell a late answer to an earlier LOAD from the one it waits for.
 */
static void
answer_seq(int fd, enum keyop op, uint32_t seq, const void *body,
    size_t len)
{
	static struct keymsg m;

	memset(&m.hdr, 0, sizeof(m.hdr));
	m.hdr.op = op;
	m.hdr.flags = seq;
	m.hdr.len = (uint32_t)len;
	memcpy(m.body, body, len);
	/* A channel that cannot take one small answer is dropped later. */
	while (send(fd, &m, sizeof(m.hdr) + len, MSG_DONTWAIT |
	    MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

static void
answer(int fd, enum keyop op, const void *body, size_t len)
{
	answer_seq(fd, op, 0, body, len);
}

static void
answer_fail(int fd, const char *why)
{
	answer(fd, KEYOP_FAIL, why, strlen(why));
}

/*
 * DigestInfo of SHA-256, -384 and -512 (RFC 8017 9.2 note 1): the prefix,
 * then the hash, nothing else.
 */
static int
is_digestinfo(const unsigned char *p, size_t n)
{
	static const unsigned char pre[19] = {
		0x30, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
		0x65, 0x03, 0x04, 0x02, 0x00, 0x05, 0x00, 0x04, 0x00
	};
	static const struct {
		unsigned char	 outer, oid, hlen;
	} kind[] = { { 0x31, 1, 32 }, { 0x41, 2, 48 }, { 0x51, 3, 64 } };
	size_t	 i;

	for (i = 0; i < sizeof(kind) / sizeof(kind[0]); i++)
		if (n == sizeof(pre) + kind[i].hlen && p[1] == kind[i].outer &&
		    p[14] == kind[i].oid && p[18] == kind[i].hlen &&
		    p[0] == pre[0] && memcmp(p + 2, pre + 2, 12) == 0 &&
		    memcmp(p + 15, pre + 15, 3) == 0)
			return 1;
	return 0;
}

/*
 * What a handshake signs whole (EdDSA): TLS 1.3's CertificateVerify input,
 * 64 spaces, the server's context string and a transcript hash of 32 or
 * 48 bytes; or TLS 1.2's ServerKeyExchange, two 32-byte randoms and named
 * curve ECDHE parameters (type 3, the curve, the point's length, the
 * point).  A hash cannot be checked so: there, one signature per
 * connection is the bound.
 */
static int
is_handshake_data(const unsigned char *p, size_t n)
{
	static const char ctx[] = "TLS 1.3, server CertificateVerify";
	size_t	 i, pre = 64 + sizeof(ctx);	/* with the NUL */

	if (n == pre + 32 || n == pre + 48) {
		for (i = 0; i < 64; i++)
			if (p[i] != 0x20)
				return 0;
		return memcmp(p + 64, ctx, sizeof(ctx)) == 0;
	}
	return n > 68 && p[64] == 3 && n == 68 + (size_t)p[67];
}

/* A signature for a channel: only what a handshake asks for. */
static void
sign(struct chan *c, const struct keymsg *m)
{
	const struct keygen *g = c->gen;
	gnutls_datum_t in = { (unsigned char *)m->body, m->hdr.len };
	gnutls_datum_t sig = { NULL, 0 };
	int	 ret;

	if (!keyinfo_has(&g->info, m->hdr.algo) ||
	    (m->hdr.flags & ~(uint32_t)SIGN_FLAGS) != 0) {
		answer_fail(c->fd, "signature algorithm or flags not allowed");
		return;
	}
	if (m->hdr.algo == GNUTLS_SIGN_RSA_RAW) {
		/*
		 * TLS 1.2's RSA PKCS#1 v1.5: GnuTLS hands an external key
		 * the DigestInfo to pad and sign.  Only one of a SHA-2 hash
		 * is signed; nothing else goes through raw.
		 */
		if (m->hdr.op != KEYOP_SIGN_HASH ||
		    !is_digestinfo(m->body, m->hdr.len)) {
			answer_fail(c->fd, "not a SHA-2 DigestInfo");
			return;
		}
		ret = gnutls_privkey_sign_hash(g->key, 0,
		    GNUTLS_PRIVKEY_SIGN_FLAG_TLS1_RSA, &in, &sig);
	} else if (m->hdr.op == KEYOP_SIGN_HASH) {
		gnutls_digest_algorithm_t h = gnutls_sign_get_hash_algorithm(
		    (gnutls_sign_algorithm_t)m->hdr.algo);

		/* A hash is exactly as long as its algorithm's output. */
		if (h == GNUTLS_DIG_UNKNOWN ||
		    gnutls_hash_get_len(h) != m->hdr.len) {
			answer_fail(c->fd, "bad hash length");
			return;
		}
		ret = gnutls_privkey_sign_hash2(g->key,
		    (gnutls_sign_algorithm_t)m->hdr.algo, m->hdr.flags, &in,
		    &sig);
	} else if (m->hdr.len > SIGN_DATA_MAX ||
	    !is_handshake_data(m->body, m->hdr.len)) {
		answer_fail(c->fd, "not a handshake's data");
		return;
	} else
		ret = gnutls_privkey_sign_data2(g->key,
		    (gnutls_sign_algorithm_t)m->hdr.algo, m->hdr.flags, &in,
		    &sig);
	if (ret < 0 || sig.size > KEYMSG_MAX)
		answer_fail(c->fd, ret < 0 ? gnutls_strerror(ret) :
		    "signature too long");
	else
		answer(c->fd, KEYOP_OK, sig.data, sig.size);
	gnutls_free(sig.data);
}

static void
chan_add(struct keyd *d, int fd)
{
	struct chan *n;

	if (d->nch == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;

		if ((n = realloc(d->ch, cap * sizeof(*n))) == NULL) {
			close(fd);	/* that connection's handshake fails */
			return;
		}
		d->ch = n;
		d->cap = cap;
	}
	d->ch[d->nch].fd = fd;
	d->ch[d->nch].gen = d->cur;
	d->cur->refs++;
	d->nch++;
}

static void
chan_drop(struct keyd *d, size_t i)
{
	close(d->ch[i].fd);
	keygen_put(d, d->ch[i].gen);
	d->ch[i] = d->ch[--d->nch];
}

/*
 * One message from the parent.  Returns 1 when one was handled (more may
 * be queued), 0 when none was there, -1 when the parent has gone.
 */
static int
from_parent(struct keyd *d)
{
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(sizeof(int))];
	} cm;
	static struct keymsg raw, m;
	struct cmsghdr *c;
	struct iovec iov = { &raw, sizeof(raw) };
	struct msghdr mh;
	char	 why[1024];
	ssize_t	 n;
	int	 fd = -1;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	n = recvmsg(d->ctl, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return -1;
	if (mh.msg_flags & MSG_CTRUNC)
		warn("key process: a channel was lost (no descriptor left)");
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type ==
		    SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (keymsg_parse(&raw, (size_t)n, KEYFROM_PARENT, &m, why,
	    sizeof(why)) < 0 || (fd >= 0) != (m.hdr.op == KEYOP_CHANNEL)) {
		if (fd >= 0)
			close(fd);
		return 1;
	}
	switch (m.hdr.op) {
	case KEYOP_CHANNEL:
		chan_add(d, fd);
		break;
	case KEYOP_LOAD:
		if (d->pend != NULL && d->pend->refs == 0)
			keygen_free(d->pend);
		d->pend = NULL;
		/* A token's key stays: reading it again is a new login. */
		if (strncmp(d->path, "pkcs11:", 7) == 0) {
			answer_seq(d->ctl, KEYOP_OK, m.hdr.flags,
			    &d->cur->info, sizeof(d->cur->info));
			break;
		}
		if ((d->pend = load(d, why, sizeof(why))) == NULL)
			answer_seq(d->ctl, KEYOP_FAIL, m.hdr.flags, why,
			    strlen(why));
		else
			answer_seq(d->ctl, KEYOP_OK, m.hdr.flags,
			    &d->pend->info, sizeof(d->pend->info));
		break;
	case KEYOP_COMMIT:
		if (d->pend != NULL) {
			struct keygen *old = d->cur;

			d->cur = d->pend;
			d->pend = NULL;
			if (old->refs == 0)
				keygen_free(old);
		}
		break;
	case KEYOP_ABORT:
		if (d->pend != NULL)
			keygen_free(d->pend);
		d->pend = NULL;
		break;
	}
	return 1;
}

/*
 * One request from a connection.  Returns -1 when the channel is done:
 * after its one answer (a server signs once per handshake, and we refuse
 * renegotiation), so a connection's process, even one taken over, gets
 * one signature at most, never an oracle for as long as it lives.
 */
static int
from_conn(struct chan *c)
{
	static struct keymsg raw, m;
	char	 why[160];
	ssize_t	 n;

	n = recv(c->fd, &raw, sizeof(raw), MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return -1;
	/* Nonsense means a broken or hostile process: it gets no more. */
	if (keymsg_parse(&raw, (size_t)n, KEYFROM_CONN, &m, why,
	    sizeof(why)) < 0)
		return -1;
	sign(c, &m);
	return -1;
}

/*
 * Serve until the parent and every channel have gone.  Each round takes
 * at most one request from each channel: one busy connection cannot
 * starve the others.
 */
static void
serve(struct keyd *d)
{
	struct pollfd *pfd = NULL, *np;
	size_t	 cap = 0, i, n;
	int	 r;

	while (d->ctl >= 0 || d->nch > 0) {
		if (cap < d->nch + 1) {
			if ((np = realloc(pfd, (d->nch + 1) * 2 *
			    sizeof(*pfd))) == NULL) {
				warn("key process: out of memory");
				break;
			}
			pfd = np;
			cap = (d->nch + 1) * 2;
		}
		pfd[0].fd = d->ctl;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		for (i = 0; i < d->nch; i++) {
			pfd[i + 1].fd = d->ch[i].fd;
			pfd[i + 1].events = POLLIN;
			pfd[i + 1].revents = 0;
		}
		n = d->nch;
		if (poll(pfd, n + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			warn("key process: poll: %s", strerror(errno));
			break;
		}
		/*
		 * The parent first, all it has queued: it waits for nobody
		 * but a reload's answer.  New channels go past n.
		 */
		while (pfd[0].revents != 0 && d->ctl >= 0) {
			if ((r = from_parent(d)) < 0) {
				close(d->ctl);
				d->ctl = -1;
			}
			if (r != 1)
				break;
		}
		/* Backwards: chan_drop() moves the last one into i. */
		for (i = n; i > 0; i--)
			if (pfd[i].revents != 0 &&
			    from_conn(&d->ch[i - 1]) < 0)
				chan_drop(d, i - 1);
	}
	free(pfd);
}

/*
 * Nothing but the control socket and stderr stays open: the parent's
 * listening sockets (a service manager's too) are none of ours.
 */
static int
close_others(int ctl)
{
	int	 devnull, fd = STDERR_FILENO + 1;

	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		if (devnull > STDERR_FILENO)
			close(devnull);
	}
	if (ctl != fd) {
		dup3(ctl, fd, O_CLOEXEC);
		close(ctl);
	}
	close_range((unsigned int)fd + 1, ~0U, 0);
	return fd;
}

void
tlskeyd_run(int ctl, const char *keypath, const char *pin, int strict,
    tlskey_setup_fn setup, void *arg)
{
	struct sigaction sa;
	struct rlimit rl;
	struct keyd d;
	sigset_t none;
	char	 err[1024];

	/* The parent decides when we end: its signals are not ours. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Nobody of our uid may read our memory or trace us. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_SET_NAME, "mtls-serve-key", 0, 0, 0);
	ctl = close_others(ctl);
	/* A descriptor per open connection: as many as we may have. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	memset(&d, 0, sizeof(d));
	d.ctl = ctl;
	d.path = keypath;
	d.pin = pin;
	d.strict = strict;
	if ((d.cur = load(&d, err, sizeof(err))) == NULL ||
	    (setup != NULL && setup(arg, err, sizeof(err)) < 0)) {
		answer_fail(ctl, err);
		keygen_free(d.cur);
		exit(1);
	}
	answer(ctl, KEYOP_OK, &d.cur->info, sizeof(d.cur->info));
	serve(&d);
	while (d.nch > 0)
		chan_drop(&d, d.nch - 1);
	free(d.ch);
	keygen_free(d.pend);
	keygen_free(d.cur);
	if (d.ctl >= 0)
		close(d.ctl);
	exit(0);
}
