// How the operator learns a model's fingerprint: from the running encoder, which computes it from
// the weights it loaded (see README.md for why the operator cannot compute it itself).
import { encoderUrl } from "../../src/builders/encoder-service.js";

export interface EncoderReport {
  readonly fingerprint: string;
  readonly dimension: number;
}

/** Asks the encoder of `model` in `namespace` what it serves. Throws when it cannot be reached. */
export type FingerprintProbe = (model: string, namespace: string) => Promise<EncoderReport>;

/**
 * GET /info through the encoder Service. /info needs no API key (it is served before the auth
 * middleware), so the operator needs no read access to the model's Secret.
 */
export function httpFingerprintProbe(timeoutMs = 3000): FingerprintProbe {
  return async (model, namespace) => {
    const url = `${encoderUrl(model, namespace)}/info`;
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`GET ${url} answered HTTP ${res.status}`);
    const body = (await res.json()) as { fingerprint?: unknown; dimension?: unknown };
    if (typeof body.fingerprint !== "string" || typeof body.dimension !== "number") {
      throw new Error(`GET ${url} has no fingerprint and dimension; is this an embedops encoder?`);
    }
    return { fingerprint: body.fingerprint, dimension: body.dimension };
  };
}
