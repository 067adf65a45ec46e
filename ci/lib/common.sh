# shellcheck shell=bash
# Shared helpers for the ci/ scripts: paths, logging, failing loudly, tools, cleanup on exit.
# Source it from a script that has already done `set -euo pipefail`.

CI_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Downloads and scratch live under target/ (gitignored) and are reused across runs.
CI_WORK="$CI_REPO/target/ci"
CI_NAME=$(basename "${BASH_SOURCE[-1]}" .sh)
CI_STARTED=$SECONDS
mkdir -p "$CI_WORK"

say() { printf '[%s] %s\n' "$CI_NAME" "$*"; }
# A claim that was just checked: these lines are what the script proves.
proved() { printf '[%s] PROVED: %s\n' "$CI_NAME" "$*"; }
die() {
    printf '[%s] FAIL: %s\n' "$CI_NAME" "$*" >&2
    exit 1
}

# Seconds since the script started, for the summary line.
elapsed() { echo "$((SECONDS - CI_STARTED))s"; }

# Cleanup actions run on exit in reverse order of registration, whatever the exit status.
CI_CLEANUP=()
on_exit() { CI_CLEANUP+=("$1"); }
run_cleanup() {
    local status=$? i
    for ((i = ${#CI_CLEANUP[@]} - 1; i >= 0; i--)); do
        eval "${CI_CLEANUP[i]}" || true
    done
    return "$status"
}
trap run_cleanup EXIT

# Installs Debian packages that provide missing commands: `need_commands cmd:package ...`.
# CI runs as root; elsewhere the message says what to install.
need_commands() {
    local pair missing=()
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
    ((${#missing[@]} == 0)) && return 0
    apt_install "${missing[@]}"
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || die "command ${pair%%:*} still missing after installing ${pair#*:}"
    done
}

# Installs Debian packages that are not installed yet (package names, not commands).
need_packages() {
    local pkg missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) && return 0
    apt_install "${missing[@]}"
}

apt_install() {
    [[ $(id -u) == 0 ]] || die "missing: $*; install them with: sudo apt-get install $*"
    say "installing with apt-get: $*"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" </dev/null >/dev/null
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# Fails unless the file contains the fixed string; prints the file on failure.
expect_in_file() {
    local file=$1 text=$2 what=$3
    if ! grep -qF -- "$text" "$file"; then
        sed 's/^/    | /' "$file" >&2
        die "$what: expected \"$text\" in $file"
    fi
}
