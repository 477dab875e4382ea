// A lean HTTP/1.1 client over pooled keep-alive TCP sockets, for the one call on every query's
// critical path: the shard query. node:http's ClientRequest/Agent/IncomingMessage machinery cost
// about as much router CPU per call as the rest of the fan-out together (measured on the bench
// machine: a fan-out router on raw sockets used ~half the CPU of the same router on node:http). The
// request is one write (head + body); the response parser handles Content-Length, chunked and
// read-until-close bodies. Timeouts, cancellation and the stale-socket retry follow HttpClient.
import { connect, type Socket } from "node:net";
import { type FailureReason, type HttpResponse, RequestFailed, type RequestOptions } from "./http-client.js";

export interface LeanTarget {
  origin: string;
  hostname: string;
  port: number;
  path: string;
}

/** The pooled socket closed or failed before a byte of the answer came back: safe to resend once. */
export class StaleSocket extends Error {
  override name = "StaleSocket";
}

interface Pending {
  done(res: HttpResponse, keepAlive: boolean): void;
  error(err: Error, gotBytes: boolean): void;
}

const maxHeadBytes = 64 * 1024;
const statusRe = /^HTTP\/1\.([01]) (\d{3})/;

/** One socket and the state of the response it is reading. */
class Connection {
  pending: Pending | null = null;
  private buf: Buffer | null = null;
  private gotBytes = false;
  private head: {
    status: number;
    headers: Record<string, string>;
    keepAlive: boolean;
    length: number | undefined;
    chunked: boolean;
  } | null = null;
  private chunks: Buffer[] = [];

  constructor(
    readonly socket: Socket,
    onGone: () => void,
  ) {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 1000);
    socket.on("data", (d: Buffer) => this.onData(d));
    socket.on("end", () => {
      // A body delimited by the end of the connection is complete now.
      if (this.head && this.head.length === undefined && !this.head.chunked) this.complete(false);
      else this.failPending(new Error("socket hang up"));
      socket.destroy();
    });
    socket.on("error", (err) => this.failPending(err));
    socket.on("close", () => {
      this.failPending(new Error("socket hang up"));
      onGone();
    });
  }

  /** Send one request; the caller set `pending` first. */
  send(head: string, body: Buffer | string | undefined): void {
    this.buf = null;
    this.head = null;
    this.chunks = [];
    this.gotBytes = false;
    if (body === undefined || body.length === 0) this.socket.write(head, "latin1");
    else {
      // One writev for head and body: one segment, one wake-up of the server.
      this.socket.cork();
      this.socket.write(head, "latin1");
      this.socket.write(body);
      this.socket.uncork();
    }
  }

  private failPending(err: Error): void {
    const p = this.pending;
    this.pending = null;
    p?.error(err, this.gotBytes);
  }

  private onData(d: Buffer): void {
    this.gotBytes = true;
    if (!this.pending) {
      // Bytes nobody asked for (a server talking out of turn): this socket cannot be trusted.
      this.socket.destroy();
      return;
    }
    this.buf = this.buf && this.buf.length > 0 ? Buffer.concat([this.buf, d]) : d;
    try {
      if (!this.head && !this.parseHead()) return;
      this.parseBody();
    } catch (err) {
      this.failPending(err as Error);
      this.socket.destroy();
    }
  }

  private parseHead(): boolean {
    const buf = this.buf as Buffer;
    const end = buf.indexOf("\r\n\r\n");
    if (end === -1) {
      if (buf.length > maxHeadBytes) throw new Error("response head larger than 64 KiB");
      return false;
    }
    const lines = buf.toString("latin1", 0, end).split("\r\n");
    const m = statusRe.exec(lines[0] ?? "");
    if (!m) throw new Error(`malformed status line ${JSON.stringify((lines[0] ?? "").slice(0, 80))}`);
    const headers: Record<string, string> = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const connection = (headers.connection ?? "").toLowerCase();
    const http11 = m[1] === "1";
    const chunked = /\bchunked\b/i.test(headers["transfer-encoding"] ?? "");
    const cl = headers["content-length"];
    if (!chunked && cl !== undefined && !/^\d+$/.test(cl)) throw new Error(`bad Content-Length ${cl}`);
    const status = Number(m[2]);
    // 204 and 304 never carry a body.
    const length = chunked
      ? undefined
      : status === 204 || status === 304
        ? 0
        : cl === undefined
          ? undefined
          : Number(cl);
    this.head = {
      status,
      headers,
      keepAlive: http11 ? !connection.includes("close") : connection.includes("keep-alive"),
      length,
      chunked,
    };
    this.buf = buf.subarray(end + 4);
    return true;
  }

  private parseBody(): void {
    const head = this.head!;
    let buf = this.buf as Buffer;
    if (head.chunked) {
      for (;;) {
        const eol = buf.indexOf("\r\n");
        if (eol === -1) break;
        const size = Number.parseInt(buf.toString("latin1", 0, eol).split(";")[0] ?? "", 16);
        if (!Number.isFinite(size) || size < 0) throw new Error("malformed chunk size");
        if (size === 0) {
          // Last chunk, optional trailers, then an empty line.
          const rest = buf.subarray(eol + 2);
          const trailerEnd = rest.indexOf("\r\n") === 0 ? 0 : rest.indexOf("\r\n\r\n");
          if (trailerEnd === -1) break;
          this.buf = null;
          this.complete(head.keepAlive);
          return;
        }
        if (buf.length < eol + 2 + size + 2) break;
        this.chunks.push(buf.subarray(eol + 2, eol + 2 + size));
        buf = buf.subarray(eol + 2 + size + 2);
      }
      this.buf = buf;
      return;
    }
    if (head.length === undefined) {
      // Until the server closes the connection.
      this.chunks.push(buf);
      this.buf = null;
      return;
    }
    if (buf.length >= head.length) {
      this.chunks.push(buf.subarray(0, head.length));
      this.buf = null;
      // Bytes beyond the declared body mean the framing is off: do not reuse the socket.
      this.complete(head.keepAlive && buf.length === head.length);
    }
  }

  private complete(keepAlive: boolean): void {
    const head = this.head!;
    const p = this.pending;
    this.pending = null;
    const body = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    this.chunks = [];
    p?.done({ status: head.status, headers: head.headers, body }, keepAlive);
  }
}

export class LeanHttpPool {
  private readonly idle = new Map<string, Connection[]>();
  private readonly all = new Set<Connection>();
  private closed = false;

  /** One attempt; rejects with StaleSocket when a reused socket died before answering. */
  attempt(target: LeanTarget, opts: RequestOptions): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const head = requestHead(target, opts);
      if (this.closed) {
        reject(new RequestFailed("network", opts.url, `${opts.method} ${opts.url}: client closed`));
        return;
      }
      const free = this.idle.get(target.origin);
      let conn = free?.pop();
      const reused = conn !== undefined;
      if (conn) conn.socket.ref();
      else conn = this.open(target);
      const c = conn;
      let settled = false;
      const finish = () => {
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
      };
      const fail = (reason: FailureReason, message: string) => {
        if (settled) return;
        finish();
        c.pending = null;
        c.socket.destroy();
        reject(new RequestFailed(reason, opts.url, message));
      };
      const onAbort = () => fail("aborted", `${opts.method} ${opts.url} was cancelled`);
      const timer = setTimeout(
        () => fail("timeout", `${opts.method} ${opts.url} did not answer within ${opts.timeoutMs} ms`),
        opts.timeoutMs,
      );
      c.pending = {
        done: (res, keepAlive) => {
          if (settled) return;
          finish();
          if (keepAlive) this.release(target.origin, c);
          else c.socket.destroy();
          resolve(res);
        },
        error: (err, gotBytes) => {
          if (settled) return;
          const code = (err as NodeJS.ErrnoException).code;
          if (reused && !gotBytes && (code === undefined || code === "ECONNRESET" || code === "EPIPE")) {
            finish();
            c.socket.destroy();
            reject(new StaleSocket(err.message));
            return;
          }
          fail("network", `${opts.method} ${opts.url}: ${err.message}`);
        },
      };
      if (opts.signal?.aborted) {
        onAbort();
        return;
      }
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      c.send(head, opts.body);
    });
  }

  private open(target: LeanTarget): Connection {
    const socket = connect({ host: target.hostname, port: target.port });
    const conn: Connection = new Connection(socket, () => {
      this.all.delete(conn);
      const free = this.idle.get(target.origin);
      const i = free?.indexOf(conn) ?? -1;
      if (free && i !== -1) free.splice(i, 1);
    });
    this.all.add(conn);
    return conn;
  }

  private release(origin: string, conn: Connection): void {
    if (this.closed || conn.socket.destroyed) return;
    let free = this.idle.get(origin);
    if (!free) {
      free = [];
      this.idle.set(origin, free);
    }
    // Idle sockets must not keep the process alive (as node's keep-alive Agent does).
    conn.socket.unref();
    free.push(conn);
  }

  close(): void {
    this.closed = true;
    for (const c of this.all) c.socket.destroy();
    this.all.clear();
    this.idle.clear();
  }
}

function requestHead(target: LeanTarget, opts: RequestOptions): string {
  const host = target.hostname.includes(":") ? `[${target.hostname}]` : target.hostname;
  let head = `${opts.method} ${target.path} HTTP/1.1\r\nHost: ${host}:${target.port}\r\nConnection: keep-alive\r\n`;
  for (const name in opts.headers) {
    const value = opts.headers[name] as string;
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new Error(`header ${name} contains a line break`);
    head += `${name}: ${value}\r\n`;
  }
  if (opts.body !== undefined) head += `Content-Length: ${Buffer.byteLength(opts.body)}\r\n`;
  return `${head}\r\n`;
}
