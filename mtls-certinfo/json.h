/*
 * json: a small streaming JSON writer; whatever the strings hold, the
 * output is valid JSON (control bytes escaped, invalid UTF-8 replaced).
 */
#ifndef MTLS_JSON_H
#define MTLS_JSON_H

#include <stdio.h>

#define JSON_DEPTH	16

struct json {
	FILE	*out;
	int	 depth;
	int	 first[JSON_DEPTH];	/* nothing written yet at this level */
	int	 indent;
};

void	 json_init(struct json *j, FILE *out);
/* key may be NULL inside arrays and at the top. */
void	 json_begin_object(struct json *j, const char *key);
void	 json_end_object(struct json *j);
void	 json_begin_array(struct json *j, const char *key);
void	 json_end_array(struct json *j);
void	 json_str(struct json *j, const char *key, const char *val);
void	 json_int(struct json *j, const char *key, long long val);
void	 json_bool(struct json *j, const char *key, int val);
void	 json_null(struct json *j, const char *key);
/* The string, or null when it is empty. */
void	 json_str_or_null(struct json *j, const char *key, const char *val);

#endif
