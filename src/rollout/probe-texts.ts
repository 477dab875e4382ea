// Probe traffic: synthetic requests the operator (or serve) sends to a candidate whose real traffic
// is too thin for a verdict, so a low-traffic service still concludes instead of stalling.

/**
 * Built-in probe inputs: short and long, questions and statements, a few domains, some digits and
 * punctuation, so the probe exercises tokenisation and batching roughly like real text does.
 */
export const DEFAULT_PROBE_TEXTS: readonly string[] = [
  "How do I reset my password?",
  "The quarterly report shows revenue grew by 12% compared with last year.",
  "What is the capital of Australia?",
  "Kubernetes schedules pods onto nodes based on resource requests and affinity rules.",
  "Preheat the oven to 180 degrees and bake the bread for forty minutes.",
  "Return policy for items bought during the holiday sale",
  "The patient reported mild headaches after starting the new medication.",
  "Which hiking trails near the lake are open in winter?",
  "An index maps each term to the documents that contain it.",
  "Please cancel my subscription at the end of this billing period.",
  "The train to Edinburgh leaves from platform 4 at 09:35.",
  "Compare the battery life of the two laptops under heavy use.",
  "Photosynthesis converts light energy into chemical energy stored in glucose.",
  "Error 502 when uploading large files through the gateway",
  "She wrote the novel over three summers while living by the sea.",
  "How many tablespoons are in a quarter cup?",
  "The committee approved the budget after a long debate about school funding.",
  "Vector search finds the nearest neighbours of a query embedding.",
  "Is it safe to swim here after heavy rain?",
  "Shipping to Canada usually takes five to seven business days.",
];

/**
 * The texts to probe with, by the precedence: the index's golden-set queries when it has
 * them, else the policy's `probe.texts`, else the built-in set.
 */
export function probeTexts(options: {
  readonly golden?: readonly string[];
  readonly configured?: readonly string[];
}): readonly string[] {
  if (options.golden && options.golden.length > 0) return options.golden;
  if (options.configured && options.configured.length > 0) return options.configured;
  return DEFAULT_PROBE_TEXTS;
}

/**
 * `count` probe inputs for the check numbered `round` (any integer, e.g. the number of checks so
 * far), cycling through `texts` so successive checks do not repeat the same few inputs; deterministic.
 */
export function probeBatch(texts: readonly string[], count: number, round = 0): string[] {
  if (texts.length === 0 || count <= 0) return [];
  const start = (((round * count) % texts.length) + texts.length) % texts.length;
  return Array.from({ length: count }, (_, i) => texts[(start + i) % texts.length] as string);
}
