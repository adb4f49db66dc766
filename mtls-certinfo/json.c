#include <stdio.h>
#include <string.h>

#include "json.h"
#include "textesc.h"

void
json_init(struct json *j, FILE *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->first[0] = 1;
}

/* Write a string literal, escaped; bytes that are not UTF-8 become U+FFFD. */
static void
quote(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int	 n;

	fputc('"', out);
	while (*p != '\0') {
		if (*p == '"' || *p == '\\') {
			fprintf(out, "\\%c", *p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(out, "\\u%04x", *p++);
		} else if (*p < 0x80) {
			fputc(*p++, out);
		} else if ((n = (int)textesc_utf8_len(p, strlen(
		    (const char *)p))) > 0) {
			fwrite(p, 1, (size_t)n, out);
			p += n;
		} else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			/* C1 controls: escaped, as a terminal may obey them. */
			fprintf(out, "\\u%04x", p[1]);
			p += 2;
		} else {
			fputs("\\ufffd", out);
			p++;
		}
	}
	fputc('"', out);
}

static void
item(struct json *j, const char *key)
{
	int	 i;

	if (!j->first[j->depth])
		fputc(',', j->out);
	j->first[j->depth] = 0;
	if (j->depth > 0) {
		fputc('\n', j->out);
		for (i = 0; i < j->depth; i++)
			fputs("  ", j->out);
	}
	if (key != NULL) {
		quote(j->out, key);
		fputs(": ", j->out);
	}
}

static void
open_(struct json *j, const char *key, int c)
{
	item(j, key);
	fputc(c, j->out);
	if (j->depth < JSON_DEPTH - 1)
		j->depth++;
	j->first[j->depth] = 1;
}

static void
close_(struct json *j, int c)
{
	int	 i, empty = j->first[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (!empty) {
		fputc('\n', j->out);
		for (i = 0; i < j->depth; i++)
			fputs("  ", j->out);
	}
	fputc(c, j->out);
	if (j->depth == 0)
		fputc('\n', j->out);
}

void
json_begin_object(struct json *j, const char *key)
{
	open_(j, key, '{');
}

void
json_end_object(struct json *j)
{
	close_(j, '}');
}

void
json_begin_array(struct json *j, const char *key)
{
	open_(j, key, '[');
}

void
json_end_array(struct json *j)
{
	close_(j, ']');
}

void
json_str(struct json *j, const char *key, const char *val)
{
	item(j, key);
	quote(j->out, val);
}

void
json_str_or_null(struct json *j, const char *key, const char *val)
{
	if (val == NULL || *val == '\0')
		json_null(j, key);
	else
		json_str(j, key, val);
}

void
json_int(struct json *j, const char *key, long long val)
{
	item(j, key);
	fprintf(j->out, "%lld", val);
}

void
json_bool(struct json *j, const char *key, int val)
{
	item(j, key);
	fputs(val ? "true" : "false", j->out);
}

void
json_null(struct json *j, const char *key)
{
	item(j, key);
	fputs("null", j->out);
}
