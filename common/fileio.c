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
