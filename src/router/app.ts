// The router's HTTP surface. Routes label their metrics by pattern, not by path, so ids in URLs do
// not explode the label cardinality.
import { performance } from "node:perf_hooks";
import express, { type Express, type RequestHandler } from "express";
import { apiKeyGuard } from "./api-keys.js";
import {
  deleteDocumentRoute,
  deleteDocumentsRoute,
  getDocumentRoute,
  upsertDocumentsRoute,
} from "./documents-route.js";
import { errorHandler, HttpError } from "./errors.js";
import { healthzRoute, metricsRoute, readyzRoute, statsRoute } from "./ops-routes.js";
import { queryRoute } from "./query-route.js";
import type { RouterDeps } from "./router-deps.js";
import { FINGERPRINT_HEADER } from "./shard-client.js";

export function createApp(deps: RouterDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);

  app.use((_req, res, next) => {
    const t0 = performance.now();
    // The active generation's, unless a query route names the generation that answered it.
    const active = deps.runtime().active;
    res.setHeader(FINGERPRINT_HEADER, active.fingerprint);
    res.on("finish", () => {
      const route = (res.locals.route as string | undefined) ?? "unmatched";
      const locals = res.locals as { generation?: string; fingerprint?: string };
      deps.metrics.requestDuration.observe(
        {
          route,
          status: String(res.statusCode),
          fingerprint: locals.fingerprint ?? active.fingerprint,
          generation: locals.generation ?? active.name,
        },
        (performance.now() - t0) / 1000,
      );
    });
    next();
  });

  const route = (name: string, handler: RequestHandler): RequestHandler[] => [
    (_req, res, next) => {
      res.locals.route = name;
      next();
    },
    handler,
  ];

  app.get("/healthz", ...route("/healthz", healthzRoute));
  app.get("/readyz", ...route("/readyz", readyzRoute(deps)));
  app.get("/metrics", ...route("/metrics", metricsRoute(deps)));

  const v1 = express.Router();
  v1.use(apiKeyGuard(() => deps.runtime().config.apiKeys));
  v1.use(express.json({ limit: "64mb" }));
  v1.post("/query", ...route("/v1/query", queryRoute(deps)));
  v1.post("/documents", ...route("/v1/documents", upsertDocumentsRoute(deps)));
  v1.post("/documents/delete", ...route("/v1/documents/delete", deleteDocumentsRoute(deps)));
  v1.delete("/documents/:id", ...route("/v1/documents/:id", deleteDocumentRoute(deps)));
  v1.get("/documents/:id", ...route("/v1/documents/:id", getDocumentRoute(deps)));
  v1.get("/stats", ...route("/v1/stats", statsRoute(deps)));
  app.use("/v1", v1);

  app.use((req, _res, next) => {
    next(
      new HttpError(
        404,
        "not_found",
        `no route ${req.method} ${req.path}; see the router API (POST /v1/query, POST /v1/documents, ...)`,
      ),
    );
  });
  app.use(errorHandler(deps.log));
  return app;
}
