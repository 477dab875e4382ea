#!/usr/bin/env bash
# npm run cluster:up — a real one-node Kubernetes cluster on this machine, no Docker, no registry:
# etcd and containerd + runc + CNI plugins from Debian; kube-apiserver, kubelet, kube-scheduler,
# kube-controller-manager and kube-proxy built from the Go module proxy (scripts/build-kube.sh);
# CoreDNS built from the Go module proxy and run as a pod (routers reach encoders and shards by
# Service DNS names); a pool of hostPath PersistentVolumes for the shards' claims.
#
# Idempotent: a cluster that is up and healthy is left as it is; a half-started one is torn down
# (scripts/cluster/down.sh) and started again. Builds are cached under $EMBEDOPS_CACHE.
# Needs root (containerd, kubelet, iptables). Prints `export KUBECONFIG=...` on its last line.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/cluster/env.sh

[ "$(id -u)" -eq 0 ] || cdie "the one-node cluster needs root (containerd, kubelet, iptables); re-run as root"

install_packages() {
  local missing=()
  command -v containerd >/dev/null || missing+=(containerd)
  command -v runc >/dev/null || missing+=(runc)
  [ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v conntrack >/dev/null || missing+=(conntrack)
  [ -x /bin/busybox ] || missing+=(busybox-static)
  command -v etcd >/dev/null || missing+=(etcd-server)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v kubectl >/dev/null || missing+=(kubernetes-client)
  if ((${#missing[@]})); then
    clog "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # The package scripts must not start Debian's own containerd/etcd services.
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
}

build_binaries() {
  bash scripts/build-kube.sh kube-apiserver kubelet kube-scheduler kube-controller-manager kube-proxy >/dev/null
  if ! [ -x "$COREDNS_BIN" ] || ! "$COREDNS_BIN" -version >/dev/null 2>&1; then
    clog "building CoreDNS $COREDNS_VERSION from the Go module proxy (a few minutes on 2 cores)"
    local t0=$SECONDS
    GOBIN="$(dirname "$COREDNS_BIN")" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" \
      "github.com/coredns/coredns@$COREDNS_VERSION" >&2 || cdie "building CoreDNS failed (see the go output above)"
    clog "built CoreDNS in $((SECONDS - t0))s"
  fi
}

kc() { kubectl --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

healthy() {
  [ -f "$KUBECONFIG_ADMIN" ] || return 1
  local p
  for p in etcd kube-apiserver containerd kubelet kube-scheduler kube-controller-manager kube-proxy; do
    [ -f "$CLUSTER_DIR/run/$p.pid" ] && kill -0 "$(cat "$CLUSTER_DIR/run/$p.pid")" 2>/dev/null || return 1
  done
  kc get --raw /readyz >/dev/null 2>&1 || return 1
  [ "$(kc get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ] || return 1
  [ "$(kc -n kube-system get deploy coredns -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = 1 ] || return 1
}

# Starts "$@" detached (its own session, so a test runner's exit does not take it down), with its
# pid in run/NAME.pid and its output in logs/NAME.log.
start_daemon() {
  local name="$1"
  shift
  setsid "$@" >"$CLUSTER_DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$CLUSTER_DIR/run/$name.pid"
}

wait_for() {
  local what="$1" tries="$2" log="$3"
  shift 3
  local i
  for ((i = 0; i < tries; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  clog "$what did not come up; last lines of $log:"
  tail -n 30 "$log" >&2 || true
  cdie "$what did not come up in $((tries / 2)) s (full log: $log); scripts/cluster/down.sh cleans up"
}

make_pki() {
  local ip="$1" p="$CLUSTER_DIR/pki"
  mkdir -p "$p"
  (
    cd "$p"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=embedops-cluster-ca" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,IP:%s,IP:%s,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n' "$ip" "$KUBERNETES_SERVICE_IP" >apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 3650 -extfile apiserver.ext 2>/dev/null
    # One client identity in system:masters for the host-side components and the tests; the
    # operator itself runs in a pod under the chart's ServiceAccount and RBAC.
    openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=embedops-admin" 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n' >client.ext
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out admin.crt -days 3650 -extfile client.ext 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    rm -f ./*.csr
  )
  cat >"$KUBECONFIG_ADMIN" <<KC
apiVersion: v1
kind: Config
clusters:
- name: embedops
  cluster:
    server: https://$ip:$APISERVER_PORT
    certificate-authority: $p/ca.crt
users:
- name: admin
  user:
    client-certificate: $p/admin.crt
    client-key: $p/admin.key
contexts:
- name: embedops
  context: {cluster: embedops, user: admin}
current-context: embedops
KC
}

write_configs() {
  local ip="$1"
  mkdir -p "$CLUSTER_DIR/containerd" "$CLUSTER_DIR/cni/net.d" "$CLUSTER_DIR/cni/ipam" "$CLUSTER_DIR/kubelet/root" \
    "$CLUSTER_DIR/kubelet/manifests" "$CLUSTER_DIR/kubelet/pod-logs" "$CLUSTER_DIR/kubelet/volume-plugins"
  # restrict_oom_score_adj: this VM refuses to lower oom_score_adj; without it every sandbox fails
  # with "can't get final child's PID from pipe: EOF".
  cat >"$CLUSTER_DIR/containerd/config.toml" <<TOML
version = 2
root = "$CLUSTER_DIR/containerd/root"
state = "$CLUSTER_DIR/containerd/state"
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  netns_mounts_under_state_dir = true
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$CLUSTER_DIR/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CLUSTER_DIR/cni/net.d"
TOML
  cat >"$CLUSTER_DIR/cni/net.d/10-embedops.conflist" <<CNI
{
  "cniVersion": "0.4.0",
  "name": "embedops",
  "plugins": [
    {"type": "bridge", "bridge": "$CNI_BRIDGE", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$CLUSTER_DIR/cni/ipam", "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "loopback"}
  ]
}
CNI
  # cgroup v1 on this VM: failCgroupV1 false and the cgroupfs driver. Eviction thresholds low so a
  # busy CI disk does not evict the test's pods.
  cat >"$CLUSTER_DIR/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
imageServiceEndpoint: unix://$CONTAINERD_SOCK
address: $ip
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $CLUSTER_DIR/pki/ca.crt}
authorization: {mode: AlwaysAllow}
staticPodPath: $CLUSTER_DIR/kubelet/manifests
resolvConf: /etc/resolv.conf
clusterDomain: cluster.local
clusterDNS: [$DNS_SERVICE_IP]
registerNode: true
rotateCertificates: false
serverTLSBootstrap: false
imageGCHighThresholdPercent: 100
evictionHard:
  memory.available: "100Mi"
  nodefs.available: "1%"
  imagefs.available: "1%"
  nodefs.inodesFree: "1%"
podLogsDir: $CLUSTER_DIR/kubelet/pod-logs
YAML
}

# OCI images for the pause container and CoreDNS, made from local files (no registry).
load_system_images() {
  local dir="$CLUSTER_DIR/images"
  mkdir -p "$dir/pause/bin" "$dir/coredns"
  cp /bin/busybox "$dir/pause/bin/busybox"
  ln -sf busybox "$dir/pause/bin/sh"
  ln -sf busybox "$dir/pause/bin/sleep"
  python3 scripts/image/oci-image.py --name "$PAUSE_IMAGE" --out "$dir/pause.tar" \
    --entrypoint '["/bin/sh","-c","trap \"exit 0\" TERM INT; while :; do sleep 3600 & wait $!; done"]' \
    "$dir/pause" >/dev/null
  cp "$COREDNS_BIN" "$dir/coredns/coredns"
  python3 scripts/image/oci-image.py --name "$COREDNS_IMAGE" --out "$dir/coredns.tar" \
    --entrypoint '["/coredns"]' "$dir/coredns" >/dev/null
  bash scripts/cluster/load-image.sh "$dir/pause.tar" >/dev/null
  bash scripts/cluster/load-image.sh "$dir/coredns.tar" >/dev/null
}

start_cluster() {
  local ip
  ip="$(node_ip)"
  [ -n "$ip" ] || cdie "could not find this host's address on its default route (ip -4 route show default)"
  clog "starting a one-node cluster at https://$ip:$APISERVER_PORT (state in $CLUSTER_DIR)"
  mkdir -p "$CLUSTER_DIR/run" "$CLUSTER_DIR/logs"
  make_pki "$ip"
  write_configs "$ip"

  # Pods reach ClusterIPs through this host's routing table.
  cat /proc/sys/net/ipv4/ip_forward >"$CLUSTER_DIR/run/ip_forward.orig"
  echo 1 >/proc/sys/net/ipv4/ip_forward
  modprobe br_netfilter 2>/dev/null || true
  [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] && echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables

  local extra=()
  etcd --help 2>&1 | grep -q -- '--unsafe-no-fsync' && extra+=(--unsafe-no-fsync)
  start_daemon etcd etcd --name embedops --data-dir "$CLUSTER_DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-cluster "embedops=http://127.0.0.1:$((ETCD_PORT + 1))" --initial-cluster-state new "${extra[@]}"
  wait_for etcd 60 "$CLUSTER_DIR/logs/etcd.log" curl -sf "http://127.0.0.1:$ETCD_PORT/health"

  local p="$CLUSTER_DIR/pki"
  start_daemon kube-apiserver "$KUBE_BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address="$ip" --advertise-address="$ip" --secure-port="$APISERVER_PORT" \
    --tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" \
    --client-ca-file="$p/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$p/sa.pub" --service-account-signing-key-file="$p/sa.key" \
    --api-audiences=https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --authorization-mode=RBAC --allow-privileged=true \
    --kubelet-client-certificate="$p/admin.crt" --kubelet-client-key="$p/admin.key" \
    --kubelet-preferred-address-types=InternalIP \
    --cert-dir="$p"
  wait_for kube-apiserver 240 "$CLUSTER_DIR/logs/kube-apiserver.log" kc get --raw /readyz

  start_daemon containerd containerd --config "$CLUSTER_DIR/containerd/config.toml"
  wait_for containerd 60 "$CLUSTER_DIR/logs/containerd.log" ctr -a "$CONTAINERD_SOCK" version
  load_system_images

  start_daemon kubelet "$KUBE_BIN/kubelet" --config="$CLUSTER_DIR/kubelet/config.yaml" \
    --kubeconfig="$KUBECONFIG_ADMIN" --root-dir="$CLUSTER_DIR/kubelet/root" \
    --cert-dir="$CLUSTER_DIR/kubelet/certs" --hostname-override="$NODE_NAME" --node-ip="$ip" \
    --volume-plugin-dir="$CLUSTER_DIR/kubelet/volume-plugins"
  start_daemon kube-scheduler "$KUBE_BIN/kube-scheduler" --kubeconfig="$KUBECONFIG_ADMIN" \
    --authentication-kubeconfig="$KUBECONFIG_ADMIN" --authorization-kubeconfig="$KUBECONFIG_ADMIN" \
    --leader-elect=false --secure-port=0
  start_daemon kube-controller-manager "$KUBE_BIN/kube-controller-manager" --kubeconfig="$KUBECONFIG_ADMIN" \
    --authentication-kubeconfig="$KUBECONFIG_ADMIN" --authorization-kubeconfig="$KUBECONFIG_ADMIN" \
    --leader-elect=false --secure-port=0 \
    --service-account-private-key-file="$p/sa.key" --root-ca-file="$p/ca.crt" \
    --use-service-account-credentials=false --cluster-cidr="$POD_CIDR" --service-cluster-ip-range="$SERVICE_CIDR"
  start_daemon kube-proxy "$KUBE_BIN/kube-proxy" --kubeconfig="$KUBECONFIG_ADMIN" \
    --hostname-override="$NODE_NAME" --proxy-mode=iptables --cluster-cidr="$POD_CIDR" \
    --conntrack-max-per-core=0 --metrics-bind-address=127.0.0.1:10249 --healthz-bind-address=127.0.0.1:10256

  wait_for "node $NODE_NAME Ready" 240 "$CLUSTER_DIR/logs/kubelet.log" \
    bash -c "[ \"\$(kubectl --kubeconfig '$KUBECONFIG_ADMIN' get node '$NODE_NAME' -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}')\" = True ]"
}

# CoreDNS (the cluster.local zone only) and the volume pool; applied on every run, so a re-run
# repairs a deleted piece and tops the pool up.
apply_addons() {
  sed -e "s|@DNS_SERVICE_IP@|$DNS_SERVICE_IP|g" -e "s|@COREDNS_IMAGE@|$COREDNS_IMAGE|g" \
    scripts/cluster/coredns.yaml | kc apply -f - >/dev/null
  bash scripts/cluster/volumes.sh >/dev/null
  wait_for "CoreDNS" 240 "$CLUSTER_DIR/logs/kubelet.log" \
    bash -c "[ \"\$(kubectl --kubeconfig '$KUBECONFIG_ADMIN' -n kube-system get deploy coredns -o jsonpath='{.status.readyReplicas}')\" = 1 ]"
}

main() {
  local t0=$SECONDS
  install_packages
  build_binaries
  if healthy; then
    clog "already up and healthy"
    apply_addons
  else
    bash scripts/cluster/down.sh
    start_cluster
    apply_addons
    clog "up in $((SECONDS - t0)) s: kubectl --kubeconfig $KUBECONFIG_ADMIN get nodes"
  fi
  echo "export KUBECONFIG=$KUBECONFIG_ADMIN"
}

main "$@"
