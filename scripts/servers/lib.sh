# Shared by the server scripts in this directory (sourced, not run).
# Progress goes to stderr so that stdout carries only the `export` lines a caller can eval.

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
servers_dir="${GITFLEET_SERVERS_DIR:-$repo_root/.tmp/servers}"

script_started="$EPOCHREALTIME"
# Each line carries the seconds since the script started: start-up time is watched.
log() { awk -v name="$(basename "$0")" -v now="$EPOCHREALTIME" -v t0="$script_started" -v msg="$*" 'BEGIN { printf "[%s %5.2fs] %s\n", name, now - t0, msg }' >&2; }
die() { log "error: $*"; exit 1; }

# Installs Debian packages unless every given command already exists. Services are not
# started: the packages' init scripts are held back by a policy-rc.d that refuses every
# start (Docker images ship one; elsewhere one is put in place for the install only).
install_debian_packages() {
  local commands="$1"; shift
  local missing=0 cmd
  for cmd in $commands; do command -v "$cmd" >/dev/null 2>&1 || missing=1; done
  [ "$missing" -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "installing $* needs root (apt-get); install them yourself or run as root"
  local started=$SECONDS own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=1
  fi
  log "installing $* from Debian"
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@")
  local apt_log="$servers_dir/apt.log"
  mkdir -p "$servers_dir"
  if ! "${apt[@]}" >"$apt_log" 2>&1; then
    log "install failed; refreshing package lists and retrying"
    if ! { apt-get update -q && "${apt[@]}"; } >>"$apt_log" 2>&1; then
      [ "$own_policy" -eq 1 ] && rm -f /usr/sbin/policy-rc.d
      tail -20 "$apt_log" >&2
      die "apt-get install $* failed (full output: $apt_log)"
    fi
  fi
  [ "$own_policy" -eq 1 ] && rm -f /usr/sbin/policy-rc.d
  log "installed $* in $((SECONDS - started)) s"
}

# Waits until `$@` succeeds, up to $timeout seconds (default 30), polling every 0.1 s.
wait_until() {
  local what="$1"; shift
  local deadline=$((SECONDS + ${timeout:-30}))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "timed out waiting for $what"
    sleep 0.1
  done
}

# True while `pid` runs. A zombie does not count: daemons are reparented to PID 1, which in
# a container may reap them late.
process_running() {
  local state
  state="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  [ -n "$state" ] && [ "${state:0:1}" != Z ]
}

# Sends a signal (default TERM) to the process in a pid file and waits for it to exit
# (KILL after 10 s).
stop_pidfile() {
  local pidfile="$1" signal="${2:-TERM}" pid
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  if [ -n "$pid" ] && process_running "$pid"; then
    kill "-$signal" "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    while process_running "$pid"; do
      if [ "$SECONDS" -ge "$deadline" ]; then kill -9 "$pid" 2>/dev/null || true; break; fi
      sleep 0.05
    done
  fi
  rm -f "$pidfile"
}
