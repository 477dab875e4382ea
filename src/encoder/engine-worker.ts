// The inference worker's entry (a node:worker_threads Worker started by onnx-engine.ts). It owns the
// onnxruntime session, so the synchronous session.run blocks this thread instead of the encoder's
// main thread, which keeps reading, parsing, tokenising and answering requests while a batch runs.
// Batches arrive one at a time; a batch that fails is reported with onnxruntime's message and the
// worker goes on serving the next one.
import { parentPort, workerData } from "node:worker_threads";
import { openSession, runPooled } from "./onnx-batch.js";
import type { FromWorker, ToWorker, WorkerSetup } from "./worker-protocol.js";

const port = parentPort;
if (port === null) throw new Error("engine-worker.ts runs as a worker thread, started by onnx-engine.ts");
const setup = workerData as WorkerSetup;
const send = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

try {
  const model = await openSession(setup.onnxPath, setup.threads);
  // Messages are handled in order, one at a time: each run awaits the previous one.
  let chain: Promise<void> = Promise.resolve();
  port.on("message", (msg: ToWorker) => {
    chain = chain.then(async () => {
      if (msg.kind === "close") {
        await model.session.release();
        port.close();
        return;
      }
      try {
        const vectors = await runPooled(model, msg, setup);
        send({ kind: "done", id: msg.id, vectors }, [vectors.buffer as ArrayBuffer]);
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        send({ kind: "failed", id: msg.id, message: e.message, stack: e.stack });
      }
    });
  });
  send({ kind: "ready" });
} catch (err) {
  send({ kind: "load-failed", message: (err as Error).message });
  port.close();
}
