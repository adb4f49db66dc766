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
	int	 to_fd;		/* our end of the program's stdin */
	int	 from_fd;	/* our end of the program's stdout */
};

/*
 * Start argv[0] (searched in PATH) with envp, stdin and stdout on pipes
 * (our ends close-on-exec, to_fd non-blocking), stderr shared.  Returns 0,
 * or -1 with the reason in err.  An exec failure is reported by the
 * program's process on stderr, and it exits 127.
 */
int	 child_spawn(struct child *c, char *const argv[], char *const envp[],
	    char *err, size_t errlen);

/*
 * The same, calling setup(arg) in the program's process just before exec
 * (to change user, say); if it returns -1 (having said why on stderr),
 * the process exits 126 without running the program.
 */
int	 child_spawn_as(struct child *c, char *const argv[],
	    char *const envp[], int (*setup)(void *arg), void *arg,
	    char *err, size_t errlen);

/*
 * Reap the program: wait up to grace_ms for it to end, then SIGTERM, then
 * after grace_ms more SIGKILL.  Returns its wait status.
 */
int	 child_reap(pid_t pid, int grace_ms);

/* "exit 0", "signal 9 (Killed)": how the program ended; returns buf. */
char	*child_status(int wstatus, char *buf, size_t n);

#endif
