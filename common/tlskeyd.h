/*
 * tlskeyd: the key process's side of tlskey (see tlskey.h): load the key,
 * answer the parent's control requests and every channel's signing
 * requests until the parent and all channels have gone.
 */
#ifndef MTLS_TLSKEYD_H
#define MTLS_TLSKEYD_H

#include <stddef.h>

#include "keymsg.h"
#include "tlskey.h"

/*
 * The key process's life, on control socket ctl: load the key, run setup,
 * send KEYOP_OK with the key's info (or KEYOP_FAIL with the reason and
 * end), then serve.  Never returns; the exit status is 0, or 1 when the
 * key could not be loaded.
 */
void	 tlskeyd_run(int ctl, const char *keypath, const char *pin,
	    int strict, tlskey_setup_fn setup, void *arg)
	    __attribute__((noreturn));

#endif
