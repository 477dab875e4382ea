import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { type ControlPlaneCoordinates, startControlPlane } from "./harness/index.js";

declare module "vitest" {
  export interface ProvidedContext {
    controlPlane: ControlPlaneCoordinates;
  }
}

/**
 * One control plane for the whole integration run: a start costs seconds, and tests isolate
 * themselves by namespace. Tests read it with `inject("controlPlane")`; child processes (an
 * operator under test, kubectl) get EMBEDOPS_TEST_CONTROL_PLANE, a JSON file of the same data.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const cp = await startControlPlane().catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(
      `integration tests need a real kube-apiserver and etcd, and the start failed:\n${message}`,
    );
  });
  const { stop, ...coordinates } = cp;
  const file = join(cp.dir, "control-plane.json");
  await writeFile(file, JSON.stringify(coordinates, null, 2));
  process.env["EMBEDOPS_TEST_CONTROL_PLANE"] = file;
  process.env["EMBEDOPS_TEST_KUBECONFIG"] = cp.adminKubeconfigPath;
  project.provide("controlPlane", coordinates);
  console.log(
    `[integration] ${cp.version} at ${cp.url} ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${cp.dir})`,
  );
  return async () => {
    await stop();
  };
}
