// Shared CLI conventions for every role: flags beat EMBEDOPS_* environment variables beat defaults.
import { existsSync } from "node:fs";

export class UsageError extends Error {
  override name = "UsageError";
}

/** The default bind address: 0.0.0.0 inside a container (so the Service reaches the pod), else loopback. */
export function defaultHost(): string {
  const inContainer = existsSync("/.dockerenv") || process.env.KUBERNETES_SERVICE_HOST !== undefined;
  return inContainer ? "0.0.0.0" : "127.0.0.1";
}

/** EMBEDOPS_<NAME> for a flag name: "model-dir" -> EMBEDOPS_MODEL_DIR. */
export function envName(flag: string): string {
  return `EMBEDOPS_${flag.toUpperCase().replace(/-/g, "_")}`;
}

export function pick(values: Record<string, unknown>, flag: string): string | undefined {
  const v = values[flag];
  if (typeof v === "string" && v !== "") return v;
  const e = process.env[envName(flag)];
  return e !== undefined && e !== "" ? e : undefined;
}

export function pickString(values: Record<string, unknown>, flag: string, fallback: string): string {
  return pick(values, flag) ?? fallback;
}

export function requireString(values: Record<string, unknown>, flag: string): string {
  const v = pick(values, flag);
  if (v === undefined) throw new UsageError(`--${flag} is required (or set ${envName(flag)})`);
  return v;
}

export function pickInt(
  values: Record<string, unknown>,
  flag: string,
  fallback: number,
  min = Number.MIN_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = pick(values, flag);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return n;
}

export function pickNumber(values: Record<string, unknown>, flag: string, fallback: number, min = 0): number {
  const raw = pick(values, flag);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min)
    throw new UsageError(`--${flag} must be a number >= ${min}, got "${raw}"`);
  return n;
}

/** The flags every server role takes. */
export const serverFlags = {
  host: { type: "string" },
  port: { type: "string" },
} as const;

export function serverAddress(values: Record<string, unknown>): { host: string; port: number } {
  return { host: pickString(values, "host", defaultHost()), port: pickInt(values, "port", 8080, 0, 65535) };
}
