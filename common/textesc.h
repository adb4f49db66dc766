/*
 * textesc: text from a peer or a certificate, made safe for a terminal.
 *
 * Printable ASCII and well-formed UTF-8 pass; control characters (C0,
 * DEL, and the C1 range U+0080-U+009F, which some terminals obey like
 * ESC [) and bytes that are not UTF-8 become \xHH, so no subject or name
 * can move a cursor, retitle a window or ring a bell.  The backslash
 * stays: DNs use it (RFC 4514) and it drives no terminal.
 */
#ifndef MTLS_TEXTESC_H
#define MTLS_TEXTESC_H

#include <stddef.h>

/*
 * The length of the UTF-8 sequence at p (at most n bytes) if it is
 * well-formed, shortest-form and not a C1 control, else 0.
 */
size_t	 textesc_utf8_len(const unsigned char *p, size_t n);

/* src escaped into dst (always NUL-terminated, cut short if need be). */
char	*textesc(char *dst, size_t n, const char *src);

#endif
