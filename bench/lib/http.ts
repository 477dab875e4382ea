// A minimal keep-alive HTTP client for load generation. node:http directly, because fetch (undici)
// costs the client noticeably more CPU per request, and on a 2-core machine the client's CPU is
// taken from the server under test.
import { Agent, request } from "node:http";

export interface HttpResponse {
  status: number;
  body: Buffer;
}

export class KeepAliveClient {
  private readonly agent: Agent;
  private readonly url: URL;

  /** `sockets` should match the load's concurrency, so no request waits for a free socket. */
  constructor(baseUrl: string, sockets: number) {
    this.url = new URL(baseUrl);
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  post(path: string, body: Buffer | string, contentType = "application/json"): Promise<HttpResponse> {
    const payload = typeof body === "string" ? Buffer.from(body) : body;
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          path,
          method: "POST",
          headers: { "Content-Type": contentType, "Content-Length": payload.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
