// The chart grants the operator exactly the rules the integration tests bind it to.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = join(import.meta.dirname, "..", "..", "..");

function rulesOf(text: string): unknown {
  const start = text.indexOf("\nrules:");
  if (start < 0) throw new Error("no rules: section");
  return (parse(text.slice(start)) as { rules: unknown }).rules;
}

describe("chart RBAC", () => {
  it("when the chart's ClusterRole is read, then its rules equal deploy/rbac/clusterrole.yaml", () => {
    const chart = rulesOf(readFileSync(join(root, "charts/embedops/templates/clusterrole.yaml"), "utf8"));
    const tested = rulesOf(readFileSync(join(root, "deploy/rbac/clusterrole.yaml"), "utf8"));
    expect(Array.isArray(tested) && tested.length > 0).toBe(true);
    expect(chart).toEqual(tested);
  });

  it("when the snapshot runner's ClusterRole is read, then the chart's rules equal deploy/rbac/snapshot-runner-clusterrole.yaml", () => {
    const chart = rulesOf(
      readFileSync(join(root, "charts/embedops/templates/snapshot-runner-clusterrole.yaml"), "utf8"),
    );
    const tested = rulesOf(readFileSync(join(root, "deploy/rbac/snapshot-runner-clusterrole.yaml"), "utf8"));
    expect(Array.isArray(tested) && tested.length > 0).toBe(true);
    expect(chart).toEqual(tested);
  });

  it("when the operator's rules are read, then it may bind only the snapshot runner's ClusterRole and create no Roles", () => {
    const rules = rulesOf(readFileSync(join(root, "deploy/rbac/clusterrole.yaml"), "utf8")) as {
      resources: string[];
      verbs: string[];
      resourceNames?: string[];
    }[];
    const binds = rules.filter((r) => r.verbs.includes("bind") || r.verbs.includes("escalate"));
    expect(binds).toEqual([
      {
        apiGroups: ["rbac.authorization.k8s.io"],
        resources: ["clusterroles"],
        resourceNames: ["embedops-snapshot-runner"],
        verbs: ["bind"],
      },
    ]);
    expect(
      rules.some((r) => r.resources.includes("roles") || r.resources.includes("clusterrolebindings")),
    ).toBe(false);
  });

  it("when the rules are read, then on Secrets the operator may only get and create (no list, watch, update, patch or delete)", () => {
    const rules = rulesOf(readFileSync(join(root, "deploy/rbac/clusterrole.yaml"), "utf8")) as {
      resources: string[];
      verbs: string[];
    }[];
    const onSecrets = rules.filter((r) => r.resources.includes("secrets"));
    expect(onSecrets.flatMap((r) => r.verbs).sort()).toEqual(["create", "get"]);
  });
});
