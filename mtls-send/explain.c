#include <stdio.h>
#include <string.h>

#include "exit.h"
#include "explain.h"
#include "textesc.h"
#include "tlssess.h"
#include "tlsx509.h"

/* Append to msg, keeping it NUL-terminated. */
static void
cat(char *msg, size_t n, const char *fmt, const char *a)
{
	size_t	 len = strlen(msg);

	if (len < n)
		snprintf(msg + len, n - len, fmt, a);
}

/* Append peer text, escaped: it must not drive the terminal. */
static void
cat_peer(char *msg, size_t n, const char *fmt, const char *a)
{
	char	 esc[1024];

	cat(msg, n, fmt, textesc(esc, sizeof(esc), a));
}

/* The names a server certificate is valid for: its SANs, or its CN. */
static void
cert_names(const struct x509_facts *f, char *out, size_t n)
{
	unsigned int i;

	out[0] = '\0';
	for (i = 0; i < f->nsan; i++) {
		if (f->san[i].type == X509_SAN_DNS) {
			cat(out, n, "%s\"", *out ? ", " : "");
			cat_peer(out, n, "%s\"", f->san[i].value);
		} else if (f->san[i].type == X509_SAN_IP) {
			cat(out, n, "%s", *out ? ", " : "");
			cat_peer(out, n, "%s", f->san[i].value);
		}
	}
	if (*out != '\0')
		return;
	if (f->cn != NULL)
		cat_peer(out, n, "\"%s\" (CN only)", f->cn);
	else
		cat(out, n, "%s", "no names");
}

enum send_exit
explain_identity(struct tlssess *t, const char *name, char *msg, size_t n)
{
	const struct x509_facts *f;
	unsigned int why;
	char	 names[512], rest[512];

	why = tlssess_verify_reasons(t, rest, sizeof(rest));
	if ((f = tlssess_peer(t)) == NULL) {
		const char *w = tlssess_why(t), *p = "certificate "
		    "verification failed: ";

		snprintf(msg, n, "server certificate rejected: %s",
		    strncmp(w, p, strlen(p)) == 0 ? w + strlen(p) : w);
		return SEND_IDENTITY;
	}
	msg[0] = '\0';
	if (why & TLSSESS_V_UNKNOWN_CA)
		cat_peer(msg, n, "server certificate is signed by an unknown "
		    "CA (issuer \"%s\")", f->issuer);
	if (why & TLSSESS_V_NAME) {
		cert_names(f, names, sizeof(names));
		cat(msg, n, "%sserver certificate name mismatch: ",
		    *msg ? "; " : "");
		cat(msg, n, "expected \"%s\", ", name);
		cat(msg, n, "got %s", names);
	}
	if (why & TLSSESS_V_EXPIRED) {
		cat(msg, n, "%sserver certificate expired", *msg ? "; " : "");
		cat(msg, n, " on %s", f->not_after_s);
	}
	if (why & TLSSESS_V_NOT_YET_VALID) {
		cat(msg, n, "%sserver certificate not valid", *msg ? "; " : "");
		cat(msg, n, " before %s", f->not_before_s);
	}
	if (why & TLSSESS_V_REVOKED)
		cat(msg, n, "%sserver certificate is revoked (by a CRL or its "
		    "stapled OCSP response)", *msg ? "; " : "");
	if (why & TLSSESS_V_PURPOSE)
		cat(msg, n, "%sserver certificate is not for server use "
		    "(its extended key usage lacks serverAuth)",
		    *msg ? "; " : "");
	if (rest[0] != '\0' || *msg == '\0') {
		cat(msg, n, "%sserver certificate rejected: ", *msg ? "; " : "");
		cat(msg, n, "%s", rest[0] != '\0' ? rest : "valid");
	}
	cat_peer(msg, n, " (subject \"%s\")", f->subject);
	return SEND_IDENTITY;
}

/* The issuers a server named in its certificate request, for a hint. */
static void
accepted_issuers(const struct tlssess_certreq *req, char *msg, size_t n)
{
	unsigned int i;

	if (req->nissuers == 0)
		return;
	cat(msg, n, "%s", "; it accepts certificates issued by ");
	for (i = 0; i < req->nissuers; i++) {
		cat(msg, n, "%s\"", i ? ", " : "");
		cat_peer(msg, n, "%s\"", req->issuers[i]);
	}
}

/* The server sent a fatal alert: what that most likely means. */
static enum send_exit
explain_alert(struct tlssess *t, const struct tlssess_certreq *req,
    char *msg, size_t n)
{
	char	 an[64];

	tlssess_alert_name(t, an, sizeof(an));
#define IS(name)	(strcmp(an, name) == 0)
	if (IS("certificate_required") || IS("handshake_failure")) {
		if (req->asked && !req->sent) {
			snprintf(msg, n, "server requires a client certificate "
			    "and we sent none (alert %s)", an);
			accepted_issuers(req, msg, n);
			return SEND_REFUSED;
		}
		if (IS("handshake_failure") && !req->asked) {
			snprintf(msg, n, "server refused the handshake: no "
			    "common cipher suite or key exchange (alert %s)",
			    an);
			return SEND_REFUSED;
		}
	/*
	 * Each alert names its own cause: only unknown_ca is about who
	 * issued our certificate, so only then are the issuers the server
	 * accepts worth showing.
	 */
	} else if (IS("unknown_ca")) {
		if (req->sent) {
			snprintf(msg, n, "server did not accept our certificate "
			    "(alert %s)", an);
			accepted_issuers(req, msg, n);
			return SEND_REFUSED;
		}
	} else if (IS("access_denied")) {
		snprintf(msg, n, "server's rules do not admit this certificate "
		    "(alert %s): it verified it, but its access rules refuse "
		    "it", an);
		return SEND_REFUSED;
	} else if (IS("certificate_revoked")) {
		snprintf(msg, n, "server says our certificate is revoked (alert "
		    "%s)", an);
		return SEND_REFUSED;
	} else if (IS("certificate_expired")) {
		snprintf(msg, n, "server says our certificate has expired or is "
		    "not yet valid (alert %s)", an);
		return SEND_REFUSED;
	} else if (IS("unsupported_certificate")) {
		snprintf(msg, n, "server did not accept our certificate (alert "
		    "%s): is it meant for client authentication?", an);
		return SEND_REFUSED;
	} else if (IS("bad_certificate") || IS("certificate_unknown")) {
		if (req->sent) {
			snprintf(msg, n, "server did not accept our certificate "
			    "(alert %s)", an);
			return SEND_REFUSED;
		}
	} else if (IS("protocol_version")) {
		snprintf(msg, n, "no common protocol version with the server "
		    "(alert %s)", an);
		return SEND_REFUSED;
	} else if (IS("insufficient_security")) {
		snprintf(msg, n, "no common cipher suite with the server "
		    "(alert %s)", an);
		return SEND_REFUSED;
	}
#undef IS
	snprintf(msg, n, "server refused the connection (alert %s)", an);
	if (req->asked && !req->sent)
		cat(msg, n, "%s", "; it asked for a client certificate and "
		    "we sent none");
	return SEND_REFUSED;
}

enum send_exit
explain_failure(struct tlssess *t, const char *name, char *msg, size_t n)
{
	const struct tlssess_certreq *req = tlssess_certreq(t);
	enum tlssess_err err = tlssess_error(t);

	/* A server that does not speak TLS gets no TLS explanation. */
	if (err != TLSSESS_ALERT && err != TLSSESS_VERIFY &&
	    tlssess_not_tls(t, msg, n) != NULL)
		return SEND_REFUSED;

	switch (err) {
	case TLSSESS_VERIFY:
		return explain_identity(t, name, msg, n);
	case TLSSESS_ALERT:
		return explain_alert(t, req, msg, n);
	case TLSSESS_TIMEOUT:
		snprintf(msg, n, "handshake timed out");
		return SEND_NETWORK;
	case TLSSESS_VANISHED:
		snprintf(msg, n, "server closed the connection during the "
		    "handshake");
		if (req->sent) {
			cat(msg, n, "%s", ", after we sent our certificate: "
			    "it may not accept it");
			accepted_issuers(req, msg, n);
		}
		return SEND_REFUSED;
	case TLSSESS_NO_VERSION:
		snprintf(msg, n, "no common protocol version: the server "
		    "offered one our policy does not allow");
		return SEND_REFUSED;
	case TLSSESS_NO_CIPHER:
		snprintf(msg, n, "no common cipher suite or key exchange with "
		    "the server (%s)", tlssess_why_lib(t));
		return SEND_REFUSED;
	default:
		snprintf(msg, n, "handshake failed: %s", tlssess_why(t));
		return SEND_REFUSED;
	}
}
