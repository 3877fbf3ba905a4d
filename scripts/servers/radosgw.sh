#!/usr/bin/env bash
# A throw-away single-node Ceph cluster with an S3 gateway (radosgw) on 127.0.0.1, for tests
# and local runs of the S3 BlobStore. No Docker: Debian's packages, one monitor, one OSD
# with the in-memory object store (memstore: data is lost when the OSD stops), one radosgw.
#
#   scripts/servers/radosgw.sh start   # installs the packages if needed, starts, prints exports
#   scripts/servers/radosgw.sh stop    # stops every daemon and removes the data directory
#   eval "$(scripts/servers/radosgw.sh start)"   # or later, in another shell:
#   source .tmp/servers/radosgw.env
#
# Environment: GITFLEET_SERVERS_DIR (default .tmp/servers), GITFLEET_RADOSGW_PORT (7480),
# GITFLEET_CEPH_MON_PORT (3300, msgr2 only), GITFLEET_MEMSTORE_BYTES (4 GiB; a ceiling, RAM is
# used only as data is written).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

dir="$servers_dir/radosgw"
rgw_port="${GITFLEET_RADOSGW_PORT:-7480}"
mon_port="${GITFLEET_CEPH_MON_PORT:-3300}"
memstore_bytes="${GITFLEET_MEMSTORE_BYTES:-4294967296}"
# Known credentials: this gateway only ever listens on the loopback interface.
access_key="gitfleet-test-access"
secret_key="gitfleet-test-secret-0123456789"
bucket="gitfleet-test"
region="us-east-1"
endpoint="http://127.0.0.1:$rgw_port"
conf="$dir/ceph.conf"
ceph=(ceph -c "$conf" --connect-timeout 10)

# Also kept in $servers_dir/radosgw.env, so another shell can `source` it.
print_exports() {
  mkdir -p "$servers_dir"
  tee "$servers_dir/radosgw.env" <<OUT
export GITFLEET_TEST_S3_ENDPOINT=$endpoint
export GITFLEET_TEST_S3_BUCKET=$bucket
export GITFLEET_TEST_S3_ACCESS_KEY=$access_key
export GITFLEET_TEST_S3_SECRET_KEY=$secret_key
export GITFLEET_TEST_S3_REGION=$region
OUT
}

# An S3 request signed with SigV4 by curl (no AWS CLI needed). The payload hash header must
# be sent explicitly: radosgw refuses a SigV4 request without x-amz-content-sha256.
s3_curl() {
  local method="$1" path="$2"
  curl -sS -o /dev/null -w '%{http_code}' -X "$method" \
    --aws-sigv4 "aws:amz:$region:s3" --user "$access_key:$secret_key" \
    -H 'x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' \
    "$endpoint$path"
}

daemons_alive() {
  local name
  for name in mon.a osd.0 client.rgw.gitfleet; do
    [ -f "$dir/run/$name.pid" ] && process_running "$(cat "$dir/run/$name.pid")" || return 1
  done
}

bucket_answers() { [ "$(s3_curl HEAD "/$bucket")" = 200 ]; }

write_conf() {
  local fsid="$1"
  cat >"$conf" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
public addr = 127.0.0.1
ms bind msgr1 = false
# No cephx: the cluster is reachable only from this machine. Without the two 'crc secure'
# modes the clients negotiate nothing and radosgw hangs on authentication.
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc secure
ms client mode = crc secure
# One OSD: every pool has one copy, few placement groups, no autoscaling, and CRUSH places
# replicas across OSDs (type 0), not hosts.
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
# Commit monitor changes (pool and user creation) after 0.1 s instead of 1 s.
paxos propose interval = 0.1
osd objectstore = memstore
memstore device bytes = $memstore_bytes
run dir = $dir/run
pid file = $dir/run/\$name.pid
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
mon data = $dir/mon/\$cluster-\$id
osd data = $dir/osd/\$cluster-\$id
mon cluster log file = $dir/log/cluster.log

[client.rgw.gitfleet]
# Without tcp_nodelay every small request waits ~45 ms for delayed ACKs (Nagle).
rgw frontends = beast endpoint=127.0.0.1:$rgw_port tcp_nodelay=1
rgw data = $dir/rgw
CONF
}

start() {
  if daemons_alive && bucket_answers; then
    log "already running at $endpoint"
    print_exports
    return
  fi
  # Anything left over is useless: the OSD kept its objects in memory.
  stop_daemons
  rm -rf "$dir"

  install_debian_packages "ceph-mon ceph-osd radosgw ceph radosgw-admin monmaptool" ceph-mon ceph-osd radosgw ceph-common
  command -v curl >/dev/null || install_debian_packages curl curl

  local started=$SECONDS
  mkdir -p "$dir"/{run,log,mon,osd,rgw}
  local fsid; fsid="$(cat /proc/sys/kernel/random/uuid)"
  write_conf "$fsid"

  log "creating the monitor"
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >&2
  ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" >&2
  ceph-mon -c "$conf" -i a >&2

  log "creating the OSD"
  local osd_uuid osd_id; osd_uuid="$(cat /proc/sys/kernel/random/uuid)"
  # The first monitor command waits for the monitor to form its quorum of one.
  osd_id="$("${ceph[@]}" osd new "$osd_uuid")"
  log "OSD $osd_id registered"
  [ "$osd_id" = 0 ] || die "expected OSD id 0, got $osd_id"
  mkdir -p "$dir/osd/ceph-0"
  ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid" >&2
  ceph-osd -c "$conf" -i 0 >&2

  log "starting radosgw"
  # radosgw creates its pools, and its first writes wait for the OSD to be up.
  radosgw -c "$conf" -n client.rgw.gitfleet >&2
  radosgw-admin -c "$conf" user create --uid gitfleet --display-name gitfleet \
    --access-key "$access_key" --secret "$secret_key" >/dev/null
  log "user created"
  timeout=60 wait_until "radosgw at $endpoint" curl -sf -o /dev/null "$endpoint/"
  log "radosgw answers"
  local status; status="$(s3_curl PUT "/$bucket")"
  [ "$status" = 200 ] || die "creating bucket $bucket answered HTTP $status"
  timeout=30 wait_until "bucket $bucket" bucket_answers
  log "Ceph + radosgw up at $endpoint in $((SECONDS - started)) s (logs: $dir/log)"
  print_exports
}

stop_daemons() {
  [ -d "$dir/run" ] || return 0
  local name
  # KILL: the data is thrown away anyway, and radosgw takes seconds to shut down on TERM.
  for name in client.rgw.gitfleet osd.0 mon.a; do stop_pidfile "$dir/run/$name.pid" KILL; done
}

stop() {
  stop_daemons
  rm -rf "$dir" "$servers_dir/radosgw.env"
  log "stopped; removed $dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 {start|stop}" >&2; exit 2 ;;
esac
