#include <stdio.h>
#include <string.h>

#include "keymsg.h"

int
keymsg_parse(const void *buf, size_t n, enum keyfrom from, struct keymsg *m,
    char *why, size_t whylen)
{
	enum keyfrom may;

	if (n < sizeof(m->hdr)) {
		snprintf(why, whylen, "short message (%zu bytes)", n);
		return -1;
	}
	memcpy(&m->hdr, buf, sizeof(m->hdr));
	if (m->hdr.len > KEYMSG_MAX) {
		snprintf(why, whylen, "body of %lu bytes (at most %d)",
		    (unsigned long)m->hdr.len, KEYMSG_MAX);
		return -1;
	}
	if (n != sizeof(m->hdr) + m->hdr.len) {
		snprintf(why, whylen, "%zu bytes for a body of %lu", n,
		    (unsigned long)m->hdr.len);
		return -1;
	}
	switch (m->hdr.op) {
	case KEYOP_SIGN_HASH:
	case KEYOP_SIGN_DATA:
		may = KEYFROM_CONN;
		if (m->hdr.algo >= KEYMSG_NSIGN || m->hdr.len == 0) {
			snprintf(why, whylen, "bad signing request");
			return -1;
		}
		break;
	case KEYOP_CHANNEL:
	case KEYOP_LOAD:
	case KEYOP_COMMIT:
	case KEYOP_ABORT:
		may = KEYFROM_PARENT;
		break;
	case KEYOP_OK:
	case KEYOP_FAIL:
		may = KEYFROM_KEYD;
		break;
	default:
		snprintf(why, whylen, "unknown operation %lu",
		    (unsigned long)m->hdr.op);
		return -1;
	}
	if (may != from) {
		snprintf(why, whylen, "operation %lu from the wrong sender",
		    (unsigned long)m->hdr.op);
		return -1;
	}
	memcpy(m->body, (const unsigned char *)buf + sizeof(m->hdr),
	    m->hdr.len);
	return 0;
}

int
keyinfo_has(const struct keyinfo *info, unsigned int a)
{
	return a < KEYMSG_NSIGN && (info->sign[a / 8] >> (a % 8)) & 1;
}
