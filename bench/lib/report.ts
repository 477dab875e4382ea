// Report writing shared by the benchmarks: the machine description, JSON, markdown tables.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, freemem, loadavg, totalmem } from "node:os";
import { dirname } from "node:path";

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  /** CPU flags that decide the speed of ONNX kernels here. */
  cpuFlags: string[];
  memoryGiB: number;
  freeMemoryGiB: number;
  /** 1, 5 and 15-minute load averages when the value was taken. */
  loadAverage: [number, number, number];
  node: string;
  platform: string;
}

function nproc(): number {
  try {
    return Number.parseInt(execFileSync("nproc", { encoding: "utf8" }).trim(), 10);
  } catch {
    return cpus().length;
  }
}

export function machineInfo(): MachineInfo {
  let model = cpus()[0]?.model ?? "unknown";
  let flags: string[] = [];
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    model = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? model;
    const all = /^flags\s*:\s*(.+)$/m.exec(info)?.[1]?.split(/\s+/) ?? [];
    flags = all.filter((f) => /^(avx|avx2|fma|avx512f|avx512_vnni|avx_vnni|amx_tile|f16c)$/.test(f));
  } catch {
    // Not Linux: the model string from os.cpus() is all we have.
  }
  const [l1, l5, l15] = loadavg();
  const gib = (b: number) => Math.round((b / 2 ** 30) * 10) / 10;
  return {
    nproc: nproc(),
    cpuModel: model,
    cpuFlags: flags,
    memoryGiB: gib(totalmem()),
    freeMemoryGiB: gib(freemem()),
    loadAverage: [l1 ?? 0, l5 ?? 0, l15 ?? 0],
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

export function loadAverageText(l: readonly number[]): string {
  return l.map((v) => v.toFixed(2)).join(" / ");
}

export function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

export function writeText(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text.endsWith("\n") ? text : `${text}\n`);
}

/** A GitHub-flavoured markdown table; cells are escaped for pipes. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  const line = (cells: readonly string[]) => `| ${cells.map(esc).join(" | ")} |`;
  return [line(headers), line(headers.map(() => "---")), ...rows.map(line)].join("\n");
}
