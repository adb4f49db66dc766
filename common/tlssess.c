#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "addr.h"
#include "logline.h"
#include "timefmt.h"
#include "tlssess.h"
#include "verify.h"

/* REQUIRE alone only makes the client send a certificate; this checks EKU. */
static gnutls_typed_vdata_st client_purpose[] = {
	{ GNUTLS_DT_KEY_PURPOSE_OID, (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
	    0 },
};

static int
set_nonblock(int fd)
{
	int	 fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int
common_setup(gnutls_session_t s, const struct tlsconf *c, int fd)
{
	int	 ret;

	if ((ret = gnutls_priority_set(s, c->prio)) < 0 ||
	    (ret = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
	    c->cred)) < 0)
		return ret;
	if (set_nonblock(fd) < 0)
		return GNUTLS_E_PUSH_ERROR;
	gnutls_transport_set_int(s, fd);
	/* Our own deadlines apply; GnuTLS must not wait on its own. */
	gnutls_handshake_set_timeout(s, 0);
	return 0;
}

/*
 * A client Certificate or CertificateVerify too short to hold even its
 * length fields is malformed, but GnuTLS reads an empty one as "no
 * certificate" (an SSL 3 habit) and the client would get handshake_failure
 * or certificate_required.  Ending the handshake here with a decoding
 * error makes gnutls_alert_send_appropriate() pick decode_error.
 */
static int
malformed_hook(gnutls_session_t s, unsigned int htype, unsigned int when,
    unsigned int incoming, const gnutls_datum_t *msg)
{
	/* TLS 1.3: context + list length; 1.2: list length.  Verify: 4. */
	unsigned int min = htype == GNUTLS_HANDSHAKE_CERTIFICATE_VERIFY ? 4 :
	    gnutls_protocol_get_version(s) == GNUTLS_TLS1_3 ? 4 : 3;

	if (!incoming || when != GNUTLS_HOOK_PRE || msg == NULL)
		return 0;
	if ((htype == GNUTLS_HANDSHAKE_CERTIFICATE_PKT ||
	    htype == GNUTLS_HANDSHAKE_CERTIFICATE_VERIFY) && msg->size < min)
		return GNUTLS_E_UNEXPECTED_PACKET_LENGTH;
	return 0;
}

int
tlssess_server(gnutls_session_t *s, const struct tlsconf *c, int fd)
{
	int	 ret;

	/*
	 * A TLS 1.3 ticket issued on a resumed session gets only what is left
	 * of the first ticket's lifetime (GnuTLS counts from the full
	 * handshake): a chain of resumptions ends with the first ticket.
	 */
	if ((ret = gnutls_init(s, GNUTLS_SERVER | GNUTLS_NO_SIGNAL |
	    GNUTLS_NONBLOCK)) < 0)
		return ret;
	if ((ret = common_setup(*s, c, fd)) < 0)
		goto fail;
	gnutls_certificate_server_set_request(*s, GNUTLS_CERT_REQUIRE);
	/* TLS 1.3 tickets, TLS 1.2 session tickets: resumption, any child. */
	if (c->ticket_key.data != NULL &&
	    (ret = gnutls_session_ticket_enable_server(*s,
	    &c->ticket_key)) < 0)
		goto fail;
	gnutls_session_set_verify_cert2(*s, client_purpose, 1, 0);
	gnutls_handshake_set_hook_function(*s, GNUTLS_HANDSHAKE_ANY,
	    GNUTLS_HOOK_PRE, malformed_hook);
	return 0;
fail:
	gnutls_deinit(*s);
	*s = NULL;
	return ret;
}

/*
 * GnuTLS asks for our certificate when the server requests one; this is
 * the only place that sees which issuers the server accepts.
 */
int
tlssess_client_cert_cb(gnutls_session_t s, const gnutls_datum_t *req_ca_rdn,
    int nreqs, const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
    gnutls_pcert_st **pcert, unsigned int *pcert_length,
    gnutls_privkey_t *pkey)
{
	struct tlssess_certreq *req = gnutls_session_get_ptr(s);
	gnutls_datum_t dn;
	int	 i;

	(void)pk_algos;
	(void)pk_algos_length;
	*pcert = NULL;
	*pcert_length = 0;
	*pkey = NULL;
	if (req == NULL)
		return 0;
	req->asked = 1;
	for (i = 0; i < nreqs && req->nissuers < CERTREQ_MAX; i++) {
		if (gnutls_x509_rdn_get2(&req_ca_rdn[i], &dn, 0) < 0)
			continue;
		snprintf(req->issuers[req->nissuers++], sizeof(req->issuers[0]),
		    "%.*s", (int)dn.size, (char *)dn.data);
		gnutls_free(dn.data);
	}
	for (i = 0; i < 64; i++) {
		gnutls_sign_algorithm_t algo;
		const char *sn;
		size_t	 len = strlen(req->sigalgs);

		if (gnutls_sign_algorithm_get_requested(s, (size_t)i,
		    &algo) < 0)
			break;
		if ((sn = gnutls_sign_get_name(algo)) != NULL &&
		    len + strlen(sn) + 3 < sizeof(req->sigalgs))
			snprintf(req->sigalgs + len, sizeof(req->sigalgs) - len,
			    "%s%s", len ? " " : "", sn);
	}
	if (req->conf->pcert != NULL) {
		*pcert = req->conf->pcert;
		*pcert_length = req->conf->npcert;
		*pkey = req->conf->pkey;
		req->sent = 1;
	}
	return 0;
}

/*
 * A client session's reads go through here, so that the first bytes the
 * peer sent can be shown when they turn out not to be TLS at all.
 */
static ssize_t
recording_pull(gnutls_transport_ptr_t p, void *buf, size_t n)
{
	struct tlssess_certreq *req = p;
	ssize_t	 r = recv(req->fd, buf, n, 0);
	size_t	 k;

	if (r > 0 && req->nfirst < sizeof(req->first)) {
		k = sizeof(req->first) - req->nfirst;
		if (k > (size_t)r)
			k = (size_t)r;
		memcpy(req->first + req->nfirst, buf, k);
		req->nfirst += k;
	}
	return r;
}

static int
recording_pull_timeout(gnutls_transport_ptr_t p, unsigned int ms)
{
	struct tlssess_certreq *req = p;
	struct pollfd pfd = { req->fd, POLLIN, 0 };

	return poll(&pfd, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
}

const char *
tlssess_not_tls(const struct tlssess_certreq *req, char *buf, size_t n)
{
	char	 text[sizeof(req->first) + 1], esc[128];
	size_t	 i, len;

	/* TLS records begin with a content type from 20 to 24. */
	if (req->nfirst == 0 || (req->first[0] >= 20 && req->first[0] <= 24))
		return NULL;
	/*
	 * GnuTLS read only a record header's worth: what follows is likely
	 * still in the socket, so look at it without taking it.
	 */
	memcpy(text, req->first, req->nfirst);
	len = req->nfirst;
	if (len < sizeof(req->first)) {
		ssize_t	 r = recv(req->fd, text + len, sizeof(req->first) -
		    len, MSG_PEEK | MSG_DONTWAIT);

		if (r > 0)
			len += (size_t)r;
	}
	for (i = 0; i < len; i++)
		if (text[i] == '\r' || text[i] == '\n' || text[i] == '\0')
			break;
	text[i] = '\0';
	log_escape(esc, sizeof(esc), text);
	if (strncmp(text, "HTTP/", 5) == 0)
		snprintf(buf, n, "not a TLS server? it sent HTTP: \"%s\"",
		    esc);
	else if (i > 0 && strcmp(esc, text) == 0)
		snprintf(buf, n, "not a TLS server? it sent plain text: "
		    "\"%s\"", esc);
	else
		snprintf(buf, n, "not a TLS server? it sent bytes that are not "
		    "TLS (first byte 0x%02x)", req->first[0]);
	return buf;
}

static int
client_session(gnutls_session_t *s, const struct tlsconf *c, int fd,
    const char *name, struct tlssess_certreq *req, int verify)
{
	int	 ret;

	if ((ret = gnutls_init(s, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL |
	    GNUTLS_NONBLOCK)) < 0)
		return ret;
	if ((ret = common_setup(*s, c, fd)) < 0)
		goto fail;
	/* SNI must not carry an IP address (RFC 6066 section 3). */
	if (!addr_is_ip(name) && (ret = gnutls_server_name_set(*s,
	    GNUTLS_NAME_DNS, name, strlen(name))) < 0)
		goto fail;
	memset(req, 0, sizeof(*req));
	req->conf = c;
	req->vdata[0].type = GNUTLS_DT_DNS_HOSTNAME;
	req->vdata[0].data = (unsigned char *)name;
	req->vdata[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
	req->vdata[1].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
	/* GnuTLS keeps the pointer, not a copy: req must outlive s. */
	if (verify)
		gnutls_session_set_verify_cert2(*s, req->vdata, 2, 0);
	gnutls_session_set_ptr(*s, req);
	req->fd = fd;
	/* Writes keep GnuTLS's own function, which takes the fd as pointer. */
	gnutls_transport_set_ptr2(*s, req, (gnutls_transport_ptr_t)(intptr_t)fd);
	gnutls_transport_set_pull_function(*s, recording_pull);
	gnutls_transport_set_pull_timeout_function(*s, recording_pull_timeout);
	return 0;
fail:
	gnutls_deinit(*s);
	*s = NULL;
	return ret;
}

int
tlssess_client(gnutls_session_t *s, const struct tlsconf *c, int fd,
    const char *name, struct tlssess_certreq *req)
{
	return client_session(s, c, fd, name, req, 1);
}

int
tlssess_client_inspect(gnutls_session_t *s, const struct tlsconf *c, int fd,
    const char *name, struct tlssess_certreq *req)
{
	return client_session(s, c, fd, name, req, 0);
}

int
tlssess_wait(gnutls_session_t s, int fd, int timeout_ms)
{
	struct pollfd pfd;
	int	 r;

	pfd.fd = fd;
	pfd.events = gnutls_record_get_direction(s) ? POLLOUT : POLLIN;
	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : r;
}

static int
remaining(long long deadline)
{
	long long left;

	if (deadline == 0)
		return -1;
	left = deadline - timefmt_monotonic_ms();
	return left > 0 ? (int)left : 0;
}

int
tlssess_handshake(gnutls_session_t s, int fd, int timeout_ms)
{
	long long deadline = 0;
	int	 ret, w;

	if (timeout_ms > 0)
		deadline = timefmt_monotonic_ms() + timeout_ms;
	for (;;) {
		ret = gnutls_handshake(s);
		if (ret == 0)
			return 0;
		if (ret != GNUTLS_E_AGAIN && ret != GNUTLS_E_INTERRUPTED &&
		    gnutls_error_is_fatal(ret))
			return ret;
		if (ret != GNUTLS_E_AGAIN && ret != GNUTLS_E_INTERRUPTED)
			continue;	/* a warning alert: go on */
		w = tlssess_wait(s, fd, remaining(deadline));
		if (w == 0)
			return TLSSESS_E_TIMEOUT;
		if (w < 0)
			return GNUTLS_E_PULL_ERROR;
	}
}

int
tlssess_reverify(gnutls_session_t s, unsigned int *status)
{
	*status = 0;
	/* The stored chain, the credentials' CAs and CRLs, today's date. */
	return gnutls_certificate_verify_peers(s, client_purpose, 1, status);
}

int
tlssess_bye(gnutls_session_t s, int fd, int timeout_ms)
{
	long long deadline = timefmt_monotonic_ms() + timeout_ms;
	int	 ret;

	for (;;) {
		ret = gnutls_bye(s, GNUTLS_SHUT_WR);
		if (ret != GNUTLS_E_AGAIN && ret != GNUTLS_E_INTERRUPTED)
			return ret;
		if (tlssess_wait(s, fd, remaining(deadline)) <= 0)
			return TLSSESS_E_TIMEOUT;
	}
}

char *
tlssess_why(gnutls_session_t s, int err, char *buf, size_t n)
{
	char	 reasons[512], alert[64];

	switch (err) {
	case TLSSESS_E_TIMEOUT:
		snprintf(buf, n, "timed out");
		break;
	case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
		snprintf(buf, n, "certificate verification failed: %s",
		    verify_status_text(
		    gnutls_session_get_verify_cert_status(s), reasons,
		    sizeof(reasons)));
		break;
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
	case GNUTLS_E_WARNING_ALERT_RECEIVED:
		snprintf(buf, n, "peer sent alert %s",
		    tlssess_alert_name(gnutls_alert_get(s), alert,
		    sizeof(alert)));
		break;
	case GNUTLS_E_PREMATURE_TERMINATION:
		snprintf(buf, n, "peer closed the connection without "
		    "close_notify");
		break;
	case GNUTLS_E_NO_CERTIFICATE_FOUND:
	case GNUTLS_E_CERTIFICATE_REQUIRED:
		snprintf(buf, n, "no certificate sent");
		break;
	case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
		snprintf(buf, n, "no common protocol version (%s)",
		    gnutls_strerror(err));
		break;
	case GNUTLS_E_NO_CIPHER_SUITES:
	case GNUTLS_E_UNKNOWN_CIPHER_SUITE:
	case GNUTLS_E_NO_COMMON_KEY_SHARE:
	case GNUTLS_E_INSUFFICIENT_CREDENTIALS:
		snprintf(buf, n, "no common cipher suite or key exchange (%s)",
		    gnutls_strerror(err));
		break;
	default:
		snprintf(buf, n, "%s", gnutls_strerror(err));
	}
	return buf;
}

char *
tlssess_alert_name(gnutls_alert_description_t a, char *buf, size_t n)
{
	const char *g = gnutls_alert_get_strname(a);
	size_t	 i;

	/* GnuTLS names it "GNUTLS_A_CERTIFICATE_EXPIRED". */
	if (g == NULL)
		g = "unknown";
	if (strncmp(g, "GNUTLS_A_", 9) == 0)
		g += 9;
	for (i = 0; g[i] != '\0' && i + 1 < n; i++)
		buf[i] = (char)(g[i] >= 'A' && g[i] <= 'Z' ? g[i] + 32 : g[i]);
	buf[i] = '\0';
	return buf;
}

void
tlssess_info(gnutls_session_t s, struct tlssess_info *i)
{
	i->version = gnutls_protocol_get_name(gnutls_protocol_get_version(s));
	i->cipher = gnutls_ciphersuite_get(s);
	i->group = gnutls_group_get_name(gnutls_group_get(s));
	i->resumed = gnutls_session_is_resumed(s);
	if (i->version == NULL)
		i->version = "-";
	if (i->cipher == NULL)
		i->cipher = "-";
	if (i->group == NULL)
		i->group = "-";
}

/* A record call's failure, translated (see enum tlssess_rec). */
static int
rec_result(int ret, int *err)
{
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
		return TLSSESS_REC_AGAIN;
	*err = ret;
	if (ret == GNUTLS_E_PREMATURE_TERMINATION ||
	    ret == GNUTLS_E_PUSH_ERROR || ret == GNUTLS_E_PULL_ERROR)
		return TLSSESS_REC_VANISHED;
	return TLSSESS_REC_FAILED;
}

ssize_t
tlssess_recv(gnutls_session_t s, void *buf, size_t n, int *err)
{
	ssize_t	 r;

	for (;;) {
		if ((r = gnutls_record_recv(s, buf, n)) >= 0)
			return r;
		if (r == GNUTLS_E_REHANDSHAKE) {
			/* TLS 1.2 renegotiation is refused, politely. */
			gnutls_alert_send(s, GNUTLS_AL_WARNING,
			    GNUTLS_A_NO_RENEGOTIATION);
			return TLSSESS_REC_RENEG;
		}
		/* A warning alert is no reason to stop. */
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED ||
		    gnutls_error_is_fatal((int)r))
			return rec_result((int)r, err);
	}
}

ssize_t
tlssess_send(gnutls_session_t s, const void *buf, size_t n, int *err)
{
	ssize_t	 r;

	if ((r = gnutls_record_send(s, buf, n)) >= 0)
		return r;
	return rec_result((int)r, err);
}

void
tlssess_cork(gnutls_session_t s)
{
	gnutls_record_cork(s);
}

int
tlssess_uncork(gnutls_session_t s, int *err)
{
	int	 r;

	if ((r = gnutls_record_uncork(s, 0)) >= 0)
		return 0;
	return rec_result(r, err);
}

int
tlssess_shut(gnutls_session_t s, int *err)
{
	int	 r;

	if ((r = gnutls_bye(s, GNUTLS_SHUT_WR)) == 0)
		return 0;
	return rec_result(r, err);
}

size_t
tlssess_pending(gnutls_session_t s)
{
	return gnutls_record_check_pending(s);
}

int
tlssess_half_close(gnutls_session_t s)
{
	return gnutls_protocol_get_version(s) == GNUTLS_TLS1_3;
}
