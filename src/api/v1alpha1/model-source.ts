import { z } from "zod";
import { cel } from "./kube-extensions.js";
import { objectName } from "./names.js";

export const Sha256 = z
  .string()
  .regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex characters (the output of sha256sum)");

const RelativePath = cel(
  z.string().max(1024).default("").describe("Directory within the volume; empty means its root."),
  [
    {
      rule: "!self.startsWith('/') && !self.matches('(^|/)[.][.](/|$)')",
      message: "path must be relative to the volume root and must not contain '..'",
      check: (p) => !p.startsWith("/") && !/(^|\/)\.\.(\/|$)/.test(p),
    },
  ],
);

export const ModelSource = cel(
  z
    .strictObject({
      path: z
        .string()
        .min(1)
        .max(1024)
        .optional()
        .describe(
          "Model directory in the encoder image, or on local disk for `embedops serve` " +
            "(relative paths resolve against the working directory).",
        ),
      pvc: z
        .strictObject({
          claimName: objectName("PersistentVolumeClaim holding the model, same namespace."),
          path: RelativePath,
        })
        .optional()
        .describe("Model directory on a PersistentVolumeClaim, mounted read-only."),
      http: z
        .strictObject({
          url: z
            .string()
            .max(2048)
            .regex(/^https?:\/\/\S+$/, "must be an http:// or https:// URL")
            .describe("URL of a .tar.gz of the model directory, downloaded by an init container."),
          sha256: Sha256.describe("sha256 of the downloaded archive; a mismatch fails the download."),
        })
        .optional()
        .describe("Model archive fetched over HTTP(S) from inside the cluster."),
      sha256: Sha256.optional().describe("sha256 of model.onnx; the encoder refuses to start on a mismatch."),
    })
    .describe(
      "Where the model directory (model.onnx, tokenizer.json) comes from: exactly one of path, pvc, http.",
    ),
  [
    {
      rule: "(has(self.path) ? 1 : 0) + (has(self.pvc) ? 1 : 0) + (has(self.http) ? 1 : 0) == 1",
      message: "source must set exactly one of path, pvc or http",
      check: (s) => [s.path, s.pvc, s.http].filter((x) => x !== undefined).length === 1,
    },
  ],
);

export type ModelSource = z.output<typeof ModelSource>;
