#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/ocsp.h>
#include <gnutls/x509.h>

#include "addr.h"
#include "logline.h"
#include "timefmt.h"
#include "tls_int.h"
#include "tlsverify.h"

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

/* A new session around fd, or NULL with the reason in err. */
static struct tlssess *
session_new(const struct tlsconf *c, int fd, unsigned int flags, char *err,
    size_t errlen)
{
	struct tlssess *t;
	int	 ret;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->conf = c;
	t->fd = fd;
	if ((ret = gnutls_init(&t->s, flags | GNUTLS_NO_SIGNAL |
	    GNUTLS_NONBLOCK)) < 0) {
		snprintf(err, errlen, "%s", gnutls_strerror(ret));
		free(t);
		return NULL;
	}
	if ((ret = common_setup(t->s, c, fd)) < 0) {
		snprintf(err, errlen, "%s", gnutls_strerror(ret));
		tlssess_free(t);
		return NULL;
	}
	return t;
}

struct tlssess *
tlssess_server(const struct tlsconf *c, int fd, char *err, size_t errlen)
{
	struct tlssess *t;
	int	 ret;

	/*
	 * A TLS 1.3 ticket issued on a resumed session gets only what is left
	 * of the first ticket's lifetime (GnuTLS counts from the full
	 * handshake): a chain of resumptions ends with the first ticket.
	 */
	if ((t = session_new(c, fd, GNUTLS_SERVER, err, errlen)) == NULL)
		return NULL;
	gnutls_certificate_server_set_request(t->s, GNUTLS_CERT_REQUIRE);
	/* TLS 1.3 tickets, TLS 1.2 session tickets: resumption, any child. */
	if (c->ticket_key.data != NULL &&
	    (ret = gnutls_session_ticket_enable_server(t->s,
	    &c->ticket_key)) < 0) {
		snprintf(err, errlen, "%s", gnutls_strerror(ret));
		tlssess_free(t);
		return NULL;
	}
	gnutls_session_set_verify_cert2(t->s, client_purpose, 1, 0);
	gnutls_handshake_set_hook_function(t->s, GNUTLS_HANDSHAKE_ANY,
	    GNUTLS_HOOK_PRE, malformed_hook);
	return t;
}

void
tlssess_free(struct tlssess *t)
{
	if (t == NULL)
		return;
	if (t->s != NULL)
		gnutls_deinit(t->s);
	tlsx509_free(&t->peer);
	free(t->name);
	free(t);
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
	struct tlssess *t = gnutls_session_get_ptr(s);
	struct tlssess_certreq *req;
	gnutls_datum_t dn;
	int	 i;

	(void)pk_algos;
	(void)pk_algos_length;
	*pcert = NULL;
	*pcert_length = 0;
	*pkey = NULL;
	if (t == NULL)
		return 0;
	req = &t->req;
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
	if (t->conf->pcert != NULL) {
		*pcert = t->conf->pcert;
		*pcert_length = t->conf->npcert;
		*pkey = t->conf->pkey;
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
	struct tlssess *t = p;
	ssize_t	 r = recv(t->fd, buf, n, 0);
	size_t	 k;

	if (r > 0 && t->nfirst < sizeof(t->first)) {
		k = sizeof(t->first) - t->nfirst;
		if (k > (size_t)r)
			k = (size_t)r;
		memcpy(t->first + t->nfirst, buf, k);
		t->nfirst += k;
	}
	return r;
}

static int
recording_pull_timeout(gnutls_transport_ptr_t p, unsigned int ms)
{
	struct tlssess *t = p;
	struct pollfd pfd = { t->fd, POLLIN, 0 };

	return poll(&pfd, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
}

const char *
tlssess_not_tls(const struct tlssess *t, char *buf, size_t n)
{
	char	 text[sizeof(t->first) + 1], esc[128];
	size_t	 i, len;

	/* TLS records begin with a content type from 20 to 24. */
	if (t->nfirst == 0 || (t->first[0] >= 20 && t->first[0] <= 24))
		return NULL;
	/*
	 * GnuTLS read only a record header's worth: what follows is likely
	 * still in the socket, so look at it without taking it.
	 */
	memcpy(text, t->first, t->nfirst);
	len = t->nfirst;
	if (len < sizeof(t->first)) {
		ssize_t	 r = recv(t->fd, text + len, sizeof(t->first) -
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
		    "TLS (first byte 0x%02x)", t->first[0]);
	return buf;
}

static struct tlssess *
client_session(const struct tlsconf *c, int fd, const char *name, int verify,
    char *err, size_t errlen)
{
	struct tlssess *t;
	int	 ret;

	if ((t = session_new(c, fd, GNUTLS_CLIENT, err, errlen)) == NULL)
		return NULL;
	if ((t->name = strdup(name)) == NULL) {
		snprintf(err, errlen, "out of memory");
		tlssess_free(t);
		return NULL;
	}
	/* SNI must not carry an IP address (RFC 6066 section 3). */
	if (!addr_is_ip(name) && (ret = gnutls_server_name_set(t->s,
	    GNUTLS_NAME_DNS, name, strlen(name))) < 0) {
		snprintf(err, errlen, "%s", gnutls_strerror(ret));
		tlssess_free(t);
		return NULL;
	}
	t->vdata[0].type = GNUTLS_DT_DNS_HOSTNAME;
	t->vdata[0].data = (unsigned char *)t->name;
	t->vdata[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
	t->vdata[1].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
	/* GnuTLS keeps the pointer, not a copy: t outlives its session. */
	if (verify)
		gnutls_session_set_verify_cert2(t->s, t->vdata, 2, 0);
	gnutls_session_set_ptr(t->s, t);
	/* Writes keep GnuTLS's own function, which takes the fd as pointer. */
	gnutls_transport_set_ptr2(t->s, t,
	    (gnutls_transport_ptr_t)(intptr_t)fd);
	gnutls_transport_set_pull_function(t->s, recording_pull);
	gnutls_transport_set_pull_timeout_function(t->s,
	    recording_pull_timeout);
	return t;
}

struct tlssess *
tlssess_client(const struct tlsconf *c, int fd, const char *name, char *err,
    size_t errlen)
{
	return client_session(c, fd, name, 1, err, errlen);
}

struct tlssess *
tlssess_client_inspect(const struct tlsconf *c, int fd, const char *name,
    char *err, size_t errlen)
{
	return client_session(c, fd, name, 0, err, errlen);
}

int
tlssess_wait(struct tlssess *t, int timeout_ms)
{
	struct pollfd pfd;
	int	 r;

	pfd.fd = t->fd;
	pfd.events = gnutls_record_get_direction(t->s) ? POLLOUT : POLLIN;
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

/* An alert's name as the TLS RFCs spell it: "certificate_expired". */
static char *
alert_name(gnutls_alert_description_t a, char *buf, size_t n)
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

/* A handshake or record error in plain words, into t->why. */
static void
describe(struct tlssess *t)
{
	char	 reasons[512], alert[64];
	char	*buf = t->why;
	size_t	 n = sizeof(t->why);
	int	 err = t->gerr;

	if (t->err == TLSSESS_TIMEOUT) {
		snprintf(buf, n, "timed out");
		return;
	}
	switch (err) {
	case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
		snprintf(buf, n, "certificate verification failed: %s",
		    verify_status_text(t->vstatus, reasons, sizeof(reasons)));
		break;
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
	case GNUTLS_E_WARNING_ALERT_RECEIVED:
		snprintf(buf, n, "peer sent alert %s",
		    alert_name(gnutls_alert_get(t->s), alert, sizeof(alert)));
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
}

/* Record a failure: GnuTLS's code err, or kind alone when err is 0. */
static int
fail(struct tlssess *t, enum tlssess_err kind, int err)
{
	t->gerr = err;
	t->err = kind;
	if (err == 0) {
		describe(t);
		return -1;
	}
	switch (err) {
	case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
		t->err = TLSSESS_VERIFY;
		t->vstatus = gnutls_session_get_verify_cert_status(t->s);
		break;
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		t->err = TLSSESS_ALERT;
		break;
	case GNUTLS_E_PREMATURE_TERMINATION:
	case GNUTLS_E_PULL_ERROR:
	case GNUTLS_E_PUSH_ERROR:
		t->err = TLSSESS_VANISHED;
		break;
	case GNUTLS_E_NO_CERTIFICATE_FOUND:
	case GNUTLS_E_CERTIFICATE_REQUIRED:
		t->err = TLSSESS_NO_CERT;
		break;
	case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
		t->err = TLSSESS_NO_VERSION;
		break;
	case GNUTLS_E_NO_CIPHER_SUITES:
	case GNUTLS_E_UNKNOWN_CIPHER_SUITE:
	case GNUTLS_E_NO_COMMON_KEY_SHARE:
	case GNUTLS_E_INSUFFICIENT_CREDENTIALS:
	case GNUTLS_E_UNWANTED_ALGORITHM:
		t->err = TLSSESS_NO_CIPHER;
		break;
	default:
		t->err = TLSSESS_FAILED;
	}
	describe(t);
	return -1;
}

int
tlssess_handshake(struct tlssess *t, int timeout_ms)
{
	long long deadline = 0;
	int	 ret, w;

	if (timeout_ms > 0)
		deadline = timefmt_monotonic_ms() + timeout_ms;
	for (;;) {
		ret = gnutls_handshake(t->s);
		if (ret == 0)
			return 0;
		if (ret != GNUTLS_E_AGAIN && ret != GNUTLS_E_INTERRUPTED &&
		    gnutls_error_is_fatal(ret))
			return fail(t, TLSSESS_FAILED, ret);
		if (ret != GNUTLS_E_AGAIN && ret != GNUTLS_E_INTERRUPTED)
			continue;	/* a warning alert: go on */
		w = tlssess_wait(t, remaining(deadline));
		if (w == 0)
			return fail(t, TLSSESS_TIMEOUT, 0);
		if (w < 0)
			return fail(t, TLSSESS_FAILED, GNUTLS_E_PULL_ERROR);
	}
}

int
tlssess_reverify(struct tlssess *t)
{
	unsigned int st = 0;
	int	 ret;

	/*
	 * The stored chain, the credentials' CAs and CRLs, today's date;
	 * a client's server name and purpose, a server's client purpose.
	 */
	if (t->name != NULL)
		ret = gnutls_certificate_verify_peers(t->s, t->vdata, 2, &st);
	else
		ret = gnutls_certificate_verify_peers(t->s, client_purpose, 1,
		    &st);
	if (ret == 0 && st == 0)
		return 0;
	fail(t, TLSSESS_VERIFY, GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR);
	t->vstatus = ret < 0 ? GNUTLS_CERT_INVALID : st;
	if (ret < 0)
		snprintf(t->why, sizeof(t->why), "%s", gnutls_strerror(ret));
	else
		describe(t);
	return -1;
}

int
tlssess_check_deferred(struct tlssess *t)
{
	const gnutls_datum_t *chain;
	unsigned int len = 0;
	int	 r;

	if (t->conf->ndeferred == 0)
		return 0;
	chain = gnutls_certificate_get_peers(t->s, &len);
	if ((r = tlsconf_check_deferred(t->conf, chain, len, t->why,
	    sizeof(t->why))) == 0)
		return 0;
	t->err = TLSSESS_VERIFY;
	t->gerr = GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
	t->vstatus = r > 0 ? GNUTLS_CERT_INVALID | GNUTLS_CERT_REVOKED :
	    GNUTLS_CERT_INVALID;
	return -1;
}

int
tlssess_bye(struct tlssess *t, int timeout_ms)
{
	long long deadline = timefmt_monotonic_ms() + timeout_ms;
	int	 ret;

	for (;;) {
		ret = gnutls_bye(t->s, GNUTLS_SHUT_WR);
		if (ret == 0)
			return 0;
		if (ret != GNUTLS_E_AGAIN && ret != GNUTLS_E_INTERRUPTED)
			return fail(t, TLSSESS_FAILED, ret);
		if (tlssess_wait(t, remaining(deadline)) <= 0)
			return fail(t, TLSSESS_TIMEOUT, 0);
	}
}

/* A record call's result r, as what happened, the bytes in *done. */
static enum tlssess_io
record_result(struct tlssess *t, ssize_t r, size_t *done)
{
	if (done != NULL)
		*done = r > 0 ? (size_t)r : 0;
	if (r >= 0)
		return TLSSESS_IO_OK;
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
		return TLSSESS_IO_AGAIN;
	fail(t, TLSSESS_FAILED, (int)r);
	return TLSSESS_IO_FAILED;
}

enum tlssess_io
tlssess_recv(struct tlssess *t, void *buf, size_t n, size_t *done)
{
	ssize_t	 r;

	*done = 0;
	for (;;) {
		if ((r = gnutls_record_recv(t->s, buf, n)) == 0)
			return TLSSESS_IO_EOF;
		if (r > 0)
			return record_result(t, r, done);
		if (r == GNUTLS_E_REHANDSHAKE) {
			/* TLS 1.2 renegotiation is refused, politely. */
			gnutls_alert_send(t->s, GNUTLS_AL_WARNING,
			    GNUTLS_A_NO_RENEGOTIATION);
			return TLSSESS_IO_RENEG;
		}
		/* A warning alert is no reason to stop. */
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED ||
		    gnutls_error_is_fatal((int)r))
			return record_result(t, r, done);
	}
}

enum tlssess_io
tlssess_send(struct tlssess *t, const void *buf, size_t n, size_t *done)
{
	return record_result(t, gnutls_record_send(t->s, buf, n), done);
}

void
tlssess_cork(struct tlssess *t)
{
	gnutls_record_cork(t->s);
}

enum tlssess_io
tlssess_uncork(struct tlssess *t)
{
	return record_result(t, gnutls_record_uncork(t->s, 0), NULL);
}

enum tlssess_io
tlssess_shut(struct tlssess *t)
{
	return record_result(t, gnutls_bye(t->s, GNUTLS_SHUT_WR), NULL);
}

size_t
tlssess_pending(struct tlssess *t)
{
	return gnutls_record_check_pending(t->s);
}

int
tlssess_fd(const struct tlssess *t)
{
	return t->fd;
}

enum tlssess_err
tlssess_error(const struct tlssess *t)
{
	return t->err;
}

const char *
tlssess_why(const struct tlssess *t)
{
	return t->why;
}

const char *
tlssess_why_lib(const struct tlssess *t)
{
	return t->gerr != 0 ? gnutls_strerror(t->gerr) : "";
}

/* Send alert a, trying for at most timeout_ms while the socket is full. */
static void
send_alert(struct tlssess *t, gnutls_alert_description_t a, int timeout_ms)
{
	long long deadline = timefmt_monotonic_ms() + timeout_ms;
	int	 ret;

	while ((ret = gnutls_alert_send(t->s, GNUTLS_AL_FATAL, a)) ==
	    GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
		if (timefmt_monotonic_ms() >= deadline ||
		    tlssess_wait(t, 100) < 0)
			break;
}

void
tlssess_refuse(struct tlssess *t, int timeout_ms)
{
	switch (t->err) {
	case TLSSESS_OK:
	case TLSSESS_TIMEOUT:
	case TLSSESS_ALERT:
	case TLSSESS_VANISHED:
		return;
	case TLSSESS_VERIFY:
		/* RFC 8446 6.2: the most specific alert that applies. */
		send_alert(t, verify_status_alert(t->vstatus), timeout_ms);
		return;
	case TLSSESS_NO_CERT:
		/* RFC 8446 4.4.2.4; RFC 5246 7.4.6 says handshake_failure. */
		send_alert(t, gnutls_protocol_get_version(t->s) ==
		    GNUTLS_TLS1_3 ? GNUTLS_A_CERTIFICATE_REQUIRED :
		    GNUTLS_A_HANDSHAKE_FAILURE, timeout_ms);
		return;
	default:
		gnutls_alert_send_appropriate(t->s, t->gerr);
	}
}

void
tlssess_alert(struct tlssess *t, enum tlssess_alert a, int timeout_ms)
{
	send_alert(t, a == TLSSESS_A_ACCESS_DENIED ? GNUTLS_A_ACCESS_DENIED :
	    a == TLSSESS_A_CERTIFICATE_UNKNOWN ?
	    GNUTLS_A_CERTIFICATE_UNKNOWN : GNUTLS_A_BAD_CERTIFICATE,
	    timeout_ms);
}

char *
tlssess_alert_name(const struct tlssess *t, char *buf, size_t n)
{
	return alert_name(gnutls_alert_get(t->s), buf, n);
}

void
tlssess_info(struct tlssess *t, struct tlssess_info *i)
{
	size_t	 len = sizeof(i->sni);
	unsigned int type;

	i->version = gnutls_protocol_get_name(gnutls_protocol_get_version(
	    t->s));
	i->cipher = gnutls_ciphersuite_get(t->s);
	i->group = gnutls_group_get_name(gnutls_group_get(t->s));
	i->resumed = gnutls_session_is_resumed(t->s);
	i->tls13 = gnutls_protocol_get_version(t->s) == GNUTLS_TLS1_3;
	if (i->version == NULL)
		i->version = "-";
	if (i->cipher == NULL)
		i->cipher = "-";
	if (i->group == NULL)
		i->group = "-";
	i->peer_chain = 0;
	(void)gnutls_certificate_get_peers(t->s, &i->peer_chain);
	if (gnutls_server_name_get(t->s, i->sni, &len, &type, 0) != 0 ||
	    type != GNUTLS_NAME_DNS)
		i->sni[0] = '\0';
}

const struct x509_facts *
tlssess_peer(struct tlssess *t)
{
	const gnutls_datum_t *chain;
	unsigned int n = 0;
	char	 err[256];

	if (t->peer_state == 0) {
		t->peer_state = -1;
		chain = gnutls_certificate_get_peers(t->s, &n);
		if (n > 0 && tlsx509_parse(chain[0].data, chain[0].size,
		    &t->peer, err, sizeof(err)) == 0)
			t->peer_state = 1;
	}
	return t->peer_state > 0 ? &t->peer : NULL;
}

unsigned int
tlssess_verify_reasons(const struct tlssess *t, char *rest, size_t n)
{
	static const struct {
		unsigned int	 ours, gnutls;
	} map[] = {
		{ TLSSESS_V_UNKNOWN_CA, GNUTLS_CERT_SIGNER_NOT_FOUND },
		{ TLSSESS_V_NAME, GNUTLS_CERT_UNEXPECTED_OWNER },
		{ TLSSESS_V_EXPIRED, GNUTLS_CERT_EXPIRED },
		{ TLSSESS_V_NOT_YET_VALID, GNUTLS_CERT_NOT_ACTIVATED },
		{ TLSSESS_V_REVOKED, GNUTLS_CERT_REVOKED },
		{ TLSSESS_V_PURPOSE, GNUTLS_CERT_PURPOSE_MISMATCH },
	};
	unsigned int st = t->vstatus, bits = 0;
	size_t	 i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (st & map[i].gnutls) {
			bits |= map[i].ours;
			st &= ~(map[i].gnutls | GNUTLS_CERT_INVALID);
		}
	if (st != 0)
		verify_status_text(st, rest, n);
	else
		snprintf(rest, n, "%s", "");
	return bits;
}

int
tlssess_ocsp_ok(struct tlssess *t)
{
	return gnutls_ocsp_status_request_is_checked(t->s, 0) != 0;
}

int
tlssess_resume_data(struct tlssess *t, unsigned char **data, size_t *len,
    char *err, size_t errlen)
{
	gnutls_datum_t d = { NULL, 0 };
	int	 ret;

	*data = NULL;
	*len = 0;
	if ((ret = gnutls_session_get_data2(t->s, &d)) < 0 || d.size == 0) {
		snprintf(err, errlen, "%s", ret < 0 ? gnutls_strerror(ret) :
		    "no ticket");
		gnutls_free(d.data);
		return -1;
	}
	if ((*data = malloc(d.size)) == NULL) {
		snprintf(err, errlen, "out of memory");
		ret = -1;
	} else {
		memcpy(*data, d.data, d.size);
		*len = d.size;
		ret = 0;
	}
	gnutls_memset(d.data, 0, d.size);
	gnutls_free(d.data);
	return ret;
}

int
tlssess_resume(struct tlssess *t, const unsigned char *data, size_t len,
    char *err, size_t errlen)
{
	int	 ret;

	if ((ret = gnutls_session_set_data(t->s, data, len)) < 0) {
		snprintf(err, errlen, "%s", gnutls_strerror(ret));
		return -1;
	}
	return 0;
}

const unsigned char *
tlssess_peer_der(struct tlssess *t, unsigned int i, size_t *len)
{
	const gnutls_datum_t *chain;
	unsigned int n = 0;

	chain = gnutls_certificate_get_peers(t->s, &n);
	if (i >= n)
		return NULL;
	*len = chain[i].size;
	return chain[i].data;
}

const struct tlssess_certreq *
tlssess_certreq(const struct tlssess *t)
{
	return &t->req;
}
