import { z } from "zod";

/** Model fingerprint: hex sha256 over weights, dimension, pooling, normalize and prefixes. */
export const Fingerprint = z.string().min(1).max(128);

/** First 12 characters of the fingerprint, for `kubectl get` columns. */
export const FingerprintShort = z.string().max(16).describe("First 12 characters of the fingerprint.");
