import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { findOpenssl } from "./binaries.js";

const run = promisify(execFile);

// Our own minimal config: the distribution's openssl.cnf adds CA:TRUE to every `req -x509`
// certificate, which would make serving and client certificates CAs too.
const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
`;

export interface Pki {
  readonly caFile: string;
  readonly caKeyFile: string;
  readonly servingCertFile: string;
  readonly servingKeyFile: string;
  readonly serviceAccountKeyFile: string;
  readonly serviceAccountPublicKeyFile: string;
}

export interface ClientCert {
  readonly certFile: string;
  readonly keyFile: string;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  try {
    await run(findOpenssl(), args, { cwd: dir });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? "";
    throw new Error(
      `openssl ${args.slice(0, 2).join(" ")} failed in ${dir}: ${stderr.trim() || String(err)}`,
    );
  }
}

// Subjects go through -subj, which treats "/" and "," specially; test identities never need them.
function subjectPart(value: string): string {
  if (/[/,=+\\]/.test(value)) throw new Error(`"${value}" cannot be used in a certificate subject`);
  return value;
}

/**
 * `<name>.key` and `<name>.crt` in `dir`: self-signed when `ca` is absent. EC P-256 keys: as good
 * as RSA for a test and ~50x faster to generate.
 */
async function makeCert(
  dir: string,
  profile: "ca" | "server" | "client",
  name: string,
  subject: string,
  ca?: { caFile: string; caKeyFile: string },
): Promise<ClientCert> {
  // One config per certificate: helpers may make certificates concurrently in the same dir.
  const config = join(dir, `${name}.cnf`);
  await writeFile(config, OPENSSL_CONFIG);
  const signer = ca === undefined ? [] : ["-CA", ca.caFile, "-CAkey", ca.caKeyFile];
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const out = ["-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "7", "-subj", subject];
  await openssl(dir, ["req", "-x509", "-config", config, "-extensions", profile, ...key, ...signer, ...out]);
  return { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
}

/** A CA, a serving certificate for 127.0.0.1 and a service-account signing key pair, in `dir`. */
export async function makePki(dir: string): Promise<Pki> {
  const ca = await makeCert(dir, "ca", "ca", "/CN=embedops-test-ca");
  const caFiles = { caFile: ca.certFile, caKeyFile: ca.keyFile };
  const serving = await makeCert(dir, "server", "serving", "/CN=kube-apiserver", caFiles);
  await openssl(dir, [
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-out",
    "sa.key",
  ]);
  await openssl(dir, ["pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub"]);
  return {
    ...caFiles,
    servingCertFile: serving.certFile,
    servingKeyFile: serving.keyFile,
    serviceAccountKeyFile: join(dir, "sa.key"),
    serviceAccountPublicKeyFile: join(dir, "sa.pub"),
  };
}

/**
 * A client certificate the apiserver maps to user `user` in `groups` (CN and O, as for kubelets).
 * Unlike the static token file, which is read once at start, this works for any identity at any time.
 */
export async function makeClientCert(
  dir: string,
  ca: { caFile: string; caKeyFile: string },
  name: string,
  user: string,
  groups: readonly string[],
): Promise<ClientCert> {
  const subject = `/CN=${subjectPart(user)}${groups.map((g) => `/O=${subjectPart(g)}`).join("")}`;
  return makeCert(dir, "client", name, subject, ca);
}

export async function readPem(path: string): Promise<string> {
  return readFile(path, "utf8");
}
