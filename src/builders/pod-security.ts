// The restricted Pod Security Standard, which every data-plane pod meets: the image runs as the
// node user (uid 1000, numeric so runAsNonRoot can verify it) and writes only to its volumes.
import type { V1PodSecurityContext, V1Probe, V1SecurityContext } from "@kubernetes/client-node";

export const RUN_AS_USER = 1000;

export function podSecurityContext(): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: RUN_AS_USER,
    runAsGroup: RUN_AS_USER,
    // Volumes (PVCs, emptyDirs) become writable by the pod's group.
    fsGroup: RUN_AS_USER,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

export function containerSecurityContext(): V1SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
  };
}

export const HTTP_PORT = 8080;
export const HTTP_PORT_NAME = "http";

/** Every role serves /readyz (loaded and accepting) and /healthz (process alive) on its HTTP port. */
export function readinessProbe(): V1Probe {
  return {
    httpGet: { path: "/readyz", port: HTTP_PORT_NAME },
    periodSeconds: 5,
    failureThreshold: 3,
  };
}

/**
 * /healthz answers while a model or index is still loading, so liveness needs no long initial
 * delay; three misses in 30 s mean the event loop is stuck.
 */
export function livenessProbe(): V1Probe {
  return {
    httpGet: { path: "/healthz", port: HTTP_PORT_NAME },
    periodSeconds: 10,
    failureThreshold: 3,
  };
}
