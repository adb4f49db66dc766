/*
 * child: a program run beside a TLS connection, joined to it by two
 * pipes.  The program never holds the socket, the session or any key:
 * this process pumps between them.
 */
#ifndef MTLS_CHILD_H
#define MTLS_CHILD_H

#include <stddef.h>
#include <sys/types.h>

struct child {
	pid_t	 pid;
	int	 group;		/* it leads a process group of its own */
	int	 to_fd;		/* our end of the program's stdin */
	int	 from_fd;	/* our end of the program's stdout */
	int	 exit_fd;	/* a pidfd, readable once it exited; 0: none */
	int	 ctl_fd;	/* prepared, not started: the line to send
				   its environment on; -1 otherwise */
};

/* Bounds of the environment child_start() sends: variables, bytes. */
#define CHILD_ENV_VARS	4096
#define CHILD_ENV_BYTES	(1024 * 1024)

/*
 * Can argv0 be run: an executable regular file, searched in PATH when it
 * has no slash?  Returns 0, or -1 with "argv0: reason" in err.  Checked at
 * start-up, so a typo is an exit, not an error per connection.
 */
int	 child_check(const char *argv0, char *err, size_t errlen);

/*
 * Start argv[0] (searched in PATH) with envp, stdin and stdout on pipes
 * (our ends close-on-exec and non-blocking), stderr shared.  With group,
 * in a process group of its own, so that what it leaves behind can be
 * ended with it (a server's program); without, in ours, so that it keeps
 * the terminal (a program run by mtls-send).  Returns 0, or -1 with the
 * reason in err.  An exec failure is reported by
 * the program's process on stderr, and it exits 127.
 */
int	 child_spawn(struct child *c, char *const argv[], char *const envp[],
	    int group, char *err, size_t errlen);

/*
 * The same, calling setup(arg) in the program's process before exec (to
 * change user, say); if it returns -1 (having said why on stderr), the
 * process exits 126 without running the program.
 */
int	 child_spawn_as(struct child *c, char *const argv[],
	    char *const envp[], int group, int (*setup)(void *arg), void *arg,
	    char *err, size_t errlen);

/*
 * child_spawn_as() in two steps, for a process that is to give up the
 * right to fork and exec (mtls-serve's sandbox) before it knows the
 * program's environment.  child_prepare() forks the program's process,
 * pipes and group set up, setup(arg) done; it then waits for its
 * environment, holding nothing but what fork gave it and reading nothing
 * but the bounded message child_start() sends.  Returns 0, or -1 with the
 * reason in err.  After it, only write, close, waitpid and the like are
 * needed: child_start() sends envp (0, or -1 with the reason in err: call
 * child_abort() then), and the process execs argv[0] with it;
 * child_abort() makes it exit without running anything and reaps it.
 */
int	 child_prepare(struct child *c, char *const argv[], int group,
	    int (*setup)(void *arg), void *arg, char *err, size_t errlen);
int	 child_start(struct child *c, char *const envp[], char *err,
	    size_t errlen);

/* A prepared process not started: end it, reap it, close our ends. */
void	 child_abort(struct child *c);

/*
 * Reap the program: wait up to grace_ms for it to end, then SIGTERM it
 * (its process group, if it has one), then after grace_ms more SIGKILL.
 * What it left running in its group (a background job holding its stdout)
 * gets the same: SIGTERM, and SIGKILL after grace_ms.  Closes exit_fd.  Returns the
 * program's wait status.
 */
int	 child_reap(struct child *c, int grace_ms);

/* "exit 0", "signal 9 (Killed)": how the program ended; returns buf. */
char	*child_status(int wstatus, char *buf, size_t n);

#endif
