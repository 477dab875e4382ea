// Before a sweep, a server that just ingested is often still busy (checkpoints, compaction, JIT):
// run probe rounds until one is no faster than 0.8 × the best so far (after at least 3), pausing
// between rounds. A round that reports "unavailable" is waited out and counted, not taken as a time.

export interface Settled {
  seconds: number;
  unavailableSeconds: number;
}

export async function settleUntilSteady(
  round: () => Promise<"ok" | "unavailable">,
  opts: { pauseMs?: number; maxRounds?: number; maxUnavailableMs?: number } = {},
): Promise<Settled> {
  const pauseMs = opts.pauseMs ?? 3000;
  const maxRounds = opts.maxRounds ?? 40;
  const maxUnavailableMs = opts.maxUnavailableMs ?? 180_000;
  const w0 = performance.now();
  let best = Number.POSITIVE_INFINITY;
  let unavailableMs = 0;
  for (let done = 0; done < maxRounds; ) {
    const t = performance.now();
    if ((await round()) === "unavailable") {
      await new Promise((r) => setTimeout(r, 1000));
      unavailableMs += performance.now() - t;
      if (unavailableMs > maxUnavailableMs)
        throw new Error(`still unavailable after ${(maxUnavailableMs / 1000).toFixed(0)} s of settling`);
      continue;
    }
    const ms = performance.now() - t;
    if (ms > best * 0.8 && done >= 2) break;
    best = Math.min(best, ms);
    done++;
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  return { seconds: (performance.now() - w0) / 1000, unavailableSeconds: unavailableMs / 1000 };
}
