#!/usr/bin/env bash
# Chromium for the browser tests (test/browser/), from Debian's chromium package: Playwright's
# own browser download is not possible here, so playwright-core drives this one through its
# executablePath (test/helpers/browser.ts).
#
#   scripts/servers/chromium.sh install   # installs it unless present; prints its path on stdout
#   GITFLEET_CHROMIUM="$(scripts/servers/chromium.sh install)"
#
# Idempotent: an installed chromium is left alone. apt-get runs as root, through `sudo -n` when
# this script is not root. Any failure exits non-zero with the reason on stderr, so a caller
# never runs the browser tests without a browser.
#
# Environment: GITFLEET_CHROMIUM (default /usr/bin/chromium) — the executable to check for;
# a path other than Debian's is only checked, never installed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

debian_path=/usr/bin/chromium
executable="${GITFLEET_CHROMIUM:-$debian_path}"

# A binary that exists but cannot start (a missing shared library after a partial install)
# must fail here, not as a timeout in the first test.
works() { "$executable" --headless --no-sandbox --version >/dev/null 2>&1; }

install() {
  if [ -x "$executable" ]; then
    works || die "$executable is installed but does not start: $("$executable" --headless --no-sandbox --version 2>&1 | tail -3)"
    echo "$executable"
    return 0
  fi
  [ "$executable" = "$debian_path" ] || die "GITFLEET_CHROMIUM=$executable is not an executable file"

  local as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "installing chromium needs root (apt-get) and sudo is missing; install Debian's chromium package yourself"
    as_root=(sudo -n)
  fi
  local started=$SECONDS apt_log="$servers_dir/apt-chromium.log"
  local apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium)
  mkdir -p "$servers_dir"
  log "installing chromium from Debian"
  if ! "${apt[@]}" >"$apt_log" 2>&1; then
    log "install failed; refreshing package lists and retrying"
    if ! { "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q && "${apt[@]}"; } >>"$apt_log" 2>&1; then
      tail -20 "$apt_log" >&2
      die "apt-get install chromium failed (full output: $apt_log)"
    fi
  fi
  [ -x "$executable" ] || die "apt-get installed chromium but $executable is missing"
  works || die "$executable was installed but does not start: $("$executable" --headless --no-sandbox --version 2>&1 | tail -3)"
  log "installed $("$executable" --headless --no-sandbox --version 2>/dev/null) in $((SECONDS - started)) s"
  echo "$executable"
}

case "${1:-}" in
  install) install ;;
  *) echo "usage: $0 install" >&2; exit 2 ;;
esac
