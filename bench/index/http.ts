// A minimal keep-alive HTTP client for the load loops: node:http with a pooled agent, so every
// system under test is driven by the same client code and costs the bench process the same.
import http from "node:http";

export const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

export function request(
  url: string,
  opts: {
    method?: string;
    body?: Buffer | string;
    contentType?: string;
    headers?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const headers: Record<string, string | number> = { ...(opts.headers ?? {}) };
    if (opts.body !== undefined) {
      headers["content-type"] = opts.contentType ?? "application/json";
      headers["content-length"] = Buffer.byteLength(opts.body);
    }
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: opts.method ?? "GET",
        headers,
        agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 120_000, () => req.destroy(new Error(`timeout: ${url}`)));
    req.on("error", reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

export async function json<T>(url: string, opts: Parameters<typeof request>[1] = {}): Promise<T> {
  const res = await request(url, opts);
  if (res.status < 200 || res.status >= 300)
    throw new Error(`${opts.method ?? "GET"} ${url}: ${res.status} ${res.body.slice(0, 300)}`);
  return JSON.parse(res.body) as T;
}
