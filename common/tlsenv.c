#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"
#include "tlsenv.h"
#include "tlssess.h"
#include "tlsx509.h"

extern char **environ;

int
tlsenv_set(struct tlsenv *e, const char *name, const char *value)
{
	size_t	 len = strlen(name) + strlen(value) + 2;

	if (e->n >= TLSENV_MAX || (e->v[e->n] = malloc(len)) == NULL) {
		e->lost++;
		return -1;
	}
	snprintf(e->v[e->n], len, "%s=%s", name, value);
	e->n++;
	e->v[e->n] = NULL;
	return 0;
}

/* How a peer's text is written into a value. */
enum esc { ESC_NONE, ESC_TEXT, ESC_DN };

/*
 * A copy of src that a reader splitting on newlines, or a terminal, cannot
 * misread: each byte below 0x20 and 0x7f becomes "\HH" (RFC 4514's form,
 * two uppercase hex digits).  ESC_TEXT also doubles every backslash, so the
 * escaping can be undone; ESC_DN leaves them, as an RFC 4514 DN already
 * escapes its own.  Returns NULL when out of memory.
 */
static char *
escape(const char *src, enum esc how)
{
	const unsigned char *p;
	char	*out, *o;

	if ((out = malloc(strlen(src) * 3 + 1)) == NULL)
		return NULL;
	for (p = (const unsigned char *)src, o = out; *p != '\0'; p++) {
		if (how != ESC_NONE && (*p < 0x20 || *p == 0x7f))
			o += sprintf(o, "\\%02X", *p);
		else if (how == ESC_TEXT && *p == '\\') {
			*o++ = '\\';
			*o++ = '\\';
		} else
			*o++ = (char)*p;
	}
	*o = '\0';
	return out;
}

static void
setf(struct tlsenv *e, const char *side, const char *suffix,
    const char *value, enum esc how)
{
	char	 name[64], *v;

	snprintf(name, sizeof(name), "SSL_%s_%s", side, suffix);
	if ((v = escape(value, how)) == NULL) {
		e->lost++;
		return;
	}
	tlsenv_set(e, name, v);
	free(v);
}

/* _S_DN_CN, _S_DN_O, _S_DN_OU when present. */
static void
dn_parts(struct tlsenv *e, const struct x509_facts *f, const char *side)
{
	/*
	 * Two CNs: which one is "the" name?  --allow cn: admits neither,
	 * and the program is not told one of them.
	 */
	if (f->cn != NULL && f->ncn == 1)
		setf(e, side, "S_DN_CN", f->cn, ESC_TEXT);
	if (f->o != NULL)
		setf(e, side, "S_DN_O", f->o, ESC_TEXT);
	if (f->nou > 0)
		setf(e, side, "S_DN_OU", f->ou[0], ESC_TEXT);
}

static const char *const san_names[X509_SAN_TYPES] = {
	[X509_SAN_DNS] = "DNS", [X509_SAN_IP] = "IP",
	[X509_SAN_EMAIL] = "Email", [X509_SAN_URI] = "URI"
};

/*
 * SSL_<side>_SAN_<type>_<n>, numbered from 0 within each type, the first
 * TLSENV_SAN_MAX of each type, and SSL_<side>_SAN_<type>_COUNT for all.
 */
static void
sans(struct tlsenv *e, const struct x509_facts *f, const char *side)
{
	char	 suffix[32], buf[32];
	int	 n[X509_SAN_TYPES] = { 0 };
	unsigned int i;
	int	 k;

	for (i = 0; i < f->nsan; i++) {
		k = f->san[i].type;
		if (n[k] < TLSENV_SAN_MAX) {
			snprintf(suffix, sizeof(suffix), "SAN_%s_%d",
			    san_names[k], n[k]);
			setf(e, side, suffix, f->san[i].value, ESC_TEXT);
		}
		n[k]++;
	}
	for (k = 0; k < X509_SAN_TYPES; k++) {
		if (n[k] == 0)
			continue;
		snprintf(suffix, sizeof(suffix), "SAN_%s_COUNT", san_names[k]);
		snprintf(buf, sizeof(buf), "%d", n[k]);
		setf(e, side, suffix, buf, ESC_NONE);
	}
}

int
tlsenv_session(struct tlsenv *e, struct tlssess *t, const char *side)
{
	const struct x509_facts *f;
	struct tlssess_info ti;
	char	 buf[256], serial[sizeof(f->serial)], *v;
	size_t	 len;

	tlssess_info(t, &ti);
	/* mod_ssl spells versions "TLSv1.3". */
	snprintf(buf, sizeof(buf), "TLSv%s", strncmp(ti.version, "TLS", 3) ?
	    ti.version : ti.version + 3);
	tlsenv_set(e, "SSL_PROTOCOL", buf);
	tlsenv_set(e, "SSL_CIPHER", ti.cipher);
	tlsenv_set(e, "SSL_SESSION_RESUMED", ti.resumed ? "Resumed" :
	    "Initial");
	if (strcmp(side, "CLIENT") == 0 && ti.sni[0] != '\0' &&
	    (v = escape(ti.sni, ESC_TEXT)) != NULL) {
		tlsenv_set(e, "SSL_TLS_SNI", v);
		free(v);
	}

	if ((f = tlssess_peer(t)) == NULL)
		return -1;
	/*
	 * A DN too long for its buffer would reach the program cut, and a
	 * cut DN can read as another (O=TrustedCorpEvil ending as
	 * O=TrustedCorp): it counts as a variable that did not fit, which
	 * refuses the program.
	 */
	if (f->dn_cut)
		e->lost++;
	/* Fixed variables first: the SAN lists below are capped. */
	setf(e, side, "VERIFY", "SUCCESS", ESC_NONE);
	setf(e, side, "S_DN", f->subject, ESC_DN);
	dn_parts(e, f, side);
	setf(e, side, "I_DN", f->issuer, ESC_DN);
	/* mod_ssl prints the serial in uppercase hex. */
	for (len = 0; f->serial[len] != '\0'; len++)
		serial[len] = (char)(f->serial[len] >= 'a' &&
		    f->serial[len] <= 'f' ? f->serial[len] - 32 :
		    f->serial[len]);
	serial[len] = '\0';
	setf(e, side, "M_SERIAL", serial, ESC_NONE);
	setf(e, side, "V_START", f->not_before_s, ESC_NONE);
	setf(e, side, "V_END", f->not_after_s, ESC_NONE);
	snprintf(buf, sizeof(buf), "%ld", (long)((f->not_after - time(NULL)) /
	    86400));
	setf(e, side, "V_REMAIN", buf, ESC_NONE);
	if ((v = tlsx509_pem(f)) != NULL) {
		/* PEM: its newlines are its own, base64 the rest. */
		setf(e, side, "CERT", v, ESC_NONE);
		free(v);
	} else
		e->lost++;
	setf(e, side, "CERT_SHA256", f->sha256, ESC_NONE);
	if (f->spki_sha256[0] != '\0')
		setf(e, side, "SPKI_SHA256", f->spki_sha256, ESC_NONE);
	sans(e, f, side);
	return 0;
}

void
tlsenv_tcp(struct tlsenv *e, const char *lip, const char *lport,
    const char *rip, const char *rport)
{
	tlsenv_set(e, "PROTO", "TCP");
	tlsenv_set(e, "TCPLOCALIP", lip);
	tlsenv_set(e, "TCPLOCALPORT", lport);
	tlsenv_set(e, "TCPREMOTEIP", rip);
	tlsenv_set(e, "TCPREMOTEPORT", rport);
}

/* Inherited variables a program must not see: forgeable or secret. */
static int
dropped(const char *kv)
{
	static const char *const prefixes[] = {
		"SSL_", "TCP", "MTLS_", "PROTO=", "LISTEN_", "SOFTHSM",
	};
	size_t	 i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(kv, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

char **
tlsenv_environ(struct tlsenv *e)
{
	char	**out;
	size_t	 n = 0, i, k = 0;

	while (environ != NULL && environ[n] != NULL)
		n++;
	if ((out = calloc(n + (size_t)e->n + 1, sizeof(*out))) == NULL)
		return NULL;
	for (i = 0; i < (size_t)e->n; i++)
		out[k++] = e->v[i];
	for (i = 0; i < n; i++)
		if (!dropped(environ[i]))
			out[k++] = environ[i];
	out[k] = NULL;
	return out;
}

void
tlsenv_free(struct tlsenv *e)
{
	int	 i;

	for (i = 0; i < e->n; i++)
		free(e->v[i]);
	e->n = 0;
	e->lost = 0;
	e->v[0] = NULL;
}
