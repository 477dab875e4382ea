// The router's public request bodies. Strict: an unknown field is a 400 naming it, because a typo
// such as "topK" silently falling back to a default is worse than an error.
import { z } from "zod";

export const MAX_K = 1000;
export const MAX_DOCUMENTS_PER_BATCH = 1024;
export const MAX_TEXT_CHARS = 100_000;
/** The shard's limits (src/shard/wire.ts): checked here too so the 400 names the router's field. */
export const MAX_ID_LENGTH = 256;
export const MAX_EF = 10_000;

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/**
 * Metadata filter on top-level keys: {"lang": "en"} (equality) or {"lang": {"in": ["en", "de"]}}.
 * All keys must match (AND).
 */
export const filterSchema = z.record(
  z.string().min(1),
  z.union([scalar, z.strictObject({ in: z.array(scalar).min(1, "needs at least one value") })], {
    error: 'must be a string, number, boolean, null, or {"in": [values]}',
  }),
  { error: 'must be an object such as {"lang": "en"} or {"lang": {"in": ["en", "de"]}}' },
);
export type Filter = z.infer<typeof filterSchema>;

const fingerprint = z
  .string()
  .regex(/^[A-Za-z0-9:._-]{1,256}$/, "must be a model fingerprint (the encoder's /info fingerprint)");

export const querySchema = z
  .strictObject({
    text: z.string().min(1, "must not be empty").max(MAX_TEXT_CHARS).optional(),
    vector: z
      .union([z.array(z.number()), z.string()], {
        error: "must be an array of numbers or a base64 string of little-endian float32",
      })
      .optional(),
    k: z.int({ error: "must be an integer" }).min(1).max(MAX_K).default(10),
    ef: z.int({ error: "must be an integer" }).min(1).max(MAX_EF).optional(),
    filter: filterSchema.optional(),
    includeText: z.boolean().default(false),
    includeMetadata: z.boolean().default(true),
    allowPartial: z.boolean().default(false),
    /** The fingerprint of the model that produced `vector`; checked against the generation's. */
    fingerprint: fingerprint.optional(),
  })
  .superRefine((q, ctx) => {
    if ((q.text === undefined) === (q.vector === undefined)) {
      ctx.addIssue({ code: "custom", path: ["text"], message: "send exactly one of text or vector" });
    }
    if (q.fingerprint !== undefined && q.text !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["fingerprint"],
        message: "only applies to vector queries; text is embedded by the index's own encoder",
      });
    }
  });
export type QueryRequest = z.infer<typeof querySchema>;

const documentId = z.string().min(1, "must not be empty").max(MAX_ID_LENGTH);

export const documentsSchema = z
  .strictObject({
    documents: z
      .array(
        z.strictObject({
          id: documentId,
          text: z.string().min(1, "must not be empty").max(MAX_TEXT_CHARS),
          metadata: z.record(z.string(), z.unknown()).optional(),
        }),
      )
      .min(1, "needs at least one document")
      .max(
        MAX_DOCUMENTS_PER_BATCH,
        `at most ${MAX_DOCUMENTS_PER_BATCH} documents per request; split the batch`,
      ),
  })
  .superRefine((body, ctx) => {
    const seen = new Map<string, number>();
    body.documents.forEach((doc, i) => {
      const first = seen.get(doc.id);
      if (first !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["documents", i, "id"],
          message: `duplicates documents[${first}].id "${doc.id}"; send each id once per batch`,
        });
      } else seen.set(doc.id, i);
    });
  });
export type DocumentsRequest = z.infer<typeof documentsSchema>;

export const deleteSchema = z.strictObject({
  ids: z.array(documentId).min(1, "needs at least one id").max(10_000),
});
