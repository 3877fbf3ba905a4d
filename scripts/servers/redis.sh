#!/usr/bin/env bash
# Redis for tests and local runs of the Redis KV store, from Debian's redis-server package
# (the system service is not started). Every instance listens on 127.0.0.1 only.
#
#   scripts/servers/redis.sh start             # one instance
#   scripts/servers/redis.sh start --cluster   # a Cluster of 3 masters + 3 replicas
#   scripts/servers/redis.sh stop [--cluster]  # stops it and removes its data directory
#   eval "$(scripts/servers/redis.sh start)"   # stdout carries only the export lines
#   source .tmp/servers/redis.env               # the same, later (redis-cluster.env for --cluster)
#
# Persistence: AOF with `appendfsync always` — every write is fsynced before Redis answers,
# so an acknowledged ref update survives a crash of the process or of the machine. No RDB
# snapshots (the AOF is the durable copy). See packages/storage/src/redis/README.md.
#
# Environment: GITFLEET_SERVERS_DIR (default .tmp/servers), GITFLEET_REDIS_PORT (6390),
# GITFLEET_REDIS_CLUSTER_PORT (first of six ports, 7100).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

single_port="${GITFLEET_REDIS_PORT:-6390}"
cluster_base="${GITFLEET_REDIS_CLUSTER_PORT:-7100}"
cluster_ports=()
for i in 0 1 2 3 4 5; do cluster_ports+=($((cluster_base + i))); done

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
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >&2
  fi
  timeout=30 wait_until "the cluster to be ok on every node" cluster_ok
  log "redis cluster up on ${nodes[*]}"
  echo "export GITFLEET_TEST_REDIS_CLUSTER=$(IFS=,; echo "${nodes[*]}")" | tee "$servers_dir/redis-cluster.env"
}

stop_instance() {
  local dir="$1"
  [ -d "$dir" ] || return 0
  stop_pidfile "$dir/redis.pid"
  rm -rf "$dir"
}

start() {
  install_debian_packages "redis-server redis-cli" redis-server
  local started=$SECONDS
  if [ "$cluster" -eq 1 ]; then start_cluster; else start_single; fi
  log "started in $((SECONDS - started)) s"
}

stop() {
  local port
  if [ "$cluster" -eq 1 ]; then
    for port in "${cluster_ports[@]}"; do stop_instance "$servers_dir/redis/cluster-$port"; done
    rm -f "$servers_dir/redis-cluster.env"
  else
    stop_instance "$servers_dir/redis/single-$single_port"
    rm -f "$servers_dir/redis.env"
  fi
  log "stopped"
}

command="${1:-}"
cluster=0
[ "${2:-}" = --cluster ] && cluster=1
case "$command" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 {start|stop} [--cluster]" >&2; exit 2 ;;
esac
