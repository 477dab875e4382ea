// spec.snapshot -> the index's snapshot children: CronJob (with a schedule), ServiceAccount and
// RoleBinding (with any spec.snapshot), and what they must never contain (credential values).
import type { V1CronJob, V1RoleBinding } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { SnapshotPolicy } from "../../../src/api/v1alpha1/snapshot-policy.js";
import { indexChildren } from "../../../src/builders/index-children.js";
import type { IndexProps } from "../../../src/builders/index-props.js";
import { snapshotCronJob } from "../../../src/builders/snapshot-cronjob.js";
import { snapshotDeleteJob, snapshotJob } from "../../../src/builders/snapshot-job.js";
import { ctx, FINGERPRINT, index } from "./fixtures.js";

const pvc = { pvc: { claimName: "snaps" } };
const s3 = {
  s3: {
    endpoint: "https://s3.example.com",
    bucket: "backups",
    prefix: "/team-a/",
    secretRef: { name: "s3-creds" },
  },
};
const policy = (p: Record<string, unknown>): SnapshotPolicy =>
  index({ snapshot: p as never }).spec.snapshot as SnapshotPolicy;
const props = (snapshot?: Record<string, unknown>): IndexProps => ({
  index: "docs",
  spec: index(snapshot ? { snapshot: snapshot as never } : {}).spec,
  model: "minilm",
  fingerprint: FINGERPRINT,
  dimension: 384,
});
const container = (cj: V1CronJob | undefined) => cj?.spec?.jobTemplate.spec?.template.spec?.containers[0];

describe("snapshotCronJob", () => {
  it.each([
    { name: "no spec.snapshot", p: undefined, want: undefined },
    { name: "a store without a schedule", p: { store: pvc }, want: undefined },
    { name: "a schedule", p: { schedule: "0 3 * * *", store: pvc }, want: { schedule: "0 3 * * *" } },
    {
      name: "a schedule and a time zone",
      p: { schedule: "@daily", timeZone: "Europe/Berlin", store: pvc },
      want: { schedule: "@daily", timeZone: "Europe/Berlin" },
    },
  ])("when $name, then the CronJob's schedule is $want", ({ p, want }) => {
    const cj = snapshotCronJob(ctx("VectorIndex", "docs"), "docs", p ? policy(p) : undefined);
    if (want === undefined) expect(cj).toBeUndefined();
    else expect(cj?.spec).toMatchObject({ ...want, concurrencyPolicy: "Forbid" });
    if (want && !("timeZone" in want)) expect(cj?.spec?.timeZone).toBeUndefined();
  });

  it("when the store is a PVC, then the pod mounts the claim at /snapshots and runs create --kube for the index", () => {
    const cj = snapshotCronJob(
      ctx("VectorIndex", "docs"),
      "docs",
      policy({ schedule: "@hourly", store: pvc }),
    );
    expect(cj?.metadata?.name).toBe("docs-snapshot");
    expect(container(cj)?.args).toEqual([
      ...["snapshot", "create", "--kube", "--index", "docs", "--namespace", "ns"],
      ...["--store", "path:/snapshots"],
    ]);
    expect(container(cj)?.volumeMounts).toContainEqual({ name: "store", mountPath: "/snapshots" });
    const spec = cj?.spec?.jobTemplate.spec?.template.spec;
    expect(spec?.volumes).toContainEqual({ name: "store", persistentVolumeClaim: { claimName: "snaps" } });
    expect(spec?.serviceAccountName).toBe("docs-snapshot");
    expect(spec?.restartPolicy).toBe("Never");
    expect(cj?.spec?.jobTemplate.spec?.template.metadata?.labels?.["embedops.dev/role"]).toBe("snapshot");
  });

  it("when the store is S3, then the bucket and endpoint are flags and the credentials secret references, never values", () => {
    const cj = snapshotCronJob(
      ctx("VectorIndex", "docs"),
      "docs",
      policy({ schedule: "@hourly", store: s3 }),
    );
    expect(container(cj)?.args?.slice(-4)).toEqual([
      "--store",
      "s3://backups/team-a",
      "--endpoint",
      "https://s3.example.com",
    ]);
    expect(container(cj)?.env).toEqual([
      {
        name: "AWS_ACCESS_KEY_ID",
        valueFrom: { secretKeyRef: { name: "s3-creds", key: "AWS_ACCESS_KEY_ID" } },
      },
      {
        name: "AWS_SECRET_ACCESS_KEY",
        valueFrom: { secretKeyRef: { name: "s3-creds", key: "AWS_SECRET_ACCESS_KEY" } },
      },
    ]);
    expect(container(cj)?.env?.every((e) => e.value === undefined)).toBe(true);
  });

  it("when built twice, then the CronJob is identical (no timestamps)", () => {
    const p = policy({ schedule: "@hourly", store: s3 });
    expect(JSON.stringify(snapshotCronJob(ctx("VectorIndex", "docs"), "docs", p))).toBe(
      JSON.stringify(snapshotCronJob(ctx("VectorIndex", "docs"), "docs", p)),
    );
  });
});

describe("VectorIndex snapshot children", () => {
  const kinds = (p?: Record<string, unknown>) => {
    const c = indexChildren(ctx("VectorIndex", "docs"), props(p));
    return {
      present: c.present.filter((o) => o.metadata?.name === "docs-snapshot").map((o) => o.kind),
      absent: c.absent.map((a) => `${a.kind}/${a.name}`),
    };
  };

  it.each([
    {
      name: "no spec.snapshot",
      p: undefined,
      present: [],
      absent: ["CronJob/docs-snapshot", "RoleBinding/docs-snapshot", "ServiceAccount/docs-snapshot"],
    },
    {
      name: "a store only",
      p: { store: pvc },
      present: ["ServiceAccount", "RoleBinding"],
      absent: ["CronJob/docs-snapshot"],
    },
    {
      name: "a schedule",
      p: { schedule: "@daily", store: pvc },
      present: ["ServiceAccount", "RoleBinding", "CronJob"],
      absent: [],
    },
  ])("when $name, then present $present and absent $absent", ({ p, present, absent }) => {
    expect(kinds(p)).toEqual({ present, absent });
  });

  it("when spec.snapshot is set, then the RoleBinding binds the index's ServiceAccount to the runner ClusterRole", () => {
    const rb = indexChildren(ctx("VectorIndex", "docs"), props({ store: pvc })).present.find(
      (o) => o.kind === "RoleBinding",
    ) as V1RoleBinding;
    expect(rb.roleRef).toEqual({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: "embedops-snapshot-runner",
    });
    expect(rb.subjects).toEqual([{ kind: "ServiceAccount", name: "docs-snapshot", namespace: "ns" }]);
  });
});

describe("snapshotJob", () => {
  it("when a hand-applied IndexSnapshot runs, then its Job runs `snapshot run NAME --kube` with the index's store", () => {
    const job = snapshotJob(ctx("IndexSnapshot", "docs-manual"), "docs", "docs-manual", pvc);
    expect(job.metadata?.name).toBe("docs-manual-run");
    expect(job.metadata?.ownerReferences?.[0]?.kind).toBe("IndexSnapshot");
    expect(job.spec?.template.spec?.containers[0]?.args).toEqual([
      ...["snapshot", "run", "docs-manual", "--kube", "--namespace", "ns"],
      ...["--store", "path:/snapshots"],
    ]);
    expect(job.spec?.template.spec?.serviceAccountName).toBe("docs-snapshot");
    expect(job.spec?.backoffLimit).toBe(0);
  });

  it("when an IndexSnapshot is deleted, then its delete Job runs `snapshot delete NAME --from-index INDEX` with the store and no API token", () => {
    const job = snapshotDeleteJob(ctx("IndexSnapshot", "docs-manual"), "docs", "docs-manual", s3);
    expect(job.metadata?.name).toBe("docs-manual-delete");
    const spec = job.spec?.template.spec;
    expect(spec?.containers[0]?.args).toEqual([
      ...["snapshot", "delete", "docs-manual", "--from-index", "docs"],
      ...["--store", "s3://backups/team-a", "--endpoint", "https://s3.example.com"],
    ]);
    expect(spec?.automountServiceAccountToken).toBe(false);
    expect(spec?.containers[0]?.env?.map((e) => e.valueFrom?.secretKeyRef?.name)).toEqual([
      "s3-creds",
      "s3-creds",
    ]);
    expect(job.spec?.activeDeadlineSeconds).toBeGreaterThan(0);
  });
});
