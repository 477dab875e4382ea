import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { activeFromRouterConfig } from "../../../src/local/snapshot-scheduler.js";

describe("activeFromRouterConfig", () => {
  const dir = mkdtempSync(join(tmpdir(), "embedops-snapshot-active-"));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("when a shard has a replica being seeded (syncing), then the snapshot's replicas are the serving ones only", async () => {
    mkdirSync(join(dir, "indexes", "docs"), { recursive: true });
    writeFileSync(
      join(dir, "indexes", "docs", "router.json"),
      JSON.stringify({
        index: "docs",
        generations: [
          {
            name: "g-1",
            fingerprint: "f1",
            dimension: 4,
            metric: "cosine",
            encoder: null,
            shards: [
              { name: "shard-0", replicas: ["http://a:1", "http://b:1"], syncing: ["http://b:1"] },
              { name: "shard-1", replicas: ["http://c:1"] },
            ],
          },
        ],
      }),
    );
    expect(await activeFromRouterConfig(dir, "docs")).toEqual({
      generation: "g-1",
      fingerprint: "f1",
      shards: [["http://a:1"], ["http://c:1"]],
    });
  });
});
