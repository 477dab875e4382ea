import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RouterConfig } from "../../../src/router/config.js";
import { watchConfig } from "../../../src/router/config-watch.js";

const base = {
  index: "docs",
  generation: "g1",
  fingerprint: "ab".repeat(32),
  dimension: 4,
  metric: "cosine",
  encoder: null,
  shards: [{ name: "s0", replicas: ["http://127.0.0.1:1"] }],
};

describe("watchConfig", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function setup() {
    const dir = mkdtempSync(join(tmpdir(), "router-cfg-"));
    dirs.push(dir);
    const path = join(dir, "router.json");
    const text = JSON.stringify(base);
    writeFileSync(path, text);
    const changes: RouterConfig[] = [];
    const errors: string[] = [];
    const w = watchConfig(
      path,
      text,
      60_000,
      async (c) => void changes.push(c),
      (e) => void errors.push(e.message),
    );
    return { path, w, changes, errors };
  }

  it("when the file is unchanged, then nothing is reported", async () => {
    const { w, changes, errors } = setup();
    await w.poll();
    w.stop();
    expect(changes).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("when the file changes to a valid config, then the new config is delivered once", async () => {
    const { path, w, changes } = setup();
    writeFileSync(path, JSON.stringify({ ...base, writeQuorum: 1 }));
    await w.poll();
    await w.poll();
    w.stop();
    expect(changes.map((c) => c.writeQuorum)).toEqual([1]);
  });

  it("when the file changes to an invalid config, then the error names the field and keeps the current config", async () => {
    const { path, w, changes, errors } = setup();
    writeFileSync(path, JSON.stringify({ ...base, metric: "manhattan" }));
    await w.poll();
    writeFileSync(path, "{not json");
    await w.poll();
    w.stop();
    expect(changes).toEqual([]);
    expect(errors[0]).toMatch(/metric.*keeping the current config/);
    expect(errors[1]).toMatch(/not valid JSON.*keeping the current config/);
  });
});
