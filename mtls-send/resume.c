#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "resume.h"
#include "tlsconf.h"
#include "tlssess.h"

#define MAGIC		"mtls-session "
#define VERSION		"mtls-session 2 "
#define SESSION_MAX	(64 * 1024)

int
resume_trust(struct resume_file *sf, const struct tlsconf *conf,
    const char *priority, char pins[][45], int npins, int require_ocsp,
    const char *name, char *err, size_t errlen)
{
	const char *extra[RESUME_PINS_MAX + 4];
	char	 why[256];
	size_t	 n = 0;
	int	 i;

	/*
	 * Our own identity and the protocol policy count too: a session
	 * resumed under another client certificate would still present
	 * the one it was made with, and one made under another -p would
	 * skip it.
	 */
	extra[n++] = "priority";
	extra[n++] = priority ? priority : "";
	for (i = 0; i < npins && i < RESUME_PINS_MAX; i++)
		extra[n++] = pins[i];
	extra[n++] = require_ocsp ? "ocsp" : "no-ocsp";
	extra[n++] = name;
	if (tlsconf_digest(conf, extra, n, sf->trust, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", sf->path, why);
		return -1;
	}
	return 0;
}

/* Read at most SESSION_MAX bytes of fd. */
static ssize_t
read_some(int fd, unsigned char *buf, size_t cap)
{
	size_t	 used = 0;
	ssize_t	 r;

	while (used < cap) {
		r = read(fd, buf + used, cap - used);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		used += (size_t)r;
	}
	return (ssize_t)used;
}

int
resume_load(struct resume_file *sf, const char *name, int verbose,
    char *err, size_t errlen)
{
	unsigned char *data, *nl;
	char	 want[512];
	struct stat st;
	ssize_t	 len;
	int	 fd, rv = 0;

	sf->writable = 0;
	sf->data = NULL;
	sf->len = 0;
	/* Never through a link: it could point at a file of someone else's. */
	if ((fd = open(sf->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			sf->writable = 1;
		else if (errno == ELOOP)
			warn("%s: a symbolic link; session not used or saved",
			    sf->path);
		else
			warn("%s: %s; session not used or saved", sf->path,
			    strerror(errno));
		return 0;
	}
	if ((data = malloc(SESSION_MAX + 1)) == NULL) {
		close(fd);
		warn("%s: %s; session not used", sf->path, strerror(ENOMEM));
		return 0;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		warn("%s: not a regular file; session not used or saved",
		    sf->path);
		goto out;
	}
	if ((len = read_some(fd, data, SESSION_MAX + 1)) < 0) {
		warn("%s: %s; session not used or saved", sf->path,
		    strerror(errno));
		goto out;
	}
	/* Whatever else is wrong, a file that is not ours is never replaced. */
	if (len > 0 && ((size_t)len < strlen(MAGIC) ||
	    memcmp(data, MAGIC, strlen(MAGIC)) != 0)) {
		snprintf(err, errlen, "%s: not an mtls-send session file; "
		    "it would be overwritten", sf->path);
		rv = -1;
		goto out;
	}
	/* Anyone who can write it could send us to their server. */
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		warn("%s: %s; session not used or saved", sf->path,
		    st.st_uid != geteuid() ? "owned by another user" :
		    "writable by group or others");
		goto out;
	}
	sf->writable = 1;
	if (len == 0)
		goto out;
	if (len > SESSION_MAX) {
		warn("%s: too large; session not used", sf->path);
		goto out;
	}
	snprintf(want, sizeof(want), "%s%s %s\n", VERSION, sf->trust, name);
	nl = memchr(data, '\n', (size_t)len);
	if (nl == NULL || (size_t)(nl + 1 - data) != strlen(want) ||
	    memcmp(data, want, strlen(want)) != 0) {
		if (verbose)
			warn("%s: not a session for %s under these trust "
			    "settings; ignored", sf->path, name);
		goto out;
	}
	/* Kept until offered: the session's secrets, wiped after. */
	sf->len = (size_t)(data + len - (nl + 1));
	memmove(data, nl + 1, sf->len);
	sf->data = data;
	data = NULL;
out:
	if (data != NULL) {
		explicit_bzero(data, SESSION_MAX + 1);
		free(data);
	}
	close(fd);
	return rv;
}

void
resume_offer(struct resume_file *sf, struct tlssess *t, int verbose)
{
	char	 err[256];

	if (sf->data == NULL)
		return;
	if (tlssess_resume(t, sf->data, sf->len, err, sizeof(err)) < 0 &&
	    verbose)
		warn("%s: %s; ignored", sf->path, err);
	explicit_bzero(sf->data, SESSION_MAX + 1);
	free(sf->data);
	sf->data = NULL;
}

void
resume_save(const struct resume_file *sf, const char *name,
    struct tlssess *t, int verbose)
{
	unsigned char *data;
	size_t	 len;
	char	 tmp[4096], err[256];
	FILE	*f;
	int	 fd, ok;

	if (!sf->writable)
		return;
	/* TLS 1.3: the data is there once the server's ticket arrived. */
	if (tlssess_resume_data(t, &data, &len, err, sizeof(err)) < 0) {
		if (verbose)
			warn("%s: no session to save (%s)", sf->path, err);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp%ld", sf->path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		warn("%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		explicit_bzero(data, len);
		free(data);
		return;
	}
	ok = fprintf(f, "%s%s %s\n", VERSION, sf->trust, name) > 0 &&
	    fwrite(data, 1, len, f) == len;
	ok = fclose(f) == 0 && ok;
	explicit_bzero(data, len);
	free(data);
	if (!ok || rename(tmp, sf->path) < 0) {
		warn("%s: %s", sf->path, strerror(errno));
		unlink(tmp);
	}
}
