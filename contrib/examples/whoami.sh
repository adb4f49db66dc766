#!/bin/sh
# An exec-mode handler: greets the client by the name in its certificate,
# then echoes what it sends.  Run it with
#	mtls-serve -- /usr/share/doc/mtls/examples/whoami.sh
echo "hello $SSL_CLIENT_S_DN_CN (certificate $SSL_CLIENT_M_SERIAL), from $TCPREMOTEIP"
exec cat
