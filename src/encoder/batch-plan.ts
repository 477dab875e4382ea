// Which queued inputs form the next batch. Pure: the batcher (the shell) owns the queue and calls this
// each time the engine is free.
//
// Cost model: the engine pads every row to the longest one, so a batch costs rows × longest row
// tokens; that padded cost is what `maxBatchTokens` bounds (as TEI does). Rules, in order:
//   1. the queue head always runs, even alone over budget (it cannot get any cheaper by waiting);
//   2. overdue items (passed over `maxPasses` times) join in FIFO order; the first overdue item that
//      does not fit ends the window, so nothing behind it can overtake it again;
//   3. the rest of the window (the first `window` items) joins by length closest to the head's,
//      FIFO on ties, each only if it still fits.
// Fairness bound: an item is overtaken by later items in at most `maxPasses` batches; with
// maxPasses = 0 this is TEI's strict FIFO ("close when the next would exceed the budget").

export interface PlanItem {
  /** Token count of the input (after truncation), special tokens included. */
  readonly tokens: number;
  /** How many batches have taken a later item while this one stayed queued. */
  readonly passes: number;
}

export interface PlanLimits {
  readonly maxBatchTokens: number;
  readonly maxBatchRequests: number;
  /** How many queue items (head included) are considered for length grouping. */
  readonly window: number;
  readonly maxPasses: number;
}

/** Indices into `queue` of the next batch, ascending; empty only when the queue is empty. */
export function planBatch(queue: readonly PlanItem[], limits: PlanLimits): number[] {
  const head = queue[0];
  if (head === undefined) return [];
  const chosen = [0];
  let longest = head.tokens;
  const fits = (tokens: number): boolean =>
    chosen.length < limits.maxBatchRequests &&
    (chosen.length + 1) * Math.max(longest, tokens) <= limits.maxBatchTokens;
  const take = (i: number, tokens: number): void => {
    chosen.push(i);
    longest = Math.max(longest, tokens);
  };

  let end = Math.min(queue.length, Math.max(1, limits.window));
  const taken = new Set<number>([0]);
  for (let i = 1; i < end; i++) {
    const item = queue[i]!;
    if (item.passes < limits.maxPasses) continue;
    if (!fits(item.tokens)) {
      end = i;
      break;
    }
    take(i, item.tokens);
    taken.add(i);
  }

  const candidates: number[] = [];
  for (let i = 1; i < end; i++) if (!taken.has(i)) candidates.push(i);
  candidates.sort(
    (a, b) => Math.abs(queue[a]!.tokens - head.tokens) - Math.abs(queue[b]!.tokens - head.tokens) || a - b,
  );
  for (const i of candidates) {
    if (chosen.length >= limits.maxBatchRequests) break;
    const tokens = queue[i]!.tokens;
    if (fits(tokens)) take(i, tokens);
  }
  return chosen.sort((a, b) => a - b);
}

/** Indices of items the plan passed over: still queued, but some later item was taken. */
export function passedOver(chosen: readonly number[], queueLength: number): number[] {
  const last = chosen[chosen.length - 1];
  if (last === undefined) return [];
  const set = new Set(chosen);
  const out: number[] = [];
  for (let i = 0; i < Math.min(last, queueLength); i++) if (!set.has(i)) out.push(i);
  return out;
}

/** Padded token cost of running these token counts as one batch. */
export function paddedCost(tokens: readonly number[]): number {
  let longest = 0;
  for (const t of tokens) longest = Math.max(longest, t);
  return tokens.length * longest;
}
