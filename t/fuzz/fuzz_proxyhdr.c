/* Fuzz target: the PROXY protocol header parser, whole and byte by byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxyhdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxyhdr h;
	unsigned char *b;
	char	 err[512];
	size_t	 n;
	int	 r;

	/* An exact-size copy, so that ASan sees any read past the end. */
	if ((b = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(b, data, size);
	r = proxyhdr_parse(b, size, &h, err, sizeof(err));
	if (r > (int)size)
		abort();
	/*
	 * As the socket delivers it: every shorter prefix must say "more"
	 * or the same verdict, never a header where the whole says none.
	 */
	for (n = 0; n < size && n < 600; n++) {
		int	 p = proxyhdr_parse(b, n, &h, err, sizeof(err));

		if (p > (int)n || (p > 0 && p != r) || (p < 0 && r >= 0))
			abort();
	}
	free(b);
	return 0;
}
