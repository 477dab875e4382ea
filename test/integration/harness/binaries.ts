import { accessSync, constants } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";

/** Keep in step with KUBE_VERSION in scripts/build-kube-apiserver.sh. */
export const DEFAULT_KUBE_VERSION = "v1.36.3";

const BUILD_HINT =
  "run `scripts/build-kube-apiserver.sh` (builds it once into ~/.cache/embedops, ~6 min), " +
  "or set KUBEBUILDER_ASSETS to a directory holding kube-apiserver and etcd";

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    if (dir !== "" && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export function kubeApiserverCachePath(
  version = process.env["EMBEDOPS_KUBE_VERSION"] ?? DEFAULT_KUBE_VERSION,
) {
  const cache = process.env["EMBEDOPS_CACHE"] ?? join(homedir(), ".cache", "embedops");
  return join(cache, "kube", version, "kube-apiserver");
}

/** Same order of preference as scripts/build-kube-apiserver.sh, so both agree on the binary. */
export function findKubeApiserver(): string {
  const candidates = [
    process.env["EMBEDOPS_KUBE_APISERVER"],
    process.env["KUBEBUILDER_ASSETS"] ? join(process.env["KUBEBUILDER_ASSETS"], "kube-apiserver") : undefined,
    kubeApiserverCachePath(),
  ].filter((p): p is string => p !== undefined && p !== "");
  const found = candidates.find(isExecutable);
  if (found === undefined) {
    throw new Error(`kube-apiserver not found (looked at ${candidates.join(", ")}); ${BUILD_HINT}`);
  }
  return found;
}

export function findEtcd(): string {
  const candidates = [
    process.env["EMBEDOPS_ETCD"],
    process.env["KUBEBUILDER_ASSETS"] ? join(process.env["KUBEBUILDER_ASSETS"], "etcd") : undefined,
  ].filter((p): p is string => p !== undefined && p !== "");
  const found = candidates.find(isExecutable) ?? onPath("etcd");
  if (found === undefined) {
    throw new Error(
      `etcd not found on PATH or in KUBEBUILDER_ASSETS; ${BUILD_HINT} (it installs etcd-server)`,
    );
  }
  return found;
}

export function findOpenssl(): string {
  const found = onPath("openssl");
  if (found === undefined) throw new Error(`openssl not found on PATH; ${BUILD_HINT} (it installs openssl)`);
  return found;
}
