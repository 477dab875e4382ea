// The Helm chart rendered by a real helm (built from the Go module proxy by scripts/install-helm.sh)
// and checked by the real API server with a server-side dry-run, CRDs included.
import { execFile, execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { ensureNamespace } from "./harness/index.js";

const cp = inject("controlPlane");
const root = fileURLToPath(new URL("../..", import.meta.url));
const NS = "embedops-system";

function run(
  cmd: string,
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { cwd: root, timeout: 120_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
      },
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

let helm: string;

beforeAll(async () => {
  const out = execFileSync("bash", ["scripts/install-helm.sh"], {
    cwd: root,
    encoding: "utf8",
    timeout: 900_000,
  });
  helm = out.trim().split("\n").at(-1) ?? "";
  await ensureNamespace(cp, NS);
}, 900_000);

describe("charts/embedops", () => {
  it("when helm lints the chart, then it passes", async () => {
    const r = await run(helm, ["lint", "charts/embedops"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it("when the rendered chart and its CRDs are dry-run server-side, then the API server accepts every object", async () => {
    const rendered = await run(helm, [
      "template",
      "embedops",
      "charts/embedops",
      "--namespace",
      NS,
      "--include-crds",
    ]);
    expect(rendered.code, rendered.stderr).toBe(0);
    const kinds = parseAllDocuments(rendered.stdout)
      .map((d) => d.toJS() as { kind?: string } | null)
      .filter((d): d is { kind: string } => !!d?.kind)
      .map((d) => d.kind)
      .sort();
    expect(kinds).toEqual([
      "ClusterRole",
      "ClusterRole",
      "ClusterRoleBinding",
      "CustomResourceDefinition",
      "CustomResourceDefinition",
      "CustomResourceDefinition",
      "Deployment",
      "ServiceAccount",
    ]);
    const dry = await run(
      "kubectl",
      ["--kubeconfig", cp.adminKubeconfigPath, "apply", "--server-side", "--dry-run=server", "-f", "-"],
      rendered.stdout,
    );
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("deployment.apps/embedops serverside-applied (server dry run)");
  });

  it("when the operator Deployment is rendered, then it runs 2 replicas with leader election and only flags embedops operator knows", async () => {
    const rendered = await run(helm, ["template", "embedops", "charts/embedops", "--namespace", NS]);
    const deployment = parseAllDocuments(rendered.stdout)
      .map(
        (d) =>
          d.toJS() as {
            kind?: string;
            spec?: { replicas: number; template: { spec: { containers: { args: string[] }[] } } };
          },
      )
      .find((d) => d?.kind === "Deployment");
    expect(deployment?.spec?.replicas).toBe(2);
    const args = deployment?.spec?.template.spec.containers[0]?.args ?? [];
    expect(args[0]).toBe("operator");
    expect(args).toContain("--leader-elect=true");
    const help = execFileSync(process.execPath, ["bin/embedops.mjs", "operator", "--help"], {
      cwd: root,
      encoding: "utf8",
    });
    for (const flag of args.slice(1).map((a) => a.split("=")[0] ?? a)) expect(help, flag).toContain(flag);
  });

  it("when values break values.schema.json, then helm refuses to render", async () => {
    const r = await run(helm, ["template", "embedops", "charts/embedops", "--set", "replicaCount=0"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("replicaCount");
  });
});
