#!/usr/bin/env bash
# Install Debian packages a part of vlmr needs outside Python, once: apt_install.sh NAME CHECK PACKAGE...
# Does nothing when the shell test CHECK already passes; apt-get output is shown only if it fails.
# Needs root (or passwordless sudo) and the Debian archive; otherwise it says what to run and exits 0
# (the parts that need the packages say what is missing).
set -euo pipefail
name=$1 check=$2
shift 2

if bash -c "$check"; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "[$name] missing and this user cannot install packages; run 'apt-get install $*' as root" >&2
  exit 0
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "[$name] installing $* with apt-get"
if ! { "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
       "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"; } \
     >"$log" 2>&1; then
  cat "$log" >&2
  echo "[$name] apt-get failed (output above)" >&2
  exit 1
fi
echo "[$name] ready"
