#include <sys/ioctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "pump.h"
#include "timefmt.h"
#include "tlssess.h"

/*
 * up: toward the TLS peer (from in_fd or the xform); down: from the peer.
 * TLS records carry at most 16 KiB, so sends go out in full records; the
 * up buffer is large so a burst of small lines becomes few records.
 */
#define UP_SIZE		(256 * 1024)
#define DOWN_SIZE	(64 * 1024)
#define RECORD_MAX	16384
#define CORK_MAX	(4 * RECORD_MAX)	/* records per write */
#define BYE_TIMEOUT_MS	5000
/* How long a peer nobody reads from may take to send its close_notify. */
#define PUMP_LINGER_MS	1000
/* How long after its stdout ends a dying program takes to be waitable. */
#define EXIT_WAIT_MS	200

struct buf {
	char	*data;
	size_t	 cap, off, len;
};

static size_t
buf_room(const struct buf *b)
{
	return b->cap - b->off - b->len;
}

/* Move the data to the front; never while a send of it is in flight. */
static void
buf_compact(struct buf *b)
{
	if (b->len == 0)
		b->off = 0;
	else if (b->off > 0) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
	}
}

const char *
pump_end_name(enum pump_end e)
{
	switch (e) {
	case PUMP_DONE:
		return "close_notify";
	case PUMP_PEER_VANISHED:
		return "peer vanished";
	case PUMP_TIMEOUT:
		return "timeout";
	case PUMP_TLS_ERROR:
		return "tls error";
	case PUMP_LOCAL_ERROR:
		return "local error";
	case PUMP_STOPPED:
		return "stopped";
	case PUMP_PROGRAM_KILLED:
		return "program killed";
	}
	return "?";
}

/*
 * read(2) or write(2) on a local descriptor that may block (a pipe, a
 * terminal), with the caller's signals let through, as ppoll does: a
 * stop signal must end us even while we wait for standard input (another
 * reader of the same pipe may take what poll saw) or for a slow reader
 * of standard output.  The handler has no SA_RESTART, so the call fails
 * with EINTR.
 */
static ssize_t
local_io(const struct pump *p, int fd, char *buf, size_t n, int out)
{
	sigset_t old;
	ssize_t	 r;
	int	 e;

	if (p->sigmask == NULL)
		return out ? write(fd, buf, n) : read(fd, buf, n);
	sigprocmask(SIG_SETMASK, p->sigmask, &old);
	if (p->stop != NULL && *p->stop) {
		r = -1;
		errno = EINTR;
	} else
		r = out ? write(fd, buf, n) : read(fd, buf, n);
	e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return r;
}

/* Is there input on fd that a read would return right now? */
static int
pending_input(int fd)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char	 c;

	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & (POLLIN | POLLHUP)))
		return 0;
	/* Readable may also mean end of file. */
	return read(fd, &c, 1) == 1;
}

/* poll, or ppoll with the caller's mask so a signal ends the wait. */
static int
pump_poll(const struct pump *p, struct pollfd *pfd, nfds_t n, int timeout)
{
	struct timespec ts, *tsp = NULL;

	if (p->sigmask == NULL)
		return poll(pfd, n, timeout);
	/*
	 * A stop signal that came while local_io() let signals through
	 * would wait for another: the loop looks at *stop first.
	 */
	if (p->stop != NULL && *p->stop) {
		errno = EINTR;
		return -1;
	}
	if (timeout >= 0) {
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
		tsp = &ts;
	}
	return ppoll(pfd, n, tsp, p->sigmask);
}

static enum pump_end
tls_failed(struct pump *p, int ret)
{
	p->tls_err = ret;
	if (ret == GNUTLS_E_PREMATURE_TERMINATION ||
	    ret == GNUTLS_E_PUSH_ERROR || ret == GNUTLS_E_PULL_ERROR)
		p->end = PUMP_PEER_VANISHED;
	else
		p->end = PUMP_TLS_ERROR;
	return p->end;
}

/*
 * Receive what the peer has sent, as long as there is room.  Returns 1 if
 * anything happened, 0 if not, -1 if the session failed (p->end set).
 */
static int
tls_receive(struct pump *p, struct buf *down, int *peer_eof)
{
	ssize_t	 r;
	int	 moved = 0;

	while (!*peer_eof) {
		buf_compact(down);
		if (buf_room(down) == 0)
			break;
		r = gnutls_record_recv(p->s, down->data + down->off +
		    down->len, buf_room(down));
		if (r > 0) {
			down->len += (size_t)r;
			p->bytes_in += (unsigned long long)r;
			p->records_in++;
			moved = 1;
		} else if (r == 0) {
			*peer_eof = 1;
			moved = 1;
		} else if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			break;
		} else if (r == GNUTLS_E_REHANDSHAKE) {
			/* TLS 1.2 renegotiation is refused, politely. */
			gnutls_alert_send(p->s, GNUTLS_AL_WARNING,
			    GNUTLS_A_NO_RENEGOTIATION);
			p->reneg_refused = 1;
		} else if (!gnutls_error_is_fatal((int)r)) {
			continue;	/* a warning alert */
		} else {
			tls_failed(p, (int)r);
			return -1;
		}
	}
	return moved;
}

/*
 * Send queued data.  More than a record's worth goes out corked: several
 * records, one write.  *corked says a corked batch is still being
 * flushed; *inflight remembers the size of a single send that blocked.
 */
static int
tls_send(struct pump *p, struct buf *up, size_t *inflight, int *corked)
{
	ssize_t	 r;
	size_t	 n, batch;
	int	 moved = 0;

	if (*corked) {
		r = gnutls_record_uncork(p->s, 0);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			return 0;
		if (r < 0) {
			tls_failed(p, (int)r);
			return -1;
		}
		*corked = 0;
		moved = 1;
	}
	if (*inflight == 0 && up->len > RECORD_MAX) {
		gnutls_record_cork(p->s);
		for (batch = 0; up->len > 0 && batch < CORK_MAX;
		    batch += (size_t)r) {
			n = up->len < RECORD_MAX ? up->len : RECORD_MAX;
			r = gnutls_record_send(p->s, up->data + up->off, n);
			if (r <= 0)
				break;	/* corked sends only buffer */
			up->off += (size_t)r;
			up->len -= (size_t)r;
			p->bytes_out += (unsigned long long)r;
			p->records_out++;
		}
		r = gnutls_record_uncork(p->s, 0);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			/* The rest goes when the socket takes it. */
			*corked = 1;
			return 1;
		}
		if (r < 0) {
			tls_failed(p, (int)r);
			return -1;
		}
		if (up->len == 0)
			up->off = 0;
		return 1;
	}
	while (up->len > 0) {
		n = *inflight ? *inflight :
		    (up->len < RECORD_MAX ? up->len : RECORD_MAX);
		r = gnutls_record_send(p->s, up->data + up->off, n);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			/* GnuTLS wants the same arguments again. */
			*inflight = n;
			break;
		}
		*inflight = 0;
		if (r < 0) {
			tls_failed(p, (int)r);
			return -1;
		}
		up->off += (size_t)r;
		up->len -= (size_t)r;
		p->bytes_out += (unsigned long long)r;
		p->records_out++;
		moved = 1;
	}
	if (up->len == 0)
		up->off = 0;
	return moved;
}

/* Deliver down to out_fd (stream mode).  0, or -1 with p->end set. */
static int
deliver(struct pump *p, struct buf *down, int *out_dead, int *moved)
{
	ssize_t	 wr;

	if (*out_dead) {
		/* Nobody reads it any more: count it, drop it. */
		p->unread += down->len;
		down->off = down->len = 0;
		return 0;
	}
	if (down->len == 0)
		return 0;
	if (p->out_nonblock) {
		/* As much as the reader takes; poll for more. */
		wr = write(p->out_fd, down->data + down->off, down->len);
		if (wr > 0) {
			down->off += (size_t)wr;
			down->len -= (size_t)wr;
			*moved = 1;
			return 0;
		}
		if (wr < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
	} else {
		while (down->len > 0) {
			wr = local_io(p, p->out_fd, down->data + down->off,
			    down->len, 1);
			if (wr > 0) {
				down->off += (size_t)wr;
				down->len -= (size_t)wr;
				*moved = 1;
			} else if (wr < 0 && errno == EINTR) {
				if (p->stop != NULL && *p->stop)
					return 0;	/* seen at the loop's top */
			} else
				break;
		}
		if (down->len == 0) {
			down->off = 0;
			return 0;
		}
	}
	if (errno == EPIPE && p->out_may_close) {
		/* The reader stopped reading; the other way goes on. */
		*out_dead = 1;
		*moved = 1;
		p->unread += down->len;
		down->off = down->len = 0;
		return 0;
	}
	p->local_errno = errno;
	p->local_out = 1;
	p->end = PUMP_LOCAL_ERROR;
	return -1;
}

/* Bytes written to fd's pipe that its reader has not read. */
static size_t
pipe_unread(int fd)
{
	int	 n = 0;

	return ioctl(fd, FIONREAD, &n) == 0 && n > 0 ? (size_t)n : 0;
}

enum pump_end
pump_run(struct pump *p)
{
	struct buf up = { 0 }, down = { 0 };
	struct pollfd pfd[4];
	siginfo_t si;
	size_t	 inflight = 0, used, made;
	long long last = timefmt_monotonic_ms(), left, linger_end = 0;
	int	 in_eof = 0, peer_eof = 0, bye_sent = 0, corked = 0;
	int	 tls_dead = 0, out_dead = 0, prog_exited = 0, may_bye;
	int	 tcp_fin = 0, up_dead = 0, up_err = 0, exit_waited = 0;
	int	 moved, r, got, nfd, timeout, in_ready, exit_ready, idle;
	int	 in_i, exit_i;
	ssize_t	 rd;

	p->bytes_in = p->bytes_out = 0;
	p->out_closed = p->reneg_refused = 0;
	p->records_in = p->records_out = 0;
	p->unsent = 0;
	p->unread = 0;
	p->peer_closed = p->local_out = p->prog_signal = 0;
	p->tls_err = p->local_errno = 0;
	up.cap = UP_SIZE;
	down.cap = DOWN_SIZE;
	if ((up.data = malloc(up.cap)) == NULL ||
	    (down.data = malloc(down.cap)) == NULL) {
		p->local_errno = ENOMEM;
		p->end = PUMP_LOCAL_ERROR;
		goto out;
	}
	in_ready = exit_ready = 0;
	for (;;) {
		moved = 0;
		if (p->stop != NULL && *p->stop) {
			p->end = PUMP_STOPPED;
			goto out;
		}

		/*
		 * The program exited: what is in its pipe is all it says (a
		 * background child may hold the pipe open for ever), and
		 * what it did not read of ours is lost.
		 */
		if (exit_ready && !prog_exited) {
			prog_exited = moved = 1;
			memset(&si, 0, sizeof(si));
			if (waitid(P_PID, (id_t)p->exit_pid, &si, WEXITED |
			    WNOHANG | WNOWAIT) == 0 && (si.si_code ==
			    CLD_KILLED || si.si_code == CLD_DUMPED))
				p->prog_signal = si.si_status;
			if (p->xform == NULL && !peer_eof && !out_dead &&
			    p->out_may_close) {
				out_dead = 1;
				p->unread += down.len + pipe_unread(p->out_fd);
				down.off = down.len = 0;
			}
		}

		/* Peer to down buffer, through the xform or to out_fd. */
		for (;;) {
			got = 0;
			if (!tls_dead && !(out_dead && p->unread > 0) &&
			    (got = tls_receive(p, &down, &peer_eof)) < 0) {
				/*
				 * What arrived before the failure was
				 * authenticated: it is delivered first.
				 */
				tls_dead = 1;
				got = 0;
			}
			moved |= got;
			if (peer_eof)
				p->peer_closed = 1;
			if (p->xform != NULL) {
				if (tls_dead)
					goto out;
				while (down.len > 0) {
					if (!inflight)
						buf_compact(&up);
					if (buf_room(&up) < PUMP_XFORM_MIN)
						break;
					made = p->xform->fn(p->xform->arg,
					    down.data + down.off, down.len,
					    &used, up.data + up.off + up.len,
					    buf_room(&up));
					up.len += made;
					down.off += used;
					down.len -= used;
					moved = 1;
				}
				if (peer_eof && down.len == 0 && !in_eof) {
					if (!inflight)
						buf_compact(&up);
					if (buf_room(&up) >= PUMP_XFORM_MIN) {
						up.len += p->xform->eof(
						    p->xform->arg,
						    up.data + up.off + up.len,
						    buf_room(&up));
						in_eof = 1;
					}
				}
			} else if (deliver(p, &down, &out_dead, &moved) < 0)
				goto out;
			if (tls_dead && (down.len == 0 || p->xform != NULL))
				goto out;
			if (p->xform == NULL && peer_eof && down.len == 0 &&
			    p->close_out && !p->out_closed) {
				/* Our reader sees the peer's end of data. */
				close(p->out_fd);
				p->out_closed = 1;
			}
			if (!got || down.len > 0 || peer_eof)
				break;
		}

		/* Local input to the up buffer. */
		if (p->xform == NULL && !tls_dead && !up_dead && !in_eof &&
		    (in_ready || prog_exited)) {
			if (!inflight)
				buf_compact(&up);
			if (buf_room(&up) > 0) {
				rd = local_io(p, p->in_fd,
				    up.data + up.off + up.len, buf_room(&up), 0);
				if (rd > 0) {
					up.len += (size_t)rd;
					moved = 1;
				} else if (rd == 0 || (prog_exited &&
				    errno == EAGAIN)) {
					in_eof = 1;
					moved = 1;
				} else if (errno != EINTR && errno != EAGAIN) {
					p->local_errno = errno;
					p->end = PUMP_LOCAL_ERROR;
					goto out;
				}
			}
		}

		/* Up buffer to the peer, then our close_notify. */
		if (!tls_dead && !up_dead) {
			if ((r = tls_send(p, &up, &inflight, &corked)) < 0) {
				if (p->xform != NULL || p->end !=
				    PUMP_PEER_VANISHED)
					goto out;
				/*
				 * The peer reset the connection: it reads no
				 * more.  What it sent before (its last output,
				 * its close_notify) may still be waiting in
				 * our socket: read on.
				 */
				up_dead = 1;
				up_err = p->tls_err;
			}
			moved |= r > 0;
		}
		if (up_dead && peer_eof && down.len == 0) {
			p->unsent = up.len;
			if (!in_eof && pending_input(p->in_fd))
				p->unsent++;
			p->tls_err = up_err;
			p->end = PUMP_PEER_VANISHED;
			goto out;
		}
		if (in_eof && p->exit_fd > 0 && !prog_exited && !exit_waited) {
			/*
			 * A program's stdout ends when it dies, a moment
			 * before its death can be seen: wait for that moment,
			 * so a program killed by a signal never gets our
			 * close_notify.
			 */
			struct pollfd efd = { p->exit_fd, POLLIN, 0 };

			exit_waited = 1;
			if (poll(&efd, 1, EXIT_WAIT_MS) == 1) {
				exit_ready = 1;
				continue;
			}
		}
		may_bye = in_eof && up.len == 0 && !corked && !bye_sent &&
		    !tls_dead && !up_dead && (!p->hold_bye || prog_exited || peer_eof);
		if (may_bye && p->prog_signal != 0) {
			/*
			 * A program killed by a signal may have been cut
			 * short: no close_notify, so the peer cannot take
			 * the end for a complete one.
			 */
			p->end = PUMP_PROGRAM_KILLED;
			goto out;
		}
		if (may_bye) {
			r = gnutls_bye(p->s, GNUTLS_SHUT_WR);
			if (r == 0) {
				bye_sent = 1;
				moved = 1;
			} else if (r != GNUTLS_E_AGAIN &&
			    r != GNUTLS_E_INTERRUPTED) {
				tls_failed(p, r);
				goto out;
			}
		}

		/* Done? */
		if (bye_sent && peer_eof && down.len == 0) {
			p->end = PUMP_DONE;
			goto out;
		}
		if (bye_sent && out_dead) {
			/*
			 * Our side is said and nobody reads the peer's.  If
			 * it sent nothing more, give its close_notify a
			 * moment, so a clean end stays clean.
			 */
			if (linger_end == 0)
				linger_end = timefmt_monotonic_ms() +
				    PUMP_LINGER_MS;
			if (p->unread > 0 ||
			    timefmt_monotonic_ms() >= linger_end) {
				p->end = PUMP_DONE;
				goto out;
			}
		}
		if (p->xform == NULL && p->stop_at_peer_eof && peer_eof &&
		    (!p->half_close || tcp_fin) && down.len == 0) {
			/*
			 * The peer closed the session (TLS 1.2), or closed
			 * TCP after its close_notify (TLS 1.3), so it reads
			 * no more: say what we could not send, counting input
			 * already waiting to be read (a file that was cut
			 * short), but not waiting for more.
			 */
			p->unsent = up.len;
			if (!in_eof && pending_input(p->in_fd))
				p->unsent++;
			if (!bye_sent)
				tlssess_gnutls_bye(p->s, p->sock, BYE_TIMEOUT_MS);
			p->end = PUMP_DONE;
			goto out;
		}

		/* Wait for something to do. */
		if (moved)
			last = timefmt_monotonic_ms();
		pfd[0].fd = p->sock;
		pfd[0].events = 0;
		if (!tls_dead && !peer_eof && buf_room(&down) + down.off > 0 &&
		    !(out_dead && p->unread > 0))
			pfd[0].events |= POLLIN;
		if (!tls_dead && !up_dead && (up.len > 0 || corked ||
		    (in_eof && !bye_sent && (!p->hold_bye || prog_exited ||
		    peer_eof))))
			pfd[0].events |= POLLOUT;
		/* After a TLS 1.3 close_notify: does TCP end too? */
		if (!tls_dead && peer_eof && p->half_close && !tcp_fin)
			pfd[0].events |= POLLRDHUP;
		if (pfd[0].events == 0)
			pfd[0].fd = -1;	/* a dead socket would wake us */
		nfd = 1;
		in_i = exit_i = -1;
		if (p->xform == NULL && !tls_dead && !up_dead && !in_eof &&
		    (buf_room(&up) > 0 || (!inflight && up.off > 0))) {
			pfd[nfd].fd = p->in_fd;
			pfd[nfd].events = POLLIN;
			in_i = nfd++;
		}
		if (p->xform == NULL && p->out_nonblock && down.len > 0) {
			pfd[nfd].fd = p->out_fd;
			pfd[nfd].events = POLLOUT;
			nfd++;	/* a reader that left shows as EPIPE */
		}
		if (p->exit_fd > 0 && !prog_exited) {
			pfd[nfd].fd = p->exit_fd;
			pfd[nfd].events = POLLIN;
			exit_i = nfd++;
		}
		timeout = -1;
		if (p->idle_ms > 0) {
			left = last + p->idle_ms - timefmt_monotonic_ms();
			timeout = left > 0 ? (int)left : 0;
		}
		if (linger_end != 0) {
			left = linger_end - timefmt_monotonic_ms();
			if (timeout < 0 || left < timeout)
				timeout = left > 0 ? (int)left : 0;
		}
		/* Decrypted data GnuTLS holds does not wake poll. */
		if (!tls_dead && !peer_eof && !(out_dead && p->unread > 0) &&
		    gnutls_record_check_pending(p->s) > 0)
			timeout = 0;
		if (moved)
			timeout = 0;
		r = pump_poll(p, pfd, (nfds_t)nfd, timeout);
		if (r < 0 && errno == EINTR)
			continue;	/* *stop is looked at first */
		idle = p->idle_ms > 0 &&
		    timefmt_monotonic_ms() - last >= p->idle_ms;
		if (r < 0) {
			p->local_errno = errno;
			p->end = PUMP_LOCAL_ERROR;
			goto out;
		}
		in_ready = in_i > 0 && (pfd[in_i].revents & (POLLIN | POLLHUP |
		    POLLERR));
		exit_ready = exit_i > 0 && pfd[exit_i].revents != 0;
		if (pfd[0].fd >= 0 && peer_eof && (pfd[0].revents &
		    (POLLRDHUP | POLLHUP | POLLERR)))
			tcp_fin = 1;
		if (r == 0 && !moved && idle) {
			p->end = PUMP_TIMEOUT;
			goto out;
		}
	}
out:
	free(up.data);
	free(down.data);
	return p->end;
}
