#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "keymsg.h"
#include "timefmt.h"
#include "tls_int.h"
#include "tlskey.h"
#include "tlskeyd.h"

/*
 * How long a signature may take before a connection gives up on it (a
 * key process far behind: RSA-4096 for a burst of clients), and how long
 * the parent waits for the key process to load a key (a token may be
 * slow to log in).
 */
#define SIGN_WAIT_MS	10000
#define LOAD_WAIT_MS	60000
/*
 * A reload's wait: the accept loop stands still meanwhile, so it is short
 * (a file loads in milliseconds; a token's key is not loaded again).
 */
#define RELOAD_WAIT_MS	5000

struct tlskey {
	pid_t		 pid;
	int		 ctl;		/* parent: the control socket; -1 */
	int		 chan;		/* the next (or this) connection's */
	struct keyinfo	 cur;
	struct keyinfo	 pend;
	int		 has_pend;
	uint32_t	 seq;		/* the last LOAD's */
};

/* What an external key knows: whose channel, and the key's info. */
struct extkey {
	struct tlskey	*k;
	struct keyinfo	 info;
};

/* Send m (header and body) on fd; the sender never blocks for long. */
static int
send_msg(int fd, const struct keymsg *m)
{
	ssize_t	 n;

	do
		n = send(fd, m, sizeof(m->hdr) + m->hdr.len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -1 : 0;
}

/*
 * Wait up to ms for the key process's answer on fd.  Returns 0 with *m,
 * or -1 with the reason in why.
 */
static int
recv_answer(int fd, int ms, struct keymsg *m, char *why, size_t whylen)
{
	long long deadline = timefmt_monotonic_ms() + ms, left;
	struct pollfd pfd = { fd, POLLIN, 0 };
	static struct keymsg buf;	/* 2 KB: off the stack of a GnuTLS callback */
	ssize_t	 n;
	int	 r;

	for (;;) {
		if ((left = deadline - timefmt_monotonic_ms()) <= 0) {
			snprintf(why, whylen, "key process: no answer in %d s",
			    ms / 1000);
			return -1;
		}
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno != EINTR) {
			snprintf(why, whylen, "key process: %s",
			    strerror(errno));
			return -1;
		}
		if (r <= 0)
			continue;
		n = recv(fd, &buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			snprintf(why, whylen, "key process: %s", n == 0 ?
			    "gone" : strerror(errno));
			return -1;
		}
		if (keymsg_parse(&buf, (size_t)n, KEYFROM_KEYD, m, why,
		    whylen) < 0)
			return -1;
		return 0;
	}
}

/* An answer's reason (a KEYOP_FAIL body) into err. */
static void
fail_reason(const struct keymsg *m, char *err, size_t errlen)
{
	snprintf(err, errlen, "%.*s", (int)m->hdr.len,
	    (const char *)m->body);
}

/* The key's info from an answer; -1 when it is not one. */
static int
take_info(const struct keymsg *m, struct keyinfo *info, char *err,
    size_t errlen)
{
	if (m->hdr.op != KEYOP_OK || m->hdr.len != sizeof(*info)) {
		if (m->hdr.op == KEYOP_FAIL)
			fail_reason(m, err, errlen);
		else
			snprintf(err, errlen, "key process: unexpected "
			    "answer");
		return -1;
	}
	memcpy(info, m->body, sizeof(*info));
	if (info->spki_len > sizeof(info->spki)) {
		snprintf(err, errlen, "key process: bad key info");
		return -1;
	}
	return 0;
}

/*
 * One throwaway P-256 signature and check, in the parent: the crypto
 * libraries' lazily bound symbols (Debian's libgmp is not linked -z now)
 * are then resolved once here, not again with page faults in every
 * connection's process.  Before the key process, checking our key against
 * the certificate did this by the way (bench/notes.md).
 */
static void
warm_crypto(void)
{
	static const unsigned char text[] = "warm";
	gnutls_datum_t data = { (unsigned char *)text, sizeof(text) - 1 };
	gnutls_datum_t sig = { NULL, 0 };
	gnutls_privkey_t key = NULL;
	gnutls_pubkey_t pub = NULL;

	if (gnutls_privkey_init(&key) == 0 &&
	    gnutls_privkey_generate2(key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0, NULL, 0) == 0 &&
	    gnutls_privkey_sign_data2(key, GNUTLS_SIGN_ECDSA_SHA256, 0, &data,
	    &sig) == 0 && gnutls_pubkey_init(&pub) == 0 &&
	    gnutls_pubkey_import_privkey(pub, key, 0, 0) == 0)
		gnutls_pubkey_verify_data2(pub, GNUTLS_SIGN_ECDSA_SHA256, 0,
		    &data, &sig);
	gnutls_free(sig.data);
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(key);
}

struct tlskey *
tlskey_start(const char *keypath, const char *pin, int strict,
    tlskey_setup_fn setup, void *arg, char *err, size_t errlen)
{
	struct tlskey *k;
	struct keymsg m;
	int	 sv[2], st;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	k->chan = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "key process: socketpair: %s",
		    strerror(errno));
		free(k);
		return NULL;
	}
	if ((k->pid = fork()) < 0) {
		snprintf(err, errlen, "key process: fork: %s",
		    strerror(errno));
		close(sv[0]);
		close(sv[1]);
		free(k);
		return NULL;
	}
	if (k->pid == 0) {
		close(sv[0]);
		tlskeyd_run(sv[1], keypath, pin, strict, setup, arg);
	}
	close(sv[1]);
	k->ctl = sv[0];
	if (recv_answer(k->ctl, LOAD_WAIT_MS, &m, err, errlen) < 0 ||
	    take_info(&m, &k->cur, err, errlen) < 0) {
		close(k->ctl);
		kill(k->pid, SIGKILL);
		while (waitpid(k->pid, &st, 0) < 0 && errno == EINTR)
			;
		free(k);
		return NULL;
	}
	warm_crypto();
	return k;
}

pid_t
tlskey_pid(const struct tlskey *k)
{
	return k == NULL ? 0 : k->pid;
}

/* Ask the key process, over this process's channel, for a signature. */
static int
ext_sign(struct extkey *e, enum keyop op, gnutls_sign_algorithm_t algo,
    unsigned int flags, const gnutls_datum_t *in, gnutls_datum_t *sig)
{
	static struct keymsg m;	/* one request at a time per process */
	char	 why[160];
	int	 fd = e->k->chan;

	if (fd < 0 || in->size == 0 || in->size > KEYMSG_MAX ||
	    !keyinfo_has(&e->info, (unsigned int)algo))
		return GNUTLS_E_PK_SIGN_FAILED;
	m.hdr.op = op;
	m.hdr.algo = (uint32_t)algo;
	m.hdr.flags = flags;
	m.hdr.len = in->size;
	memcpy(m.body, in->data, in->size);
	if (send_msg(fd, &m) < 0 ||
	    recv_answer(fd, SIGN_WAIT_MS, &m, why, sizeof(why)) < 0 ||
	    m.hdr.op != KEYOP_OK)
		return GNUTLS_E_PK_SIGN_FAILED;
	if ((sig->data = gnutls_malloc(m.hdr.len)) == NULL)
		return GNUTLS_E_MEMORY_ERROR;
	memcpy(sig->data, m.body, m.hdr.len);
	sig->size = m.hdr.len;
	return 0;
}

static int
ext_sign_hash(gnutls_privkey_t key, gnutls_sign_algorithm_t algo,
    void *userdata, unsigned int flags, const gnutls_datum_t *hash,
    gnutls_datum_t *sig)
{
	(void)key;
	return ext_sign(userdata, KEYOP_SIGN_HASH, algo, flags, hash, sig);
}

static int
ext_sign_data(gnutls_privkey_t key, gnutls_sign_algorithm_t algo,
    void *userdata, unsigned int flags, const gnutls_datum_t *data,
    gnutls_datum_t *sig)
{
	(void)key;
	return ext_sign(userdata, KEYOP_SIGN_DATA, algo, flags, data, sig);
}

/*
 * GnuTLS's questions about the key.  Without HAVE_SIGN_ALGO, TLS 1.3
 * would not pick RSA-PSS for an RSA key (../shared/GNUTLS.md).
 */
static int
ext_info(gnutls_privkey_t key, unsigned int flags, void *userdata)
{
	struct extkey *e = userdata;

	(void)key;
	if (flags & GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO)
		return keyinfo_has(&e->info, GNUTLS_FLAGS_TO_SIGN_ALGO(flags));
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO)
		return (int)e->info.pk;
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS)
		return (int)e->info.bits;
	return -1;
}

static void
ext_deinit(gnutls_privkey_t key, void *userdata)
{
	(void)key;
	free(userdata);
}

int
tlskey_privkey(struct tlskey *k, int pending, gnutls_privkey_t *pkey)
{
	struct extkey *e;
	int	 ret;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return GNUTLS_E_MEMORY_ERROR;
	e->k = k;
	e->info = pending && k->has_pend ? k->pend : k->cur;
	if ((ret = gnutls_privkey_init(pkey)) < 0) {
		free(e);
		return ret;
	}
	/* No decryption: ECDHE only, and the key process would refuse. */
	if ((ret = gnutls_privkey_import_ext4(*pkey, e, ext_sign_data,
	    ext_sign_hash, NULL, ext_deinit, ext_info,
	    GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE)) < 0) {
		free(e);
		gnutls_privkey_deinit(*pkey);
		*pkey = NULL;
		return ret;
	}
	return 0;
}

int
tlskey_matches(const struct tlskey *k, int pending, gnutls_x509_crt_t crt)
{
	const struct keyinfo *info = pending && k->has_pend ? &k->pend :
	    &k->cur;
	gnutls_pubkey_t pub;
	gnutls_datum_t der = { NULL, 0 };
	int	 same = 0;

	if (gnutls_pubkey_init(&pub) < 0)
		return 0;
	if (gnutls_pubkey_import_x509(pub, crt, 0) == 0 &&
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der) == 0)
		same = der.size == info->spki_len &&
		    memcmp(der.data, info->spki, der.size) == 0;
	gnutls_free(der.data);
	gnutls_pubkey_deinit(pub);
	return same;
}

/* A control request without a body. */
static int
control(struct tlskey *k, enum keyop op)
{
	struct keymsg m;

	memset(&m.hdr, 0, sizeof(m.hdr));
	m.hdr.op = op;
	m.hdr.flags = op == KEYOP_LOAD ? ++k->seq : 0;
	if (k->ctl < 0)
		return -1;
	/* Never block the parent on a key process that is behind. */
	while (send(k->ctl, &m, sizeof(m.hdr), MSG_DONTWAIT |
	    MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

int
tlskey_load(struct tlskey *k, char *err, size_t errlen)
{
	struct keymsg m;

	k->has_pend = 0;
	if (control(k, KEYOP_LOAD) < 0) {
		snprintf(err, errlen, "key process: %s", strerror(errno));
		return -1;
	}
	/* A late answer to an earlier LOAD describes another key: skip it. */
	do
		if (recv_answer(k->ctl, RELOAD_WAIT_MS, &m, err, errlen) < 0)
			return -1;
	while (m.hdr.flags != k->seq);
	if (take_info(&m, &k->pend, err, errlen) < 0)
		return -1;
	k->has_pend = 1;
	return 0;
}

void
tlskey_commit(struct tlskey *k)
{
	if (!k->has_pend)
		return;
	control(k, KEYOP_COMMIT);
	k->cur = k->pend;
	k->has_pend = 0;
}

void
tlskey_abort(struct tlskey *k)
{
	if (!k->has_pend)
		return;
	control(k, KEYOP_ABORT);
	k->has_pend = 0;
}

int
tlskey_channel_open(struct tlskey *k, char *err, size_t errlen)
{
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct keymsg m;
	struct iovec iov;
	struct msghdr mh;
	ssize_t	 n;
	int	 sv[2];

	if (k == NULL)
		return 0;
	tlskey_channel_close(k);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "key channel: %s", strerror(errno));
		return -1;
	}
	memset(&m.hdr, 0, sizeof(m.hdr));
	m.hdr.op = KEYOP_CHANNEL;
	iov.iov_base = &m.hdr;
	iov.iov_len = sizeof(m.hdr);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	memset(&cm, 0, sizeof(cm));
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	cm.h.cmsg_level = SOL_SOCKET;
	cm.h.cmsg_type = SCM_RIGHTS;
	cm.h.cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(&cm.h), &sv[1], sizeof(int));
	/* Never block the accept loop: a full queue refuses this client. */
	do
		n = sendmsg(k->ctl, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	close(sv[1]);
	if (n < 0) {
		snprintf(err, errlen, "key process: %s", errno == EAGAIN ?
		    "too far behind" : strerror(errno));
		close(sv[0]);
		return -1;
	}
	k->chan = sv[0];
	return 0;
}

int
tlskey_channel_fd(const struct tlskey *k)
{
	return k == NULL ? -1 : k->chan;
}

void
tlskey_channel_close(struct tlskey *k)
{
	if (k == NULL)
		return;
	if (k->chan >= 0)
		close(k->chan);
	k->chan = -1;
}

void
tlskey_child(struct tlskey *k)
{
	if (k == NULL)
		return;
	if (k->ctl >= 0)
		close(k->ctl);
	k->ctl = -1;
	k->pid = 0;
}

void
tlskey_stop(struct tlskey *k)
{
	long long deadline;
	pid_t	 r;
	int	 st;

	if (k == NULL)
		return;
	tlskey_channel_close(k);
	if (k->ctl >= 0)
		close(k->ctl);
	if (k->pid > 0) {
		deadline = timefmt_monotonic_ms() + 5000;
		while ((r = waitpid(k->pid, &st, WNOHANG)) == 0 &&
		    timefmt_monotonic_ms() < deadline)
			poll(NULL, 0, 10);
		if (r == 0) {
			kill(k->pid, SIGKILL);
			while (waitpid(k->pid, &st, 0) < 0 && errno == EINTR)
				;
		}
	}
	free(k);
}
