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

  it("when the rules are read, then on Secrets the operator may only get and create (no list, watch, update, patch or delete)", () => {
    const rules = rulesOf(readFileSync(join(root, "deploy/rbac/clusterrole.yaml"), "utf8")) as {
      resources: string[];
      verbs: string[];
    }[];
    const onSecrets = rules.filter((r) => r.resources.includes("secrets"));
    expect(onSecrets.flatMap((r) => r.verbs).sort()).toEqual(["create", "get"]);
  });
});
