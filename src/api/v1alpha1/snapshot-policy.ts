import { z } from "zod";
import { cel } from "./kube-extensions.js";
import { objectName } from "./names.js";
import { PvcRef } from "./refs.js";

// Five cron fields or a macro: what a CronJob accepts (the CronJob controller parses the rest).
const CRON = /^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\S+\s+){4}\S+)$/;

export const SnapshotStore = cel(
  z
    .strictObject({
      pvc: PvcRef.optional(),
      s3: z
        .strictObject({
          endpoint: z
            .string()
            .max(2048)
            .regex(/^https?:\/\/\S+$/, "must be an http:// or https:// URL")
            .describe("S3-compatible endpoint URL, e.g. https://s3.eu-west-1.amazonaws.com."),
          bucket: z.string().min(3).max(63).describe("Bucket name."),
          prefix: z
            .string()
            .max(1024)
            .default("")
            .describe("Key prefix; snapshots go under <prefix>/<index>/<snapshot>/."),
          region: z.string().max(64).optional().describe("Region, when the endpoint needs one."),
          secretRef: z
            .strictObject({ name: objectName("Secret name, same namespace.") })
            .describe("Secret with keys AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."),
        })
        .optional()
        .describe("An S3-compatible object store."),
    })
    .describe("Where snapshot files go: exactly one of pvc, s3."),
  [
    {
      rule: "has(self.pvc) != has(self.s3)",
      message: "snapshot.store must set exactly one of pvc or s3",
      check: (s) => (s.pvc === undefined) !== (s.s3 === undefined),
    },
  ],
);

export const SnapshotPolicy = cel(
  z
    .strictObject({
      schedule: z
        .string()
        .max(128)
        .regex(CRON, 'must be a cron schedule such as "0 3 * * *" or "@daily"')
        .optional()
        .describe('Cron schedule, e.g. "0 3 * * *"; unset: snapshots only by hand.'),
      timeZone: z
        .string()
        .max(64)
        .optional()
        .describe('IANA time zone of the schedule, e.g. "Europe/Berlin".'),
      retain: z
        .number()
        .int()
        .min(0)
        .max(1000)
        .default(7)
        .describe("Completed snapshots kept; older ones are deleted. 0 keeps all (only without a schedule)."),
      store: SnapshotStore,
    })
    .describe("Snapshots of the active generation."),
  [
    {
      rule: "!has(self.schedule) || self.retain >= 1",
      message:
        "snapshot.retain must be >= 1 when snapshot.schedule is set, or scheduled snapshots pile up forever",
      fieldPath: ".retain",
      check: (s) => s.schedule === undefined || s.retain >= 1,
    },
  ],
);

export type SnapshotStore = z.output<typeof SnapshotStore>;
export type SnapshotPolicy = z.output<typeof SnapshotPolicy>;
