#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "addr.h"
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

int
tlssess_server(gnutls_session_t *s, const struct tlsconf *c, int fd)
{
	int	 ret;

	if ((ret = gnutls_init(s, GNUTLS_SERVER | GNUTLS_NO_SIGNAL |
	    GNUTLS_NONBLOCK)) < 0)
		return ret;
	if ((ret = common_setup(*s, c, fd)) < 0)
		goto fail;
	gnutls_certificate_server_set_request(*s, GNUTLS_CERT_REQUIRE);
	gnutls_session_set_verify_cert2(*s, client_purpose, 1, 0);
	return 0;
fail:
	gnutls_deinit(*s);
	*s = NULL;
	return ret;
}

int
tlssess_client(gnutls_session_t *s, const struct tlsconf *c, int fd,
    const char *name)
{
	gnutls_typed_vdata_st vd[2];
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
	vd[0].type = GNUTLS_DT_DNS_HOSTNAME;
	vd[0].data = (unsigned char *)name;
	vd[0].size = 0;
	vd[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
	vd[1].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
	vd[1].size = 0;
	/* The vdata is copied, but name must outlive the session. */
	gnutls_session_set_verify_cert2(*s, vd, 2, 0);
	return 0;
fail:
	gnutls_deinit(*s);
	*s = NULL;
	return ret;
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
	char	 reasons[512];

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
		    gnutls_alert_get_strname(gnutls_alert_get(s)));
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
