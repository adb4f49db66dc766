#!/bin/bash
# --help, usage and the man pages agree: every long option in --help is in
# the man page, the usage is the SYNOPSIS word for word, and mandoc's lint
# finds nothing.
. "$(dirname "$0")/lib.sh"

render() {
	mandoc -Tascii "$1" | sed 's/.\x08//g'
}

for prog in mtls-serve mtls-send mtls-certinfo; do
	[ -x "$BIN/$prog" ] || continue
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
	# Man page options that --help forgot.
	for opt in $(grep -Eo -- '^ +-[a-zA-Z], --[a-z][a-z0-9-]+' "$T/man.txt" |
	    grep -Eo -- '--[a-z0-9-]+' | sort -u); do
		ok "$prog: $opt from the man page is in --help" \
		    grep -q -- "$opt" "$T/help"
	done
	syn=$(sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' "$T/man.txt" | sed '1d;$d' |
	    tr -s ' \n' '  ' | sed 's/^ //; s/ $//')
	use=$("$BIN/$prog" --bogus-option 2>&1 >/dev/null |
	    sed -n '/^usage: /,$p' | sed 's/^usage: //' |
	    tr -s ' \n' '  ' | sed 's/^ //; s/ $//')
	is "$use" "$syn" "$prog: usage is the man page's SYNOPSIS"
done

done_testing
