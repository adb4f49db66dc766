#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "peer.h"
#include "timefmt.h"
#include "tlsenv.h"
#include "tlssess.h"

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

/* _S_DN_CN, _S_DN_O, _S_DN_OU (and the issuer's) when present. */
static void
dn_parts(struct tlsenv *e, gnutls_x509_crt_t crt, const char *side)
{
	static const struct {
		const char	*oid;
		const char	*suffix;
	} parts[] = {
		{ GNUTLS_OID_X520_COMMON_NAME, "S_DN_CN" },
		{ GNUTLS_OID_X520_ORGANIZATION_NAME, "S_DN_O" },
		{ GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME, "S_DN_OU" },
	};
	char	 buf[1024];
	size_t	 len, i;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		len = sizeof(buf);
		if (gnutls_x509_crt_get_dn_by_oid(crt, parts[i].oid, 0, 0, buf,
		    &len) != 0)
			continue;
		/*
		 * Two CNs: which one is "the" name?  --allow cn: admits
		 * neither, and the program is not told one of them.
		 */
		if (i == 0 && peer_dn_count(crt, parts[i].oid) != 1)
			continue;
		setf(e, side, parts[i].suffix, buf, ESC_TEXT);
	}
}

static const char *const san_names[4] = { "DNS", "IP", "Email", "URI" };

struct san_env {
	struct tlsenv	*e;
	const char	*side;
	int		 n[4];		/* DNS, IP, Email, URI so far */
};

/*
 * SSL_<side>_SAN_<type>_<n>, numbered from 0 within each type, the first
 * TLSENV_SAN_MAX of each type; all are counted.
 */
static int
san_var(void *arg, int type, const char *value)
{
	struct san_env *s = arg;
	char	 suffix[32];
	int	 k;

	k = type == GNUTLS_SAN_DNSNAME ? 0 : type == GNUTLS_SAN_IPADDRESS ?
	    1 : type == GNUTLS_SAN_RFC822NAME ? 2 : 3;
	if (s->n[k] < TLSENV_SAN_MAX) {
		snprintf(suffix, sizeof(suffix), "SAN_%s_%d", san_names[k],
		    s->n[k]);
		setf(s->e, s->side, suffix, value, ESC_TEXT);
	}
	s->n[k]++;
	return 0;
}

int
tlsenv_session(struct tlsenv *e, gnutls_session_t s, const char *side)
{
	const gnutls_datum_t *chain;
	gnutls_x509_crt_t crt;
	gnutls_datum_t pem = { NULL, 0 };
	struct tlssess_info ti;
	struct peer_cert pc;
	unsigned int n = 0, type;
	char	 buf[256], pin[45], serial[sizeof(pc.serial)], *v;
	size_t	 len = sizeof(buf);
	int	 ret;

	tlssess_info(s, &ti);
	/* mod_ssl spells versions "TLSv1.3". */
	snprintf(buf, sizeof(buf), "TLSv%s", strncmp(ti.version, "TLS", 3) ?
	    ti.version : ti.version + 3);
	tlsenv_set(e, "SSL_PROTOCOL", buf);
	tlsenv_set(e, "SSL_CIPHER", ti.cipher);
	tlsenv_set(e, "SSL_SESSION_RESUMED", ti.resumed ? "Resumed" :
	    "Initial");
	if (strcmp(side, "CLIENT") == 0 && gnutls_server_name_get(s, buf,
	    &len, &type, 0) == 0 && type == GNUTLS_NAME_DNS &&
	    (v = escape(buf, ESC_TEXT)) != NULL) {
		tlsenv_set(e, "SSL_TLS_SNI", v);
		free(v);
	}

	chain = gnutls_certificate_get_peers(s, &n);
	if (n == 0 || gnutls_x509_crt_init(&crt) < 0)
		return -1;
	if ((ret = gnutls_x509_crt_import(crt, &chain[0],
	    GNUTLS_X509_FMT_DER)) < 0 || peer_describe(crt, &pc) < 0) {
		gnutls_x509_crt_deinit(crt);
		return -1;
	}
	/*
	 * A DN too long for its buffer would reach the program cut, and a
	 * cut DN can read as another (O=TrustedCorpEvil ending as
	 * O=TrustedCorp): it counts as a variable that did not fit, which
	 * refuses the program.
	 */
	if (pc.dn_cut)
		e->lost++;
	/* Fixed variables first: the SAN lists below are capped. */
	setf(e, side, "VERIFY", "SUCCESS", ESC_NONE);
	setf(e, side, "S_DN", pc.subject, ESC_DN);
	dn_parts(e, crt, side);
	setf(e, side, "I_DN", pc.issuer, ESC_DN);
	/* mod_ssl prints the serial in uppercase hex. */
	for (len = 0; pc.serial[len] != '\0'; len++)
		serial[len] = (char)(pc.serial[len] >= 'a' &&
		    pc.serial[len] <= 'f' ? pc.serial[len] - 32 :
		    pc.serial[len]);
	serial[len] = '\0';
	setf(e, side, "M_SERIAL", serial, ESC_NONE);
	setf(e, side, "V_START", pc.not_before_s, ESC_NONE);
	setf(e, side, "V_END", pc.not_after_s, ESC_NONE);
	snprintf(buf, sizeof(buf), "%ld", (long)((pc.not_after - time(NULL)) /
	    86400));
	setf(e, side, "V_REMAIN", buf, ESC_NONE);
	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem) == 0) {
		char	*text = malloc(pem.size + 1);

		if (text != NULL) {
			memcpy(text, pem.data, pem.size);
			text[pem.size] = '\0';
			/* PEM: its newlines are its own, base64 the rest. */
			setf(e, side, "CERT", text, ESC_NONE);
			free(text);
		} else
			e->lost++;
		gnutls_free(pem.data);
	}
	setf(e, side, "CERT_SHA256", pc.sha256, ESC_NONE);
	if (peer_spki_sha256(crt, pin, NULL) == 0)
		setf(e, side, "SPKI_SHA256", pin, ESC_NONE);
	{
		struct san_env se = { e, side, { 0, 0, 0, 0 } };
		int	 k;

		peer_foreach_san(crt, san_var, &se);
		for (k = 0; k < 4; k++) {
			char	 suffix[32];

			if (se.n[k] == 0)
				continue;
			snprintf(suffix, sizeof(suffix), "SAN_%s_COUNT",
			    san_names[k]);
			snprintf(buf, sizeof(buf), "%d", se.n[k]);
			setf(e, side, suffix, buf, ESC_NONE);
		}
	}
	gnutls_x509_crt_deinit(crt);
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
