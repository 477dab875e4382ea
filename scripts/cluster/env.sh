# Paths, ports and addresses of the one-node cluster (sourced by up.sh, down.sh and the e2e).
# Builds are cached under $EMBEDOPS_CACHE; the running cluster's state lives in $CLUSTER_DIR and is
# removed by down.sh.
CACHE_ROOT="${EMBEDOPS_CACHE:-$HOME/.cache/embedops}"
CLUSTER_DIR="${EMBEDOPS_CLUSTER_DIR:-$CACHE_ROOT/cluster}"
KUBE_VERSION="${EMBEDOPS_KUBE_VERSION:-v1.36.3}"
KUBE_BIN="$CACHE_ROOT/kube/$KUBE_VERSION"
COREDNS_VERSION="v1.15.0"
COREDNS_BIN="$CACHE_ROOT/coredns/$COREDNS_VERSION/coredns"
NODE_NAME="embedops-node"
APISERVER_PORT="${EMBEDOPS_CLUSTER_APISERVER_PORT:-36443}"
ETCD_PORT="${EMBEDOPS_CLUSTER_ETCD_PORT:-32379}"
# The Service range (ClusterIPs, kube-proxy DNATs them on this host) and the pod range (one Linux
# bridge on this host; pods are network namespaces on it). Neither leaves the machine: CoreDNS
# answers only cluster.local and forwards nothing.
SERVICE_CIDR="10.96.0.0/24"
KUBERNETES_SERVICE_IP="10.96.0.1"
DNS_SERVICE_IP="10.96.0.10"
POD_CIDR="10.88.0.0/24"
CNI_BRIDGE="embedops0"
CONTAINERD_SOCK="$CLUSTER_DIR/containerd/containerd.sock"
KUBECONFIG_ADMIN="$CLUSTER_DIR/kubeconfig"
PAUSE_IMAGE="localhost/embedops-pause:1"
COREDNS_IMAGE="localhost/embedops-coredns:$COREDNS_VERSION"
# Paths kubelet and the CNI plugins write whatever their flags say; down.sh removes them.
HARDCODED_PATHS=(/var/lib/kubelet /var/lib/cni /var/log/containers /var/log/pods /usr/libexec/kubernetes /run/containerd/s /run/containerd/io.containerd.runtime.v2.task /var/run/netns-embedops)

# The host's address on its default route: the API server listens there so pods reach it (the
# `kubernetes` Service's endpoint) and so does kubelet.
node_ip() {
  local dev
  dev="$(ip -4 route show default | awk '{print $5; exit}')"
  [ -n "$dev" ] || dev=lo
  ip -4 -o addr show dev "$dev" | awk '{split($4, a, "/"); print a[1]; exit}'
}

clog() { printf '[cluster] %s\n' "$*" >&2; }
cdie() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }
