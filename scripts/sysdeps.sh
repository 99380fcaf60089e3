#!/usr/bin/env bash
# Install (or name) the Debian packages that a make target uses.
#
#   scripts/sysdeps.sh GROUP...        e.g. scripts/sysdeps.sh qt window
#
# The packages come from scripts/debian-packages.txt, the one list. As root on
# Debian the missing ones are installed with apt-get. Otherwise nothing is
# installed: the missing packages are printed with the command that installs
# them, and the script exits 1 (on Debian) so that `make` stops before a test or
# the window fails for a reason that has nothing to do with the code. On a
# system without dpkg it prints the list (install their equivalents) and exits 0.
set -u
here=$(cd "$(dirname "$0")" && pwd)
list="$here/debian-packages.txt"

packages_of() {  # the packages of the groups given
    awk -v groups=" $* " '!/^[[:space:]]*(#|$)/ && index(groups, " " $1 " ") { print $2 }' "$list"
}

[ "$#" -gt 0 ] || { echo "usage: $0 GROUP..." >&2; exit 2; }
wanted=$(packages_of "$@")

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "sysdeps: not a Debian system; make sure the equivalents of these Debian" \
         "packages are installed:" $wanted >&2
    exit 0
fi

missing=""
for p in $wanted; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "sysdeps: installing$missing"
    if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends $missing >/dev/null; then
        exit 0
    fi
    echo "sysdeps: apt-get could not install$missing" >&2
    exit 1
fi

echo "sysdeps: these Debian packages are missing:$missing" >&2
echo "sysdeps: install them with:  sudo apt-get install$missing" >&2
exit 1
