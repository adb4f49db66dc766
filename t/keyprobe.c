/*
 * keyprobe KEYFILE CERTFILE: the key process (common/tlskey.c) against
 * misbehaving connections, from outside TLS.  Prints one line per check,
 * "NAME: ok" or "NAME: FAILED (why)", for t/54-serve-keyproc.t; exit 0
 * when every check passed, 1 otherwise, 2 on a usage error.
 *
 * Each check opens channels as the parent does and talks to the key
 * process over them directly: a good signature (verified with the
 * certificate's public key) and no second one on that channel, nonsense,
 * a request whose sender vanishes, a flood of requests never read while
 * other channels are served, and the requests the key process must
 * refuse.
 */
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
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "fileio.h"
#include "keymsg.h"
#include "tlskey.h"

static int failed;

static void
check(const char *name, int good, const char *why)
{
	printf("%s: %s%s%s%s\n", name, good ? "ok" : "FAILED", good ? "" :
	    " (", good ? "" : why, good ? "" : ")");
	failed |= !good;
}

/* A new channel's descriptor, taken over from the handle. */
static int
channel(struct tlskey *k)
{
	char	 err[256];
	int	 fd;

	if (tlskey_channel_open(k, err, sizeof(err)) < 0) {
		fprintf(stderr, "keyprobe: %s\n", err);
		exit(1);
	}
	fd = dup(tlskey_channel_fd(k));
	tlskey_channel_close(k);
	return fd;
}

/* Send a request; read the answer (ms at most).  Returns its op, 0 when
 * the key process closed the channel, -1 on timeout. */
static int
ask(int fd, uint32_t op, uint32_t algo, uint32_t flags, const void *body,
    size_t len, int ms, struct keymsg *ans)
{
	static struct keymsg m;
	struct pollfd pfd = { fd, POLLIN, 0 };
	ssize_t	 n;

	memset(&m.hdr, 0, sizeof(m.hdr));
	m.hdr.op = op;
	m.hdr.algo = algo;
	m.hdr.flags = flags;
	m.hdr.len = (uint32_t)len;
	if (len > 0)
		memcpy(m.body, body, len);
	if (send(fd, &m, sizeof(m.hdr) + len, MSG_NOSIGNAL) < 0)
		return 0;
	if (poll(&pfd, 1, ms) <= 0)
		return -1;
	if ((n = recv(fd, ans, sizeof(*ans), 0)) <= 0)
		return 0;
	return (int)ans->hdr.op;
}

int
main(int argc, char *argv[])
{
	static struct keymsg ans;
	unsigned char hash[32], junk[64];
	gnutls_x509_crt_t crt;
	gnutls_pubkey_t pub;
	gnutls_datum_t d, sig;
	struct tlskey *k;
	unsigned char *pem;
	size_t	 pemlen;
	char	 err[1024];
	int	 a, b, i, st, r;
	pid_t	 pid;

	if (argc != 3) {
		fprintf(stderr, "usage: keyprobe KEYFILE CERTFILE\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((k = tlskey_start(argv[1], NULL, 0, NULL, NULL, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "keyprobe: %s\n", err);
		return 1;
	}
	pid = tlskey_pid(k);
	if (file_read(argv[2], &pem, &pemlen, err, sizeof(err)) < 0 ||
	    gnutls_x509_crt_init(&crt) < 0) {
		fprintf(stderr, "keyprobe: %s\n", err);
		return 1;
	}
	d.data = pem;
	d.size = (unsigned int)pemlen;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_pubkey_import_x509(pub, crt, 0) < 0) {
		fprintf(stderr, "keyprobe: %s: not a certificate\n", argv[2]);
		return 1;
	}
	memset(hash, 0x5a, sizeof(hash));

	/* A good request: an ECDSA-SHA256 signature the certificate verifies. */
	a = channel(k);
	r = ask(a, KEYOP_SIGN_HASH, GNUTLS_SIGN_ECDSA_SHA256, 0, hash,
	    sizeof(hash), 10000, &ans);
	d.data = hash;
	d.size = sizeof(hash);
	sig.data = ans.body;
	sig.size = ans.hdr.len;
	check("signature", r == KEYOP_OK && gnutls_pubkey_verify_hash2(pub,
	    GNUTLS_SIGN_ECDSA_SHA256, 0, &d, &sig) >= 0,
	    "no valid signature");
	/* One signature per connection: the channel is closed after it. */
	r = ask(a, KEYOP_SIGN_HASH, GNUTLS_SIGN_ECDSA_SHA256, 0, hash,
	    sizeof(hash), 10000, &ans);
	check("one-signature-per-channel", r == 0, "a second answer");
	close(a);

	/* What a handshake never needs is refused. */
	a = channel(k);
	r = ask(a, KEYOP_SIGN_HASH, GNUTLS_SIGN_RSA_SHA256, 0, hash,
	    sizeof(hash), 10000, &ans);
	check("wrong-algorithm", r == KEYOP_FAIL, "not refused");
	close(a);
	a = channel(k);
	r = ask(a, KEYOP_SIGN_HASH, GNUTLS_SIGN_ECDSA_SHA256, 0, hash, 20,
	    10000, &ans);
	check("wrong-hash-length", r == KEYOP_FAIL, "not refused");
	close(a);
	memset(junk, 1, sizeof(junk));
	a = channel(k);
	r = ask(a, KEYOP_SIGN_HASH, GNUTLS_SIGN_ECDSA_SHA256,
	    GNUTLS_PRIVKEY_SIGN_FLAG_TLS1_RSA, hash, sizeof(hash), 10000,
	    &ans);
	check("wrong-flags", r == KEYOP_FAIL, "not refused");
	close(a);
	{
		static unsigned char big[1024];

		a = channel(k);
		r = ask(a, KEYOP_SIGN_DATA, GNUTLS_SIGN_ECDSA_SHA256, 0, big,
		    sizeof(big), 10000, &ans);
		check("too-much-data", r == KEYOP_FAIL, "not refused");
		close(a);
		/* Not a handshake's shape: 64 bytes of anything. */
		a = channel(k);
		r = ask(a, KEYOP_SIGN_DATA, GNUTLS_SIGN_ECDSA_SHA256, 0, junk,
		    sizeof(junk), 10000, &ans);
		check("arbitrary-data", r == KEYOP_FAIL, "not refused");
		close(a);
	}
	/* A control operation from a connection: the channel is cut. */
	a = channel(k);
	r = ask(a, KEYOP_LOAD, 0, 0, NULL, 0, 10000, &ans);
	check("control-op-on-channel", r == 0, "channel not closed");
	close(a);

	/* Nonsense: that channel is closed, the key process lives. */
	a = channel(k);
	send(a, junk, 7, MSG_NOSIGNAL);
	{
		struct pollfd pfd = { a, POLLIN, 0 };

		r = poll(&pfd, 1, 10000) == 1 && recv(a, &ans, sizeof(ans),
		    0) == 0;
	}
	check("nonsense-closes-channel", r, "channel still open");
	close(a);

	/* A request whose sender is gone before the answer. */
	a = channel(k);
	{
		static struct keymsg m;

		m.hdr.op = KEYOP_SIGN_HASH;
		m.hdr.algo = GNUTLS_SIGN_ECDSA_SHA256;
		m.hdr.flags = 0;
		m.hdr.len = sizeof(hash);
		memcpy(m.body, hash, sizeof(hash));
		send(a, &m, sizeof(m.hdr) + sizeof(hash), MSG_NOSIGNAL);
	}
	close(a);

	/* A flood never read on one channel; others are served meanwhile. */
	a = channel(k);
	{
		static struct keymsg m;
		int	 sent = 0, served = 0;

		m.hdr.op = KEYOP_SIGN_HASH;
		m.hdr.algo = GNUTLS_SIGN_ECDSA_SHA256;
		m.hdr.flags = 0;
		m.hdr.len = sizeof(hash);
		memcpy(m.body, hash, sizeof(hash));
		for (i = 0; i < 2000; i++)
			if (send(a, &m, sizeof(m.hdr) + sizeof(hash),
			    MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
				sent++;
		for (i = 0; i < 20; i++) {
			b = channel(k);
			if (ask(b, KEYOP_SIGN_HASH, GNUTLS_SIGN_ECDSA_SHA256,
			    0, hash, sizeof(hash), 10000, &ans) == KEYOP_OK)
				served++;
			close(b);
		}
		snprintf(err, sizeof(err), "%d of 20 served beside a flood "
		    "of %d", served, sent);
		check("flood-does-not-stall-others", served == 20 && sent > 0,
		    err);
	}
	close(a);

	check("key-process-alive", kill(pid, 0) == 0, "it has ended");
	tlskey_stop(k);
	/* tlskey_stop() reaped it; a second wait finds nothing to reap. */
	check("key-process-reaped", waitpid(pid, &st, WNOHANG) < 0 &&
	    errno == ECHILD, "still a child");
	gnutls_pubkey_deinit(pub);
	gnutls_x509_crt_deinit(crt);
	free(pem);
	return failed;
}
