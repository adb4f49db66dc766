/*
 * timefmt: times as RFC 3339 text in UTC, the one form every mtls program
 * prints ("2026-11-27T04:11:03Z").
 */
#ifndef MTLS_TIMEFMT_H
#define MTLS_TIMEFMT_H

#include <stddef.h>
#include <time.h>

#define TIMEFMT_MAX	40

/* Format t (seconds) into buf; returns buf ("-" if t cannot be shown). */
char	*timefmt_rfc3339(char *buf, size_t n, time_t t);

/* The current time, to the millisecond ("...T04:11:03.123Z"); returns buf. */
char	*timefmt_now(char *buf, size_t n);

/* A monotonic clock in milliseconds, for timeouts and durations. */
long long timefmt_monotonic_ms(void);

#endif
