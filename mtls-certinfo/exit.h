/*
 * mtls-certinfo: its exit statuses, as mtls-certinfo(1) documents them.
 * Only main() ends the program; its modules return one of these for
 * main() to exit with.
 */
#ifndef MTLS_CERTINFO_EXIT_H
#define MTLS_CERTINFO_EXIT_H

enum certinfo_exit {
	CERTINFO_OK = 0,	/* all fine */
	CERTINFO_CHECK = 1,	/* verification failed, a key that does not
				   match, or expiring within the days asked */
	CERTINFO_USAGE = 2,	/* usage, or input that does not parse
				   (CLI_USAGE_STATUS) */
	CERTINFO_CONNECT = 3	/* --connect got no chain */
};

#endif
