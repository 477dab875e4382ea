// The golden set a VectorIndex names in spec.quality.goldenSet: JSON Lines, one
// {"query": "...", "relevant": ["id", ...]} per line. Pure: text in, queries or an error naming the
// line and the field out, so a user who edits the ConfigMap is told exactly where it went wrong.
import { z } from "zod";
import { probeTexts } from "../rollout/probe-texts.js";

/** A ConfigMap value is at most 1 MiB; lines bound the gate's work (each line is two or three searches). */
export const maxGoldenLines = 10_000;
export const maxQueryChars = 10_000;
export const maxRelevantIds = 1_000;

export interface GoldenQuery {
  query: string;
  /** The ids a good answer contains; empty when the line lists none (only ANN-vs-exact recall counts it). */
  relevant: string[];
}

const lineSchema = z.strictObject({
  query: z
    .string({ error: "must be a string" })
    .trim()
    .min(1, { error: "must not be empty" })
    .max(maxQueryChars, { error: `must be at most ${maxQueryChars} characters` }),
  relevant: z
    .array(z.string({ error: "must be a string" }).min(1, { error: "must not be empty" }), {
      error: "must be an array of document ids",
    })
    .max(maxRelevantIds, { error: `must list at most ${maxRelevantIds} ids` })
    .optional(),
});

export class GoldenSetError extends Error {
  override name = "GoldenSetError";
  constructor(
    /** 1-based, as an editor shows it. */
    readonly line: number,
    readonly field: string,
    detail: string,
  ) {
    super(`golden set line ${line}: ${field} ${detail}`);
  }
}

function fieldOf(path: readonly PropertyKey[]): string {
  return path
    .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
    .join("")
    .replace(/^\./, "");
}

/**
 * Parses the JSONL text. Blank lines are skipped (line numbers still count them); duplicate queries
 * are kept (a user may weigh a query by repeating it); a duplicated relevant id within a line counts once.
 */
export function parseGoldenSet(text: string): GoldenQuery[] {
  const lines = text.split(/\r?\n/);
  const out: GoldenQuery[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).trim();
    if (raw === "") continue;
    const line = i + 1;
    if (out.length >= maxGoldenLines)
      throw new GoldenSetError(line, "line", `is past the limit of ${maxGoldenLines} queries; trim the set`);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new GoldenSetError(line, "line", `is not valid JSON (${(err as Error).message})`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw new GoldenSetError(line, "line", 'must be a JSON object {"query": "...", "relevant": [...]}');
    const r = lineSchema.safeParse(value);
    if (!r.success) {
      const issue = r.error.issues[0];
      if (issue?.code === "unrecognized_keys")
        throw new GoldenSetError(
          line,
          issue.keys[0] ?? "line",
          'is not a golden set field (use "query" and "relevant")',
        );
      const path = issue?.path ?? [];
      const top = path[0];
      const missing = path.length === 1 && typeof top === "string" && !(top in value);
      throw new GoldenSetError(
        line,
        fieldOf(path) || "line",
        missing ? "is required" : (issue?.message ?? "is invalid"),
      );
    }
    out.push({ query: r.data.query, relevant: [...new Set(r.data.relevant ?? [])] });
  }
  return out;
}

/** The gate's k and minRecall when the index has no spec.quality (the CRD's defaults). */
export const GATE_DEFAULTS = { k: 10, minRecall: 0.9 } as const;

/**
 * The gate's queries without spec.quality: the rollout's probe texts (or the built-in ones), with
 * no relevant ids, so only N+1's ANN recall against its exact search is measured.
 */
export function probeGoldenSet(configured: readonly string[] | undefined): GoldenQuery[] {
  return probeTexts(configured ? { configured } : {}).map((query) => ({ query, relevant: [] }));
}
