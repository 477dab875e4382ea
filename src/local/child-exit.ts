// What `embedops serve` makes of a child that exited: why it said it stopped (from the last lines
// it wrote to stderr), and whether starting it again can help. Pure; the shell is child-process.ts.

/** How many of a child's last stderr lines are kept to explain its exit. */
export const stderrTailLines = 20;

/** `tail` with `line` appended, keeping the last `max` lines. */
export function keepTail(tail: readonly string[], line: string, max = stderrTailLines): string[] {
  const next = [...tail, line];
  return next.length > max ? next.slice(next.length - max) : next;
}

/**
 * The reason a child gave for exiting, from its last stderr lines: its usage error (`embedops: …`,
 * printed before exit 2), else its last error-level log line (`msg: err.message`). Undefined when
 * it said nothing (killed by a signal, say).
 */
export function exitReason(tail: readonly string[]): string | undefined {
  for (let i = tail.length - 1; i >= 0; i--) {
    const line = (tail[i] ?? "").trim();
    if (line.startsWith("embedops: ")) return line.slice("embedops: ".length);
    const logged = errorLogReason(line);
    if (logged !== undefined) return logged;
  }
  return undefined;
}

function errorLogReason(line: string): string | undefined {
  if (!line.startsWith("{")) return undefined;
  let parsed: { level?: unknown; msg?: unknown; err?: unknown };
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    return undefined;
  }
  if (parsed.level !== "error" || typeof parsed.msg !== "string") return undefined;
  const err = parsed.err as { message?: unknown } | undefined;
  return typeof err?.message === "string" ? `${parsed.msg}: ${err.message}` : parsed.msg;
}

/**
 * Whether starting a child again can help. Exit code 2 is a refusal — a bad flag, or a data dir
 * that belongs to another generation or is held by another process — and the same start would be
 * refused again, every backoff period, forever.
 */
export function worthRestarting(code: number | null): boolean {
  return code !== 2;
}
