/*
 * Fuzz target: the key process's message parser (common/keymsg.c), as
 * each of the three senders.  The first byte picks the sender; the rest
 * is the packet.  A parsed message must say no more than was received.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keymsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct keymsg m;
	unsigned char *b;
	char	 why[160];
	enum keyfrom from;

	if (size == 0)
		return 0;
	from = (enum keyfrom)(data[0] % 3);
	data++;
	size--;
	/* An exact-size copy, so that ASan sees any read past the end. */
	if ((b = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(b, data, size);
	if (keymsg_parse(b, size, from, &m, why, sizeof(why)) == 0) {
		if (sizeof(m.hdr) + m.hdr.len != size ||
		    m.hdr.len > KEYMSG_MAX ||
		    memcmp(m.body, b + sizeof(m.hdr), m.hdr.len) != 0)
			abort();
		/* Signing requests come from connections only. */
		if ((m.hdr.op == KEYOP_SIGN_HASH ||
		    m.hdr.op == KEYOP_SIGN_DATA) && from != KEYFROM_CONN)
			abort();
		if (m.hdr.op == KEYOP_CHANNEL && from != KEYFROM_PARENT)
			abort();
	} else if (why[0] == '\0')
		abort();
	free(b);
	return 0;
}
