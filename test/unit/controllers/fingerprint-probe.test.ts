import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { httpFingerprintProbe } from "../../../controllers/embedding-model/fingerprint-probe.js";

const FP = "ab".repeat(32);
let server: Server | undefined;

async function encoder(withAuth: boolean): Promise<string> {
  server = createServer((req, res) => {
    res.setHeader("X-Embedops-Model-Fingerprint", FP);
    if (req.url === "/info" && withAuth) {
      res.writeHead(401).end();
      return;
    }
    if (req.url === "/info") {
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ fingerprint: FP, dimension: 384 }));
      return;
    }
    res.writeHead(200).end('{"status":"ready"}');
  });
  const listening = server!;
  await new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
}

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

describe("httpFingerprintProbe", () => {
  it("when /info is open, then the fingerprint and dimension come from it", async () => {
    const url = await encoder(false);
    expect(await httpFingerprintProbe(1000, () => url)("m", "ns")).toEqual({
      fingerprint: FP,
      dimension: 384,
    });
  });

  it("when /info needs a key, then the fingerprint comes from the /readyz header and the dimension is unknown", async () => {
    const url = await encoder(true);
    expect(await httpFingerprintProbe(1000, () => url)("m", "ns")).toEqual({ fingerprint: FP });
  });

  it("when nothing listens, then the probe throws (the reconcile retries later)", async () => {
    await expect(httpFingerprintProbe(500, () => "http://127.0.0.1:1")("m", "ns")).rejects.toThrow();
  });
});
