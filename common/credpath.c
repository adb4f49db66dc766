#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credpath.h"

#define CREDPATH_DIRS	4

/*
 * The places, in order, and how each is named in a message.  A place that
 * cannot be formed (MTLS_DIR unset, no HOME) is left empty.
 */
static void
credpath_dirs(char dirs[CREDPATH_DIRS][CREDPATH_MAX],
    char names[CREDPATH_DIRS][CREDPATH_MAX])
{
	const char *env = getenv("MTLS_DIR");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	memset(dirs, 0, CREDPATH_DIRS * CREDPATH_MAX);
	if (env != NULL && *env != '\0') {
		snprintf(dirs[0], CREDPATH_MAX, "%s", env);
		snprintf(names[0], CREDPATH_MAX, "MTLS_DIR=%s", env);
	} else
		snprintf(names[0], CREDPATH_MAX, "MTLS_DIR (unset)");
	snprintf(dirs[1], CREDPATH_MAX, "certs");
	snprintf(names[1], CREDPATH_MAX, "./certs");
	/* XDG base directories: a relative XDG_CONFIG_HOME is ignored. */
	if (xdg != NULL && *xdg == '/') {
		snprintf(dirs[2], CREDPATH_MAX, "%s/mtls", xdg);
		snprintf(names[2], CREDPATH_MAX, "%s", dirs[2]);
	} else if (home != NULL && *home != '\0') {
		snprintf(dirs[2], CREDPATH_MAX, "%s/.config/mtls", home);
		snprintf(names[2], CREDPATH_MAX, "~/.config/mtls");
	} else
		snprintf(names[2], CREDPATH_MAX, "~/.config/mtls (no HOME)");
	snprintf(dirs[3], CREDPATH_MAX, "/etc/mtls");
	snprintf(names[3], CREDPATH_MAX, "/etc/mtls");
}

int
credpath_find(const char *name, const char *flag, char *out, size_t n,
    char *err, size_t errlen)
{
	char	 dirs[CREDPATH_DIRS][CREDPATH_MAX];
	char	 names[CREDPATH_DIRS][CREDPATH_MAX];
	struct stat st;
	size_t	 len;
	int	 i;

	credpath_dirs(dirs, names);
	for (i = 0; i < CREDPATH_DIRS; i++) {
		if (dirs[i][0] == '\0')
			continue;
		if ((size_t)snprintf(out, n, "%s/%s", dirs[i], name) >= n)
			continue;
		/*
		 * Any entry counts, even one we may not read: then the
		 * error names that file and says why, which helps more
		 * than looking on.
		 */
		if (lstat(out, &st) == 0)
			return 0;
	}
	snprintf(err, errlen, "%s: not found in ", name);
	for (i = 0; i < CREDPATH_DIRS; i++) {
		len = strlen(err);
		snprintf(err + len, errlen - len, "%s%s", i ? ", " : "",
		    names[i]);
	}
	len = strlen(err);
	snprintf(err + len, errlen - len, " (name it with %s)", flag);
	return -1;
}
