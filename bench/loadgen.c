/*
 * loadgen: a bounded mTLS load for bench/run.
 *
 *	loadgen [-r] [-n conns] [-t seconds] HOST PORT CA CERT KEY
 *
 * N threads each loop: connect, full mTLS handshake (or, with -r, resume
 * the TLS session of their previous round), send one line, read the
 * reply line, close_notify, close.  A round counts only when the reply
 * came back: with TLS 1.3 the client's handshake ends before the server
 * has judged its certificate.  Prints one line of key=value results,
 * the client's own CPU per round (client_ms) among them: on one machine
 * the client's work bounds what the server can be offered.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#define MAX_THREADS	256
#define MAX_SAMPLES	(1 << 18)	/* per thread; enough for p99 */

struct shared {
	gnutls_certificate_credentials_t cred;
	struct sockaddr_in sa;
	double	 end;
	int	 resume;
};

struct worker {
	pthread_t	 th;
	struct shared	*sh;
	double		*lat;		/* seconds per good round */
	long		 n, fail, resumed;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* This process's CPU so far (all threads), user + system, in seconds. */
static double
cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* One round; 1 good, 0 failed.  *data: the session to resume and keep. */
static int
round_trip(struct worker *w, gnutls_datum_t *data)
{
	gnutls_session_t s;
	char	 buf[4096];
	int	 fd, one = 1, ret, got = 0, ok = 0;
	struct timeval tv = { 10, 0 };

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return 0;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&w->sh->sa, sizeof(w->sh->sa)) < 0) {
		close(fd);
		return 0;
	}
	gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL);
	gnutls_set_default_priority(s);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, w->sh->cred);
	gnutls_server_name_set(s, GNUTLS_NAME_DNS, "localhost", 9);
	gnutls_session_set_verify_cert(s, "localhost", 0);
	if (w->sh->resume && data->data != NULL)
		gnutls_session_set_data(s, data->data, data->size);
	gnutls_transport_set_int(s, fd);
	do
		ret = gnutls_handshake(s);
	while (ret < 0 && !gnutls_error_is_fatal(ret));
	if (ret < 0)
		goto out;
	if (gnutls_record_send(s, "ping\n", 5) != 5)
		goto out;
	while (!memchr(buf, '\n', (size_t)got) && got < (int)sizeof(buf)) {
		ret = (int)gnutls_record_recv(s, buf + got,
		    sizeof(buf) - (size_t)got);
		if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
			continue;
		if (ret <= 0)
			goto out;
		got += ret;
	}
	ok = 1;
	if (gnutls_session_is_resumed(s))
		w->resumed++;
	if (w->sh->resume) {
		gnutls_free(data->data);
		data->data = NULL;
		gnutls_session_get_data2(s, data);
	}
	gnutls_bye(s, GNUTLS_SHUT_WR);
out:
	gnutls_deinit(s);
	close(fd);
	return ok;
}

static void *
work(void *arg)
{
	struct worker *w = arg;
	gnutls_datum_t data = { NULL, 0 };
	double	 t0;

	while ((t0 = now()) < w->sh->end) {
		if (round_trip(w, &data)) {
			if (w->n < MAX_SAMPLES)
				w->lat[w->n] = now() - t0;
			w->n++;
		} else
			w->fail++;
	}
	gnutls_free(data.data);
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char *argv[])
{
	struct shared sh;
	struct worker *w;
	double	*all, start, secs = 5, cpu0;
	long	 n = 0, fail = 0, resumed = 0, k = 0, i, j;
	int	 ch, conns = 1, t;

	memset(&sh, 0, sizeof(sh));
	while ((ch = getopt(argc, argv, "n:rt:")) != -1) {
		switch (ch) {
		case 'n':
			conns = atoi(optarg);
			break;
		case 'r':
			sh.resume = 1;
			break;
		case 't':
			secs = atof(optarg);
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 5 || conns < 1 || conns > MAX_THREADS || secs <= 0)
		goto usage;
	sh.sa.sin_family = AF_INET;
	sh.sa.sin_port = htons((unsigned short)atoi(argv[1]));
	if (inet_pton(AF_INET, argv[0], &sh.sa.sin_addr) != 1)
		goto usage;
	gnutls_certificate_allocate_credentials(&sh.cred);
	if (gnutls_certificate_set_x509_trust_file(sh.cred, argv[2],
	    GNUTLS_X509_FMT_PEM) <= 0 ||
	    gnutls_certificate_set_x509_key_file(sh.cred, argv[3], argv[4],
	    GNUTLS_X509_FMT_PEM) < 0) {
		fprintf(stderr, "loadgen: cannot load credentials\n");
		return 2;
	}
	w = calloc((size_t)conns, sizeof(*w));
	cpu0 = cpu();
	start = now();
	sh.end = start + secs;
	for (t = 0; t < conns; t++) {
		w[t].sh = &sh;
		w[t].lat = malloc(MAX_SAMPLES * sizeof(double));
		pthread_create(&w[t].th, NULL, work, &w[t]);
	}
	for (t = 0; t < conns; t++) {
		pthread_join(w[t].th, NULL);
		n += w[t].n;
		fail += w[t].fail;
		resumed += w[t].resumed;
	}
	secs = now() - start;
	cpu0 = cpu() - cpu0;
	all = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
	for (t = 0; t < conns; t++)
		for (j = 0, i = w[t].n < MAX_SAMPLES ? w[t].n : MAX_SAMPLES;
		    j < i; j++)
			all[k++] = w[t].lat[j];
	qsort(all, (size_t)k, sizeof(double), cmp);
	printf("conns=%d seconds=%.2f rounds=%ld failures=%ld resumed=%ld "
	    "rate=%.1f p50_ms=%.2f p99_ms=%.2f client_ms=%.3f\n", conns, secs,
	    n, fail, resumed, n / secs, k ? all[k / 2] * 1000 : 0,
	    k ? all[(k * 99) / 100] * 1000 : 0, cpu0 * 1000 / (n > 0 ? n : 1));
	for (t = 0; t < conns; t++)
		free(w[t].lat);
	free(w);
	free(all);
	gnutls_certificate_free_credentials(sh.cred);
	return 0;
usage:
	fprintf(stderr, "usage: loadgen [-r] [-n conns] [-t seconds] "
	    "HOST PORT CA CERT KEY\n");
	return 2;
}
