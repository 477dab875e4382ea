// How the operator learns a model's fingerprint: from the running encoder, which computes it from
// the weights it loaded (see README.md for why the operator cannot compute it itself).
import { encoderRevisionUrl, encoderUrl } from "../../src/builders/encoder-service.js";

export interface EncoderReport {
  readonly fingerprint: string;
  /** undefined when only the fingerprint header could be read (/info needs a key the operator lacks). */
  readonly dimension?: number;
}

/**
 * Asks the encoder of `model` in `namespace` what it serves: one revision's own Service when
 * `revision` is given (stable and candidate are asked apart), else the model's main Service.
 * Throws when it cannot be reached.
 */
export type FingerprintProbe = (
  model: string,
  namespace: string,
  revision?: string,
) => Promise<EncoderReport>;

const defaultUrl = (model: string, namespace: string, revision?: string): string =>
  revision === undefined ? encoderUrl(model, namespace) : encoderRevisionUrl(model, revision, namespace);

/** The header every encoder response carries once its model is loaded (src/encoder/middleware.ts). */
export const FINGERPRINT_HEADER = "x-embedops-model-fingerprint";

/**
 * GET /info through the encoder Service. When the model has an authSecretRef, /info answers 401
 * (the operator holds no key and gets no read access to Secrets); /readyz is open and carries the
 * fingerprint header, so the fingerprint is read there and only the dimension check is skipped.
 */
export function httpFingerprintProbe(
  timeoutMs = 3000,
  urlOf: (model: string, namespace: string, revision?: string) => string = defaultUrl,
): FingerprintProbe {
  return async (model, namespace, revision) => {
    const base = urlOf(model, namespace, revision);
    const res = await fetch(`${base}/info`, { signal: AbortSignal.timeout(timeoutMs) });
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      const ready = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
      await ready.body?.cancel();
      const fingerprint = ready.headers.get(FINGERPRINT_HEADER);
      if (!fingerprint) throw new Error(`GET ${base}/readyz carries no ${FINGERPRINT_HEADER} header yet`);
      return { fingerprint };
    }
    if (!res.ok) throw new Error(`GET ${base}/info answered HTTP ${res.status}`);
    const body = (await res.json()) as { fingerprint?: unknown; dimension?: unknown };
    if (typeof body.fingerprint !== "string" || typeof body.dimension !== "number") {
      throw new Error(`GET ${base}/info has no fingerprint and dimension; is this an embedops encoder?`);
    }
    return { fingerprint: body.fingerprint, dimension: body.dimension };
  };
}
