// PNG line charts through matplotlib in the bench venv (scripts/bench-venv.sh): native canvas
// packages for Node download prebuilt binaries at install time, which fails on our machines.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface PlotSeries {
  label: string;
  x: number[];
  y: number[];
  /** matplotlib format string, e.g. "o-" or "s--". */
  style?: string;
}

export interface PlotPanel {
  title: string;
  xlabel?: string;
  ylabel?: string;
  xlog?: boolean;
  ylog?: boolean;
  xticks?: number[];
  series: PlotSeries[];
}

export interface PlotSpec {
  title?: string;
  footnote?: string;
  panels: PlotPanel[];
}

export const benchCache = process.env.EMBEDOPS_CACHE ?? join(homedir(), ".cache", "embedops");

/** The python that has matplotlib: EMBEDOPS_BENCH_PYTHON, else the venv scripts/bench-venv.sh makes. */
export function benchPython(): string {
  return process.env.EMBEDOPS_BENCH_PYTHON ?? join(benchCache, "venv-bench", "bin", "python");
}

/** Draw `spec` into `outPng`; returns an error message instead of throwing, so a report still lands. */
export function plotLines(spec: PlotSpec, outPng: string): string | undefined {
  const python = benchPython();
  if (!existsSync(python)) return `no ${python}; run bash scripts/bench-venv.sh`;
  const script = join(dirname(fileURLToPath(import.meta.url)), "plot.py");
  const r = spawnSync(python, [script, outPng], { input: JSON.stringify(spec), encoding: "utf8" });
  if (r.error) return r.error.message;
  if (r.status !== 0) return `plot.py exited ${r.status}: ${r.stderr.trim().split("\n").slice(-3).join(" ")}`;
  return undefined;
}
