// The router's lean HTTP client (shard queries) against real node:http and raw TCP servers: framing
// (Content-Length, chunked, until-close), socket reuse, the stale-socket retry, timeouts, cancels.
import { createServer, type Server } from "node:http";
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpClient, RequestFailed } from "../../src/router/http-client.js";

function listen(server: Server | TcpServer): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const a = server.address() as { port: number };
      resolve(`http://127.0.0.1:${a.port}`);
    }),
  );
}

describe("lean HTTP client", () => {
  const client = new HttpClient();
  let http: Server;
  let httpUrl: string;
  let connections = 0;
  let raw: TcpServer;
  let rawUrl: string;
  const held: Socket[] = [];

  beforeAll(async () => {
    http = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString();
        if (req.url === "/chunked") {
          res.write("part one, ");
          res.end(`part two for ${body}`);
        } else if (req.url === "/never") {
          // no answer
        } else if (req.url === "/empty") {
          res.writeHead(204).end();
        } else {
          res.setHeader("x-seen", String(req.headers["x-test"]));
          res.end(JSON.stringify({ path: req.url, body, length: req.headers["content-length"] }));
        }
      });
    });
    http.on("connection", () => {
      connections++;
    });
    httpUrl = await listen(http);
    raw = createTcpServer((socket) => {
      held.push(socket);
      socket.once("data", () => {
        socket.end("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end");
      });
    });
    rawUrl = await listen(raw);
  });

  afterAll(async () => {
    client.close();
    for (const s of held) s.destroy();
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
    await new Promise((r) => raw.close(r));
  });

  const post = (url: string, body = "vector bytes", timeoutMs = 5000, signal?: AbortSignal) =>
    client.requestLean({
      method: "POST",
      url,
      headers: { "x-test": "yes", "content-type": "application/octet-stream" },
      body: Buffer.from(body),
      timeoutMs,
      ...(signal ? { signal } : {}),
    });

  it("when a server answers with Content-Length, then status, headers and body arrive and the socket is reused", async () => {
    const before = connections;
    for (let i = 0; i < 3; i++) {
      const res = await post(`${httpUrl}/v1/query?k=${i}`, `q${i}`);
      expect(res.status).toBe(200);
      expect(res.headers["x-seen"]).toBe("yes");
      expect(JSON.parse(res.body.toString())).toEqual({
        path: `/v1/query?k=${i}`,
        body: `q${i}`,
        length: "2",
      });
    }
    expect(connections - before).toBe(1);
  });

  it("when a server answers chunked, then the chunks are joined", async () => {
    const res = await post(`${httpUrl}/chunked`, "me");
    expect(res.body.toString()).toBe("part one, part two for me");
  });

  it("when a server answers 204, then the body is empty and the next call still works", async () => {
    expect((await post(`${httpUrl}/empty`)).body.length).toBe(0);
    expect((await post(`${httpUrl}/x`)).status).toBe(200);
  });

  it("when a body is delimited by the server closing, then it is read to the end", async () => {
    const res = await post(`${rawUrl}/anything`);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe("until the end");
  });

  it("when the server closed the pooled socket while it was idle, then the next call succeeds", async () => {
    expect((await post(`${httpUrl}/a`)).status).toBe(200);
    http.closeIdleConnections();
    expect((await post(`${httpUrl}/b`)).status).toBe(200);
  });

  it("when the server does not answer in time, then it fails as a timeout", async () => {
    const err = await post(`${httpUrl}/never`, "x", 200).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestFailed);
    expect((err as RequestFailed).reason).toBe("timeout");
    expect((await post(`${httpUrl}/after-timeout`)).status).toBe(200);
  });

  it("when the call is cancelled, then it fails as aborted", async () => {
    const ac = new AbortController();
    const pending = post(`${httpUrl}/never`, "x", 5000, ac.signal).catch((e: unknown) => e);
    ac.abort();
    expect(((await pending) as RequestFailed).reason).toBe("aborted");
  });

  it("when nothing listens, then it fails as a network error naming the URL", async () => {
    const err = (await post("http://127.0.0.1:1/v1/query").catch((e: unknown) => e)) as RequestFailed;
    expect(err.reason).toBe("network");
    expect(err.message).toContain("http://127.0.0.1:1/v1/query");
  });
});
