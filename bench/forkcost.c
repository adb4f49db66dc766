/*
 * forkcost: the CPU one bare fork, exit and wait costs a process linked
 * like mtls-serve (GnuTLS and libtasn1 loaded and initialized), the floor
 * under any fork-per-connection server.
 *
 *	forkcost [count]
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <libtasn1.h>

static double
cpu(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int
main(int argc, char *argv[])
{
	gnutls_certificate_credentials_t cred;
	int	 i, n = argc > 1 ? atoi(argv[1]) : 2000, st;
	double	 before, after;
	pid_t	 pid;

	/* Touch the libraries as mtls-serve does before it forks. */
	gnutls_global_init();
	gnutls_certificate_allocate_credentials(&cred);
	(void)asn1_check_version(NULL);
	before = cpu(RUSAGE_SELF) + cpu(RUSAGE_CHILDREN);
	for (i = 0; i < n; i++) {
		if ((pid = fork()) == 0)
			_exit(0);
		waitpid(pid, &st, 0);
	}
	after = cpu(RUSAGE_SELF) + cpu(RUSAGE_CHILDREN);
	printf("forks=%d cpu_us_per_fork=%.1f\n", n, (after - before) / n * 1e6);
	gnutls_certificate_free_credentials(cred);
	return 0;
}
