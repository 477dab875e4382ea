// A small reader of the Prometheus text exposition format (version 0.0.4), limited to what the
// rollout analysis needs from our encoders' and routers' /metrics: samples with labels, so counters
// and histograms (*_bucket / *_sum / *_count) can be summed and differenced. HELP, TYPE and other
// comments are skipped; timestamps are ignored; exemplars and OpenMetrics-only syntax are not read.

export interface Sample {
  /** Full sample name, e.g. `embedops_encoder_request_duration_seconds_bucket`. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** May be +Inf, -Inf or NaN, as the format allows. */
  readonly value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

// Case-insensitive like Go's strconv.ParseFloat, which Prometheus uses: prom-client writes "Nan".
const SPECIAL: Record<string, number> = {
  nan: Number.NaN,
  inf: Number.POSITIVE_INFINITY,
  "+inf": Number.POSITIVE_INFINITY,
  "-inf": Number.NEGATIVE_INFINITY,
  infinity: Number.POSITIVE_INFINITY,
  "+infinity": Number.POSITIVE_INFINITY,
  "-infinity": Number.NEGATIVE_INFINITY,
};

function parseValue(text: string): number {
  const special = SPECIAL[text.toLowerCase()];
  if (special !== undefined) return special;
  const v = Number(text);
  if (text === "" || Number.isNaN(v)) throw new Error(`"${text}" is not a sample value`);
  return v;
}

/** Labels from just after `{`; returns them and the index after the closing `}`. */
function parseLabels(line: string, start: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let i = start;
  const skipSpace = () => {
    while (line[i] === " " || line[i] === "\t") i++;
  };
  for (;;) {
    skipSpace();
    if (line[i] === "}") return [labels, i + 1];
    const name = LABEL_NAME.exec(line.slice(i))?.[0];
    if (!name) throw new Error(`expected a label name at column ${i + 1}`);
    i += name.length;
    skipSpace();
    if (line[i] !== "=") throw new Error(`expected "=" after label ${name}`);
    i++;
    skipSpace();
    if (line[i] !== '"') throw new Error(`expected a quoted value for label ${name}`);
    i++;
    let value = "";
    for (;;) {
      const c = line[i];
      if (c === undefined) throw new Error(`unterminated value of label ${name}`);
      i++;
      if (c === '"') break;
      if (c === "\\") {
        const e = line[i++];
        value += e === "n" ? "\n" : (e ?? "");
      } else value += c;
    }
    labels[name] = value;
    skipSpace();
    if (line[i] === ",") i++;
    else if (line[i] !== "}") throw new Error(`expected "," or "}" after label ${name}`);
  }
}

/**
 * Every sample in a /metrics body. A malformed line throws naming its line number, so a scrape of
 * something that is not a Prometheus endpoint fails loudly instead of reading as "no traffic".
 */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] ?? "").trim();
    if (line === "" || line.startsWith("#")) continue;
    try {
      const name = NAME.exec(line)?.[0];
      if (!name) throw new Error("expected a metric name");
      let i = name.length;
      let labels: Record<string, string> = {};
      if (line[i] === "{") [labels, i] = parseLabels(line, i + 1);
      const [value] = line.slice(i).trim().split(/\s+/);
      samples.push({ name, labels, value: parseValue(value ?? "") });
    } catch (err) {
      throw new Error(`/metrics line ${n + 1}: ${(err as Error).message}: ${line.slice(0, 120)}`);
    }
  }
  return samples;
}

/** Identity of a series: name plus sorted labels, leaving out `omit` (e.g. "le" for buckets). */
export function seriesKey(sample: Sample, omit: readonly string[] = []): string {
  const labels = Object.keys(sample.labels)
    .filter((k) => !omit.includes(k))
    .sort()
    .map((k) => `${k}=${JSON.stringify(sample.labels[k])}`);
  return `${sample.name}{${labels.join(",")}}`;
}
