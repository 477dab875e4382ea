// Replica seeding's HTTP (the decisions are in replica-seeding.ts): what a new replica and the routers
// say, and the catch-up call. A new replica answers /readyz, its seed watermark (GET /v1/meta/
// seeded-from, written by `embedops snapshot seed-replica`) and GET /v1/sync; POST /v1/sync {from,
// afterSeq} starts its catch-up from replica 0. The routers are asked on their open /metrics (the
// operator holds no API key for /v1/stats): a router whose embedops_router_replica_live lists the
// replica runs a config that has it, and the operator only ever lists a new replica as syncing.

import { describeError } from "../../src/kube/errors.js";
import { HttpClient } from "../../src/router/http-client.js";
import type { ReplicaObservation } from "./replica-seeding.js";

export interface ReplicaTarget {
  /** The new replica's URL (its headless Service name). */
  readonly url: string;
  /** Router pod URLs. */
  readonly routers: readonly string[];
}

export interface ReplicaIo {
  observe(t: ReplicaTarget): Promise<ReplicaObservation>;
  startSync(url: string, from: string, afterSeq: number): Promise<void>;
}

const TIMEOUT_MS = 3000;

export function httpReplicaIo(http = new HttpClient()): ReplicaIo {
  const get = async (url: string): Promise<{ status: number; text: string }> => {
    const res = await http.request({ method: "GET", url, timeoutMs: TIMEOUT_MS });
    return { status: res.status, text: res.body.toString("utf8") };
  };
  const json = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  };
  return {
    async observe(t) {
      const ready = await get(`${t.url}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (!ready) return { ready: false, routersWriteToIt: false };
      const meta = await get(`${t.url}/v1/meta/seeded-from`).catch(() => undefined);
      const seq = (json(meta?.text ?? "") as { value?: { seq?: unknown } } | undefined)?.value?.seq;
      const syncBody = json((await get(`${t.url}/v1/sync`).catch(() => undefined))?.text ?? "") as
        | { phase?: string; afterSeq?: number; upserted?: number; deleted?: number; error?: string }
        | undefined;
      const phases = ["idle", "running", "done", "failed"] as const;
      const phase = phases.find((p) => p === syncBody?.phase);
      const sync =
        phase !== undefined
          ? {
              phase,
              rows: (syncBody?.upserted ?? 0) + (syncBody?.deleted ?? 0),
              ...(syncBody?.afterSeq !== undefined ? { afterSeq: syncBody.afterSeq } : {}),
              ...(syncBody?.error !== undefined ? { error: syncBody.error } : {}),
            }
          : undefined;
      const routers = await routersListing(t, get);
      return {
        ready,
        ...(typeof seq === "number" && Number.isSafeInteger(seq) ? { seededAtSeq: seq } : {}),
        ...(sync ? { sync } : {}),
        routersWriteToIt: routers.ok,
        ...(routers.why ? { routersWhy: routers.why } : {}),
      };
    },

    async startSync(url, from, afterSeq) {
      const res = await http.request({
        method: "POST",
        url: `${url}/v1/sync`,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ from, afterSeq }),
        timeoutMs: TIMEOUT_MS,
      });
      if (res.status !== 202)
        throw new Error(
          `POST ${url}/v1/sync answered ${res.status}: ${res.body.toString("utf8").slice(0, 300)}`,
        );
    },
  };
}

async function routersListing(
  t: ReplicaTarget,
  get: (url: string) => Promise<{ status: number; text: string }>,
): Promise<{ ok: boolean; why?: string }> {
  if (t.routers.length === 0) return { ok: false, why: "no router pod has an IP yet" };
  const missing: string[] = [];
  for (const router of t.routers) {
    try {
      const { text } = await get(`${router}/metrics`);
      if (!text.includes(`replica="${t.url}"`)) missing.push(`${router} does not list it yet`);
    } catch (err) {
      missing.push(`${router}: ${describeError(err)}`);
    }
  }
  return missing.length === 0 ? { ok: true } : { ok: false, why: missing.join("; ") };
}
