// Writes the CRDs generated from src/api/v1alpha1 into crds/ and the Helm chart.
//   npm run gen:crds     regenerate
//   npm run check:crds   regenerate into a temp dir and fail when the committed files differ
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { renderCrds } from "../src/api/crd/render.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const CRD_DIRS = [join(root, "crds"), join(root, "charts", "embedops", "crds")];

function write(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return renderCrds().map(({ fileName, yaml }) => {
    writeFileSync(join(dir, fileName), yaml);
    return fileName;
  });
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function check(): number {
  const fresh = mkdtempSync(join(tmpdir(), "embedops-crds-"));
  try {
    const names = write(fresh);
    const drift: string[] = [];
    for (const dir of CRD_DIRS) {
      for (const name of names) {
        const committed = read(join(dir, name));
        if (committed === undefined) drift.push(`${relative(root, join(dir, name))} is missing`);
        else if (committed !== read(join(fresh, name)))
          drift.push(`${relative(root, join(dir, name))} differs`);
      }
      const stale = safeList(dir).filter((f) => f.endsWith(".embedops.dev.yaml") && !names.includes(f));
      for (const f of stale) drift.push(`${relative(root, join(dir, f))} is no longer generated`);
    }
    if (drift.length === 0) {
      process.stdout.write(`CRDs up to date (${names.length} files in ${CRD_DIRS.length} directories)\n`);
      return 0;
    }
    process.stderr.write(
      `CRDs drifted from src/api/v1alpha1:\n  ${drift.join("\n  ")}\nRun \`npm run gen:crds\` and commit the result.\n`,
    );
    return 1;
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function generate(): number {
  for (const dir of CRD_DIRS) {
    const names = write(dir);
    for (const f of safeList(dir)) {
      if (f.endsWith(".embedops.dev.yaml") && !names.includes(f)) rmSync(join(dir, f));
    }
    process.stdout.write(`wrote ${names.map((n) => relative(root, join(dir, n))).join(", ")}\n`);
  }
  return 0;
}

const args = process.argv.slice(2);
if (args.some((a) => a !== "--check")) {
  process.stderr.write(`gen-crds: unknown argument; usage: gen-crds.ts [--check]\n`);
  process.exit(2);
}
process.exit(args.includes("--check") ? check() : generate());
