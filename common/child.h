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
};

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
 * The same, calling setup(arg) in the program's process just before exec
 * (to change user, say); if it returns -1 (having said why on stderr),
 * the process exits 126 without running the program.
 */
int	 child_spawn_as(struct child *c, char *const argv[],
	    char *const envp[], int group, int (*setup)(void *arg), void *arg,
	    char *err, size_t errlen);

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
