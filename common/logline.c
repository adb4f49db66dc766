#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "logline.h"
#include "timefmt.h"

static void
logline_append(struct logline *l, const char *s)
{
	size_t	 n = strlen(s);

	/* Keep one byte for the NUL and one for diag_writeline's newline. */
	if (l->len + n > sizeof(l->buf) - 2)
		n = sizeof(l->buf) - 2 - l->len;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	l->buf[l->len] = '\0';
}

void
logline_begin(struct logline *l, unsigned long conn, const char *event)
{
	char	 ts[TIMEFMT_MAX];

	l->len = 0;
	l->buf[0] = '\0';
	logline_append(l, diag_progname());
	logline_append(l, ":");
	logline_str(l, "time", timefmt_now(ts, sizeof(ts)));
	if (conn != 0)
		logline_fmt(l, "conn", "%lu", conn);
	logline_str(l, "event", event);
}

char *
log_escape(char *dst, size_t n, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t	 o = 0;
	char	 esc[5];

	if (n == 0)
		return dst;
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			strcpy(esc, "\\n");
		else if (*s == '\t')
			strcpy(esc, "\\t");
		else if (*s == '"' || *s == '\\')
			snprintf(esc, sizeof(esc), "\\%c", *s);
		else if (*s < 0x20 || *s >= 0x7f)
			snprintf(esc, sizeof(esc), "\\x%02x", *s);
		else {
			esc[0] = (char)*s;
			esc[1] = '\0';
		}
		if (o + strlen(esc) + 4 > n) {
			/* Room is kept for "..." and the NUL. */
			if (n >= 4) {
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(dst + o, esc, strlen(esc));
		o += strlen(esc);
	}
	dst[o] = '\0';
	return dst;
}

void
logline_str(struct logline *l, const char *key, const char *val)
{
	char	 esc[1024];
	int	 quote = 0;
	const char *p;

	if (val == NULL)
		val = "-";
	log_escape(esc, sizeof(esc), val);
	/* Quote when a reader splitting on blanks would cut the value. */
	for (p = esc; *p != '\0'; p++)
		if (*p == ' ' || *p == '=' || *p == '\\')
			quote = 1;
	if (*esc == '\0')
		quote = 1;
	logline_append(l, " ");
	logline_append(l, key);
	logline_append(l, quote ? "=\"" : "=");
	logline_append(l, esc);
	if (quote)
		logline_append(l, "\"");
}

void
logline_fmt(struct logline *l, const char *key, const char *fmt, ...)
{
	char	 val[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	logline_append(l, " ");
	logline_append(l, key);
	logline_append(l, "=");
	logline_append(l, val);
}

void
logline_emit(struct logline *l)
{
	diag_writeline(l->buf);
}

void
logline_diag(enum diag_level level, int status, const char *msg)
{
	struct logline l;

	logline_begin(&l, 0, level == DIAG_FATAL ? "fatal" : "warning");
	logline_str(&l, "level", level == DIAG_FATAL ? "error" : "warning");
	logline_str(&l, "reason", msg);
	if (level == DIAG_FATAL)
		logline_fmt(&l, "exit", "%d", status);
	logline_emit(&l);
}
