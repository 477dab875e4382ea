#!/usr/bin/env bash
# The one-node cluster's storage: StorageClass `embedops-local` (the default class) and a pool of
# hostPath PersistentVolumes that the controller-manager binds to claims. A claim's deletion deletes
# its volume and directory (reclaim Delete; the hostPath deleter only removes paths under /tmp, so
# the pool lives there). Every run tops the pool up to $POOL free volumes. Directories are mode
# 0777: the pods run as uid 1000 and hostPath volumes get no fsGroup ownership.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/cluster/env.sh
POOL="${EMBEDOPS_CLUSTER_VOLUMES:-12}"
ROOT=/tmp/embedops-cluster-volumes
kc() { kubectl --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

kc apply -f - >/dev/null <<YAML
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: embedops-local
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/no-provisioner
reclaimPolicy: Delete
volumeBindingMode: WaitForFirstConsumer
YAML

available=$(kc get pv -o jsonpath='{range .items[*]}{.spec.storageClassName}/{.status.phase}{"\n"}{end}' | grep -c '^embedops-local/Available$' || true)
made=0
while ((available + made < POOL)); do
  name="embedops-pv-$(date +%s%N | tail -c 10)$made"
  mkdir -p "$ROOT/$name"
  chmod 0777 "$ROOT/$name"
  kc apply -f - >/dev/null <<YAML
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $name
  labels: {embedops.dev/cluster-volume: "true"}
spec:
  storageClassName: embedops-local
  capacity: {storage: 10Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Delete
  hostPath: {path: $ROOT/$name, type: Directory}
YAML
  made=$((made + 1))
done
echo "volumes: $available available, $made made"
