// A process whose stdout or stderr reader went away (the script or terminal that started it exited)
// keeps running: its log lines are lost, its work is not. Without a listener Node turns the EPIPE of
// the next write into an uncaught exception, and a server dies on a log line: `embedops serve` that
// way left its children orphaned, and a child of a dead serve died before closing its data cleanly.
export function surviveClosedOutput(
  streams: readonly NodeJS.WritableStream[] = [process.stdout, process.stderr],
): void {
  for (const stream of streams) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      // After an EPIPE the stream is destroyed and later writes are dropped without another error.
      if (err.code === "EPIPE") return;
      throw err;
    });
  }
}
