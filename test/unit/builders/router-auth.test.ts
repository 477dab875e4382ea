import type { V1Deployment } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { VectorIndexInput } from "../../../src/api/v1alpha1/index.js";
import { VectorIndexSpec } from "../../../src/api/v1alpha1/index.js";
import {
  authSecret,
  generatedAuthSecret,
  routerKeySecret,
  type SecretKey,
} from "../../../src/builders/router-auth.js";
import { routerDeployment } from "../../../src/builders/router-deployment.js";
import { ctx, index } from "./fixtures.js";

type Auth = Partial<VectorIndexInput["spec"]>["auth"];
const spec = (auth: Auth) => index(auth === undefined ? {} : { auth }).spec;

describe("which Secret holds the router's keys", () => {
  it.each<[string, Auth, SecretKey | undefined, SecretKey | undefined]>([
    [
      "auth is left to its default (on)",
      undefined,
      { name: "docs-auth", key: "api-key" },
      { name: "docs-auth", key: "api-key" },
    ],
    ["auth is disabled", { enabled: false }, undefined, undefined],
    [
      "the user brings a Secret (default key)",
      { secretRef: { name: "search-keys" } },
      { name: "search-keys", key: "api-key" },
      undefined,
    ],
    [
      "the user brings a Secret and a key",
      { secretRef: { name: "search-keys", key: "router" } },
      { name: "search-keys", key: "router" },
      undefined,
    ],
  ])("when %s, then the router reads %j and the operator generates %j", (_case, auth, reads, generates) => {
    expect(routerKeySecret("docs", spec(auth))).toEqual(reads);
    expect(generatedAuthSecret("docs", spec(auth))).toEqual(generates);
  });

  it("when secretRef is set with auth disabled, then the schema refuses it naming the field", () => {
    const parsed = VectorIndexSpec.safeParse({
      modelRef: { name: "minilm" },
      auth: { enabled: false, secretRef: { name: "keys" } },
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({ path: ["auth", "secretRef"] });
  });
});

describe("the generated auth Secret", () => {
  it("when built, then it holds the key under api-key, owned by the index, labelled as the router's", () => {
    const s = authSecret(ctx("VectorIndex", "docs"), "docs", "k".repeat(43));
    expect(s.metadata?.name).toBe("docs-auth");
    expect(s.stringData).toEqual({ "api-key": "k".repeat(43) });
    expect(s.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: "VectorIndex",
      name: "docs",
      controller: true,
    });
    expect(s.metadata?.labels).toMatchObject({ "embedops.dev/index": "docs", "embedops.dev/role": "router" });
  });
});

describe("the router Deployment's keys", () => {
  const podOf = (auth: Auth, encoderAuth?: SecretKey) =>
    (
      routerDeployment(ctx("VectorIndex", "docs"), {
        index: "docs",
        spec: spec(auth),
        encoderAuth,
      }) as V1Deployment
    ).spec?.template.spec;
  const argAfter = (args: string[] | undefined, flag: string) =>
    args?.includes(flag) ? args[args.indexOf(flag) + 1] : undefined;

  it.each<[string, Auth, SecretKey | undefined, Record<string, SecretKey | undefined>]>([
    [
      "auth is on and the model has no key",
      undefined,
      undefined,
      { "--api-key-file": { name: "docs-auth", key: "api-key" }, "--encoder-key-file": undefined },
    ],
    [
      "auth is off and the model has a key",
      { enabled: false },
      { name: "encoder-auth", key: "token" },
      { "--api-key-file": undefined, "--encoder-key-file": { name: "encoder-auth", key: "token" } },
    ],
    [
      "the user brings a Secret and the model has a key",
      { secretRef: { name: "search-keys", key: "router" } },
      { name: "encoder-auth", key: "token" },
      {
        "--api-key-file": { name: "search-keys", key: "router" },
        "--encoder-key-file": { name: "encoder-auth", key: "token" },
      },
    ],
  ])(
    "when %s, then each flag names a file mounted from the right Secret key",
    (_case, auth, encoderAuth, want) => {
      const pod = podOf(auth, encoderAuth);
      const container = pod?.containers[0];
      for (const [flag, ref] of Object.entries(want)) {
        const path = argAfter(container?.args, flag);
        if (!ref) {
          expect(path).toBeUndefined();
          continue;
        }
        const dir = path?.slice(0, path.lastIndexOf("/"));
        const file = path?.slice(path.lastIndexOf("/") + 1);
        const mount = container?.volumeMounts?.find((m) => m.mountPath === dir);
        expect(mount?.readOnly).toBe(true);
        const volume = pod?.volumes?.find((v) => v.name === mount?.name);
        expect(volume?.secret).toEqual({
          secretName: ref.name,
          items: [{ key: ref.key, path: file }],
          defaultMode: 0o440,
        });
      }
    },
  );
});
