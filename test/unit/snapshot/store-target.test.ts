import { describe, expect, it } from "vitest";
import { parseStoreTarget } from "../../../src/snapshot/store-target.js";

describe("parseStoreTarget", () => {
  it.each([
    ["path:/mnt/snapshots", { kind: "path", dir: "/mnt/snapshots" }],
    ["path:rel/dir", { kind: "path", dir: "rel/dir" }],
    ["s3://my-bucket", { kind: "s3", bucket: "my-bucket", prefix: "" }],
    ["s3://my-bucket/a/b/", { kind: "s3", bucket: "my-bucket", prefix: "a/b" }],
  ])("when --store is %s, then it names %o", (value, target) => {
    expect(parseStoreTarget(value)).toEqual(target);
  });

  it.each([
    ["path:", /names no directory/],
    ["s3://UPPER/x", /"UPPER" is not an S3 bucket name/],
    ["/just/a/dir", /neither a path nor an S3 URL; use --store path:/],
    ["https://bucket.s3.amazonaws.com", /neither a path nor an S3 URL/],
  ])("when --store is %s, then it is refused saying which forms work", (value, message) => {
    expect(() => parseStoreTarget(value)).toThrow(message);
  });
});

describe("defaultSnapshotName", () => {
  it("when no --name is given, then the name is s-YYYYMMDD-HHMMSS in UTC, a Kubernetes name", async () => {
    const { defaultSnapshotName } = await import("../../../src/cli/snapshot.js");
    const name = defaultSnapshotName(new Date("2026-12-02T07:08:09.123Z"));
    expect(name).toBe("s-20261202-070809");
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
  });
});
