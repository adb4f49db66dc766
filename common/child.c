#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "diag.h"
#include "timefmt.h"

int
child_spawn(struct child *c, char *const argv[], char *const envp[],
    char *err, size_t errlen)
{
	return child_spawn_as(c, argv, envp, NULL, NULL, err, errlen);
}

int
child_spawn_as(struct child *c, char *const argv[], char *const envp[],
    int (*setup)(void *arg), void *arg, char *err, size_t errlen)
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
		if (dup2(in[0], STDIN_FILENO) < 0 ||
		    dup2(out[1], STDOUT_FILENO) < 0)
			_exit(127);
		if (setup != NULL && setup(arg) < 0)
			_exit(126);
		execvpe(argv[0], argv, envp);
		warn("%s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->to_fd = in[1];
	c->from_fd = out[0];
	/* Never block on a program that does not read its input. */
	fl = fcntl(c->to_fd, F_GETFL);
	fcntl(c->to_fd, F_SETFL, fl | O_NONBLOCK);
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

int
child_reap(pid_t pid, int grace_ms)
{
	int	 st = 0;

	if (wait_until(pid, &st, timefmt_monotonic_ms() + grace_ms))
		return st;
	kill(pid, SIGTERM);
	if (wait_until(pid, &st, timefmt_monotonic_ms() + grace_ms))
		return st;
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
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
