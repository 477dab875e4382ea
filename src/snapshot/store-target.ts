// The --store flag of `embedops snapshot`: a directory (path:/dir) or an S3 bucket with an optional
// key prefix (s3://bucket/prefix). Parsing is pure; the store itself is built by the CLI, which reads
// the S3 credentials from the environment (never from a flag, so they stay out of shell history).
export type StoreTarget =
  | { readonly kind: "path"; readonly dir: string }
  | { readonly kind: "s3"; readonly bucket: string; readonly prefix: string };

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The target a --store value names; throws saying which forms are accepted. */
export function parseStoreTarget(value: string): StoreTarget {
  const usage = `use --store path:/a/directory or --store s3://bucket[/prefix]`;
  if (value.startsWith("path:")) {
    const dir = value.slice("path:".length);
    if (dir === "") throw new Error(`--store ${value} names no directory; ${usage}`);
    return { kind: "path", dir };
  }
  if (value.startsWith("s3://")) {
    const [bucket = "", ...rest] = value.slice("s3://".length).split("/");
    if (!BUCKET.test(bucket))
      throw new Error(
        `--store ${value}: "${bucket}" is not an S3 bucket name (3-63 of a-z 0-9 . -); ${usage}`,
      );
    return { kind: "s3", bucket, prefix: rest.filter((p) => p !== "").join("/") };
  }
  throw new Error(`--store ${JSON.stringify(value)} is neither a path nor an S3 URL; ${usage}`);
}
