// Reading the documents `embedops ingest` sends: one JSON object per line, {id, text, metadata?}.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { z } from "zod";

export const documentLine = z.strictObject({
  id: z.string().min(1).max(256),
  text: z.string().min(1),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type DocumentLine = z.infer<typeof documentLine>;

/** Parses one line; the error names the line number and the field, e.g. `line 7: text: expected string`. */
export function parseDocumentLine(line: string, lineNo: number): DocumentLine {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    throw new Error(`line ${lineNo}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = documentLine.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    throw new Error(
      `line ${lineNo}: ${path}${issue?.message ?? "invalid document"} (expected {"id","text","metadata"?})`,
    );
  }
  return parsed.data;
}

/** Yields batches of documents from a JSONL file, skipping blank lines. */
export async function* readDocumentBatches(path: string, batchSize: number): AsyncGenerator<DocumentLine[]> {
  const lines = createInterface({
    input: createReadStream(path, "utf8"),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let batch: DocumentLine[] = [];
  let lineNo = 0;
  for await (const line of lines) {
    lineNo += 1;
    if (line.trim() === "") continue;
    batch.push(parseDocumentLine(line, lineNo));
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Counts the non-blank lines, for the progress bar's total. */
export async function countDocuments(path: string): Promise<number> {
  const lines = createInterface({
    input: createReadStream(path, "utf8"),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let n = 0;
  for await (const line of lines) if (line.trim() !== "") n += 1;
  return n;
}
