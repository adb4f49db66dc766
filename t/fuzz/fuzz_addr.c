/* Fuzz target: the [ADDR]:PORT / HOST[:PORT] parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr a;
	char	 err[512], *s;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	addr_parse(s, "9443", 0, &a, err, sizeof(err));
	addr_parse(s, "9443", 1, &a, err, sizeof(err));
	free(s);
	return 0;
}
