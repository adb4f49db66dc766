#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "diag.h"
#include "timefmt.h"

/* An executable regular file?  0, or -1 with errno set. */
static int
runnable(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EACCES;
		return -1;
	}
	return access(path, X_OK);
}

int
child_check(const char *argv0, char *err, size_t errlen)
{
	const char *path, *p, *end;
	char	 full[4096];
	int	 saved = ENOENT;

	if (*argv0 == '\0') {
		snprintf(err, errlen, "empty program name");
		return -1;
	}
	if (strchr(argv0, '/') != NULL) {
		if (runnable(argv0) == 0)
			return 0;
		snprintf(err, errlen, "%s: %s", argv0, strerror(errno));
		return -1;
	}
	/* As execvpe(3) searches. */
	if ((path = getenv("PATH")) == NULL || *path == '\0')
		path = "/bin:/usr/bin";
	for (p = path; ; p = end + 1) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		snprintf(full, sizeof(full), "%.*s/%s", (int)(end - p),
		    end > p ? p : ".", argv0);
		if (runnable(full) == 0)
			return 0;
		if (errno != ENOENT && errno != ENOTDIR)
			saved = errno;
		if (*end == '\0')
			break;
	}
	snprintf(err, errlen, "%s: %s", argv0, saved == ENOENT ?
	    "not found in PATH" : strerror(saved));
	return -1;
}

int
child_spawn(struct child *c, char *const argv[], char *const envp[],
    int group, char *err, size_t errlen)
{
	return child_spawn_as(c, argv, envp, group, NULL, NULL, err, errlen);
}

int
child_spawn_as(struct child *c, char *const argv[], char *const envp[],
    int group, int (*setup)(void *arg), void *arg, char *err, size_t errlen)
{
	if (child_prepare(c, argv, group, setup, arg, err, errlen) < 0)
		return -1;
	if (child_start(c, envp, err, errlen) < 0) {
		child_abort(c);
		return -1;
	}
	return 0;
}

/* Read exactly n bytes: 0, or -1 at end of file or on an error. */
static int
read_full(int fd, void *buf, size_t n)
{
	char	*p = buf;
	ssize_t	 r;

	while (n > 0) {
		r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * The prepared process: the environment, as child_start() sends it (a
 * count, then each "NAME=value" as a length and its bytes), read within
 * the bounds and checked.  Returns the NULL-terminated array, or NULL at
 * end of file, wherever it comes (the program is not to run).  What
 * child_start() never sends ends the process: 127, said on stderr.
 */
static char **
read_env(int fd, const char *prog)
{
	uint32_t n, len, i;
	size_t	 total = 0;
	char	**envp;

	if (read_full(fd, &n, sizeof(n)) < 0)
		return NULL;
	if (n > CHILD_ENV_VARS ||
	    (envp = calloc((size_t)n + 1, sizeof(*envp))) == NULL)
		goto bad;
	for (i = 0; i < n; i++) {
		if (read_full(fd, &len, sizeof(len)) < 0)
			return NULL;
		if (len > CHILD_ENV_BYTES - total ||
		    (envp[i] = malloc((size_t)len + 1)) == NULL)
			goto bad;
		if (read_full(fd, envp[i], len) < 0)
			return NULL;
		envp[i][len] = '\0';
		total += len;
		/* One "NAME=value" string, as execve(2) takes it. */
		if (strlen(envp[i]) != len || strchr(envp[i], '=') == NULL ||
		    envp[i][0] == '=')
			goto bad;
	}
	return envp;
bad:
	warn("%s: not started: a malformed environment", prog);
	_exit(127);
}

int
child_prepare(struct child *c, char *const argv[], int group,
    int (*setup)(void *arg), void *arg, char *err, size_t errlen)
{
	int	 in[2], out[2], ctl[2], fl;
	struct sigaction sa;
	sigset_t none;
	char	**envp;

	if (pipe2(in, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(out, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail1;
	}
	/* A socket, so that a send to a process gone is EPIPE, never SIGPIPE. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		goto fail2;
	}
	if ((c->pid = fork()) < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto fail3;
	}
	if (c->pid == 0) {
		/* The program gets plain defaults, not our dispositions. */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigaction(SIGPIPE, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		sigaction(SIGCHLD, &sa, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* Its own group: its leftovers end with the connection. */
		if (group)
			setpgid(0, 0);
		close(ctl[0]);
		if (dup2(in[0], STDIN_FILENO) < 0 ||
		    dup2(out[1], STDOUT_FILENO) < 0)
			_exit(127);
		/* Another user's first, if so: what follows is read as it. */
		if (setup != NULL && setup(arg) < 0)
			_exit(126);
		if ((envp = read_env(ctl[1], argv[0])) == NULL)
			_exit(0);	/* not to run: nobody waits for a word */
		close(ctl[1]);
		execvpe(argv[0], argv, envp);
		warn("%s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	/* Both sides set it, so neither has to wait for the other. */
	c->group = group;
	if (group)
		setpgid(c->pid, c->pid);
	close(in[0]);
	close(out[1]);
	close(ctl[1]);
	c->to_fd = in[1];
	c->from_fd = out[0];
	c->ctl_fd = ctl[0];
	/*
	 * Never block on a program that does not read its input, nor on a
	 * pipe a background child of the program holds open after it exited.
	 */
	fl = fcntl(c->to_fd, F_GETFL);
	fcntl(c->to_fd, F_SETFL, fl | O_NONBLOCK);
	fl = fcntl(c->from_fd, F_GETFL);
	fcntl(c->from_fd, F_SETFL, fl | O_NONBLOCK);
	/* Its exit as an event to poll for; without pidfds, its pipe's EOF. */
	if ((c->exit_fd = pidfd_open(c->pid, 0)) < 0)
		c->exit_fd = 0;
	else
		fcntl(c->exit_fd, F_SETFD, FD_CLOEXEC);
	return 0;
fail3:
	close(ctl[0]);
	close(ctl[1]);
fail2:
	close(out[0]);
	close(out[1]);
fail1:
	close(in[0]);
	close(in[1]);
	return -1;
}

/* Send all of buf: 0, or -1 (EPIPE: the process is gone). */
static int
send_full(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t	 w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
child_start(struct child *c, char *const envp[], char *err, size_t errlen)
{
	uint32_t n = 0, len;
	size_t	 total = 0;
	int	 i, e = 0;

	for (i = 0; envp[i] != NULL; i++) {
		total += strlen(envp[i]);
		n++;
	}
	if (n > CHILD_ENV_VARS || total > CHILD_ENV_BYTES) {
		snprintf(err, errlen, "environment too large (%u variables, "
		    "%zu bytes)", n, total);
		return -1;
	}
	/*
	 * A process that is gone (its setup failed: it said why and exited
	 * 126) is not an error here: reaping it tells how it ended.
	 */
	if (send_full(c->ctl_fd, &n, sizeof(n)) < 0)
		e = errno;
	for (i = 0; e == 0 && envp[i] != NULL; i++) {
		len = (uint32_t)strlen(envp[i]);
		if (send_full(c->ctl_fd, &len, sizeof(len)) < 0 ||
		    send_full(c->ctl_fd, envp[i], len) < 0)
			e = errno;
	}
	if (e != 0 && e != EPIPE && e != ECONNRESET) {
		/* Cut short: it sees end of file and runs nothing. */
		snprintf(err, errlen, "%s", strerror(e));
		return -1;
	}
	close(c->ctl_fd);
	c->ctl_fd = -1;
	return 0;
}

void
child_abort(struct child *c)
{
	int	 st;

	if (c->ctl_fd < 0)
		return;
	/* At end of file it exits at once, having run nothing. */
	close(c->ctl_fd);
	c->ctl_fd = -1;
	close(c->to_fd);
	close(c->from_fd);
	while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR)
		;
	if (c->exit_fd > 0)
		close(c->exit_fd);
	c->exit_fd = 0;
}

/* waitpid with a deadline: 1 reaped, 0 still running. */
static int
wait_until(pid_t pid, int *st, long long deadline)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	for (;;) {
		pid_t	 r = waitpid(pid, st, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR))
			return 1;
		if (timefmt_monotonic_ms() >= deadline)
			return 0;
		nanosleep(&ts, NULL);
	}
}

/* Signal what is left of the group until it is gone, or grace_ms. */
static void
end_group(pid_t pgid, int grace_ms)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	long long deadline;

	if (kill(-pgid, SIGTERM) < 0)
		return;		/* nothing left */
	deadline = timefmt_monotonic_ms() + grace_ms;
	while (kill(-pgid, 0) == 0) {
		if (timefmt_monotonic_ms() >= deadline) {
			kill(-pgid, SIGKILL);
			return;
		}
		nanosleep(&ts, NULL);
	}
}

int
child_reap(struct child *c, int grace_ms)
{
	int	 st = 0;
	pid_t	 who = c->group ? -c->pid : c->pid;

	if (!wait_until(c->pid, &st, timefmt_monotonic_ms() + grace_ms)) {
		kill(who, SIGTERM);
		if (!wait_until(c->pid, &st, timefmt_monotonic_ms() +
		    grace_ms)) {
			kill(who, SIGKILL);
			while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR)
				;
		}
	}
	if (c->group)
		end_group(c->pid, grace_ms);
	if (c->exit_fd > 0)
		close(c->exit_fd);
	c->exit_fd = 0;
	return st;
}

char *
child_status(int st, char *buf, size_t n)
{
	if (WIFEXITED(st))
		snprintf(buf, n, "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, n, "signal %d (%s)", WTERMSIG(st),
		    strsignal(WTERMSIG(st)));
	else
		snprintf(buf, n, "unknown");
	return buf;
}
