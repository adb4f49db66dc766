#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/sockios.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"

/*
 * The filter is compiled once, at start-up (libseccomp's compiler touches
 * enough memory to cost a forked process a millisecond); each connection's
 * process only fills in two numbers and hands the program to the kernel.
 * Those numbers are its own pid (tgkill, for abort(3)) and its program's
 * (kill, exec mode): a connection's process may signal nothing else, not
 * the server, not another connection.  They stand in the compiled filter
 * as these placeholders, which nothing else in a filter can be (syscall
 * numbers and flags are small; architecture tokens have the top bit set).
 */
#define PH_SELF		0x5eed0001U
#define PH_PROG		0x5eed0002U
#define PH_NPROG	0x5eed0003U	/* -prog: its process group */

struct sandbox {
	struct sock_filter *insn;
	unsigned short	 len;
	int		 nself, nprog, nnprog;	/* placeholders found */
};

/*
 * Calls with no argument worth checking.  Found by tracing the tests'
 * servers (strace -f, every call a connection's process makes after the
 * filter is in place), plus what the same code may call elsewhere: the
 * clock calls where the vDSO falls back to the kernel, abort(3)'s.
 */
static const int plain[] = {
	/* The socket, the program's pipes, stderr: what is already open. */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(recvfrom),
	SCMP_SYS(sendto), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
	SCMP_SYS(close), SCMP_SYS(shutdown), SCMP_SYS(ppoll),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername),
#ifdef __NR_poll
	SCMP_SYS(poll),
#endif
	/* Memory (mmap and mprotect below, without PROT_EXEC). */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	/* Time: deadlines, the log's timestamps. */
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
#ifdef __NR_time
	SCMP_SYS(time),
#endif
	/* GnuTLS's random numbers, its locks. */
	SCMP_SYS(getrandom), SCMP_SYS(futex),
	/* Signals: SIGTERM's handler, abort(3). */
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(restart_syscall),
	/* Who we are, what we used (the closing log line), the end. */
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getrusage),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

#ifdef MTLS_SANITIZE
/*
 * The test build only (make SANITIZE=1, never installed): what the
 * sanitizers' runtime needs.  At exit(3) (mtls-serve -i) LeakSanitizer
 * stops the process from a helper it clones, which ptraces it and reads
 * /proc/self/maps and /proc/self/task; a report is then written to the
 * log_path file and symbolized from the binary.  Found by running the
 * tests under this build with the filter in place, one kill at a time
 * (the kernel logs each: type=1326 ... syscall=N), and a leak made on
 * purpose (mtls-serve-hooks, MTLS_TEST_SANDBOX_CALL=leak).
 */
static const int san_calls[] = {
	SCMP_SYS(sigaltstack), SCMP_SYS(prctl), SCMP_SYS(clone),
	SCMP_SYS(ptrace), SCMP_SYS(wait4), SCMP_SYS(sched_yield),
	SCMP_SYS(getppid), SCMP_SYS(open), SCMP_SYS(openat),
	SCMP_SYS(newfstatat), SCMP_SYS(lseek), SCMP_SYS(getdents),
	SCMP_SYS(readlink), SCMP_SYS(ioctl),
};
#endif

/* Exec mode: the program's end, seen and waited for. */
static const int prog_calls[] = {
	SCMP_SYS(wait4), SCMP_SYS(waitid),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
};

static int
add(scmp_filter_ctx ctx, int nr, unsigned int n, const struct scmp_arg_cmp *a,
    char *err, size_t errlen)
{
	char	*name;
	int	 r;

	if ((r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, a)) == 0)
		return 0;
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	snprintf(err, errlen, "seccomp: %s: %s", name ? name : "?",
	    strerror(-r));
	free(name);
	return -1;
}

/* Add the rules; 0, or -1 with the reason in err. */
static int
rules(scmp_filter_ctx ctx, int exec, char *err, size_t errlen)
{
	const struct scmp_arg_cmp noexec =
	    SCMP_A2(SCMP_CMP_MASKED_EQ, (scmp_datum_t)PROT_EXEC, 0);
	struct scmp_arg_cmp a[2];
	static const unsigned long fcntls[] = {
		F_GETFL, F_SETFL, F_GETFD, F_SETFD
	};
	static const unsigned long ioctls[] = {
		FIONREAD,	/* what a pipe holds (pump) */
		SIOCOUTQ	/* what the socket still has to send (exec) */
	};
	size_t	 i;
	int	 r;

	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (add(ctx, plain[i], 0, NULL, err, errlen) < 0)
			return -1;
	/* Memory, but never new code. */
	if (add(ctx, SCMP_SYS(mmap), 1, &noexec, err, errlen) < 0 ||
	    add(ctx, SCMP_SYS(mprotect), 1, &noexec, err, errlen) < 0)
		return -1;
	for (i = 0; i < sizeof(fcntls) / sizeof(fcntls[0]); i++) {
		a[0] = SCMP_A1_32(SCMP_CMP_EQ, fcntls[i]);
		if (add(ctx, SCMP_SYS(fcntl), 1, a, err, errlen) < 0)
			return -1;
	}
	for (i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++) {
		a[0] = SCMP_A1_32(SCMP_CMP_EQ, ioctls[i]);
		if (add(ctx, SCMP_SYS(ioctl), 1, a, err, errlen) < 0)
			return -1;
	}
	/* abort(3): SIGABRT to itself, and to no one else. */
	a[0] = SCMP_A0_32(SCMP_CMP_EQ, PH_SELF);
	if (add(ctx, SCMP_SYS(tgkill), 1, a, err, errlen) < 0)
		return -1;
	/*
	 * syslog(3) (-i with a socket for stderr) makes a socket anew when
	 * /dev/log went away: that fails, and the line is lost, instead of
	 * the connection.  Any other socket kills.
	 */
	a[0] = SCMP_A0_32(SCMP_CMP_EQ, AF_UNIX);
	if ((r = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EACCES),
	    SCMP_SYS(socket), 1, a)) < 0) {
		snprintf(err, errlen, "seccomp: socket: %s", strerror(-r));
		return -1;
	}
#ifdef MTLS_SANITIZE
	for (i = 0; i < sizeof(san_calls) / sizeof(san_calls[0]); i++)
		if (add(ctx, san_calls[i], 0, NULL, err, errlen) < 0)
			return -1;
#endif
	if (!exec)
		return 0;
	/* A program that would not read: a reset, not a close (exec.c). */
	a[0] = SCMP_A1_32(SCMP_CMP_EQ, SOL_SOCKET);
	a[1] = SCMP_A2_32(SCMP_CMP_EQ, SO_LINGER);
	if (add(ctx, SCMP_SYS(setsockopt), 2, a, err, errlen) < 0)
		return -1;
	for (i = 0; i < sizeof(prog_calls) / sizeof(prog_calls[0]); i++)
		if (add(ctx, prog_calls[i], 0, NULL, err, errlen) < 0)
			return -1;
	/* Signals for the program and its process group only. */
	a[0] = SCMP_A0_32(SCMP_CMP_EQ, PH_PROG);
	if (add(ctx, SCMP_SYS(kill), 1, a, err, errlen) < 0)
		return -1;
	a[0] = SCMP_A0_32(SCMP_CMP_EQ, PH_NPROG);
	if (add(ctx, SCMP_SYS(kill), 1, a, err, errlen) < 0)
		return -1;
	return 0;
}

/* The compiled program, read back from libseccomp through a memfd. */
static int
compile(scmp_filter_ctx ctx, struct sandbox *sb, char *err, size_t errlen)
{
	struct sock_filter *buf = NULL;
	struct stat st;
	size_t	 have = 0;
	ssize_t	 r;
	int	 fd, rv;

	if ((fd = memfd_create("seccomp", MFD_CLOEXEC)) < 0) {
		snprintf(err, errlen, "seccomp: memfd: %s", strerror(errno));
		return -1;
	}
	if ((rv = seccomp_export_bpf(ctx, fd)) < 0) {
		snprintf(err, errlen, "seccomp: %s", strerror(-rv));
		goto fail;
	}
	if (fstat(fd, &st) < 0 || st.st_size <= 0 ||
	    st.st_size % sizeof(*buf) != 0 ||
	    st.st_size / sizeof(*buf) > BPF_MAXINSNS) {
		snprintf(err, errlen, "seccomp: a filter of %jd bytes",
		    (intmax_t)st.st_size);
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	while (have < (size_t)st.st_size) {
		r = pread(fd, (char *)buf + have, (size_t)st.st_size - have,
		    (off_t)have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "seccomp: read: %s", r == 0 ?
			    "short" : strerror(errno));
			goto fail;
		}
		have += (size_t)r;
	}
	close(fd);
	sb->insn = buf;
	sb->len = (unsigned short)(have / sizeof(*buf));
	return 0;
fail:
	close(fd);
	free(buf);
	return -1;
}

/* How often each placeholder is compared against. */
static void
count(struct sandbox *sb)
{
	unsigned short i;

	for (i = 0; i < sb->len; i++) {
		if (BPF_CLASS(sb->insn[i].code) != BPF_JMP ||
		    BPF_SRC(sb->insn[i].code) != BPF_K)
			continue;
		sb->nself += sb->insn[i].k == PH_SELF;
		sb->nprog += sb->insn[i].k == PH_PROG;
		sb->nnprog += sb->insn[i].k == PH_NPROG;
	}
}

struct sandbox *
sandbox_new(int exec, char *err, size_t errlen)
{
	struct sandbox *sb;
	scmp_filter_ctx ctx;
	int	 r;

	if ((sb = calloc(1, sizeof(*sb))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* Level 3: SECCOMP_RET_KILL_PROCESS, which kills all of it. */
	if (seccomp_api_get() < 3) {
		snprintf(err, errlen, "seccomp: this kernel has no "
		    "SECCOMP_RET_KILL_PROCESS (Linux 4.14 has)");
		goto fail;
	}
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		snprintf(err, errlen, "seccomp: cannot make a filter");
		goto fail;
	}
	/*
	 * A call from another architecture's ABI (x32, or i386 through int
	 * 0x80) kills too; a binary tree keeps the look-up short.
	 */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) < 0 ||
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0) {
		snprintf(err, errlen, "seccomp: %s", strerror(-r));
		goto fail2;
	}
	if (rules(ctx, exec, err, errlen) < 0 ||
	    compile(ctx, sb, err, errlen) < 0)
		goto fail2;
	seccomp_release(ctx);
	count(sb);
	if (sb->nself == 0 || (exec && (sb->nprog == 0 || sb->nnprog == 0))) {
		snprintf(err, errlen, "seccomp: the filter does not compare "
		    "pids as expected");
		sandbox_free(sb);
		return NULL;
	}
	return sb;
fail2:
	seccomp_release(ctx);
fail:
	free(sb);
	return NULL;
}

#ifdef MTLS_TEST_HOOKS
/*
 * Only in the tests' own build (mtls-serve-hooks, never installed): right
 * after entering the sandbox, make the call MTLS_TEST_SANDBOX_CALL names,
 * which the filter must answer by killing the process.  ppid was taken
 * before the filter: getppid is not allowed either.
 */
static void
test_hook(pid_t ppid)
{
	const char *call = getenv("MTLS_TEST_SANDBOX_CALL");
	char	*argv[] = { "true", NULL };

	if (call == NULL)
		return;
	if (strcmp(call, "open") == 0)
		open("/etc/hostname", O_RDONLY);
	else if (strcmp(call, "socket") == 0)
		socket(AF_INET, SOCK_STREAM, 0);
	else if (strcmp(call, "execve") == 0)
		execve("/bin/true", argv, argv + 1);
	else if (strcmp(call, "fork") == 0)
		syscall(SYS_fork);
	else if (strcmp(call, "kill-parent") == 0)
		kill(ppid, 0);
	else if (strcmp(call, "ptrace") == 0)
		syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
#ifdef __x86_64__
	else if (strcmp(call, "x32") == 0)
		syscall(0x40000000L | SYS_getpid);	/* the x32 ABI */
#endif
	else if (strcmp(call, "getpid") == 0)
		getpid();	/* allowed: the process goes on */
	else if (strcmp(call, "leak") == 0) {
		/* LeakSanitizer's report, from inside (SANITIZE=1). */
		void	*lost = malloc(4242);

		explicit_bzero(&lost, sizeof(lost));
	} else
		abort();
}
#endif

int
sandbox_enter(const struct sandbox *sb, pid_t prog, char *err, size_t errlen)
{
	struct sock_filter *insn;
	struct sock_fprog fp;
	unsigned short i;
	uint32_t self = (uint32_t)getpid();
#ifdef MTLS_TEST_HOOKS
	pid_t	 ppid = getppid();
#endif

	if ((insn = malloc(sb->len * sizeof(*insn))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(insn, sb->insn, sb->len * sizeof(*insn));
	for (i = 0; i < sb->len; i++) {
		if (BPF_CLASS(insn[i].code) != BPF_JMP ||
		    BPF_SRC(insn[i].code) != BPF_K)
			continue;
		if (insn[i].k == PH_SELF)
			insn[i].k = self;
		else if (insn[i].k == PH_PROG)
			insn[i].k = prog > 0 ? (uint32_t)prog : self;
		else if (insn[i].k == PH_NPROG)
			insn[i].k = prog > 0 ? (uint32_t)-prog : self;
	}
	fp.len = sb->len;
	fp.filter = insn;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		free(insn);
		return -1;
	}
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0) {
		snprintf(err, errlen, "seccomp: %s", strerror(errno));
		free(insn);
		return -1;
	}
	free(insn);
#ifdef MTLS_TEST_HOOKS
	test_hook(ppid);
#endif
	return 0;
}

void
sandbox_free(struct sandbox *sb)
{
	if (sb == NULL)
		return;
	free(sb->insn);
	free(sb);
}
