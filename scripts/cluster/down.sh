#!/usr/bin/env bash
# npm run cluster:down — stops the one-node cluster of scripts/cluster/up.sh and removes what it
# left on the host: pods (through kubelet, so the CNI plugins remove their addresses and rules),
# processes, container shims, mounts, the CNI bridge, iptables chains, state and the paths kubelet
# and the CNI plugins write whatever their flags say. Safe to run when nothing is up. Exits non-zero
# and names the leftover when something could not be removed.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/cluster/env.sh
[ "$(id -u)" -eq 0 ] || cdie "needs root, as cluster:up did"

pid_of() { [ -f "$CLUSTER_DIR/run/$1.pid" ] && cat "$CLUSTER_DIR/run/$1.pid"; }
alive() { local p; p="$(pid_of "$1")" && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

stop() {
  local name="$1" p i
  p="$(pid_of "$name")" || return 0
  if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
    kill -TERM "$p" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  fi
  rm -f "$CLUSTER_DIR/run/$name.pid"
}

kc() { timeout 20 kubectl --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# With the controllers stopped nothing recreates pods; kubelet then stops each sandbox through the
# CRI, which runs CNI DEL for it.
drain_pods() {
  alive kube-apiserver && alive kubelet || return 0
  clog "deleting pods through the API server"
  kc delete pods --all --all-namespaces --grace-period=0 --force --wait=false >/dev/null 2>&1 || true
  local i n
  for ((i = 0; i < 120; i++)); do
    n=$(ctr -a "$CONTAINERD_SOCK" -n k8s.io tasks ls -q 2>/dev/null | wc -l || echo 0)
    [ "$n" -eq 0 ] && return 0
    sleep 0.5
  done
  clog "warning: $n containers still running after 60 s; they are killed below"
}

kill_leftover_processes() {
  # Shims of this cluster's containerd, and whatever they still run.
  local pids
  pids=$(pgrep -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" || true)
  if [ -n "$pids" ]; then
    local shim child
    for shim in $pids; do
      for child in $(pgrep -P "$shim" || true); do kill -KILL "$child" 2>/dev/null || true; done
    done
    # runc keeps the containers' init processes as children of the shim; kill the shims last.
    kill -KILL $pids 2>/dev/null || true
  fi
}

unmount_all() {
  local m
  # Deepest first; an overlay or a tmpfs of a pod volume may sit under another mount.
  for m in $(awk -v d="$CLUSTER_DIR" '$2 ~ "^"d {print $2}' /proc/mounts | sort -r) \
    $(awk '$2 ~ "^/var/lib/kubelet|^/run/containerd" {print $2}' /proc/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
}

clean_network() {
  if ip link show "$CNI_BRIDGE" >/dev/null 2>&1; then ip link delete "$CNI_BRIDGE" || true; fi
  local kp="$KUBE_BIN/kube-proxy"
  [ -x "$kp" ] && "$kp" --cleanup >/dev/null 2>&1 || true
  # Chains kubelet (KUBE-FIREWALL, KUBE-KUBELET-CANARY, KUBE-IPTABLES-HINT...) and the bridge
  # plugin's masquerade (CNI-*) leave behind: flush the rules that jump to them, then the chains.
  local cmd table chain
  for cmd in iptables ip6tables; do
    command -v "$cmd" >/dev/null || continue
    for table in filter nat mangle; do
      "$cmd"-save -t "$table" 2>/dev/null | { grep -E '^-A .*-j (KUBE|CNI)-' || true; } | sed 's/^-A/-D/' | while read -r rule; do
        eval "$cmd -t $table $rule" 2>/dev/null || true
      done
      for chain in $("$cmd"-save -t "$table" 2>/dev/null | awk '/^:(KUBE|CNI)-/ {print substr($1, 2)}'); do
        "$cmd" -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in $("$cmd"-save -t "$table" 2>/dev/null | awk '/^:(KUBE|CNI)-/ {print substr($1, 2)}'); do
        "$cmd" -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  done
  if [ -f "$CLUSTER_DIR/run/ip_forward.orig" ]; then
    cat "$CLUSTER_DIR/run/ip_forward.orig" >/proc/sys/net/ipv4/ip_forward || true
  fi
}

# What must not remain; printed and counted so a test can assert a clean host.
leftovers() {
  local found=0 procs
  # Every process of the cluster names $CLUSTER_DIR on its command line (configs, kubeconfig, data
  # dirs, the containerd socket of the shims).
  procs=$(pgrep -af -- "$CLUSTER_DIR" | grep -v -E "^($$|$BASHPID) " | grep -v 'scripts/cluster/' || true)
  if [ -n "$procs" ]; then echo "processes: $procs"; found=1; fi
  if grep -qE " ($CLUSTER_DIR|/var/lib/kubelet)" /proc/mounts; then
    echo "mounts: $(grep -E " ($CLUSTER_DIR|/var/lib/kubelet)" /proc/mounts | awk '{print $2}' | tr '\n' ' ')"
    found=1
  fi
  if ip link show "$CNI_BRIDGE" >/dev/null 2>&1; then echo "bridge: $CNI_BRIDGE"; found=1; fi
  if ip -o link show type veth 2>/dev/null | grep -q "master $CNI_BRIDGE"; then echo "veth on $CNI_BRIDGE"; found=1; fi
  local chains
  chains=$(iptables-save 2>/dev/null | grep -E '^:(KUBE|CNI)-' | cut -d' ' -f1 | tr '\n' ' ' || true)
  if [ -n "$chains" ]; then echo "iptables chains: $chains"; found=1; fi
  return $found
}

main() {
  stop kube-controller-manager
  stop kube-scheduler
  drain_pods
  stop kube-proxy
  stop kubelet
  stop containerd
  kill_leftover_processes
  stop kube-apiserver
  stop etcd
  unmount_all
  clean_network
  local state_ok=1
  rm -rf "$CLUSTER_DIR" 2>/dev/null || state_ok=0
  local path
  for path in "${HARDCODED_PATHS[@]}"; do rm -rf "$path" 2>/dev/null || true; done
  rm -rf /tmp/embedops-cluster-volumes
  local left
  if ! left="$(leftovers)"; then
    printf '%s\n' "$left" >&2
    cdie "cluster:down left the above behind"
  fi
  [ "$state_ok" = 1 ] || cdie "could not remove $CLUSTER_DIR (a mount still busy?); see /proc/mounts"
  clog "down: no process, mount, bridge or iptables chain left"
}

main "$@"
