// A syncing replica's catch-up from a ready peer of the same shard. The replica was seeded from the
// peer's copy at seq `afterSeq` (its watermark W) and already takes the router's writes. It notes
// its own lastSeq J, then reads the peer's rows after W page by page (tombstones included) and
// applies each under the rule of store.ts applyPeerRow: ours wins when we wrote it after J. It stops
// when the peer has no row after the last one read; the shell then lets the router query it.
import { z } from "zod";
import type { Logger } from "../util/log.js";
import { fingerprintHeader } from "./app.js";
import type { Shard } from "./shard.js";
import type { DecodedPeerRow } from "./store.js";
import { toFloat32 } from "./store.js";

export const PEER_PAGE_ROWS = 512;
const PEER_TIMEOUT_MS = 30_000;

export interface SyncStatus {
  phase: "idle" | "running" | "done" | "failed";
  from?: string;
  afterSeq?: number;
  /** This replica's lastSeq when the catch-up began: rows it wrote after it are never overwritten. */
  joinedAtSeq?: number;
  /** The peer seq read up to, and the peer's newest seq at the last page. */
  readSeq?: number;
  peerLastSeq?: number;
  upserted: number;
  deleted: number;
  skipped: number;
  pages: number;
  error?: string;
}

const peerPage = z.object({
  rows: z.array(
    z.object({
      id: z.string().min(1),
      seq: z.int(),
      deleted: z.boolean(),
      vector: z.string().nullable(),
      metadata: z.record(z.string(), z.unknown()).nullable(),
      text: z.string().nullable(),
    }),
  ),
  lastSeq: z.int(),
});
export type PeerPage = z.infer<typeof peerPage>;

/** A peer page's rows as the store applies them; throws naming the row whose vector is the wrong size. */
export function decodePeerRows(page: PeerPage, dimension: number): DecodedPeerRow[] {
  return page.rows.map((r) => {
    if (r.deleted || r.vector === null) return { id: r.id, vector: null, metadata: null, text: null };
    const bytes = Buffer.from(r.vector, "base64");
    if (bytes.byteLength !== dimension * 4)
      throw new Error(
        `peer row "${r.id}" has a ${bytes.byteLength / 4}-d vector, this shard holds ${dimension}-d ones; sync only from a replica of the same generation`,
      );
    return { id: r.id, vector: toFloat32(bytes), metadata: r.metadata, text: r.text };
  });
}

export class PeerSync {
  private current: SyncStatus = { phase: "idle", upserted: 0, deleted: 0, skipped: 0, pages: 0 };

  constructor(
    private readonly shard: Shard,
    private readonly log: Logger,
  ) {}

  get status(): SyncStatus {
    return { ...this.current };
  }

  /** Starts a catch-up unless one runs; answers its status at once (progress via `status`). */
  start(from: string, afterSeq: number): SyncStatus {
    if (this.current.phase === "running") return this.status;
    this.current = {
      phase: "running",
      from,
      afterSeq,
      joinedAtSeq: this.shard.lastSeq,
      readSeq: afterSeq,
      upserted: 0,
      deleted: 0,
      skipped: 0,
      pages: 0,
    };
    const run = this.current;
    this.log.info("sync: catch-up started", { from, afterSeq, joinedAtSeq: run.joinedAtSeq });
    void this.run(run).then(
      () => {
        run.phase = "done";
        this.log.info("sync: catch-up done", { ...run });
      },
      (err: unknown) => {
        run.phase = "failed";
        run.error = (err as Error).message;
        this.log.warn("sync: catch-up failed; start it again", { ...run });
      },
    );
    return this.status;
  }

  private async run(s: SyncStatus): Promise<void> {
    const { fingerprint, dimension } = this.shard.config;
    const from = s.from!.replace(/\/+$/, "");
    for (;;) {
      const url = `${from}/v1/sync/rows?afterSeq=${s.readSeq}&limit=${PEER_PAGE_ROWS}`;
      const res = await fetch(url, { signal: AbortSignal.timeout(PEER_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`peer ${from} answered ${res.status} to ${url}: ${await res.text()}`);
      const theirs = res.headers.get(fingerprintHeader);
      if (theirs !== fingerprint)
        throw new Error(
          `peer ${from} serves model fingerprint ${theirs}, this replica ${fingerprint}; sync only from a replica of the same generation`,
        );
      const page = peerPage.parse(await res.json());
      s.peerLastSeq = page.lastSeq;
      const last = page.rows[page.rows.length - 1];
      if (!last) return;
      const applied = await this.shard.applyPeerRows(decodePeerRows(page, dimension), s.joinedAtSeq!);
      s.upserted += applied.upserted;
      s.deleted += applied.deleted;
      s.skipped += applied.skipped;
      s.pages++;
      s.readSeq = last.seq;
    }
  }
}
