// The snapshot store on an S3-compatible bucket (AWS S3, versitygw, MinIO, Ceph RGW, ...): a custom
// endpoint with path-style addressing, files streamed as multipart uploads of a bounded part size,
// errors translated into what to fix. The credentials come from the caller (the Secret named in
// spec.snapshot.store.s3.secretRef) and appear in no message: errors name the endpoint, bucket and
// key only.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { writeFileAtomically } from "./atomic-file.js";
import { digesting } from "./file-digest.js";
import {
  assertKey,
  assertPrefix,
  type HeadResult,
  MAX_JSON_BYTES,
  type PutProgress,
  type PutResult,
  type SnapshotStore,
  SnapshotStoreError,
  type StoredObject,
  type StreamPutResult,
  tooLarge,
} from "./store.js";

/** S3's smallest allowed part (except the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

export interface S3StoreOptions {
  /** spec.snapshot.store.s3.endpoint, e.g. https://s3.eu-west-1.amazonaws.com. */
  readonly endpoint: string;
  readonly bucket: string;
  /** Default us-east-1: S3-compatible servers accept any region in the signature. */
  readonly region?: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Multipart part size in bytes; default 8 MiB, at least MIN_PART_SIZE. Files up to one part go in one PUT. */
  readonly partSize?: number;
  /** Parts in flight; memory held by an upload is about partSize * queueSize. Default 2. */
  readonly queueSize?: number;
  /** Attempts per request, retries included (the SDK's backoff). Default 3. */
  readonly maxAttempts?: number;
}

interface AwsError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "ECONNRESET",
  "EHOSTUNREACH",
]);
const DENIED = new Set(["AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden"]);

export class S3Store implements SnapshotStore {
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly endpoint: string;
  private readonly partSize: number;
  private readonly queueSize: number;

  constructor(opts: S3StoreOptions) {
    this.bucket = opts.bucket;
    this.endpoint = opts.endpoint;
    this.location = `s3://${opts.bucket}/`;
    this.partSize = opts.partSize ?? 8 * 1024 * 1024;
    this.queueSize = opts.queueSize ?? 2;
    if (this.partSize < MIN_PART_SIZE)
      throw new Error(`S3 part size ${this.partSize} is below S3's minimum of ${MIN_PART_SIZE} bytes`);
    this.client = new S3Client({
      endpoint: opts.endpoint,
      forcePathStyle: true,
      region: opts.region ?? "us-east-1",
      credentials: {
        accessKeyId: opts.credentials.accessKeyId,
        secretAccessKey: opts.credentials.secretAccessKey,
      },
      maxAttempts: opts.maxAttempts ?? 3,
      // Checksums only where S3 requires them: several S3-compatible servers refuse the SDK's default
      // streaming CRC32 trailers, and every file is checked end to end against the manifest's sha256.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      requestHandler: { connectionTimeout: 10_000 },
    });
  }

  /** Closes the client's sockets. */
  destroy(): void {
    this.client.destroy();
  }

  private url(key?: string): string {
    return `s3://${this.bucket}/${key ?? ""}`;
  }

  /** Translates an SDK error into one that says what to fix. `key` is undefined for bucket-wide calls. */
  private fail(err: unknown, op: string, key?: string): SnapshotStoreError {
    if (err instanceof SnapshotStoreError) return err;
    const e = (err ?? {}) as AwsError;
    const code = e.Code ?? e.name ?? e.code ?? "Error";
    const status = e.$metadata?.httpStatusCode;
    const what = `${op} ${this.url(key)} at endpoint ${this.endpoint}`;
    if (code === "NoSuchBucket")
      return new SnapshotStoreError(
        "StoreMissing",
        `bucket ${this.bucket} does not exist at endpoint ${this.endpoint}; create it or fix spec.snapshot.store.s3.bucket`,
      );
    if (code === "NoSuchKey" || (status === 404 && key !== undefined))
      return new SnapshotStoreError(
        "NoSuchKey",
        `snapshot object ${this.url(key)} does not exist at endpoint ${this.endpoint}`,
      );
    if (DENIED.has(code) || status === 403)
      return new SnapshotStoreError(
        "AccessDenied",
        `${what} was denied (${code === "Unknown" || code === "Error" ? `HTTP ${status}` : code}); check ` +
          `AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the Secret named by spec.snapshot.store.s3.secretRef ` +
          `and that key's permissions on the bucket`,
      );
    if (UNREACHABLE.has(e.code ?? "") || code === "TimeoutError")
      return new SnapshotStoreError(
        "Unreachable",
        `cannot reach S3 endpoint ${this.endpoint} (${e.code ?? code}) to ${op} ${this.url(key)}; ` +
          `check spec.snapshot.store.s3.endpoint and the network path to it`,
      );
    return new SnapshotStoreError(
      "Failed",
      `${what} failed: ${code}${status === undefined ? "" : ` (HTTP ${status})`}: ${e.message ?? String(err)}`,
    );
  }

  async putFile(key: string, localPath: string, onProgress?: (p: PutProgress) => void): Promise<PutResult> {
    assertKey(key);
    const local = await stat(localPath).catch(() => undefined);
    if (!local?.isFile())
      throw new SnapshotStoreError(
        "Failed",
        `cannot put ${this.url(key)}: local file ${localPath} does not exist`,
      );
    const parts = await this.upload(
      key,
      createReadStream(localPath, { highWaterMark: 1024 * 1024 }),
      onProgress,
    );
    return { bytes: local.size, parts };
  }

  async putStream(
    key: string,
    body: Readable,
    onProgress?: (p: PutProgress) => void,
  ): Promise<StreamPutResult> {
    assertKey(key);
    const d = digesting(body);
    const parts = await this.upload(key, d.stream, onProgress);
    return { ...d.digest(), parts };
  }

  /** A multipart upload of bounded parts; returns how many parts went up. */
  private async upload(key: string, body: Readable, onProgress?: (p: PutProgress) => void): Promise<number> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    let parts = 1;
    upload.on("httpUploadProgress", (p) => {
      parts = Math.max(parts, p.part ?? 1);
      onProgress?.({ loaded: p.loaded ?? 0, part: p.part ?? 1 });
    });
    try {
      await upload.done();
    } catch (err) {
      throw this.fail(err, "put", key);
    }
    return parts;
  }

  private async getBody(key: string): Promise<{ body: Readable; length: number | undefined }> {
    assertKey(key);
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!(r.Body instanceof Readable))
        throw new SnapshotStoreError("Failed", `get ${this.url(key)}: the response has no body stream`);
      return { body: r.Body, length: r.ContentLength };
    } catch (err) {
      throw this.fail(err, "get", key);
    }
  }

  async getFile(key: string, localPath: string): Promise<{ bytes: number; sha256: string }> {
    const { body, length } = await this.getBody(key);
    const d = digesting(body);
    const bytes = await writeFileAtomically(localPath, d.stream).catch((err: unknown) => {
      throw this.fail(err, "download", key);
    });
    if (length !== undefined && bytes !== length)
      throw new SnapshotStoreError(
        "Failed",
        `download of ${this.url(key)} from ${this.endpoint} ended after ${bytes} of ${length} bytes`,
      );
    return { bytes, sha256: d.digest().sha256 };
  }

  async list(prefix: string): Promise<StoredObject[]> {
    assertPrefix(prefix);
    const out: StoredObject[] = [];
    try {
      const pages = paginateListObjectsV2(
        { client: this.client },
        { Bucket: this.bucket, ...(prefix === "" ? {} : { Prefix: prefix }) },
      );
      for await (const page of pages) {
        for (const o of page.Contents ?? []) {
          if (o.Key !== undefined) out.push({ key: o.Key, bytes: o.Size ?? 0 });
        }
      }
    } catch (err) {
      throw this.fail(err, "list", prefix === "" ? undefined : prefix);
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async deletePrefix(prefix: string): Promise<number> {
    const objects = await this.list(prefix);
    // DeleteObjects takes at most 1000 keys per request.
    for (let i = 0; i < objects.length; i += 1000) {
      const batch = objects.slice(i, i + 1000);
      let errors: { Key?: string; Code?: string; Message?: string }[];
      try {
        const r = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((o) => ({ Key: o.key })), Quiet: true },
          }),
        );
        errors = r.Errors ?? [];
      } catch (err) {
        throw this.fail(err, "delete under", prefix);
      }
      const first = errors[0];
      if (first !== undefined)
        throw this.fail(
          {
            Code: first.Code,
            message: `${errors.length} objects not deleted, first: ${first.Message ?? ""}`,
          },
          "delete",
          first.Key,
        );
    }
    return objects.length;
  }

  async putJson(key: string, value: unknown): Promise<void> {
    assertKey(key);
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: JSON.stringify(value, null, 2) + "\n",
          ContentType: "application/json",
        }),
      );
    } catch (err) {
      throw this.fail(err, "put", key);
    }
  }

  async getJson(key: string): Promise<unknown> {
    const { body, length } = await this.getBody(key);
    if (length !== undefined && length > MAX_JSON_BYTES) {
      body.destroy();
      throw tooLarge(key, this.location);
    }
    const chunks: Buffer[] = [];
    try {
      for await (const c of body) chunks.push(c as Buffer);
    } catch (err) {
      throw this.fail(err, "get", key);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch (err) {
      throw new SnapshotStoreError(
        "InvalidJson",
        `snapshot object ${this.url(key)} at endpoint ${this.endpoint} is not JSON (${(err as Error).message}); ` +
          `it is damaged or not a manifest`,
      );
    }
  }

  async head(key: string): Promise<HeadResult> {
    assertKey(key);
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { exists: true, bytes: r.ContentLength ?? 0 };
    } catch (err) {
      // HEAD answers carry no body, so a missing key and a missing bucket are both a bare 404.
      if ((err as AwsError).$metadata?.httpStatusCode !== 404) throw this.fail(err, "head", key);
    }
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      if ((err as AwsError).$metadata?.httpStatusCode === 404)
        throw this.fail({ Code: "NoSuchBucket" }, "head");
      throw this.fail(err, "head", key);
    }
    return { exists: false };
  }
}
