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
