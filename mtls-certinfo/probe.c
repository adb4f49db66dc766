#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "addr.h"
#include "connect.h"
#include "probe.h"
#include "tlssess.h"

#define DEFAULT_PORT	"9443"
#define BYE_MS		1000

/* Is the issuer of our client certificate among those the server named? */
static void
check_issuer(const struct tlsconf *conf, struct probe *p)
{
	gnutls_datum_t dn = { NULL, 0 };
	unsigned int i;

	if (conf->nchain == 0)
		return;
	p->have_client_cert = 1;
	p->client_issuer_accepted = -1;
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
}

int
probe_run(const char *target, const struct tlsconf *conf,
    const char *servername, int timeout_ms, struct probe *p,
    struct certlist *l, char *err, size_t errlen)
{
	struct addr a;
	struct tlssess_info ti;
	gnutls_session_t s;
	const gnutls_datum_t *chain;
	unsigned int n = 0, i;
	int	 fd, ret, rv = 3;

	memset(p, 0, sizeof(*p));
	if (addr_parse(target, DEFAULT_PORT, 0, &a, err, errlen) < 0)
		return 2;
	if (a.host[0] == '\0')
		snprintf(a.host, sizeof(a.host), "localhost");
	if (servername == NULL)
		servername = a.host;
	if ((fd = connect_to(&a, timeout_ms, 0, p->peer, sizeof(p->peer), err,
	    errlen)) < 0)
		return 3;
	if ((ret = tlssess_client_inspect(&s, conf, fd, servername,
	    &p->req)) < 0) {
		snprintf(err, errlen, "%s: %s", p->peer, gnutls_strerror(ret));
		close(fd);
		return 3;
	}
	ret = tlssess_handshake(s, fd, timeout_ms);
	if (ret == 0) {
		p->handshake_ok = 1;
		tlssess_info(s, &ti);
		snprintf(p->version, sizeof(p->version), "%s", ti.version);
		snprintf(p->cipher, sizeof(p->cipher), "%s", ti.cipher);
		snprintf(p->group, sizeof(p->group), "%s", ti.group);
	} else
		tlssess_why(s, ret, p->error, sizeof(p->error));
	check_issuer(conf, p);

	/* The chain, whether or not the server then accepted us. */
	chain = gnutls_certificate_get_peers(s, &n);
	for (i = 0; i < n; i++)
		if (load_der(l, chain[i].data, chain[i].size, "server", err,
		    errlen) < 0)
			goto out;
	if (n == 0) {
		snprintf(err, errlen, "%s: no certificate received%s%s",
		    p->peer, p->handshake_ok ? "" : ": ", p->error);
		goto out;
	}
	rv = 0;
out:
	if (p->handshake_ok)
		tlssess_bye(s, fd, BYE_MS);
	gnutls_deinit(s);
	close(fd);
	return rv;
}
