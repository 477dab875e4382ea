// `embedops fetch-model`: the encoder pod's init container. Downloads a model archive (.tar.gz),
// checks its sha256, unpacks it into --model-dir, and checks model.onnx against --onnx-sha256, so
// the encoder only ever starts on the bytes the EmbeddingModel pins. Without --url it only checks.
//
// The image has no curl; Node's fetch streams the archive to a file inside the (emptyDir) model
// directory — the root filesystem is read-only — and Debian's tar unpacks it.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { parseArgs, promisify } from "node:util";
import { requireString, UsageError } from "./options.js";

const HELP = `usage: embedops fetch-model --model-dir DIR [--url URL --archive-sha256 HEX] [--onnx-sha256 HEX]

  --url URL              .tar.gz of the model directory (model.onnx, tokenizer.json, ...)
  --archive-sha256 HEX   sha256 of the archive; required with --url
  --model-dir DIR        where the archive is unpacked, or the directory to check
  --onnx-sha256 HEX      sha256 of DIR/model.onnx (EmbeddingModel spec.source.sha256)
`;

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function download(url: string, file: string): Promise<void> {
  const res = await fetch(url);
  if (!res.ok || !res.body) {
    throw new Error(
      `GET ${url} answered HTTP ${res.status}; check spec.source.http.url and that the server is reachable`,
    );
  }
  await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(file));
}

function expectSha(what: string, actual: string, expected: string, fix: string): void {
  if (actual !== expected.toLowerCase()) {
    throw new Error(`${what} has sha256 ${actual}, the EmbeddingModel pins ${expected}; ${fix}`);
  }
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: "string" },
      "archive-sha256": { type: "string" },
      "model-dir": { type: "string" },
      "onnx-sha256": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const modelDir = requireString(values, "model-dir");
  if (values.url) {
    const expected = values["archive-sha256"];
    if (!expected)
      throw new UsageError("--archive-sha256 is required with --url: an unchecked download never serves");
    const archive = join(modelDir, ".download.tar.gz");
    await download(values.url, archive);
    expectSha(values.url, await sha256File(archive), expected, "fix spec.source.http.sha256 or the archive");
    await promisify(execFile)("tar", ["-xzf", archive, "-C", modelDir, "--no-same-owner"]);
    await rm(archive);
  }
  const onnx = values["onnx-sha256"];
  if (onnx) {
    const file = join(modelDir, "model.onnx");
    expectSha(file, await sha256File(file), onnx, "fix spec.source.sha256 or the model files");
  }
  process.stdout.write(`model directory ${modelDir} is ready\n`);
}
