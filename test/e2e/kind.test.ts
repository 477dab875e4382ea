// On a kind cluster made by scripts/e2e-kind.sh (chart installed, image loaded): apply the
// quickstart resources, wait for Ready, ingest through the router and query it.
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const kubeconfig = process.env.E2E_KUBECONFIG;
const NS = "e2e";

function kubectl(args: string[], input?: string): string {
  if (!kubeconfig) throw new Error("E2E_KUBECONFIG is not set: run this suite through npm run e2e:kind");
  return execFileSync("kubectl", ["--kubeconfig", kubeconfig, ...args], {
    cwd: root,
    encoding: "utf8",
    input,
    timeout: 600_000,
  });
}

// The in-image model path replaces the quickstart's local path; everything else is the example as a user applies it.
const quickstart = readFileSync(join(root, "examples", "quickstart.yaml"), "utf8").replace(
  "path: models/all-minilm-l6-v2",
  "path: /models/all-minilm-l6-v2",
);

describe("quickstart on kind", () => {
  let forward: ReturnType<typeof spawn> | undefined;
  const local = 18080;
  /** The router's key, from the Secret the operator generated (spec.auth is on by default). */
  let apiKey = "";

  beforeAll(async () => {
    kubectl(["create", "namespace", NS]);
    kubectl(["-n", NS, "apply", "-f", "-"], quickstart);
    kubectl(["-n", NS, "wait", "--for=condition=Ready", "embeddingmodel/minilm", "--timeout=600s"]);
    kubectl(["-n", NS, "wait", "--for=condition=Ready", "vectorindex/docs", "--timeout=600s"]);
    const router = kubectl([
      "-n",
      NS,
      "get",
      "svc",
      "-l",
      "embedops.dev/index=docs,embedops.dev/role=router",
      "-o",
      "jsonpath={.items[0].metadata.name}",
    ]);
    apiKey = Buffer.from(
      kubectl(["-n", NS, "get", "secret", "docs-auth", "-o", "jsonpath={.data.api-key}"]),
      "base64",
    ).toString("utf8");
    forward = spawn(
      "kubectl",
      ["--kubeconfig", kubeconfig!, "-n", NS, "port-forward", `svc/${router}`, `${local}:8080`],
      { stdio: "ignore" },
    );
    for (let i = 0; i < 60; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${local}/readyz`)).ok) return;
      } catch {
        // port-forward not up yet
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error("router port-forward never became ready");
  });

  afterAll(() => {
    forward?.kill();
  });

  it("when the example documents are ingested and queried, then the matching definition comes first", async () => {
    const out = execFileSync(
      process.execPath,
      [
        "bin/embedops.mjs",
        "ingest",
        "examples/docs.jsonl",
        "--router",
        `http://127.0.0.1:${local}`,
        "--api-key",
        apiKey,
      ],
      { cwd: root, encoding: "utf8" },
    );
    expect(out).toMatch(/^ingested 1979 documents/);
    const res = await fetch(`http://127.0.0.1:${local}/v1/query`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ text: "an illness of children who lack vitamin D and sunlight", k: 3 }),
    });
    const body = (await res.json()) as { results: { id: string }[] };
    expect(body.results[0]?.id).toBe("wn-noun-14201311");
  });

  it("when the index status is read, then it records the model fingerprint and the generation", () => {
    const status = JSON.parse(kubectl(["-n", NS, "get", "vectorindex/docs", "-o", "jsonpath={.status}"])) as {
      fingerprint?: string;
      activeGeneration?: string;
    };
    expect(status.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(status.activeGeneration).toBe(`g-${status.fingerprint?.slice(0, 12)}`);
  });
});
