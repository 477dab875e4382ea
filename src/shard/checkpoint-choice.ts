// Which checkpoint (if any) a starting shard may load. A checkpoint is two files: the hnswlib graph
// `checkpoint-<seq>.hnsw` and its sidecar `checkpoint-<seq>.json` (seq, sha256, params). The sidecar is
// written last, so it is the commit marker: a graph without a valid sidecar never counts.
import { z } from "zod";
import type { Metric } from "./score.js";

export const sidecarSchema = z.strictObject({
  format: z.literal(1),
  seq: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().min(0),
  count: z.number().int().min(0),
  dimension: z.number().int().min(1),
  metric: z.enum(["cosine", "l2", "ip"]),
  m: z.number().int().min(2),
  efConstruction: z.number().int().min(1),
  createdAt: z.string(),
});
export type Sidecar = z.infer<typeof sidecarSchema>;

export interface GraphParams {
  dimension: number;
  metric: Metric;
  m: number;
  efConstruction: number;
}

const namePattern = /^checkpoint-(\d{16})\.(hnsw|json)$/;

export function checkpointBaseName(seq: number): string {
  return `checkpoint-${String(seq).padStart(16, "0")}`;
}

/** Sequence numbers that have a sidecar, newest first (the order a start tries them in). */
export function candidateSeqs(fileNames: readonly string[]): number[] {
  const seqs = new Set<number>();
  for (const name of fileNames) {
    const m = namePattern.exec(name);
    if (m?.[2] === "json") seqs.add(Number(m[1]));
  }
  return [...seqs].sort((a, b) => b - a);
}

/** Files a finished checkpoint at `keepSeq` makes obsolete: older checkpoints and stray temp files. */
export function obsoleteFiles(fileNames: readonly string[], keepSeq: number): string[] {
  return fileNames.filter((name) => {
    if (name.startsWith(".tmp-")) return true;
    const m = namePattern.exec(name);
    return m !== null && Number(m[1]) < keepSeq;
  });
}

export type SidecarParse = { ok: true; sidecar: Sidecar } | { ok: false; reason: string };

export function parseSidecar(text: string): SidecarParse {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: "sidecar is not valid JSON" };
  }
  const r = sidecarSchema.safeParse(raw);
  if (!r.success) return { ok: false, reason: `sidecar is malformed (${r.error.issues[0]?.message ?? "?"})` };
  return { ok: true, sidecar: r.data };
}

/**
 * Why a checkpoint cannot be used without reading the graph (null = go on and verify the checksum).
 * `lastSeq` is the newest sequence in the database: a checkpoint beyond it describes writes the
 * database does not have (a restored or replaced database), so it would resurrect or lose rows.
 */
export function sidecarProblem(
  sidecar: Sidecar,
  seq: number,
  expected: GraphParams,
  lastSeq: number,
): string | null {
  if (sidecar.seq !== seq) return `sidecar says seq ${sidecar.seq} but its file name says ${seq}`;
  if (sidecar.seq > lastSeq)
    return `checkpoint covers seq ${sidecar.seq} but the database ends at seq ${lastSeq}`;
  for (const key of ["dimension", "metric", "m", "efConstruction"] as const) {
    if (sidecar[key] !== expected[key]) {
      return `checkpoint was built with ${key}=${sidecar[key]}, this start uses ${key}=${expected[key]}`;
    }
  }
  return null;
}

/** Checksum/size verdict once the graph file has been hashed (or found missing). */
export function fileProblem(
  sidecar: Sidecar,
  actual: { bytes: number; sha256: string } | null,
): string | null {
  if (actual === null) return "graph file is missing";
  if (actual.bytes !== sidecar.bytes)
    return `graph file has ${actual.bytes} bytes, sidecar says ${sidecar.bytes}`;
  if (actual.sha256 !== sidecar.sha256) return "graph file sha256 does not match the sidecar (corrupt)";
  return null;
}
