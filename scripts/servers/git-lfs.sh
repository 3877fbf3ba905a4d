#!/usr/bin/env bash
# Git LFS's real client for the LFS tests (test/*lfs*), from Debian's git-lfs package.
#
#   scripts/servers/git-lfs.sh install   # installs it unless present; prints its path on stdout
#
# Idempotent: an installed git-lfs is left alone. Any failure exits non-zero with the reason on
# stderr, so a caller never runs the LFS tests without the client.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

install() {
  install_debian_packages git-lfs git-lfs
  local executable
  executable="$(command -v git-lfs)" || die "apt-get installed git-lfs but it is not on PATH"
  "$executable" version >/dev/null 2>&1 || die "$executable is installed but does not run: $("$executable" version 2>&1 | tail -3)"
  echo "$executable"
}

case "${1:-}" in
  install) install ;;
  *) echo "usage: $0 install" >&2; exit 2 ;;
esac
