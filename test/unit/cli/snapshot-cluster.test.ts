// Where `snapshot create|run --kube` finds each shard's replicas.
import { describe, expect, it } from "vitest";
import { UsageError } from "../../../src/cli/options.js";
import { shardUrls } from "../../../src/cli/snapshot-cluster.js";

describe("shardUrls", () => {
  it("when no --shard-url is given, then each shard's replicas are its StatefulSet pods behind the headless Service", () => {
    expect(shardUrls(undefined, "docs", "g-0123456789ab", 2, 2, "ns")).toEqual([
      [
        "http://docs-g-0123456789ab-shard-0-0.docs-g-0123456789ab-shard-0.ns.svc:8080",
        "http://docs-g-0123456789ab-shard-0-1.docs-g-0123456789ab-shard-0.ns.svc:8080",
      ],
      [
        "http://docs-g-0123456789ab-shard-1-0.docs-g-0123456789ab-shard-1.ns.svc:8080",
        "http://docs-g-0123456789ab-shard-1-1.docs-g-0123456789ab-shard-1.ns.svc:8080",
      ],
    ]);
  });

  it("when --shard-url is given once per shard, then each value's comma-separated URLs are that shard's replicas", () => {
    expect(shardUrls(["http://a:1,http://b:2", "http://c:3"], "docs", "g-1", 2, 2, "ns")).toEqual([
      ["http://a:1", "http://b:2"],
      ["http://c:3"],
    ]);
  });

  it("when --shard-url is given a different number of times than the index has shards, then it is a usage error naming both", () => {
    expect(() => shardUrls(["http://a:1"], "docs", "g-1", 2, 1, "ns")).toThrow(UsageError);
    expect(() => shardUrls(["http://a:1"], "docs", "g-1", 2, 1, "ns")).toThrow(
      /1 times; VectorIndex docs has 2 shards/,
    );
  });
});
