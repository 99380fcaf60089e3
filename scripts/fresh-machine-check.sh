#!/usr/bin/env bash
# The README's two commands on a fresh Debian 12 machine, the way CI cannot check them.
#
#   sudo scripts/fresh-machine-check.sh [--branch BRANCH] [--repo PATH_OR_URL]
#                                       [--root DIR] [--reuse-root] [--base-only]
#
# 1. A throwaway Debian 12 root: `debootstrap --variant=minbase bookworm DIR`
#    (debootstrap is installed with apt-get when missing) plus only
#    git make python3 python3-venv ca-certificates.
# 2. This machine's CA certificates and pip configuration are copied in (so the
#    package registries answer inside as they answer here): /etc/ssl/certs,
#    /usr/local/share/ca-certificates, /etc/pip.conf, /etc/xdg/pip, ~/.config/pip,
#    ~/.pip and the PIP_* environment. Local folders that pip's configuration names
#    (find-links, file:// indexes) are bind-mounted read-only at the same path.
# 3. The repository is cloned inside (BRANCH, default main) and `make test` runs.
# 4. `make run` runs under Xvfb until the first-run wizard shows; a screenshot
#    (`import -window root`) is written to OUT (default ./fresh-machine-check.png).
#    Xvfb and ImageMagick are the list's `check` group, installed only for this step.
#
# --reuse-root reuses the root an earlier run made instead of a new debootstrap
# (faster, but the root keeps what earlier runs installed in it: the Debian packages
# and pip's cache; only a run without it checks a fresh machine). The clone and the
# .venv are always new. --base-only stops after step 2. Needs root (debootstrap, chroot, mounts). Exit status: that of `make test`,
# or 3 when the wizard did not show.
set -u

ROOT=/var/tmp/siee-fresh-root
BRANCH=main
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=$PWD/fresh-machine-check.png
REUSE=0
BASE_ONLY=0
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
while [ $# -gt 0 ]; do
    case $1 in
        --branch) BRANCH=$2; shift 2 ;;
        --repo) REPO=$2; shift 2 ;;
        --root) ROOT=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --reuse-root) REUSE=1; shift ;;
        --base-only) BASE_ONLY=1; shift ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

say() { echo "== fresh-machine-check: $*"; }
[ "$(id -u)" = "0" ] || { echo "run as root (debootstrap, chroot, mount)" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
check_pkgs=$(awk '$1 == "check" { print $2 }' "$here/debian-packages.txt")

MOUNTS=()
mount_in() {  # mount_in TARGET_IN_ROOT mount-args...
    local target=$ROOT$1; shift
    mkdir -p "$target"
    mount "$@" "$target" && MOUNTS+=("$target")
}
unmount_all() {
    local i
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
        umount -l "${MOUNTS[$i]}" 2>/dev/null
    done
    MOUNTS=()
}
cleanup() {
    # processes started inside the root (Xvfb, the program, PostgreSQL) end with it
    if [ -d "$ROOT/proc" ]; then
        local pid
        for pid in $(ls /proc | grep -E '^[0-9]+$'); do
            [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$ROOT" ] && kill "$pid" 2>/dev/null
        done
        sleep 2
    fi
    unmount_all
}
trap cleanup EXIT

in_root() { chroot "$ROOT" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${pip_env[@]}" "$@"; }

# -- 1. the root ------------------------------------------------------------------------
if [ "$REUSE" = 1 ] && [ -f "$ROOT/.siee-base-ready" ]; then
    say "reusing the prepared root $ROOT"
else
    if ! command -v debootstrap >/dev/null 2>&1; then
        say "installing debootstrap"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap \
            >/dev/null || exit 1
    fi
    if [ -d "$ROOT" ]; then
        # leftovers of an interrupted run: nothing may stay mounted before the removal
        awk -v r="$ROOT/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r \
            | while read -r m; do umount -l "$m"; done
        if awk -v r="$ROOT/" 'index($2, r) == 1' /proc/mounts | grep -q .; then
            say "something is still mounted under $ROOT; not removing it"; exit 1
        fi
        rm -rf --one-file-system "$ROOT"
    fi
    say "debootstrap --variant=minbase bookworm $ROOT"
    debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >/tmp/siee-debootstrap.log 2>&1 \
        || { tail -n 30 /tmp/siee-debootstrap.log; exit 1; }
fi

mount_in /proc -t proc proc
mount_in /sys -t sysfs sysfs
mount_in /dev/pts -t devpts -o newinstance,ptmxmode=0666 devpts
mount_in /dev/shm -t tmpfs -o mode=1777 tmpfs
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null

# -- 2. CA certificates and pip configuration ---------------------------------------------
pip_env=()
while IFS='=' read -r k v; do pip_env+=("$k=$v"); done < <(env | grep -E '^PIP_')
for v in SSL_CERT_FILE SSL_CERT_DIR REQUESTS_CA_BUNDLE; do
    [ -n "${!v:-}" ] && pip_env+=("$v=${!v}")
done
if [ ! -f "$ROOT/.siee-base-ready" ]; then
    say "adding git make python3 python3-venv ca-certificates"
    in_root apt-get update -qq >/dev/null \
        && in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            git make python3 python3-venv ca-certificates >/dev/null \
        || { say "apt-get failed in the root"; exit 1; }
    if [ -d /usr/local/share/ca-certificates ]; then
        mkdir -p "$ROOT/usr/local/share/ca-certificates"
        cp -a /usr/local/share/ca-certificates/. "$ROOT/usr/local/share/ca-certificates/"
        in_root update-ca-certificates >/dev/null 2>&1
    fi
    # this machine's bundle too (it may hold certificates added another way)
    cp -L /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"
    for f in /etc/pip.conf /etc/xdg/pip "$HOME/.config/pip" "$HOME/.pip"; do
        if [ -e "$f" ]; then
            target=$ROOT${f/#$HOME//root}
            mkdir -p "$(dirname "$target")"
            cp -a "$f" "$target"
            say "copied pip configuration $f"
        fi
    done
    touch "$ROOT/.siee-base-ready"
fi
# local folders the pip configuration names: the same path inside, read-only
for d in $(cat /etc/pip.conf /etc/xdg/pip/*.conf "$HOME"/.config/pip/*.conf "$HOME"/.pip/*.conf \
             2>/dev/null | grep -oE '(file://)?/[^ ]+' | sed 's|^file://||'; \
           env | grep -E '^PIP_(FIND_LINKS|EXTRA_INDEX_URL|INDEX_URL)=' | cut -d= -f2- \
             | tr ' ' '\n' | sed 's|^file://||' | grep '^/'); do
    d=${d%/simple}; d=${d%/}
    if [ -d "$d" ] && ! mountpoint -q "$ROOT$d"; then
        mount_in "$d" --bind "$d" && mount -o remount,bind,ro "$ROOT$d"
        say "pip's local folder $d bind-mounted read-only"
    fi
done
[ "$BASE_ONLY" = 1 ] && { say "root ready (base only)"; exit 0; }

# -- 3. a fresh clone and `make test` --------------------------------------------------------
rm -rf "$ROOT/root/siee-campo" "$ROOT/srv/repo.git"
if [ -d "$REPO" ]; then  # a local repository: its branch through a bare copy inside
    git clone -q --bare --branch "$BRANCH" --single-branch "$REPO" "$ROOT/srv/repo.git" || exit 1
    src=/srv/repo.git
else
    src=$REPO
fi
say "git clone --branch $BRANCH $REPO"
in_root git clone -q --branch "$BRANCH" "$src" /root/siee-campo || exit 1
say "commit $(in_root git -C /root/siee-campo log -1 --format='%h %s')"

say "make test (this takes a while)"
in_root bash -c 'cd /root/siee-campo && make test' 2>&1 | tee /tmp/siee-fresh-make-test.log \
    | grep -v -E '^\.*( +\[ *[0-9]+%\])?$'
test_rc=${PIPESTATUS[0]}
say "make test exit status $test_rc"
tail -n 15 /tmp/siee-fresh-make-test.log | grep -E 'passed|failed|error' | tail -n 3

# -- 4. `make run` under Xvfb until the wizard shows ------------------------------------------
say "installing the check group for the screenshot:" $check_pkgs
# shellcheck disable=SC2086
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    $check_pkgs >/dev/null || { say "could not install $check_pkgs"; exit 1; }
in_root bash -c 'rm -rf /root/siee-campo/run-data; Xvfb :55 -screen 0 1366x768x24 -nolisten tcp \
    >/tmp/xvfb.log 2>&1 & echo $! > /tmp/xvfb.pid'
sleep 2
in_root bash -c 'cd /root/siee-campo && DISPLAY=:55 QT_DEBUG_PLUGINS=1 \
    timeout 600 make run >/tmp/make-run.log 2>&1 & echo $! > /tmp/make-run.pid'
shown=0
for _ in $(seq 1 240); do
    sleep 2
    if in_root env DISPLAY=:55 xwininfo -root -tree 2>/dev/null | grep -q 'SIEE Campo'; then
        shown=1; break
    fi
    in_root bash -c 'kill -0 "$(cat /tmp/make-run.pid)"' 2>/dev/null || break
done
sleep 3  # let the window paint
say "windows on the display:"
in_root env DISPLAY=:55 xwininfo -root -tree 2>/dev/null | grep -E '"SIEE' | head -n 5
in_root bash -c 'DISPLAY=:55 import -window root /tmp/fresh-machine-check.png'
cp "$ROOT/tmp/fresh-machine-check.png" "$OUT" 2>/dev/null && say "screenshot: $OUT"
say "make run printed (Qt's plugin-loading lines of QT_DEBUG_PLUGINS=1 left out):"
grep -v -E '^(qt\.|[[:space:]]|[{}]|$)' "$ROOT/tmp/make-run.log" | tail -n 25
say "Qt plugin problems (none expected):"
grep -i -E 'cannot load|not found|could not' "$ROOT/tmp/make-run.log" | head -n 10
in_root bash -c 'kill "$(cat /tmp/make-run.pid)" "$(cat /tmp/xvfb.pid)"' 2>/dev/null
[ "$test_rc" = 0 ] || exit "$test_rc"
[ "$shown" = 1 ] || { say "the wizard did not show"; exit 3; }
say "done: make test passed and make run showed the window"
