// Writes examples/docs.jsonl, the documents the quickstart ingests: WordNet definitions
// ("photosynthesis: synthesis of compounds with the aid of radiant energy ...") from Debian's
// wordnet-base, one per line as {id, text, metadata: {word, pos}}. Run once; the output is committed
// with WordNet's licence notice (examples/WORDNET-LICENSE).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { wordnetDir } from "../test/fixtures/corpus/wordnet.js";

const perPos: Record<string, number> = { noun: 1400, verb: 400, adj: 200 };
const lines: string[] = [];
for (const [pos, limit] of Object.entries(perPos)) {
  const rows = readFileSync(join(wordnetDir, `data.${pos}`), "utf8").split("\n");
  const picked: string[] = [];
  // Every k-th synset, so the sample spans the whole vocabulary rather than the first letters.
  const candidates = rows.filter((r) => r && !r.startsWith("  ") && r.includes("|"));
  const step = Math.max(1, Math.floor(candidates.length / limit));
  for (let i = 0; i < candidates.length && picked.length < limit; i += step) {
    const row = candidates[i] ?? "";
    const fields = row.split(" ");
    const offset = fields[0] ?? "";
    const word = (fields[4] ?? "").replace(/_/g, " ").replace(/\(.*\)$/, "");
    const gloss = row.slice(row.indexOf("|") + 1).trim();
    const definition = gloss.split(";")[0]?.trim() ?? "";
    if (definition.length < 12 || definition.startsWith('"')) continue;
    const text = `${word}: ${gloss.replace(/\s+/g, " ")}`;
    picked.push(JSON.stringify({ id: `wn-${pos}-${offset}`, text, metadata: { word, pos } }));
  }
  lines.push(...picked);
}
writeFileSync("examples/docs.jsonl", `${lines.join("\n")}\n`);
process.stdout.write(`wrote ${lines.length} documents to examples/docs.jsonl\n`);
