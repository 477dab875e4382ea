// Global setup of `npm run e2e`: a real one-node cluster (scripts/cluster/up.sh), the project's
// image built without a registry and loaded into its containerd, the CRDs, and the Helm chart
// installing the operator as pods under the chart's RBAC. Teardown stops the cluster
// (scripts/cluster/down.sh) unless EMBEDOPS_KEEP_CLUSTER=1, which keeps it for a look with kubectl.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

const root = join(import.meta.dirname, "..", "..");

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  process.stderr.write(`[e2e] ${cmd} ${args.join(" ")}\n`);
  return execFileSync(cmd, args, {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, ...env },
    // stdout is the script's answer; its progress goes to our stderr.
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 64 * 1024 * 1024,
  });
}

const lastLine = (out: string) => out.trim().split("\n").at(-1) ?? "";

declare module "vitest" {
  export interface ProvidedContext {
    kubeconfig: string;
  }
}

export default function setup(project: TestProject): () => void {
  const keep = process.env.EMBEDOPS_KEEP_CLUSTER === "1";
  const teardown = () => {
    if (keep) {
      process.stderr.write(
        "[e2e] EMBEDOPS_KEEP_CLUSTER=1: the cluster stays up (npm run cluster:down stops it)\n",
      );
      return;
    }
    run("bash", ["scripts/cluster/down.sh"]);
  };
  try {
    const exported = lastLine(run("bash", ["scripts/cluster/up.sh"]));
    const kubeconfig = exported.replace(/^export KUBECONFIG=/, "");
    if (kubeconfig === exported)
      throw new Error(`scripts/cluster/up.sh did not end with export KUBECONFIG=...: "${exported}"`);
    const env = { KUBECONFIG: kubeconfig };

    const image = lastLine(run("bash", ["scripts/image/build-image.sh", "--load"]));
    const match = /^(.+):([^:/]+)$/.exec(image);
    if (!match) throw new Error(`scripts/image/build-image.sh did not end with an image name: "${image}"`);
    const [, repository, tag] = match;

    // helm installs crds/ only on first install; apply them so a kept cluster gets schema changes.
    run("kubectl", ["apply", "--server-side", "--force-conflicts", "-f", "crds/"], env);
    const helm = lastLine(run("bash", ["scripts/install-helm.sh"]));
    run(
      helm,
      [
        "upgrade",
        "--install",
        "embedops",
        "charts/embedops",
        "--namespace",
        "embedops-system",
        "--create-namespace",
        "--set",
        `image.repository=${repository}`,
        "--set",
        `image.tag=${tag}`,
        "--set",
        "image.pullPolicy=Never",
        "--wait",
        "--timeout",
        "10m",
      ],
      env,
    );
    project.provide("kubeconfig", kubeconfig);
  } catch (err) {
    teardown();
    throw err;
  }
  return teardown;
}
