// ObjectApi.readMetadata against a real API server: what the operator learns about a Secret is its
// metadata, never its data.
import type { V1Secret } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { isNotFound } from "../../src/kube/errors.js";
import { adminClients, namespace } from "./kube-helpers.js";

describe("reading only an object's metadata", () => {
  it("when a Secret is read with readMetadata, then its name, uid and owner fields come back and its data does not", async () => {
    const ns = await namespace("kube-read-metadata");
    const { objects } = adminClients();
    const created = await objects.create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "keys", namespace: ns, labels: { team: "search" } },
      stringData: { "api-key": "do-not-leak-0123456789" },
    } as V1Secret);
    const got = await objects.readMetadata({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "keys", namespace: ns },
    });
    expect(got.kind).toBe("PartialObjectMetadata");
    expect(got.metadata).toMatchObject({
      name: "keys",
      uid: created.metadata?.uid,
      labels: { team: "search" },
    });
    expect(Object.keys(got).sort()).toEqual(["apiVersion", "kind", "metadata"]);
    expect(JSON.stringify(got)).not.toContain(Buffer.from("do-not-leak-0123456789").toString("base64"));
  });

  it("when the Secret does not exist, then readMetadata fails with a 404", async () => {
    const ns = await namespace("kube-read-metadata-missing");
    const err = await adminClients()
      .objects.readMetadata({ apiVersion: "v1", kind: "Secret", metadata: { name: "nope", namespace: ns } })
      .catch((e: unknown) => e);
    expect(isNotFound(err)).toBe(true);
  });
});
