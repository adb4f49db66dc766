/*
 * allow: which verified clients are admitted (--allow RULE).
 *
 * Rules, any one of which admits a client:
 *   cn:GLOB  ou:GLOB        a subject CN / OU attribute
 *   dns:GLOB uri:GLOB email:GLOB   a subject alternative name of that type
 *   sha256:HEX              the certificate's SHA-256 fingerprint
 *   pin-sha256:BASE64       the SHA-256 of its public key (sha256// too)
 * GLOB is fnmatch(3) without flags: "*" also matches "/" and ".".
 */
#ifndef MTLS_ALLOW_H
#define MTLS_ALLOW_H

#include <stddef.h>

struct x509_facts;

enum allow_kind {
	ALLOW_CN, ALLOW_OU, ALLOW_DNS, ALLOW_URI, ALLOW_EMAIL, ALLOW_SHA256,
	ALLOW_PIN
};

struct allow_rule {
	enum allow_kind	 kind;
	const char	*text;		/* the rule as given, for logs */
	char		 value[256];	/* the pattern, normalized */
};

/*
 * Parse text ("cn:web-*") into r.  Returns 0, or -1 with a reason in err.
 * text must outlive r.
 */
int	 allow_parse(const char *text, struct allow_rule *r, char *err,
	    size_t errlen);

/*
 * The first rule that admits the certificate f, or NULL.  A cn: rule
 * never admits a subject with more than one CN.
 */
const struct allow_rule *allow_match(const struct allow_rule *rules, int n,
	    const struct x509_facts *f);

/*
 * Why no rule admits f, for the log: "not allowed", or with the reason
 * when a cn: rule could not apply (in buf).  Returns a string to log.
 */
const char *allow_why_not(const struct allow_rule *rules, int n,
	    const struct x509_facts *f, char *buf, size_t len);

#endif
