#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "exit.h"
#include "explain.h"
#include "peer.h"
#include "textesc.h"
#include "tlssess.h"
#include "verify.h"

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

struct names {
	char	*out;
	size_t	 n;
};

static int
add_name(void *arg, int type, const char *value)
{
	struct names *nm = arg;

	if (type == GNUTLS_SAN_DNSNAME) {
		cat(nm->out, nm->n, "%s\"", *nm->out ? ", " : "");
		cat_peer(nm->out, nm->n, "%s\"", value);
	} else if (type == GNUTLS_SAN_IPADDRESS) {
		cat(nm->out, nm->n, "%s", *nm->out ? ", " : "");
		cat_peer(nm->out, nm->n, "%s", value);
	}
	return 0;
}

/* The names a server certificate is valid for: its SANs, or its CN. */
static void
cert_names(gnutls_x509_crt_t crt, char *out, size_t n)
{
	struct names nm = { out, n };
	char	 name[256];
	size_t	 len = sizeof(name);

	out[0] = '\0';
	peer_foreach_san(crt, add_name, &nm);
	if (*out != '\0')
		return;
	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
	    0, name, &len) == 0)
		cat_peer(out, n, "\"%s\" (CN only)", name);
	else
		cat(out, n, "%s", "no names");
}

enum send_exit
explain_identity(gnutls_session_t s, unsigned int status, const char *name,
    char *msg, size_t n)
{
	const gnutls_datum_t *chain;
	unsigned int nchain = 0;
	gnutls_x509_crt_t crt = NULL;
	struct peer_cert pc;
	char	 names[512], why[512];

	chain = gnutls_certificate_get_peers(s, &nchain);
	if (nchain > 0 && gnutls_x509_crt_init(&crt) == 0 &&
	    gnutls_x509_crt_import(crt, &chain[0], GNUTLS_X509_FMT_DER) != 0) {
		gnutls_x509_crt_deinit(crt);
		crt = NULL;
	}
	if (crt == NULL || peer_describe(crt, &pc) != 0) {
		snprintf(msg, n, "server certificate rejected: %s",
		    verify_status_text(status, why, sizeof(why)));
		goto out;
	}
	msg[0] = '\0';
	if (status & GNUTLS_CERT_SIGNER_NOT_FOUND) {
		cat_peer(msg, n, "server certificate is signed by an unknown "
		    "CA (issuer \"%s\")", pc.issuer);
		status &= ~(GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_INVALID);
	}
	if (status & GNUTLS_CERT_UNEXPECTED_OWNER) {
		cert_names(crt, names, sizeof(names));
		cat(msg, n, "%sserver certificate name mismatch: ",
		    *msg ? "; " : "");
		cat(msg, n, "expected \"%s\", ", name);
		cat(msg, n, "got %s", names);
		status &= ~(GNUTLS_CERT_UNEXPECTED_OWNER | GNUTLS_CERT_INVALID);
	}
	if (status & GNUTLS_CERT_EXPIRED) {
		cat(msg, n, "%sserver certificate expired", *msg ? "; " : "");
		cat(msg, n, " on %s", pc.not_after_s);
		status &= ~(GNUTLS_CERT_EXPIRED | GNUTLS_CERT_INVALID);
	}
	if (status & GNUTLS_CERT_NOT_ACTIVATED) {
		cat(msg, n, "%sserver certificate not valid", *msg ? "; " : "");
		cat(msg, n, " before %s", pc.not_before_s);
		status &= ~(GNUTLS_CERT_NOT_ACTIVATED | GNUTLS_CERT_INVALID);
	}
	if (status & GNUTLS_CERT_REVOKED) {
		cat(msg, n, "%sserver certificate is revoked (by a CRL or its "
		    "stapled OCSP response)", *msg ? "; " : "");
		status &= ~(GNUTLS_CERT_REVOKED | GNUTLS_CERT_INVALID);
	}
	if (status & GNUTLS_CERT_PURPOSE_MISMATCH) {
		cat(msg, n, "%sserver certificate is not for server use "
		    "(its extended key usage lacks serverAuth)",
		    *msg ? "; " : "");
		status &= ~(GNUTLS_CERT_PURPOSE_MISMATCH | GNUTLS_CERT_INVALID);
	}
	if (status != 0 || *msg == '\0') {
		cat(msg, n, "%sserver certificate rejected: ", *msg ? "; " : "");
		cat(msg, n, "%s", verify_status_text(status, why, sizeof(why)));
	}
	cat_peer(msg, n, " (subject \"%s\")", pc.subject);
out:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
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
explain_alert(gnutls_session_t s, const struct tlssess_certreq *req,
    char *msg, size_t n)
{
	gnutls_alert_description_t a = gnutls_alert_get(s);
	char	 an[64];

	tlssess_alert_name(a, an, sizeof(an));

	switch (a) {
	case GNUTLS_A_CERTIFICATE_REQUIRED:
	case GNUTLS_A_HANDSHAKE_FAILURE:
		if (req->asked && !req->sent) {
			snprintf(msg, n, "server requires a client certificate "
			    "and we sent none (alert %s)", an);
			accepted_issuers(req, msg, n);
			return SEND_REFUSED;
		}
		if (a == GNUTLS_A_HANDSHAKE_FAILURE && !req->asked) {
			snprintf(msg, n, "server refused the handshake: no "
			    "common cipher suite or key exchange (alert %s)",
			    an);
			return SEND_REFUSED;
		}
		break;
	/*
	 * Each alert names its own cause: only unknown_ca is about who
	 * issued our certificate, so only then are the issuers the server
	 * accepts worth showing.
	 */
	case GNUTLS_A_UNKNOWN_CA:
		if (req->sent) {
			snprintf(msg, n, "server did not accept our certificate "
			    "(alert %s)", an);
			accepted_issuers(req, msg, n);
			return SEND_REFUSED;
		}
		break;
	case GNUTLS_A_ACCESS_DENIED:
		snprintf(msg, n, "server's rules do not admit this certificate "
		    "(alert %s): it verified it, but its access rules refuse "
		    "it", an);
		return SEND_REFUSED;
	case GNUTLS_A_CERTIFICATE_REVOKED:
		snprintf(msg, n, "server says our certificate is revoked (alert "
		    "%s)", an);
		return SEND_REFUSED;
	case GNUTLS_A_CERTIFICATE_EXPIRED:
		snprintf(msg, n, "server says our certificate has expired or is "
		    "not yet valid (alert %s)", an);
		return SEND_REFUSED;
	case GNUTLS_A_UNSUPPORTED_CERTIFICATE:
		snprintf(msg, n, "server did not accept our certificate (alert "
		    "%s): is it meant for client authentication?", an);
		return SEND_REFUSED;
	case GNUTLS_A_BAD_CERTIFICATE:
	case GNUTLS_A_CERTIFICATE_UNKNOWN:
		if (req->sent) {
			snprintf(msg, n, "server did not accept our certificate "
			    "(alert %s)", an);
			return SEND_REFUSED;
		}
		break;
	case GNUTLS_A_PROTOCOL_VERSION:
		snprintf(msg, n, "no common protocol version with the server "
		    "(alert %s)", an);
		return SEND_REFUSED;
	case GNUTLS_A_INSUFFICIENT_SECURITY:
		snprintf(msg, n, "no common cipher suite with the server "
		    "(alert %s)", an);
		return SEND_REFUSED;
	default:
		break;
	}
	snprintf(msg, n, "server refused the connection (alert %s)", an);
	if (req->asked && !req->sent)
		cat(msg, n, "%s", "; it asked for a client certificate and "
		    "we sent none");
	return SEND_REFUSED;
}

enum send_exit
explain_failure(gnutls_session_t s, int err, const struct tlssess_certreq *req,
    const char *name, char *msg, size_t n)
{
	char	 why[256];

	/* A server that does not speak TLS gets no TLS explanation. */
	if (err != GNUTLS_E_FATAL_ALERT_RECEIVED &&
	    err != GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR &&
	    tlssess_not_tls(req, msg, n) != NULL)
		return SEND_REFUSED;

	switch (err) {
	case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
		return explain_identity(s,
		    gnutls_session_get_verify_cert_status(s), name, msg, n);
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		return explain_alert(s, req, msg, n);
	case TLSSESS_E_TIMEOUT:
		snprintf(msg, n, "handshake timed out");
		return SEND_NETWORK;
	case GNUTLS_E_PREMATURE_TERMINATION:
	case GNUTLS_E_PULL_ERROR:
	case GNUTLS_E_PUSH_ERROR:
		snprintf(msg, n, "server closed the connection during the "
		    "handshake");
		if (req->sent) {
			cat(msg, n, "%s", ", after we sent our certificate: "
			    "it may not accept it");
			accepted_issuers(req, msg, n);
		}
		return SEND_REFUSED;
	case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
		snprintf(msg, n, "no common protocol version: the server "
		    "offered one our policy does not allow");
		return SEND_REFUSED;
	case GNUTLS_E_NO_CIPHER_SUITES:
	case GNUTLS_E_UNKNOWN_CIPHER_SUITE:
	case GNUTLS_E_NO_COMMON_KEY_SHARE:
	case GNUTLS_E_INSUFFICIENT_CREDENTIALS:
	case GNUTLS_E_UNWANTED_ALGORITHM:
		snprintf(msg, n, "no common cipher suite or key exchange with "
		    "the server (%s)", gnutls_strerror(err));
		return SEND_REFUSED;
	default:
		snprintf(msg, n, "handshake failed: %s",
		    tlssess_why(s, err, why, sizeof(why)));
		return SEND_REFUSED;
	}
}
