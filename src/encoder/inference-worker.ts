// The main thread's handle on one inference worker (engine-worker.ts): posts packed batches, matches
// the replies to their callers, and turns a crash or an unexpected exit of the worker into a rejected
// promise for every batch it held, so the server answers those requests 500 and keeps running.
import type { Worker } from "node:worker_threads";
import { siblingModule, startModuleWorker } from "./module-worker.js";
import type { FromWorker, ToWorker, WorkerSetup } from "./worker-protocol.js";
import { packRows, unpackVectors } from "./worker-protocol.js";

interface Pending {
  rows: number;
  resolve(vectors: Float32Array[]): void;
  reject(err: Error): void;
}

export class InferenceWorker {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closing = false;
  /** Why the worker can take no more batches; set once it crashed or exited. */
  private deadReason: Error | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    private readonly setup: WorkerSetup,
    private readonly onDeath: (err: Error) => void,
  ) {
    this.exited = new Promise((resolve) => worker.once("exit", () => resolve()));
    worker.on("message", (msg: FromWorker) => this.receive(msg));
    worker.on("error", (err) => this.die(new Error(`the inference worker crashed: ${err.message}`)));
    worker.on("messageerror", (err) =>
      this.die(new Error(`the inference worker sent a message that cannot be read: ${err.message}`)),
    );
    worker.on("exit", (code) => {
      if (!this.closing) this.die(new Error(`the inference worker exited unexpectedly with code ${code}`));
    });
    // Idle, the worker must not keep the process alive; while a batch is out, it must.
    worker.unref();
  }

  /** Start a worker and wait until its session is open (rejects with onnxruntime's reason if not). */
  static start(setup: WorkerSetup, onDeath: (err: Error) => void = () => {}): Promise<InferenceWorker> {
    const worker = startModuleWorker(siblingModule("engine-worker", import.meta.url), setup);
    return new Promise((resolve, reject) => {
      const early = (err: Error) => reject(new Error(`the inference worker failed to start: ${err.message}`));
      const earlyExit = (code: number) =>
        reject(new Error(`the inference worker exited with code ${code} before the model was loaded`));
      worker.once("error", early);
      worker.once("exit", earlyExit);
      worker.once("message", (msg: FromWorker) => {
        worker.off("error", early);
        worker.off("exit", earlyExit);
        if (msg.kind === "ready") {
          resolve(new InferenceWorker(worker, setup, onDeath));
          return;
        }
        void worker.terminate();
        reject(
          new Error(msg.kind === "load-failed" ? msg.message : `the inference worker sent ${msg.kind} first`),
        );
      });
    });
  }

  get dead(): boolean {
    return this.deadReason !== undefined;
  }

  run(rows: readonly (readonly number[])[]): Promise<Float32Array[]> {
    if (this.deadReason !== undefined) return Promise.reject(this.deadReason);
    if (this.closing) return Promise.reject(new Error("encoder engine is closed"));
    if (rows.length === 0) return Promise.resolve([]);
    const id = this.nextId++;
    const packed = packRows(rows);
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { rows: rows.length, resolve, reject });
      const msg: ToWorker = { kind: "run", id, ids: packed.ids, lengths: packed.lengths };
      this.worker.postMessage(msg, [packed.ids.buffer as ArrayBuffer, packed.lengths.buffer as ArrayBuffer]);
    });
  }

  /** Release the session and end the worker; batches already sent still complete first. */
  async close(): Promise<void> {
    if (this.closing) return this.exited;
    this.closing = true;
    if (this.deadReason === undefined) {
      this.worker.ref();
      this.worker.postMessage({ kind: "close" } satisfies ToWorker);
    }
    await this.exited;
  }

  private take(id: number): Pending | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0 && !this.closing) this.worker.unref();
    return p;
  }

  private receive(msg: FromWorker): void {
    if (msg.kind === "done") {
      const p = this.take(msg.id);
      if (p === undefined) return;
      try {
        p.resolve(unpackVectors(msg.vectors, p.rows, this.setup.dimension));
      } catch (err) {
        p.reject(err as Error);
      }
    } else if (msg.kind === "failed") {
      const err = new Error(`inference failed: ${msg.message}`);
      if (msg.stack !== undefined) err.stack = `${err.message}\n[inference worker] ${msg.stack}`;
      this.take(msg.id)?.reject(err);
    }
  }

  private die(err: Error): void {
    if (this.deadReason !== undefined) return;
    this.deadReason = err;
    this.onDeath(err);
    for (const [id, p] of this.pending) {
      this.take(id);
      p.reject(err);
    }
  }
}
