#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "allow.h"
#include "peer.h"

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

/* Does any DN attribute oid of crt match glob? */
static int
dn_matches(gnutls_x509_crt_t crt, const char *oid, const char *glob)
{
	char	 buf[1024];
	size_t	 len;
	unsigned int i;

	for (i = 0; i < 64; i++) {
		len = sizeof(buf);
		if (gnutls_x509_crt_get_dn_by_oid(crt, oid, i, 0, buf, &len) < 0)
			return 0;
		if (fnmatch(glob, buf, 0) == 0)
			return 1;
	}
	return 0;
}

struct san_match {
	int		 type;
	const char	*glob;
};

static int
san_glob(void *arg, int type, const char *value)
{
	const struct san_match *m = arg;

	return type == m->type && fnmatch(m->glob, value, 0) == 0;
}

/* Does any SAN of type match glob? */
static int
san_matches(gnutls_x509_crt_t crt, int type, const char *glob)
{
	struct san_match m = { type, glob };

	return peer_foreach_san(crt, san_glob, &m);
}

const struct allow_rule *
allow_match(const struct allow_rule *rules, int n, gnutls_x509_crt_t crt)
{
	struct peer_cert pc;
	char	 pin[45];
	int	 i, have_pc = 0, have_pin = 0;

	for (i = 0; i < n; i++) {
		const struct allow_rule *r = &rules[i];

		switch (r->kind) {
		case ALLOW_CN:
			/*
			 * "CN=guest, CN=admin": a program told one name
			 * while a rule matched the other.  Only a subject
			 * with exactly one CN has a CN to match.
			 */
			if (peer_dn_count(crt, GNUTLS_OID_X520_COMMON_NAME) ==
			    1 && dn_matches(crt, GNUTLS_OID_X520_COMMON_NAME,
			    r->value))
				return r;
			break;
		case ALLOW_OU:
			if (dn_matches(crt,
			    GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME, r->value))
				return r;
			break;
		case ALLOW_DNS:
			if (san_matches(crt, GNUTLS_SAN_DNSNAME, r->value))
				return r;
			break;
		case ALLOW_URI:
			if (san_matches(crt, GNUTLS_SAN_URI, r->value))
				return r;
			break;
		case ALLOW_EMAIL:
			if (san_matches(crt, GNUTLS_SAN_RFC822NAME, r->value))
				return r;
			break;
		case ALLOW_SHA256:
			if (!have_pc && peer_describe(crt, &pc) == 0)
				have_pc = 1;
			if (have_pc && strcmp(pc.sha256, r->value) == 0)
				return r;
			break;
		case ALLOW_PIN:
			if (!have_pin && peer_spki_sha256(crt, pin, NULL) == 0)
				have_pin = 1;
			if (have_pin && strcmp(pin, r->value) == 0)
				return r;
			break;
		}
	}
	return NULL;
}

const char *
allow_why_not(const struct allow_rule *rules, int n, gnutls_x509_crt_t crt,
    char *buf, size_t len)
{
	int	 i, ncn;

	for (i = 0; i < n; i++)
		if (rules[i].kind == ALLOW_CN)
			break;
	if (i == n || (ncn = peer_dn_count(crt,
	    GNUTLS_OID_X520_COMMON_NAME)) == 1)
		return "not allowed";
	snprintf(buf, len, "not allowed (the subject has %d CNs; cn: rules "
	    "need exactly one)", ncn);
	return buf;
}
