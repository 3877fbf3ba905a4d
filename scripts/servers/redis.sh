#!/usr/bin/env bash
# Redis for tests and local runs of the Redis KV store, from Debian's redis-server package
# (the system service is not started). Every instance listens on 127.0.0.1 only.
#
#   scripts/servers/redis.sh start             # one instance
#   scripts/servers/redis.sh start --cluster   # a Cluster of 3 masters + 3 replicas
#   scripts/servers/redis.sh start --sentinel  # a master, its replica and one Sentinel
#   scripts/servers/redis.sh stop [--cluster|--sentinel]  # stops it, removes its data directory
#   eval "$(scripts/servers/redis.sh start)"   # stdout carries only the export lines
#   source .tmp/servers/redis.env               # the same, later (redis-cluster.env for --cluster)
#
# Persistence: AOF with `appendfsync always` — every write is fsynced before Redis answers,
# so an acknowledged ref update survives a crash of the process or of the machine. No RDB
# snapshots (the AOF is the durable copy). See packages/storage/src/redis/README.md.
#
# Environment: GITFLEET_SERVERS_DIR (default .tmp/servers), GITFLEET_REDIS_PORT (6390),
# GITFLEET_REDIS_CLUSTER_PORT (first of six ports, 7100), GITFLEET_REDIS_SENTINEL_PORT (the
# Sentinel's port, 26400; master and replica on 6400 and 6401).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

single_port="${GITFLEET_REDIS_PORT:-6390}"
cluster_base="${GITFLEET_REDIS_CLUSTER_PORT:-7100}"
cluster_ports=()
for i in 0 1 2 3 4 5; do cluster_ports+=($((cluster_base + i))); done

sentinel_port="${GITFLEET_REDIS_SENTINEL_PORT:-26400}"
sentinel_master_port=6400
sentinel_replica_port=6401
sentinel_master_name=gitfleet

ping() { [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]; }

# Starts one redis-server in $dir on $port unless one already answers there.
start_instance() {
  local dir="$1" port="$2"; shift 2
  if ping "$port"; then return 0; fi
  mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    --appendonly yes --appendfsync always --save '' "$@"
  timeout=10 wait_until "redis on port $port" ping "$port"
}

start_single() {
  local dir="$servers_dir/redis/single-$single_port"
  start_instance "$dir" "$single_port"
  log "redis up on 127.0.0.1:$single_port (data in $dir)"
  echo "export GITFLEET_TEST_REDIS_URL=redis://127.0.0.1:$single_port" | tee "$servers_dir/redis.env"
}

cluster_ok() {
  local port
  for port in "${cluster_ports[@]}"; do
    redis-cli -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
  done
  # Three masters, each with its replica attached and in sync.
  [ "$(redis-cli -p "${cluster_ports[0]}" cluster nodes | grep -c 'slave.* connected')" -eq 3 ]
}

start_cluster() {
  local port nodes=()
  for port in "${cluster_ports[@]}"; do
    # A short node timeout so that a failed master is replaced within seconds.
    start_instance "$servers_dir/redis/cluster-$port" "$port" \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000
    nodes+=("127.0.0.1:$port")
  done
  if ! redis-cli -p "${cluster_ports[0]}" cluster info | grep -q '^cluster_known_nodes:6'; then
    local create_log="$servers_dir/redis/cluster-create.log"
    if ! redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$create_log" 2>&1; then
      cat "$create_log" >&2
      die "redis-cli --cluster create failed"
    fi
  fi
  timeout=30 wait_until "the cluster to be ok on every node" cluster_ok
  log "redis cluster up on ${nodes[*]}"
  echo "export GITFLEET_TEST_REDIS_CLUSTER=$(IFS=,; echo "${nodes[*]}")" | tee "$servers_dir/redis-cluster.env"
}

sentinel_ok() {
  redis-cli -p "$sentinel_port" sentinel replicas "$sentinel_master_name" 2>/dev/null | grep -q "^$sentinel_replica_port\$" &&
    [ "$(redis-cli -p "$sentinel_replica_port" info replication | tr -d '\r' | grep '^master_link_status:')" = master_link_status:up ]
}

start_sentinel() {
  local base="$servers_dir/redis/sentinel"
  start_instance "$base/master" "$sentinel_master_port"
  start_instance "$base/replica" "$sentinel_replica_port" --replicaof 127.0.0.1 "$sentinel_master_port"
  if ! ping "$sentinel_port"; then
    mkdir -p "$base/sentinel"
    # Sentinel rewrites its configuration file, so it gets its own.
    cat >"$base/sentinel/sentinel.conf" <<CONF
bind 127.0.0.1
port $sentinel_port
dir $base/sentinel
sentinel monitor $sentinel_master_name 127.0.0.1 $sentinel_master_port 1
sentinel down-after-milliseconds $sentinel_master_name 2000
sentinel failover-timeout $sentinel_master_name 10000
CONF
    redis-server "$base/sentinel/sentinel.conf" --sentinel --daemonize yes \
      --pidfile "$base/sentinel/redis.pid" --logfile "$base/sentinel/redis.log"
  fi
  timeout=30 wait_until "the Sentinel to see the master and its replica" sentinel_ok
  log "redis master 127.0.0.1:$sentinel_master_port, replica :$sentinel_replica_port, Sentinel :$sentinel_port"
  echo "export GITFLEET_TEST_REDIS_SENTINEL=127.0.0.1:$sentinel_port/$sentinel_master_name" | tee "$servers_dir/redis-sentinel.env"
}

stop_instance() {
  local dir="$1"
  [ -d "$dir" ] || return 0
  # KILL: the data directory is removed next, so a graceful shutdown (which on a master
  # waits up to 10 s for its replicas) would only cost time.
  stop_pidfile "$dir/redis.pid" KILL
  rm -rf "$dir"
}

start() {
  install_debian_packages "redis-server redis-cli" redis-server
  local started=$SECONDS
  case "$mode" in
    cluster) start_cluster ;;
    sentinel) start_sentinel ;;
    *) start_single ;;
  esac
  log "started in $((SECONDS - started)) s"
}

stop() {
  local port part
  case "$mode" in
    cluster)
      for port in "${cluster_ports[@]}"; do stop_instance "$servers_dir/redis/cluster-$port"; done
      rm -f "$servers_dir/redis-cluster.env"
      ;;
    sentinel)
      for part in sentinel replica master; do stop_instance "$servers_dir/redis/sentinel/$part"; done
      rm -rf "$servers_dir/redis/sentinel" "$servers_dir/redis-sentinel.env"
      ;;
    *)
      stop_instance "$servers_dir/redis/single-$single_port"
      rm -f "$servers_dir/redis.env"
      ;;
  esac
  log "stopped"
}

command="${1:-}"
case "${2:-}" in
  --cluster) mode=cluster ;;
  --sentinel) mode=sentinel ;;
  '') mode=single ;;
  *) command=usage ;;
esac
case "$command" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 {start|stop} [--cluster|--sentinel]" >&2; exit 2 ;;
esac
