// The one-line progress report `embedops ingest` redraws: bar, counts, rate and ETA.

export interface Progress {
  done: number;
  total: number;
  elapsedMs: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export function formatProgress(p: Progress, width = 30, unit = "docs"): string {
  const fraction = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
  const filled = Math.round(fraction * width);
  const bar = `${"#".repeat(filled)}${".".repeat(width - filled)}`;
  const seconds = p.elapsedMs / 1000;
  const rate = seconds > 0 ? p.done / seconds : 0;
  const eta = rate > 0 ? (p.total - p.done) / rate : Number.NaN;
  const pct = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `[${bar}] ${p.done.toLocaleString("en-US")}/${p.total.toLocaleString("en-US")} ${pct}  ${rate.toFixed(0)} ${unit}/s  ETA ${p.done >= p.total ? "0s" : formatDuration(eta)}`;
}
