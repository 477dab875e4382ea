import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { findEtcd, findKubeApiserver } from "./binaries.js";
import { makePki, readPem } from "./certs.js";
import { writeKubeconfig } from "./kubeconfig.js";
import { freePort, type LoggedProcess, sleep, spawnLogged, tail } from "./processes.js";

/** Everything a test needs to reach the control plane; plain data, so it survives vitest's `provide`. */
export interface ControlPlaneCoordinates {
  readonly url: string;
  readonly caFile: string;
  /** PEM text of caFile. */
  readonly caData: string;
  /** Lets helpers mint client certificates for arbitrary users (see userKubeconfig). */
  readonly caKeyFile: string;
  /** Bearer token of user `embedops-admin` in group system:masters. */
  readonly adminToken: string;
  readonly adminKubeconfigPath: string;
  /** Temporary directory with certificates, etcd data and logs; removed by stop(). */
  readonly dir: string;
  readonly etcdLogFile: string;
  readonly apiserverLogFile: string;
  readonly serviceAccountIssuer: string;
  /** `kube-apiserver --version`, e.g. "Kubernetes v1.36.3". */
  readonly version: string;
}

export interface ControlPlane extends ControlPlaneCoordinates {
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly kubeApiserverPath?: string;
  readonly etcdPath?: string;
  /** Default 90 s: a cold start on 2 busy cores takes ~10 s, so this only trips on a real hang. */
  readonly timeoutMs?: number;
  /** Keep the temporary directory after stop(), to read logs. Also EMBEDOPS_KEEP_CONTROL_PLANE=1. */
  readonly keepDir?: boolean;
  readonly extraApiserverArgs?: readonly string[];
}

const SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local";

class StartupError extends Error {}

function startupFailure(what: string, proc: LoggedProcess): StartupError {
  const exit = proc.exited();
  const state = exit === undefined ? "still running" : `exited with code ${exit.code} signal ${exit.signal}`;
  return new StartupError(
    `${what} (${proc.name} ${state}); last lines of ${proc.logFile}:\n${tail(proc.logFile)}`,
  );
}

/** Polls `probe` until it returns true; fails early when the process it waits for has died. */
async function waitUntil(
  what: string,
  proc: LoggedProcess,
  deadline: number,
  probe: () => Promise<boolean>,
): Promise<void> {
  for (;;) {
    if (proc.exited() !== undefined) throw startupFailure(`${what}: process died`, proc);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw startupFailure(`${what}: timed out`, proc);
    await sleep(200);
  }
}

async function etcdHealthy(clientUrl: string): Promise<boolean> {
  const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(2_000) });
  return res.ok;
}

function httpsGet(url: string, ca: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 2_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

async function binaryVersion(path: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(path, ["--version"]);
    return stdout.trim();
  } catch (err) {
    throw new Error(
      `${path} --version failed (${String(err)}); rebuild it with scripts/build-kube-apiserver.sh`,
    );
  }
}

/**
 * Starts etcd and a kube-apiserver with RBAC on 127.0.0.1, on free ports, in a fresh temporary
 * directory. Nothing else runs: no controller-manager, scheduler or kubelet, so Deployments get no
 * Pods and ServiceAccounts get no token Secrets (use the TokenRequest API, see service-accounts.ts).
 */
export async function startControlPlane(options: StartOptions = {}): Promise<ControlPlane> {
  const apiserverPath = options.kubeApiserverPath ?? findKubeApiserver();
  const etcdPath = options.etcdPath ?? findEtcd();
  const timeoutMs = options.timeoutMs ?? 90_000;
  const keepDir = options.keepDir ?? process.env["EMBEDOPS_KEEP_CONTROL_PLANE"] === "1";
  const version = await binaryVersion(apiserverPath);

  const dir = await mkdtemp(join(tmpdir(), "embedops-control-plane-"));
  const started: LoggedProcess[] = [];
  const stop = async () => {
    // Apiserver first: stopping etcd under it makes it log a storm of errors and exit slowly.
    for (const proc of [...started].reverse()) await proc.stop();
    started.length = 0;
    if (!keepDir) await rm(dir, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + timeoutMs;
    const pki = await makePki(dir);
    const caData = await readPem(pki.caFile);
    const adminToken = randomBytes(24).toString("hex");
    const tokenFile = join(dir, "tokens.csv");
    // Format: token,user,uid,"group1,group2". Read once at start; per-test identities use
    // client certificates or ServiceAccount tokens instead.
    await writeFile(tokenFile, `${adminToken},embedops-admin,embedops-admin,"system:masters"\n`, {
      mode: 0o600,
    });

    const [etcdClientPort, etcdPeerPort, apiserverPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    const etcd = spawnLogged(
      "etcd",
      etcdPath,
      [
        "--name=default",
        `--data-dir=${join(dir, "etcd-data")}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        // The peer port is unused by a one-member cluster, but the default 2380 would collide
        // with a second test run on the same machine.
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=default=${peerUrl}`,
        "--log-level=warn",
        "--logger=zap",
      ],
      join(dir, "etcd.log"),
    );
    started.push(etcd);
    await waitUntil("etcd did not become healthy", etcd, deadline, () => etcdHealthy(etcdUrl));

    const url = `https://127.0.0.1:${apiserverPort}`;
    const apiserver = spawnLogged(
      "kube-apiserver",
      apiserverPath,
      [
        `--etcd-servers=${etcdUrl}`,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        `--secure-port=${apiserverPort}`,
        `--tls-cert-file=${pki.servingCertFile}`,
        `--tls-private-key-file=${pki.servingKeyFile}`,
        `--client-ca-file=${pki.caFile}`,
        `--token-auth-file=${tokenFile}`,
        `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
        `--service-account-key-file=${pki.serviceAccountPublicKeyFile}`,
        `--service-account-signing-key-file=${pki.serviceAccountKeyFile}`,
        `--api-audiences=${SERVICE_ACCOUNT_ISSUER}`,
        "--service-cluster-ip-range=10.96.0.0/12",
        "--authorization-mode=RBAC",
        "--allow-privileged=true",
        // Its admission plugin wants a token controller that does not run here.
        "--disable-admission-plugins=ServiceAccount",
        // No nodes or kube-proxy: the `kubernetes` Service endpoints would point at nothing.
        "--endpoint-reconciler-type=none",
        `--cert-dir=${join(dir, "apiserver-certs")}`,
        ...(options.extraApiserverArgs ?? []),
      ],
      join(dir, "kube-apiserver.log"),
    );
    started.push(apiserver);
    // /readyz covers etcd, informers and the post-start hooks, bootstrap RBAC roles included.
    await waitUntil("kube-apiserver did not become ready at /readyz", apiserver, deadline, async () => {
      const res = await httpsGet(`${url}/readyz`, caData, adminToken);
      return res.status === 200;
    });

    const adminKubeconfigPath = await writeKubeconfig({
      path: join(dir, "admin.kubeconfig"),
      url,
      caData,
      credentials: { token: adminToken },
      name: "embedops-admin",
    });

    return {
      url,
      caFile: pki.caFile,
      caData,
      caKeyFile: pki.caKeyFile,
      adminToken,
      adminKubeconfigPath,
      dir,
      etcdLogFile: etcd.logFile,
      apiserverLogFile: apiserver.logFile,
      serviceAccountIssuer: SERVICE_ACCOUNT_ISSUER,
      version,
      stop,
    };
  } catch (err) {
    // Keep the logs a failed start produced: they are the only way to see why.
    const keep = keepDir || err instanceof StartupError;
    for (const proc of [...started].reverse()) await proc.stop();
    if (!keep) await rm(dir, { recursive: true, force: true });
    throw err instanceof StartupError ? new Error(`${err.message}\n(files kept in ${dir})`) : err;
  }
}
