#include <stdio.h>
#include <time.h>

#include "timefmt.h"

char *
timefmt_rfc3339(char *buf, size_t n, time_t t)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, n, "-");
	return buf;
}

char *
timefmt_now(char *buf, size_t n)
{
	struct timespec ts;
	struct tm tm;
	char	 day[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (gmtime_r(&ts.tv_sec, &tm) == NULL ||
	    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(buf, n, "-");
		return buf;
	}
	snprintf(buf, n, "%s.%03ldZ", day, ts.tv_nsec / 1000000);
	return buf;
}

long long
timefmt_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
