#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "allow.h"
#include "tlsx509.h"

static const struct {
	const char	*prefix;
	enum allow_kind	 kind;
} kinds[] = {
	{ "cn:", ALLOW_CN },
	{ "ou:", ALLOW_OU },
	{ "dns:", ALLOW_DNS },
	{ "uri:", ALLOW_URI },
	{ "email:", ALLOW_EMAIL },
	{ "sha256:", ALLOW_SHA256 },
	{ "pin-sha256:", ALLOW_PIN },
};

int
allow_parse(const char *text, struct allow_rule *r, char *err, size_t errlen)
{
	const char *v = NULL, *p;
	size_t	 i, o = 0;

	memset(r, 0, sizeof(*r));
	r->text = text;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strncmp(text, kinds[i].prefix,
		    strlen(kinds[i].prefix)) == 0) {
			r->kind = kinds[i].kind;
			v = text + strlen(kinds[i].prefix);
			break;
		}
	if (v == NULL) {
		snprintf(err, errlen, "--allow \"%s\": unknown kind (use cn:, "
		    "ou:, dns:, uri:, email:, sha256: or pin-sha256:)", text);
		return -1;
	}
	if (*v == '\0' || strlen(v) >= sizeof(r->value)) {
		snprintf(err, errlen, "--allow \"%s\": %s pattern", text,
		    *v ? "too long a" : "empty");
		return -1;
	}
	switch (r->kind) {
	case ALLOW_SHA256:
		/* Hex, any case, colons allowed (as openssl prints it). */
		for (p = v; *p != '\0'; p++) {
			if (*p == ':')
				continue;
			if (!isxdigit((unsigned char)*p))
				break;
			r->value[o++] = (char)tolower((unsigned char)*p);
		}
		if (*p != '\0' || o != 64) {
			snprintf(err, errlen, "--allow \"%s\": not a SHA-256 "
			    "fingerprint (64 hex digits)", text);
			return -1;
		}
		r->value[o] = '\0';
		break;
	case ALLOW_PIN:
		if (strncmp(v, "sha256//", 8) == 0)
			v += 8;
		if (strlen(v) != 44 || v[43] != '=' ||
		    strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
		    "vwxyz0123456789+/=") != 44) {
			snprintf(err, errlen, "--allow \"%s\": not a SHA-256 "
			    "pin (44 base64 characters)", text);
			return -1;
		}
		snprintf(r->value, sizeof(r->value), "%s", v);
		break;
	default:
		snprintf(r->value, sizeof(r->value), "%s", v);
	}
	return 0;
}

/* Does any OU of f match glob? */
static int
ou_matches(const struct x509_facts *f, const char *glob)
{
	unsigned int i;

	for (i = 0; i < f->nou; i++)
		if (fnmatch(glob, f->ou[i], 0) == 0)
			return 1;
	return 0;
}

/* Does any SAN of type match glob? */
static int
san_matches(const struct x509_facts *f, enum x509_san_type type,
    const char *glob)
{
	unsigned int i;

	for (i = 0; i < f->nsan; i++)
		if (f->san[i].type == type &&
		    fnmatch(glob, f->san[i].value, 0) == 0)
			return 1;
	return 0;
}

const struct allow_rule *
allow_match(const struct allow_rule *rules, int n, const struct x509_facts *f)
{
	int	 i;

	for (i = 0; i < n; i++) {
		const struct allow_rule *r = &rules[i];

		switch (r->kind) {
		case ALLOW_CN:
			/*
			 * "CN=guest, CN=admin": a program told one name
			 * while a rule matched the other.  Only a subject
			 * with exactly one CN has a CN to match.
			 */
			if (f->ncn == 1 && f->cn != NULL &&
			    fnmatch(r->value, f->cn, 0) == 0)
				return r;
			break;
		case ALLOW_OU:
			if (ou_matches(f, r->value))
				return r;
			break;
		case ALLOW_DNS:
			if (san_matches(f, X509_SAN_DNS, r->value))
				return r;
			break;
		case ALLOW_URI:
			if (san_matches(f, X509_SAN_URI, r->value))
				return r;
			break;
		case ALLOW_EMAIL:
			if (san_matches(f, X509_SAN_EMAIL, r->value))
				return r;
			break;
		case ALLOW_SHA256:
			if (strcmp(f->sha256, r->value) == 0)
				return r;
			break;
		case ALLOW_PIN:
			if (f->spki_sha256[0] != '\0' &&
			    strcmp(f->spki_sha256, r->value) == 0)
				return r;
			break;
		}
	}
	return NULL;
}

const char *
allow_why_not(const struct allow_rule *rules, int n,
    const struct x509_facts *f, char *buf, size_t len)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (rules[i].kind == ALLOW_CN)
			break;
	if (i == n || f->ncn == 1)
		return "not allowed";
	snprintf(buf, len, "not allowed (the subject has %d CNs; cn: rules "
	    "need exactly one)", f->ncn);
	return buf;
}
