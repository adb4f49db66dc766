/*
 * keymsg: the messages between mtls-serve's processes and its key process
 * (common/tlskey.c).  One message per SOCK_SEQPACKET packet, fixed header,
 * bounded body, host byte order (both ends are the same program on the
 * same machine).  No GnuTLS here: the parser is plain C, so it can be
 * fuzzed alone (t/fuzz/fuzz_keymsg.c).
 *
 * A connection process may only ask for signatures.  The parent, on its
 * own control socket, also hands over new channels and drives a reload.
 */
#ifndef MTLS_KEYMSG_H
#define MTLS_KEYMSG_H

#include <stddef.h>
#include <stdint.h>

/*
 * The largest body.  A TLS 1.3 CertificateVerify input is at most 64 + 34
 * + 64 bytes, a TLS 1.2 ServerKeyExchange's a few hundred; a signature is
 * at most 1024 bytes (RSA-8192); a public key (the reload's answer) a
 * little more.  Anything bigger is not a handshake's.
 */
#define KEYMSG_MAX	2048

enum keyop {
	/* Requests on a connection's channel (and on the control socket). */
	KEYOP_SIGN_HASH = 1,	/* algo, flags, the hash */
	KEYOP_SIGN_DATA = 2,	/* algo, flags, the data (Ed25519, TLS 1.3) */
	/* Requests on the control socket only. */
	KEYOP_CHANNEL = 3,	/* an SCM_RIGHTS fd: a new connection */
	KEYOP_LOAD = 4,		/* read the key again, keep it pending */
	KEYOP_COMMIT = 5,	/* the pending key serves new channels */
	KEYOP_ABORT = 6,	/* forget the pending key */
	/* Answers. */
	KEYOP_OK = 7,		/* a signature, or a key's info (LOAD) */
	KEYOP_FAIL = 8		/* a one-line reason */
};

struct keymsg_hdr {
	uint32_t	 op;	/* enum keyop */
	uint32_t	 algo;	/* gnutls_sign_algorithm_t, SIGN_* */
	uint32_t	 flags;	/* GnuTLS sign flags, SIGN_* */
	uint32_t	 len;	/* bytes in body */
};

struct keymsg {
	struct keymsg_hdr hdr;
	unsigned char	 body[KEYMSG_MAX];
};

/*
 * A key's info, the body of the key process's KEYOP_OK to KEYOP_LOAD and
 * its first message: what GnuTLS asks of an external key, and the public
 * key (DER SubjectPublicKeyInfo) to match certificates against.
 */
#define KEYMSG_NSIGN	256	/* sign algorithm ids below this */
struct keyinfo {
	uint32_t	 pk;		/* gnutls_pk_algorithm_t */
	uint32_t	 bits;
	unsigned char	 sign[KEYMSG_NSIGN / 8];	/* usable algorithms */
	uint32_t	 spki_len;
	unsigned char	 spki[KEYMSG_MAX - 3 * 4 - KEYMSG_NSIGN / 8];
};

/* Who sent a message: each may send only its own operations. */
enum keyfrom {
	KEYFROM_CONN,	/* a connection's channel: SIGN_* */
	KEYFROM_PARENT,	/* the control socket: CHANNEL, LOAD, COMMIT, ABORT */
	KEYFROM_KEYD	/* the key process: OK, FAIL */
};

/*
 * Check a received packet of n bytes: a whole header, the body as long as
 * it says and within bounds, an operation that sender may send.  Returns
 * 0 with *m filled (body copied), or -1 with the reason in why.  Never
 * reads past buf + n.
 */
int	 keymsg_parse(const void *buf, size_t n, enum keyfrom from,
	    struct keymsg *m, char *why, size_t whylen);

/* Is sign algorithm a in info's set? */
int	 keyinfo_has(const struct keyinfo *info, unsigned int a);

#endif
