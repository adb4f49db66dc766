#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"

int
file_read(const char *path, unsigned char **data, size_t *len, char *err,
    size_t errlen)
{
	unsigned char *buf = NULL, *nbuf;
	size_t	 cap = 0, used = 0;
	ssize_t	 r;
	int	 fd;
	struct stat st;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: %s", path, strerror(EISDIR));
		goto fail;
	}
	for (;;) {
		if (cap - used < 65536) {
			if (cap >= FILEIO_MAX) {
				snprintf(err, errlen, "%s: larger than %u MiB",
				    path, FILEIO_MAX >> 20);
				goto fail;
			}
			cap = cap ? cap * 2 : 65536 * 2;
			if ((nbuf = realloc(buf, cap + 1)) == NULL) {
				snprintf(err, errlen, "%s: %s", path,
				    strerror(errno));
				goto fail;
			}
			buf = nbuf;
		}
		r = read(fd, buf + used, cap - used);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		used += (size_t)r;
	}
	buf[used] = '\0';
	if (fd != STDIN_FILENO)
		close(fd);
	*data = buf;
	*len = used;
	return 0;
fail:
	free(buf);
	if (fd != STDIN_FILENO)
		close(fd);
	return -1;
}

int
file_pem_check(const char *name, const unsigned char *data, size_t len,
    char *err, size_t errlen)
{
	const unsigned char *p = data, *end = data + len, *nl;
	size_t	 line = 0, begin_line = 0;
	int	 inblock = 0;

	for (; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if ((size_t)(nl - p) >= 10 && memcmp(p, "-----BEGIN", 10) == 0) {
			/* A BEGIN inside a block: the first was cut short. */
			if (inblock)
				break;
			inblock = 1;
			begin_line = line;
		} else if ((size_t)(nl - p) >= 8 &&
		    memcmp(p, "-----END", 8) == 0)
			inblock = 0;
	}
	if (!inblock)
		return 0;
	snprintf(err, errlen, "%s: truncated PEM: no END line for the BEGIN "
	    "at line %zu", name, begin_line);
	return -1;
}

/* A base64 digit's value, or -1. */
static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
file_pem_decode(const char *name, unsigned char *data, size_t len,
    const char *want, size_t *derlen, int *encrypted, char *err,
    size_t errlen)
{
	unsigned char *p = data, *end = data + len, *nl;
	unsigned int acc = 0;
	size_t	 out = 0, line = 0, begin = 0;
	int	 bits = 0, v, pad = 0;

	*derlen = 0;
	*encrypted = 0;
	for (; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (begin == 0) {
			if ((size_t)(nl - p) > 11 &&
			    memcmp(p, "-----BEGIN ", 11) == 0 &&
			    memmem(p, (size_t)(nl - p), want, strlen(want))) {
				begin = line;
				*encrypted = memmem(p, (size_t)(nl - p),
				    "ENCRYPTED", 9) != NULL;
			}
			continue;
		}
		if ((size_t)(nl - p) >= 8 && memcmp(p, "-----END", 8) == 0) {
			*derlen = out;
			return 0;
		}
		/* RFC 1421 headers: "Proc-Type: 4,ENCRYPTED", "DEK-Info". */
		if (memchr(p, ':', (size_t)(nl - p)) != NULL) {
			if (memmem(p, (size_t)(nl - p), "ENCRYPTED", 9))
				*encrypted = 1;
			continue;
		}
		/* Output never overtakes input: 4 characters make 3 bytes. */
		for (; p < nl; p++) {
			if (*p == ' ' || *p == '\t' || *p == '\r')
				continue;
			if (*p == '=') {
				pad++;
				continue;
			}
			if (pad > 0 || (v = b64val(*p)) < 0) {
				snprintf(err, errlen, "%s: bad base64 at line "
				    "%zu", name, line);
				return -1;
			}
			acc = (acc << 6) | (unsigned int)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				data[out++] = (unsigned char)(acc >> bits);
			}
		}
	}
	if (begin == 0)
		return 1;
	snprintf(err, errlen, "%s: truncated PEM: no END line for the BEGIN "
	    "at line %zu", name, begin);
	return -1;
}
