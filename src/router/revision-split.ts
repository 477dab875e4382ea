// The split of encoder calls between the stable and the candidate (canary) revision of a model. It
// is deterministic and exact, not a coin flip: a canary analysis compares error rates and latencies
// over a few hundred calls, and a random split at 10 % drifts by ±3 % over 1,000 calls (one sigma)
// for no reason. The rule is an accumulator: call n goes to the candidate when
// floor((n+1)·w/100) > floor(n·w/100), so after N calls exactly floor(N·w/100) went to it, any N
// consecutive calls hold N·w/100 of them ±1, and the candidate's calls are spread evenly (at 10 %:
// calls 9, 19, 29, …), never in bursts. Weights are integer percents, so the pattern repeats every
// 100 calls and the position is kept modulo 100.

export const SPLIT_PERIOD = 100;

/** Whether call n (0-based, counted since the weight was set) goes to the candidate at `weight` %. */
export function toCandidate(n: number, weight: number): boolean {
  if (!Number.isInteger(weight) || weight < 0 || weight > 100)
    throw new RangeError(`weight must be an integer 0-100, got ${weight}`);
  const i = n % SPLIT_PERIOD;
  return Math.floor(((i + 1) * weight) / 100) > Math.floor((i * weight) / 100);
}

/** How many of the calls start, start+1, …, start+count-1 go to the candidate. */
export function candidateCalls(count: number, weight: number, start = 0): number {
  let n = 0;
  for (let i = 0; i < count; i++) if (toCandidate(start + i, weight)) n++;
  return n;
}

/** The split's running position: one next() per embedding call, in the order calls are made. */
export class WeightedSplit {
  private n: number;

  /** `position` carries the count over from a previous split of the same weight (a config reload). */
  constructor(
    readonly weight: number,
    position = 0,
  ) {
    toCandidate(0, weight);
    this.n = ((position % SPLIT_PERIOD) + SPLIT_PERIOD) % SPLIT_PERIOD;
  }

  get position(): number {
    return this.n;
  }

  next(): boolean {
    const candidate = toCandidate(this.n, this.weight);
    this.n = (this.n + 1) % SPLIT_PERIOD;
    return candidate;
  }
}
