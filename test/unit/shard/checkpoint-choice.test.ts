import { describe, expect, it } from "vitest";
import {
  candidateSeqs,
  checkpointBaseName,
  fileProblem,
  obsoleteFiles,
  parseSidecar,
  type Sidecar,
  sidecarProblem,
} from "../../../src/shard/checkpoint-choice.js";

const params = { dimension: 384, metric: "cosine" as const, m: 16, efConstruction: 200 };
const sidecar: Sidecar = {
  format: 1,
  seq: 500,
  sha256: "a".repeat(64),
  bytes: 1000,
  count: 10,
  ...params,
  createdAt: "2026-01-01T00:00:00Z",
};

describe("checkpoint file names", () => {
  it("when several checkpoints and strays exist, then only committed ones (with a sidecar) are candidates, newest first", () => {
    const names = [
      `${checkpointBaseName(5)}.hnsw`,
      `${checkpointBaseName(5)}.json`,
      `${checkpointBaseName(70)}.hnsw`,
      `${checkpointBaseName(70)}.json`,
      `${checkpointBaseName(900)}.hnsw`,
      ".tmp-checkpoint-0000000000001000-1.hnsw",
      "notes.txt",
    ];
    expect(candidateSeqs(names)).toEqual([70, 5]);
    expect(obsoleteFiles(names, 70).sort()).toEqual(
      [
        `${checkpointBaseName(5)}.hnsw`,
        `${checkpointBaseName(5)}.json`,
        ".tmp-checkpoint-0000000000001000-1.hnsw",
      ].sort(),
    );
  });
});

describe("sidecar verdicts", () => {
  it("when the sidecar is not JSON, then it is rejected with a reason", () => {
    expect(parseSidecar("{oops")).toEqual({ ok: false, reason: "sidecar is not valid JSON" });
  });
  it("when the sidecar is valid, then it parses", () => {
    expect(parseSidecar(JSON.stringify(sidecar))).toEqual({ ok: true, sidecar });
  });

  const cases: { name: string; s: Sidecar; seq: number; lastSeq: number; want: RegExp | null }[] = [
    { name: "everything matches", s: sidecar, seq: 500, lastSeq: 600, want: null },
    {
      name: "the checkpoint is exactly at the database's end",
      s: sidecar,
      seq: 500,
      lastSeq: 500,
      want: null,
    },
    {
      name: "the checkpoint is beyond the database",
      s: sidecar,
      seq: 500,
      lastSeq: 400,
      want: /database ends at seq 400/,
    },
    { name: "the file name disagrees", s: sidecar, seq: 499, lastSeq: 600, want: /file name says 499/ },
    { name: "M changed", s: { ...sidecar, m: 32 }, seq: 500, lastSeq: 600, want: /m=32.*m=16/ },
    {
      name: "the metric changed",
      s: { ...sidecar, metric: "l2" },
      seq: 500,
      lastSeq: 600,
      want: /metric=l2/,
    },
  ];
  for (const c of cases) {
    it(`when ${c.name}, then the verdict is ${c.want ?? "usable"}`, () => {
      const got = sidecarProblem(c.s, c.seq, params, c.lastSeq);
      if (c.want === null) expect(got).toBeNull();
      else expect(got).toMatch(c.want);
    });
  }

  it("when the graph file is missing, truncated or altered, then it is rejected; when intact, it is not", () => {
    expect(fileProblem(sidecar, null)).toMatch(/missing/);
    expect(fileProblem(sidecar, { bytes: 999, sha256: sidecar.sha256 })).toMatch(/999 bytes/);
    expect(fileProblem(sidecar, { bytes: 1000, sha256: "b".repeat(64) })).toMatch(/sha256/);
    expect(fileProblem(sidecar, { bytes: 1000, sha256: sidecar.sha256 })).toBeNull();
  });
});
