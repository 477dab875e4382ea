// Real English text for the MiniLM data set: every WordNet gloss (the definition part) plus every
// usage example, from Debian's wordnet-base (WordNet 3.0 licence: use, copy and distribute with the
// copyright notice). ~117k synsets give ~150k distinct texts, enough for a 100k+ base set without
// synthetic padding. Deterministic order so the embedding cache and ground truth stay valid.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const posFiles = ["noun", "verb", "adj", "adv"] as const;

/** Definition and usage examples of one data.<pos> line ("... | def; def2; \"example\""). */
export function glossParts(line: string): { definition: string | undefined; examples: string[] } {
  const bar = line.indexOf("|");
  // Licence header lines start with two spaces; they have no synset.
  if (bar < 0 || line.startsWith("  ")) return { definition: undefined, examples: [] };
  const gloss = line.slice(bar + 1);
  const examples: string[] = [];
  for (const m of gloss.matchAll(/"([^"]+)"/g)) {
    const text = (m[1] ?? "").trim().replace(/\s+/g, " ");
    if (text.length > 0) examples.push(text);
  }
  const definition = gloss
    .replace(/"[^"]*"/g, "")
    .split(";")
    .map((s) => s.trim().replace(/\s+/g, " "))
    .filter((s) => s.length > 0)
    .join("; ");
  return { definition: definition.length > 0 ? definition : undefined, examples };
}

/** Distinct texts (case-insensitive) of at least three words, in file order. */
export function loadWordnetTexts(dir = process.env.EMBEDOPS_WORDNET_DIR ?? "/usr/share/wordnet"): string[] {
  if (!existsSync(join(dir, "data.noun"))) {
    throw new Error(`WordNet data not found in ${dir}: apt-get install wordnet-base`);
  }
  const seen = new Set<string>();
  const out: string[] = [];
  const add = (text: string) => {
    // One- and two-word glosses ("a dog") are near-duplicates of each other and not sentences.
    if (text.split(" ").length < 3) return;
    const key = text.toLowerCase();
    if (seen.has(key)) return;
    seen.add(key);
    out.push(text);
  };
  for (const pos of posFiles) {
    for (const line of readFileSync(join(dir, `data.${pos}`), "utf8").split("\n")) {
      const { definition, examples } = glossParts(line);
      if (definition !== undefined) add(definition);
      for (const e of examples) add(e);
    }
  }
  return out;
}
