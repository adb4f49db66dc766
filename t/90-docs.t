#!/bin/bash
# --help, usage and the man pages agree: every long option in --help is in
# the man page and every option the man page lists is in --help, the usage
# is the SYNOPSIS word for word, and mandoc's lint finds nothing.
. "$(dirname "$0")/lib.sh"

render() {
	mandoc -Tascii "$1" | sed 's/.\x08//g'
}

for prog in mtls-serve mtls-send mtls-certinfo; do
	if ! [ -x "$BIN/$prog" ]; then
		ok "$prog is built in $BIN" false
		continue
	fi
	man=$TOP/man/$prog.1
	ok "$prog: man page exists" test -f "$man"
	lint=$(mandoc -Tlint -Wwarning "$man" 2>&1)
	is "$lint" "" "$prog: mandoc -Tlint -Wwarning is clean"
	"$BIN/$prog" --help >"$T/help" 2>"$T/help.err"
	is "$?" 0 "$prog: --help exits 0"
	render "$man" >"$T/man.txt"
	for opt in $(grep -Eo -- '--[a-z][a-z0-9-]+' "$T/help" | sort -u); do
		ok "$prog: $opt is in the man page" \
		    grep -Eq -- "$opt([^a-z0-9-]|\$)" "$T/man.txt"
	done
	# Man page options that --help forgot: every option of the
	# DESCRIPTION's lists (".It Fl x , Fl \-long" or ".It Fl \-long"),
	# from the mdoc source, long or short.
	mopts=$(sed -n 's/^\.It Fl //p' "$man" | sed 's/ Ar .*//; s/ Li .*//' |
	    grep -Eo -- '(\\-[a-z][a-z0-9-]+|^[a-zA-Z]\b)' |
	    sed 's/^\\-/--/; s/^\([a-zA-Z]\)$/-\1/' | sort -u)
	ok "$prog: the man page lists options" test -n "$mopts"
	for opt in $mopts; do
		ok "$prog: $opt from the man page is in --help" \
		    grep -Eq -- "(^|[^a-z0-9-])$opt([^a-z0-9-]|\$)" "$T/help"
	done
	syn=$(sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' "$T/man.txt" | sed '1d;$d' |
	    tr -s ' \n' '  ' | sed 's/^ //; s/ $//')
	use=$("$BIN/$prog" --bogus-option 2>&1 >/dev/null |
	    sed -n '/^usage: /,$p' | sed 's/^usage: //' |
	    tr -s ' \n' '  ' | sed 's/^ //; s/ $//')
	is "$use" "$syn" "$prog: usage is the man page's SYNOPSIS"
done

done_testing
