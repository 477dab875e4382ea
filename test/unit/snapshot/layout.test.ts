import { describe, expect, it } from "vitest";
import {
  shardManifestKey,
  shardPrefix,
  snapshotManifestKey,
  snapshotRoot,
} from "../../../src/snapshot/layout.js";

describe("snapshotRoot", () => {
  const cases: { prefix: string; root?: string; error?: RegExp; index?: string }[] = [
    { prefix: "", root: "docs/nightly-1/" },
    { prefix: "embedops", root: "embedops/docs/nightly-1/" },
    { prefix: "/team/a/", root: "team/a/docs/nightly-1/" },
    { prefix: "a//b", root: "a/b/docs/nightly-1/" },
    { prefix: "../escape", error: /must not contain "\." or "\.\." segments/ },
    { prefix: "", index: "Docs", error: /index name "Docs" is not a Kubernetes object name/ },
    { prefix: "", index: "a/b", error: /index name "a\/b"/ },
  ];
  for (const c of cases) {
    it(`when the prefix is ${JSON.stringify(c.prefix)} and the index ${c.index ?? "docs"}, then ${c.root ?? "it is refused"}`, () => {
      const run = () => snapshotRoot(c.prefix, c.index ?? "docs", "nightly-1");
      if (c.error) expect(run).toThrow(c.error);
      else expect(run()).toBe(c.root);
    });
  }

  it("when a root is known, then the manifests and shard folders sit under it", () => {
    const root = snapshotRoot("p", "docs", "s1");
    expect(snapshotManifestKey(root)).toBe("p/docs/s1/manifest.json");
    expect(shardPrefix(root, 2)).toBe("p/docs/s1/shard-2/");
    expect(shardManifestKey(root, 0)).toBe("p/docs/s1/shard-0/manifest.json");
  });
});
