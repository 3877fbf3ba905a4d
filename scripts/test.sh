#!/usr/bin/env bash
# The whole test suite: unit tests of every package, then the end-to-end suite in test/,
# with node's test runner (TypeScript through tsx).
#
# Tests of the S3 and Redis backends need real servers. When their GITFLEET_TEST_* variables
# are not set, this script starts them with scripts/servers/*.sh (installing Debian's
# packages on first use) and stops them afterwards; .ci/run starts them itself instead.
#
# Usage: scripts/test.sh [path-filter]
set -euo pipefail
cd "$(dirname "$0")/.."
filter="${1:-}"
mapfile -t files < <(find packages server test -path '*/node_modules' -prune -o -name '*.test.ts' -print | grep -- "$filter" | sort)
if [ "${#files[@]}" -eq 0 ]; then
  echo "no test files match '$filter'" >&2
  exit 1
fi

started=() # "script:flag" of every server this run started
stop_started() {
  local entry
  for entry in "${started[@]}"; do scripts/servers/"${entry%%:*}" stop ${entry#*:} >/dev/null 2>&1 || true; done
}
trap stop_started EXIT

# Starts a server unless its variable is already set; `start` prints only export lines.
ensure_server() {
  local variable="$1" script="$2" flag="${3:-}" exports
  [ -n "${!variable:-}" ] && return 0
  exports=$(scripts/servers/"$script" start $flag) # a failed start stops the run (set -e)
  started+=("$script:$flag")
  eval "$exports"
}
# The end-to-end suite (test/*.test.ts, except files named *distributed*, which choose their
# own backends) runs once per backend of GITFLEET_E2E_BACKENDS (default "embedded
# distributed"; GITFLEET_SKIP_REMOTE_STORES=1 drops distributed); the browser tests
# (test/browser/, real Chromium) run once, on the embedded backend; every other file runs once,
# those in other folders under test/ (the fuzz targets' brief run) among them.
read -ra e2e_backends <<<"${GITFLEET_E2E_BACKENDS:-embedded distributed}"
if [ "${GITFLEET_SKIP_REMOTE_STORES:-}" = 1 ]; then
  mapfile -t e2e_backends < <(printf '%s\n' "${e2e_backends[@]}" | grep -vx distributed || true)
fi
e2e=()
once=()
browser=()
for file in "${files[@]}"; do
  if [[ "$file" == test/browser/* ]]; then browser+=("$file")
  elif [[ "$file" == test/*.test.ts && "$file" != test/*/* && "$file" != *distributed* ]]; then e2e+=("$file")
  else once+=("$file"); fi
done

# Chromium (Debian's package) is installed up front, like the servers: when it cannot be,
# the run stops here with the reason rather than skipping the browser tests.
if [ "${#browser[@]}" -gt 0 ]; then
  if ! GITFLEET_CHROMIUM="$(scripts/servers/chromium.sh install)"; then
    echo "scripts/test.sh: Chromium is missing and could not be installed (see above); the browser tests need it" >&2
    exit 1
  fi
  export GITFLEET_CHROMIUM
fi

# Git LFS's client (Debian's package) likewise, for every test file whose name says lfs.
if printf '%s\n' "${files[@]}" | grep -q lfs; then
  if ! scripts/servers/git-lfs.sh install >/dev/null; then
    echo "scripts/test.sh: git-lfs is missing and could not be installed (see above); the LFS tests need it" >&2
    exit 1
  fi
fi

needs_remote=false
if [ "${#once[@]}" -gt 0 ] && printf '%s\n' "${once[@]}" | grep -qE 's3|redis|distributed'; then needs_remote=true; fi
if [ "${#e2e[@]}" -gt 0 ] && [[ " ${e2e_backends[*]} " == *" distributed "* ]]; then needs_remote=true; fi
if [ "${GITFLEET_SKIP_REMOTE_STORES:-}" != 1 ] && $needs_remote; then
  ensure_server GITFLEET_TEST_S3_ENDPOINT radosgw.sh
  ensure_server GITFLEET_TEST_REDIS_URL redis.sh
  ensure_server GITFLEET_TEST_REDIS_CLUSTER redis.sh --cluster
  ensure_server GITFLEET_TEST_REDIS_SENTINEL redis.sh --sentinel
fi

# Servers and commands under test run the compiled product, as `pnpm start` does; built here
# when a source changed, so that no test spends its time budget on the build.
node scripts/build.mjs --if-stale

# The run is two lanes: the files that run once and the browser tests, and the end-to-end suite
# on each backend. Either keeps about one core busy (git's processes, the servers under test),
# so on a machine of two cores or more the lanes run side by side, each line of their output
# prefixed with its lane; GITFLEET_TEST_LANES=1 runs them one after the other instead.
run_once_and_browser() {
  local status=0
  if [ "${#once[@]}" -gt 0 ]; then
    node --import tsx --test --test-concurrency=1 "${once[@]}" || status=$?
  fi
  if [ "${#browser[@]}" -gt 0 ]; then
    echo "# browser tests in $GITFLEET_CHROMIUM, on the embedded backend"
    GITFLEET_E2E_BACKEND=embedded node --import tsx --test --test-concurrency=1 "${browser[@]}" || status=$?
  fi
  return "$status"
}
run_e2e() {
  local status=0 backend
  [ "${#e2e[@]}" -gt 0 ] || return 0
  for backend in "${e2e_backends[@]}"; do
    echo "# end-to-end suite on the $backend backend"
    GITFLEET_E2E_BACKEND="$backend" node --import tsx --test --test-concurrency=1 "${e2e[@]}" || status=$?
  done
  return "$status"
}

cores=$(nproc 2>/dev/null || echo 1)
lanes="${GITFLEET_TEST_LANES:-$((cores >= 2 ? 2 : 1))}"
case "$lanes" in 1 | 2) ;; *) echo "scripts/test.sh: GITFLEET_TEST_LANES must be 1 or 2, not '$lanes'" >&2; exit 2 ;; esac
status=0
if [ "$lanes" = 1 ]; then
  run_once_and_browser || status=$?
  run_e2e || status=$?
else
  # With pipefail, each pipeline's status is its lane's (sed's is 0).
  run_once_and_browser 2>&1 | sed -u 's/^/[once] /' &
  once_lane=$!
  run_e2e 2>&1 | sed -u 's/^/[e2e] /' &
  e2e_lane=$!
  wait "$once_lane" || status=$?
  wait "$e2e_lane" || status=$?
fi
exit "$status"
