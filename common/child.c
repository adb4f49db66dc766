#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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
	int	 in[2], out[2], fl;
	struct sigaction sa;
	sigset_t none;

	if (pipe2(in, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(out, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		close(in[0]);
		close(in[1]);
		return -1;
	}
	if ((c->pid = fork()) < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		return -1;
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
		if (dup2(in[0], STDIN_FILENO) < 0 ||
		    dup2(out[1], STDOUT_FILENO) < 0)
			_exit(127);
		if (setup != NULL && setup(arg) < 0)
			_exit(126);
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
	c->to_fd = in[1];
	c->from_fd = out[0];
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
