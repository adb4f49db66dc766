#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "addr.h"
#include "connect.h"
#include "exit.h"
#include "probe.h"
#include "timefmt.h"
#include "tlssess.h"

#define DEFAULT_PORT	"9443"
#define BYE_MS		1000
/* How long a refusal may take to arrive before we say goodbye. */
#define VERDICT_GRACE_MS	250

/*
 * Does a certificate in the server's chain, named as our issuer, also
 * hold the key that signed our certificate?  1 yes, 0 no (same name,
 * another key), -1 no such certificate to check with.
 */
static int
issuer_key(gnutls_x509_crt_t ours, const struct certlist *l, unsigned int from)
{
	unsigned int status, i;
	int	 found = -1;

	for (i = from; i < l->n; i++) {
		/* Names first (and key identifiers, when both have them). */
		if (!gnutls_x509_crt_check_issuer(ours, l->crt[i])) {
			char	 a[512], b[512];
			size_t	 an = sizeof(a), bn = sizeof(b);

			if (gnutls_x509_crt_get_issuer_dn(ours, a, &an) < 0 ||
			    gnutls_x509_crt_get_dn(l->crt[i], b, &bn) < 0 ||
			    strcmp(a, b) != 0)
				continue;
			/* Same name, another key identifier. */
			found = 0;
			continue;
		}
		/* The signature is what proves it: the key, not the name. */
		if (gnutls_x509_crt_verify(ours, &l->crt[i], 1,
		    GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
		    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS |
		    GNUTLS_VERIFY_ALLOW_ANY_X509_V1_CA_CRT, &status) == 0 &&
		    (status & (GNUTLS_CERT_SIGNATURE_FAILURE |
		    GNUTLS_CERT_SIGNER_NOT_FOUND)) == 0)
			return 1;
		found = 0;
	}
	return found;
}

/*
 * Is the issuer of our client certificate among those the server named,
 * by name and by key?  A name alone proves little: two CAs may share one.
 */
static void
check_issuer(const struct tlsconf *conf, struct probe *p,
    const struct certlist *l, unsigned int from)
{
	gnutls_datum_t dn = { NULL, 0 };
	unsigned int i;

	if (conf->nchain == 0)
		return;
	p->have_client_cert = 1;
	p->client_issuer_accepted = -1;
	p->issuer_key_ok = -1;
	if (gnutls_x509_crt_get_issuer_dn3(conf->chain[0], &dn, 0) < 0)
		return;
	snprintf(p->client_issuer, sizeof(p->client_issuer), "%.*s",
	    (int)dn.size, (char *)dn.data);
	gnutls_free(dn.data);
	if (!p->req.asked || p->req.nissuers == 0)
		return;
	p->client_issuer_accepted = 0;
	for (i = 0; i < p->req.nissuers; i++)
		if (strcmp(p->req.issuers[i], p->client_issuer) == 0)
			p->client_issuer_accepted = 1;
	if (p->client_issuer_accepted != 1)
		return;
	p->issuer_key_ok = issuer_key(conf->chain[0], l, from);
	if (p->issuer_key_ok == 0 || (p->verdict_known &&
	    (strcmp(p->refusal_alert, "unknown_ca") == 0 ||
	    strcmp(p->refusal_alert, "decrypt_error") == 0)))
		p->client_issuer_accepted = PROBE_SAME_NAME_OTHER_KEY;
}

/*
 * Read until the deadline: 1 with the verdict in p (a fatal alert is a
 * refusal, a close_notify means we were admitted), 0 if none came by then,
 * -1 on another error.
 */
static int
read_verdict(gnutls_session_t s, int fd, long long deadline, struct probe *p)
{
	char	 buf[4096];
	long long left;
	ssize_t	 r;

	for (;;) {
		r = gnutls_record_recv(s, buf, sizeof(buf));
		if (r > 0)
			continue;	/* the server had something to say */
		if (r == 0) {
			p->verdict_known = 1;
			return 1;
		}
		if (r == GNUTLS_E_FATAL_ALERT_RECEIVED) {
			p->verdict_known = 1;
			tlssess_alert_name(gnutls_alert_get(s),
			    p->refusal_alert, sizeof(p->refusal_alert));
			return 1;
		}
		if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED &&
		    gnutls_error_is_fatal((int)r))
			return -1;
		left = deadline - timefmt_monotonic_ms();
		if (left <= 0 || tlssess_wait(s, fd, (int)left) <= 0)
			return 0;
	}
}

/*
 * The server's own verdict on our certificate.  With TLS 1.3 it comes
 * after our side of the handshake is done.  A refusing server sends its
 * alert at once and closes: read first, for a moment, because a
 * close_notify sent to a closed socket draws a reset that can make our
 * kernel drop the alert unread.  Then send close_notify and read until
 * the server closes too (it admitted us) or alerts.
 */
static void
server_verdict(gnutls_session_t s, int fd, int timeout_ms, struct probe *p)
{
	long long now = timefmt_monotonic_ms();
	int	 grace = timeout_ms < VERDICT_GRACE_MS ? timeout_ms :
		    VERDICT_GRACE_MS;

	if (read_verdict(s, fd, now + grace, p) != 0)
		return;
	(void)tlssess_bye(s, fd, BYE_MS);
	read_verdict(s, fd, now + timeout_ms, p);
}

enum certinfo_exit
probe_run(const char *target, const struct tlsconf *conf,
    const char *servername, int timeout_ms, struct probe *p,
    struct certlist *l, char *err, size_t errlen)
{
	struct addr a;
	struct tlssess_info ti;
	gnutls_session_t s;
	const gnutls_datum_t *chain;
	unsigned int n = 0, i;
	unsigned int first;
	enum certinfo_exit rv = CERTINFO_CONNECT;
	int	 fd, ret;

	memset(p, 0, sizeof(*p));
	if (addr_parse(target, DEFAULT_PORT, 0, &a, err, errlen) < 0 ||
	    addr_connectable(&a, target, err, errlen) < 0)
		return CERTINFO_USAGE;
	if (a.host[0] == '\0')
		snprintf(a.host, sizeof(a.host), "localhost");
	if (servername == NULL)
		servername = a.host;
	if ((fd = connect_to(&a, timeout_ms, 0, p->peer, sizeof(p->peer), err,
	    errlen)) < 0)
		return CERTINFO_CONNECT;
	if ((ret = tlssess_client_inspect(&s, conf, fd, servername,
	    &p->req)) < 0) {
		snprintf(err, errlen, "%s: %s", p->peer, gnutls_strerror(ret));
		close(fd);
		return CERTINFO_CONNECT;
	}
	ret = tlssess_handshake(s, fd, timeout_ms);
	if (ret == 0) {
		p->handshake_ok = 1;
		tlssess_info(s, &ti);
		snprintf(p->version, sizeof(p->version), "%s", ti.version);
		snprintf(p->cipher, sizeof(p->cipher), "%s", ti.cipher);
		snprintf(p->group, sizeof(p->group), "%s", ti.group);
	} else {
		/* A peer that is not TLS at all is named as such. */
		if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED ||
		    tlssess_not_tls(&p->req, p->error, sizeof(p->error)) ==
		    NULL)
			tlssess_why(s, ret, p->error, sizeof(p->error));
		if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED && conf->nchain > 0) {
			p->verdict_known = 1;
			tlssess_alert_name(gnutls_alert_get(s),
			    p->refusal_alert, sizeof(p->refusal_alert));
		}
	}

	/* The chain, whether or not the server then accepted us. */
	first = l->n;
	chain = gnutls_certificate_get_peers(s, &n);
	for (i = 0; i < n; i++)
		if (load_der(l, chain[i].data, chain[i].size, "server", err,
		    errlen) < 0)
			goto out;
	if (p->handshake_ok && conf->nchain > 0)
		server_verdict(s, fd, timeout_ms > 0 ? timeout_ms : BYE_MS, p);
	check_issuer(conf, p, l, first);
	if (n == 0) {
		snprintf(err, errlen, "%s: no certificate received%s%s",
		    p->peer, p->handshake_ok ? "" : ": ", p->error);
		goto out;
	}
	rv = CERTINFO_OK;
out:
	if (p->handshake_ok && !p->verdict_known)
		tlssess_bye(s, fd, BYE_MS);
	gnutls_deinit(s);
	close(fd);
	return rv;
}
