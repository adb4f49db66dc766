#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "connect.h"
#include "exit.h"
#include "probe.h"
#include "tlschain.h"
#include "timefmt.h"
#include "tlsconf.h"
#include "tlssess.h"
#include "tlsx509.h"

#define DEFAULT_PORT	"9443"
#define BYE_MS		1000
/* How long a refusal may take to arrive before we say goodbye. */
#define VERDICT_GRACE_MS	250

/*
 * Is the issuer of our client certificate among those the server named,
 * by name and by key?  A name alone proves little: two CAs may share one.
 */
static void
check_issuer(const struct tlsconf *conf, struct probe *p,
    const struct certlist *l, unsigned int from)
{
	struct x509_facts me;
	unsigned int i;

	if (tlsconf_identity(conf, &me) < 0)
		return;
	p->have_client_cert = 1;
	p->client_issuer_accepted = -1;
	p->issuer_key_ok = -1;
	snprintf(p->client_issuer, sizeof(p->client_issuer), "%.*s",
	    (int)sizeof(p->client_issuer) - 1, me.issuer);
	if (!p->req.asked || p->req.nissuers == 0) {
		tlsx509_free(&me);
		return;
	}
	p->client_issuer_accepted = 0;
	for (i = 0; i < p->req.nissuers; i++)
		if (strcmp(p->req.issuers[i], p->client_issuer) == 0)
			p->client_issuer_accepted = 1;
	if (p->client_issuer_accepted == 1)
		p->issuer_key_ok = tlschain_issuer_key(me.der, me.derlen, l,
		    from);
	tlsx509_free(&me);
	if (p->client_issuer_accepted != 1)
		return;
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
read_verdict(struct tlssess *t, long long deadline, struct probe *p)
{
	char	 buf[4096];
	long long left;
	size_t	 n;

	for (;;) {
		switch (tlssess_recv(t, buf, sizeof(buf), &n)) {
		case TLSSESS_IO_OK:
		case TLSSESS_IO_RENEG:
			continue;	/* the server had something to say */
		case TLSSESS_IO_EOF:
			p->verdict_known = 1;
			return 1;
		case TLSSESS_IO_AGAIN:
			break;
		default:
			if (tlssess_error(t) != TLSSESS_ALERT)
				return -1;
			p->verdict_known = 1;
			tlssess_alert_name(t, p->refusal_alert,
			    sizeof(p->refusal_alert));
			return 1;
		}
		left = deadline - timefmt_monotonic_ms();
		if (left <= 0 || tlssess_wait(t, (int)left) <= 0)
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
server_verdict(struct tlssess *t, int timeout_ms, struct probe *p)
{
	long long now = timefmt_monotonic_ms();
	int	 grace = timeout_ms < VERDICT_GRACE_MS ? timeout_ms :
		    VERDICT_GRACE_MS;

	if (read_verdict(t, now + grace, p) != 0)
		return;
	(void)tlssess_bye(t, BYE_MS);
	read_verdict(t, now + timeout_ms, p);
}

enum certinfo_exit
probe_run(const char *target, const struct tlsconf *conf,
    const char *servername, int timeout_ms, struct probe *p,
    struct certlist *l, char *err, size_t errlen)
{
	struct addr a;
	struct tlssess_info ti;
	struct tlsconf_counts cc;
	struct tlssess *t;
	const unsigned char *der;
	size_t	 len;
	unsigned int n, first;
	enum certinfo_exit rv = CERTINFO_CONNECT;
	int	 fd;

	memset(p, 0, sizeof(*p));
	tlsconf_counts(conf, &cc);
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
	if ((t = tlssess_client_inspect(conf, fd, servername, p->error,
	    sizeof(p->error))) == NULL) {
		snprintf(err, errlen, "%s: %s", p->peer, p->error);
		close(fd);
		return CERTINFO_CONNECT;
	}
	if (tlssess_handshake(t, timeout_ms) == 0) {
		p->handshake_ok = 1;
		tlssess_info(t, &ti);
		snprintf(p->version, sizeof(p->version), "%s", ti.version);
		snprintf(p->cipher, sizeof(p->cipher), "%s", ti.cipher);
		snprintf(p->group, sizeof(p->group), "%s", ti.group);
	} else {
		/* A peer that is not TLS at all is named as such. */
		if (tlssess_error(t) == TLSSESS_ALERT ||
		    tlssess_not_tls(t, p->error, sizeof(p->error)) == NULL)
			snprintf(p->error, sizeof(p->error), "%s",
			    tlssess_why(t));
		if (tlssess_error(t) == TLSSESS_ALERT && cc.chain > 0) {
			p->verdict_known = 1;
			tlssess_alert_name(t, p->refusal_alert,
			    sizeof(p->refusal_alert));
		}
	}

	/* The chain, whether or not the server then accepted us. */
	first = l->n;
	for (n = 0; (der = tlssess_peer_der(t, n, &len)) != NULL; n++)
		if (tlsload_der(l, der, len, "server", err, errlen) < 0)
			goto out;
	if (p->handshake_ok && cc.chain > 0)
		server_verdict(t, timeout_ms > 0 ? timeout_ms : BYE_MS, p);
	p->req = *tlssess_certreq(t);
	check_issuer(conf, p, l, first);
	if (n == 0) {
		snprintf(err, errlen, "%s: no certificate received%s%s",
		    p->peer, p->handshake_ok ? "" : ": ", p->error);
		goto out;
	}
	rv = CERTINFO_OK;
out:
	if (p->handshake_ok && !p->verdict_known)
		tlssess_bye(t, BYE_MS);
	tlssess_free(t);
	close(fd);
	return rv;
}
