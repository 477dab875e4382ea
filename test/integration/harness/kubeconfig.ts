import { readFile, writeFile } from "node:fs/promises";
import { stringify } from "yaml";

export type KubeconfigCredentials =
  | { readonly token: string }
  | { readonly clientCertFile: string; readonly clientKeyFile: string };

export interface KubeconfigOptions {
  readonly path: string;
  readonly url: string;
  /** PEM of the CA that signed the apiserver's serving certificate. */
  readonly caData: string;
  readonly credentials: KubeconfigCredentials;
  /** Names the user and context; shows up in `kubectl config view`. */
  readonly name?: string;
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

/**
 * Writes a self-contained kubeconfig (CA and client key inline) so it stays valid when copied
 * elsewhere, e.g. into an operator's environment. Mode 0600 because it holds a credential.
 */
export async function writeKubeconfig(options: KubeconfigOptions): Promise<string> {
  const name = options.name ?? "embedops-test";
  const user =
    "token" in options.credentials
      ? { token: options.credentials.token }
      : {
          "client-certificate-data": b64(await readFile(options.credentials.clientCertFile, "utf8")),
          "client-key-data": b64(await readFile(options.credentials.clientKeyFile, "utf8")),
        };
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "embedops-test",
        cluster: { server: options.url, "certificate-authority-data": b64(options.caData) },
      },
    ],
    users: [{ name, user }],
    contexts: [{ name, context: { cluster: "embedops-test", user: name } }],
    "current-context": name,
    preferences: {},
  };
  await writeFile(options.path, stringify(config), { mode: 0o600 });
  return options.path;
}
