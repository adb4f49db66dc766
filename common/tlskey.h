/*
 * tlskey: a server's private key in a process of its own (privilege
 * separation, after OpenSSH's monitor and relayd's ca.c).
 *
 * The key process is forked before anything reads the key, reads it
 * itself (a file, or a pkcs11: URI with one login for its lifetime), and
 * then only signs.  Every connection gets its own channel to it (a
 * SOCK_SEQPACKET socketpair made by the parent just before the fork), so
 * a slow or dead connection process stalls nobody else.  Connection
 * processes see the key as a GnuTLS external key (gnutls_privkey_import_
 * ext4) whose signatures come back over that channel: the key's bytes,
 * its PEM text and its scalar never enter the parent or any process that
 * reads from the network.  Only signing a handshake needs is served:
 * bounded lengths, the algorithms the key can make, no decryption.
 *
 * The key process ignores SIGINT, SIGTERM and SIGHUP (the parent drives
 * it) and ends when the parent and every channel have gone.  ps(1) shows
 * it as mtls-serve-key.
 */
#ifndef MTLS_TLSKEY_H
#define MTLS_TLSKEY_H

#include <sys/types.h>

#include <stddef.h>

struct tlskey;

/*
 * Run in the key process once the key is loaded, before it serves (to
 * drop privileges).  Returns 0, or -1 with the reason in err.
 */
typedef int (*tlskey_setup_fn)(void *arg, char *err, size_t errlen);

/*
 * Start the key process for keypath (a file or a pkcs11: URI; pin: the
 * token's PIN or NULL; strict: a key file others can read is an error)
 * and wait until it has the key.  Returns the handle, or NULL with the
 * reason ("PATH: reason") in err; the key process has then ended.
 */
struct tlskey *tlskey_start(const char *keypath, const char *pin,
	    int strict, tlskey_setup_fn setup, void *arg, char *err,
	    size_t errlen);

/*
 * The key process's pid, for the parent's reaper.  With k NULL (no key
 * process: the benchmark's comparison build), tlskey_pid() is 0 and the
 * channel and child calls below do nothing.
 */
pid_t	 tlskey_pid(const struct tlskey *k);

/*
 * tlsconf makes the key process's key GnuTLS's (tlskey_privkey() and
 * tlskey_matches(), in tls_int.h).
 */

/*
 * SIGHUP: the key process reads the key again and holds it pending, until
 * tlskey_commit() (new channels use it; open ones keep theirs) or
 * tlskey_abort().  A token's key is not read again (that would log in
 * again): the pending key is then the current one.  Returns 0, or -1 with
 * the reason in err (the current key stays).
 */
int	 tlskey_load(struct tlskey *k, char *err, size_t errlen);
void	 tlskey_commit(struct tlskey *k);
void	 tlskey_abort(struct tlskey *k);

/*
 * In the parent, before forking a connection's process: a channel for it,
 * which that process's external keys then use.  Returns 0, or -1 with the
 * reason in err (the key process is gone, or too far behind).
 */
int	 tlskey_channel_open(struct tlskey *k, char *err, size_t errlen);

/* The open channel's descriptor, or -1 (for t/keyprobe.c). */
int	 tlskey_channel_fd(const struct tlskey *k);

/* In the parent, after the fork: its copy of the channel goes. */
void	 tlskey_channel_close(struct tlskey *k);

/*
 * In the connection's process: it keeps its channel and lets go of the
 * control socket, so it can ask for nothing but signatures.
 */
void	 tlskey_child(struct tlskey *k);

/*
 * The parent's end: close the control socket and wait (5 s at most, then
 * SIGKILL) for the key process, which ends when its channels have.  Frees
 * k; tlskey_stop(NULL) does nothing.
 */
void	 tlskey_stop(struct tlskey *k);

#endif
