// What `embedops serve` keeps of one VectorIndex's generations: <data-dir>/generations/<index>.json.
// The active generation (what serves queries), a move in progress (the phase machine's status, so a
// restarted serve resumes at the same phase) and a generation retained after a promotion. Written
// whole and renamed, so a kill never leaves half a file. `embedops rollout status vi/NAME` reads it;
// `embedops rollout promote|abort|retry vi/NAME` writes <index>.command beside it.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { GenerationRef, GenerationRolloutStatus } from "../generation/generation-rollout.js";
import { replaceJsonFile } from "../util/replace-file.js";

const ref = z.object({ generation: z.string().min(1), fingerprint: z.string().min(1) });

const phase = z.enum([
  "Building",
  "Backfilling",
  "Gating",
  "Progressing",
  "Paused",
  "Promoting",
  "Succeeded",
  "Failed",
]);

// The machine's status, checked for the fields every reader relies on; the rest is carried as written.
const status = z.looseObject({
  phase,
  candidateGeneration: z.string(),
  candidateFingerprint: z.string(),
  fromGeneration: z.string(),
  fromFingerprint: z.string(),
  weight: z.number(),
  stepIndex: z.number(),
  failedChecks: z.number(),
  inconclusiveChecks: z.number(),
  startedAt: z.string(),
  phaseSince: z.string(),
});

const generationFile = z.object({
  index: z.string(),
  active: ref,
  status: status.optional(),
  retained: z.object({ ref, deleteAfter: z.number() }).optional(),
  /** The policy's, for `embedops rollout status vi/NAME` ("checks failed 1/2"). */
  maxFailedChecks: z.number().int().optional(),
  /** The backfill's one-line progress ("BACKFILL 41% ETA 3m"), as `kubectl get vi` shows it. */
  backfill: z.string().optional(),
  updatedAt: z.string().optional(),
});

export interface GenerationFile {
  index: string;
  active: GenerationRef;
  status?: GenerationRolloutStatus;
  retained?: { ref: GenerationRef; deleteAfter: number };
  maxFailedChecks?: number;
  backfill?: string;
  updatedAt?: string;
}

export function generationFilePath(dataDir: string, index: string): string {
  return join(dataDir, "generations", `${index}.json`);
}

/** Where `embedops rollout promote|abort|retry vi/NAME` leaves a command for a running serve. */
export function generationCommandPath(dataDir: string, index: string): string {
  return join(dataDir, "generations", `${index}.command`);
}

/** Where serve writes the backfill's plan for its child process. */
export function backfillPlanPath(dataDir: string, index: string, generation: string): string {
  return join(dataDir, "generations", `${index}.${generation}.backfill.json`);
}

/** The file, or undefined when there is none; a file that does not parse is an error naming it. */
export function readGenerationFile(dataDir: string, index: string): GenerationFile | undefined {
  const path = generationFilePath(dataDir, index);
  if (!existsSync(path)) return undefined;
  const parsed = generationFile.safeParse(JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success) {
    throw new Error(
      `${path} is not a generation state file (${parsed.error.issues[0]?.message ?? "invalid"}); move it away to start the index from its model's fingerprint`,
    );
  }
  return parsed.data as GenerationFile;
}

export function writeGenerationFile(dataDir: string, file: GenerationFile): void {
  replaceJsonFile(generationFilePath(dataDir, file.index), file);
}
