/*
 * sandbox: the seccomp filter of a connection's process.  Once its
 * socket, its session and (in exec mode) the program's process are set
 * up, and before the first byte from the client is read, the process may
 * make only the system calls a session needs: read and write what it
 * already holds, poll, memory, time, randomness, signals, waiting for its
 * program.  Any other call (open, socket, connect, exec, fork, ptrace, ...)
 * kills the process with SIGSYS.  The filter is inherited by anything the
 * process would fork, so the program of exec mode is forked before it.
 */
#ifndef MTLS_SANDBOX_H
#define MTLS_SANDBOX_H

#include <sys/types.h>

#include <stddef.h>

struct sandbox;

/*
 * At start-up, before any fork: the filter, compiled once for this
 * architecture; with exec, for a process that runs a program (it may
 * wait for it and signal it).  It has no room for a private key of its
 * own (a PKCS#11 module opens files and sockets): it signs through the
 * key process (tlskey.h).  Returns it, or NULL with the reason in err (a kernel
 * without seccomp filters or SECCOMP_RET_KILL_PROCESS, out of memory):
 * the server must then not start.
 */
struct sandbox *sandbox_new(int exec, char *err, size_t errlen);

/*
 * Enter it, for good: no new privileges (set-user-ID bits no longer
 * work), and every call outside the filter kills the process.  prog is
 * the program's process (exec mode; 0 otherwise), the only one besides
 * itself that the process may signal, and its process group.  Returns 0,
 * or -1 with the reason in err (the process must then not go on).
 */
int	 sandbox_enter(const struct sandbox *sb, pid_t prog, char *err,
	    size_t errlen);

void	 sandbox_free(struct sandbox *sb);

#endif
