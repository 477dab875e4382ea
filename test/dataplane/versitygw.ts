// A real S3-compatible server for the snapshot-store tests: versitygw (built by
// scripts/install-versitygw.sh, cached) with its posix backend on a temp directory, on a free port,
// with a random root access key and secret, and one bucket created over S3. No mocks: the store
// sees real multipart uploads, real listings and real S3 error codes.
//
// Flags used (from `versitygw --help` and `versitygw posix --help`, v1.8.0):
//   --port 127.0.0.1:<port>   listen address (default ":7070", all interfaces)
//   --health /health          GET /health answers 200 once the gateway serves: the readiness probe
//   --quiet                   no per-request log lines on stdout
//   posix <dir>               backend: each directory under <dir> is a bucket, objects are files;
//                             needs a filesystem with user xattrs (ext4, xfs, tmpfs on Linux >= 6.6)
// The root credentials go in through ROOT_ACCESS_KEY_ID / ROOT_SECRET_ACCESS_KEY (the env forms of
// --access / --secret), so they are not in the process list. Without --iam-dir the gateway runs in
// single-account mode: the root key owns every bucket.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { freePort } from "../integration/harness/processes.js";
import { ROOT } from "./router-harness.js";

export interface Versitygw {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  readonly bucket: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** The posix backend's top directory; the bucket is the folder <dir>/<bucket>. */
  readonly dir: string;
  stop(): Promise<void>;
}

/** The versitygw binary: built from the Go module proxy on first use, then cached. */
export function versitygwBinary(): string {
  const out = execFileSync("bash", [join(ROOT, "scripts", "install-versitygw.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  return out.trim().split("\n").at(-1)!;
}

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

export async function startVersitygw(bucket = "embedops-snapshots"): Promise<Versitygw> {
  const bin = versitygwBinary();
  const work = await mkdtemp(join(tmpdir(), "embedops-versitygw-"));
  const dir = join(work, "data");
  await mkdir(dir);
  const logFile = join(work, "versitygw.log");
  const port = await freePort();
  const credentials = {
    accessKeyId: `test${randomBytes(6).toString("hex")}`,
    secretAccessKey: randomBytes(24).toString("base64url"),
  };
  const fd = openSync(logFile, "a");
  const child = spawn(bin, ["--port", `127.0.0.1:${port}`, "--health", "/health", "--quiet", "posix", dir], {
    stdio: ["ignore", fd, fd],
    env: {
      ...process.env,
      ROOT_ACCESS_KEY_ID: credentials.accessKeyId,
      ROOT_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
  });
  closeSync(fd);
  live.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      live.delete(child);
      resolve();
    }),
  );
  const log = () => readFileSync(logFile, "utf8").slice(-4000);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    await rm(work, { recursive: true, force: true });
  };

  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`versitygw exited (${child.exitCode}):\n${log()}`);
    const up = await fetch(`${endpoint}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`versitygw did not answer on ${endpoint}/health:\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  const client = new S3Client({ endpoint, forcePathStyle: true, region: "us-east-1", credentials });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    await stop();
    throw new Error(`versitygw could not create bucket ${bucket}: ${(err as Error).message}\n${log()}`);
  } finally {
    client.destroy();
  }
  return { endpoint, bucket, credentials, dir, stop };
}
