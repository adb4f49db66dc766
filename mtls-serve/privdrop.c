#include <sys/prctl.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "privdrop.h"

static struct passwd *
lookup(const char *opt, const char *user, char *err, size_t errlen)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "%s %s: %s", opt, user,
		    errno ? strerror(errno) : "no such user");
		return NULL;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "%s %s: that is root", opt, user);
		return NULL;
	}
	return pw;
}

int
privdrop_check(const char *opt, const char *user, char *err, size_t errlen)
{
	return lookup(opt, user, err, errlen) == NULL ? -1 : 0;
}

int
privdrop(const char *opt, const char *user, char *err, size_t errlen)
{
	struct passwd *pw;

	if ((pw = lookup(opt, user, err, errlen)) == NULL)
		return -1;
	/* Groups first: after setuid() we could no longer change them. */
	if (setgroups(1, &pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		snprintf(err, errlen, "%s %s: %s", opt, user,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 || geteuid() == 0 || getegid() == 0) {
		snprintf(err, errlen, "%s %s: root could be regained", opt,
		    user);
		return -1;
	}
	/*
	 * A uid change resets "dumpable" to fs.suid_dumpable, which may be
	 * 1: then a process of that user could read our memory (the key
	 * process's key).  Set it again, and check.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
	    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) {
		snprintf(err, errlen, "%s %s: cannot stay undumpable", opt,
		    user);
		return -1;
	}
	return 0;
}
