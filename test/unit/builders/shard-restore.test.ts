import { describe, expect, it } from "vitest";
import { shardStatefulSet, withShardRestore } from "../../../src/builders/shard-statefulset.js";
import { ctx, FINGERPRINT, index } from "./fixtures.js";

const vi = index({ replicas: 2 });
const set = (shard: string) =>
  shardStatefulSet(ctx("VectorIndex", "docs"), {
    index: "docs",
    spec: vi.spec,
    model: "minilm",
    fingerprint: FINGERPRINT,
    dimension: 384,
    shard,
  });
const restore = {
  snapshot: "nightly",
  fromIndex: "old-docs",
  fingerprint: FINGERPRINT,
  store: {
    s3: {
      endpoint: "https://s3.example",
      bucket: "snaps",
      prefix: "/team/",
      region: "eu-west-1",
      secretRef: { name: "s3-creds" },
    },
  },
};

describe("withShardRestore", () => {
  it("when the store is S3, then shard 1's init container restores shard 1 of 2 with secret refs only", () => {
    const pod = withShardRestore(set("shard-1"), restore, 2).spec?.template.spec;
    const init = pod?.initContainers?.[0];
    expect(init?.args).toEqual([
      ...["snapshot", "restore-shard", "--snapshot", "nightly", "--from-index", "old-docs"],
      ...["--shard", "1", "--shards", "2", "--fingerprint", FINGERPRINT, "--data-dir", "/data"],
      ...["--store", "s3://snaps/team", "--endpoint", "https://s3.example"],
    ]);
    expect(init?.env).toEqual([
      {
        name: "AWS_ACCESS_KEY_ID",
        valueFrom: { secretKeyRef: { name: "s3-creds", key: "AWS_ACCESS_KEY_ID" } },
      },
      {
        name: "AWS_SECRET_ACCESS_KEY",
        valueFrom: { secretKeyRef: { name: "s3-creds", key: "AWS_SECRET_ACCESS_KEY" } },
      },
      { name: "AWS_REGION", value: "eu-west-1" },
    ]);
    expect(init?.image).toBe(pod?.containers[0]?.image);
    expect(init?.volumeMounts?.map((m) => m.mountPath)).toEqual(["/data", "/tmp"]);
    expect(pod?.volumes).toEqual(set("shard-1").spec?.template.spec?.volumes);
  });

  it("when the store is a PVC, then it is mounted read-only and read as a path store", () => {
    const pod = withShardRestore(set("shard-0"), { ...restore, store: { pvc: { claimName: "snaps" } } }, 2)
      .spec?.template.spec;
    const init = pod?.initContainers?.[0];
    expect(init?.args?.slice(-2)).toEqual(["--store", "path:/snapshots"]);
    expect(init?.env).toEqual([]);
    expect(init?.volumeMounts).toContainEqual({
      name: "snapshot-store",
      mountPath: "/snapshots",
      readOnly: true,
    });
    expect(pod?.volumes).toContainEqual({
      name: "snapshot-store",
      persistentVolumeClaim: { claimName: "snaps", readOnly: true },
    });
  });

  it("when applied twice to the same spec, then the result is the same (no drift)", () => {
    expect(withShardRestore(set("shard-0"), restore, 2)).toEqual(
      withShardRestore(set("shard-0"), restore, 2),
    );
  });

  it("when the object is not a shard StatefulSet, then it throws naming it", () => {
    const s = set("shard-0");
    const unlabelled = { ...s, metadata: { ...s.metadata, labels: {} } };
    expect(() => withShardRestore(unlabelled, restore, 2)).toThrow(/is not a shard StatefulSet/);
  });
});
