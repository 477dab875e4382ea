// A real Toxiproxy (built by scripts/install-toxiproxy.sh, cached) as a child process on a free
// port, driven over its HTTP API: TCP proxies in front of real servers, and toxics (latency,
// reset_peer, …) added and removed while traffic flows. No mocks: the router sees real delays and
// real connection resets.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { join } from "node:path";
import { freePort } from "../integration/harness/processes.js";
import { ROOT } from "./router-harness.js";

export interface Toxic {
  name: string;
  type: "latency" | "reset_peer" | "timeout" | "bandwidth" | "slow_close" | "slicer" | "limit_data";
  stream?: "upstream" | "downstream";
  toxicity?: number;
  attributes: Record<string, number>;
}

export interface Toxiproxy {
  api: string;
  /** Creates a proxy on a free 127.0.0.1 port in front of `upstream` (host:port); returns its URL. */
  proxy(name: string, upstream: string): Promise<string>;
  addToxic(proxy: string, toxic: Toxic): Promise<void>;
  removeToxic(proxy: string, toxic: string): Promise<void>;
  stop(): Promise<void>;
}

/** The toxiproxy-server binary: built from the Go module proxy on first use, then cached. */
export function toxiproxyBinary(): string {
  const out = execFileSync("bash", [join(ROOT, "scripts", "install-toxiproxy.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  return out.trim().split("\n").at(-1)!;
}

async function api(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`toxiproxy ${method} ${path}: ${res.status} ${text}`);
  return text === "" ? undefined : JSON.parse(text);
}

export async function startToxiproxy(): Promise<Toxiproxy> {
  const bin = toxiproxyBinary();
  const port = await freePort();
  const child: ChildProcess = spawn(bin, ["-host", "127.0.0.1", "-port", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr!.on("data", (d: Buffer) => {
    log += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`toxiproxy-server exited (${child.exitCode}):\n${log}`);
    const up = await fetch(`${base}/version`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) throw new Error(`toxiproxy-server did not answer on ${base}:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    api: base,
    async proxy(name, upstream) {
      // Port 0: toxiproxy binds a free port and answers with the address it got.
      const p = (await api(base, "POST", "/proxies", {
        name,
        listen: "127.0.0.1:0",
        upstream,
        enabled: true,
      })) as { listen: string };
      return `http://${p.listen}`;
    },
    async addToxic(proxy, toxic) {
      await api(base, "POST", `/proxies/${proxy}/toxics`, {
        stream: "downstream",
        toxicity: 1,
        ...toxic,
      });
    },
    async removeToxic(proxy, toxic) {
      await api(base, "DELETE", `/proxies/${proxy}/toxics/${toxic}`);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
