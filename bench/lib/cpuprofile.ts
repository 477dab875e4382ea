// Summaries of V8 .cpuprofile files (node --cpu-prof): where the sampled time went, by function and
// by module, so a benchmark report can say what a server spent its CPU on.
import { readFileSync } from "node:fs";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  startTime: number;
  endTime: number;
}

export interface FrameShare {
  name: string;
  /** Share of all samples, 0..1. */
  share: number;
  ms: number;
}

export interface ProfileSummary {
  totalMs: number;
  samples: number;
  topFunctions: FrameShare[];
  byModule: FrameShare[];
}

/** Which module a frame belongs to: an npm package, node's internals, our source tree, or V8's buckets. */
export function moduleOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === "") {
    // V8's pseudo-frames, plus native functions without a script (e.g. onnxruntime's binding).
    return functionName.startsWith("(") ? functionName : `native ${functionName || "(anonymous)"}`;
  }
  if (url.startsWith("node:")) return "node internals";
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1] ?? ""}` : (rest[0] ?? url);
  }
  const src = url.indexOf("/src/");
  if (src >= 0) return `src/${url.slice(src + 5).split("/")[0] ?? ""}`;
  return url.replace(/^file:\/\//, "");
}

function topShares(map: Map<string, number>, total: number, msPerSample: number, n: number): FrameShare[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, hits]) => ({ name, share: hits / total, ms: hits * msPerSample }));
}

export function summarizeProfile(path: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const total = profile.samples.length;
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const msPerSample = total > 0 ? totalMs / total : 0;
  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  for (const [id, h] of hits) {
    const node = byId.get(id);
    if (!node) continue;
    const f = node.callFrame;
    const where =
      f.url === "" ? "" : ` ${f.url.replace(/^.*\/(node_modules|src|bench)\//, "$1/")}:${f.lineNumber + 1}`;
    const key = `${f.functionName || "(anonymous)"}${where}`;
    fn.set(key, (fn.get(key) ?? 0) + h);
    const m = moduleOf(f);
    mod.set(m, (mod.get(m) ?? 0) + h);
  }
  return {
    totalMs,
    samples: total,
    topFunctions: topShares(fn, Math.max(1, total), msPerSample, top),
    byModule: topShares(mod, Math.max(1, total), msPerSample, top),
  };
}
