// Loading a kubeconfig and making API clients that share one configuration, so a single
// middleware sees every request they send.
//
// The request counter is a PromiseMiddleware (the 1.x generated client's hook, run on every
// request of every client built from the configuration, KubernetesObjectApi included). Counting
// there, not by wrapping fetch, keeps to the client's public API. Watches do not go through it
// (Watch uses fetch directly), which is fine: they are reads.
import {
  CoordinationV1Api,
  CoreV1Api,
  createConfiguration,
  EventsV1Api,
  KubeConfig,
  type Middleware as PromiseMiddleware,
  type RequestContext,
  type ResponseContext,
  ServerConfiguration,
} from "@kubernetes/client-node";
import { ObjectApi } from "./object-api.js";

export interface LoadKubeConfigOptions {
  /** An explicit kubeconfig file (the --kubeconfig flag); wins over everything else. */
  readonly path?: string | undefined;
  /** The kubeconfig context to use; default the file's current-context. */
  readonly context?: string | undefined;
}

/**
 * --kubeconfig path, else $KUBECONFIG, else ~/.kube/config, else the in-cluster ServiceAccount
 * (the client's loadFromDefault order), which is what an operator pod uses.
 */
export function loadKubeConfig(options: LoadKubeConfigOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  if (options.path) kc.loadFromFile(options.path);
  else kc.loadFromDefault();
  if (options.context) kc.setCurrentContext(options.context);
  if (!kc.getCurrentCluster()) {
    throw new Error(
      "no Kubernetes cluster configured: pass --kubeconfig FILE, set KUBECONFIG, or run in a pod with a ServiceAccount",
    );
  }
  return kc;
}

export type HttpVerb = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS" | "OTHER";
const WRITE_VERBS: ReadonlySet<HttpVerb> = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export interface RecordedRequest {
  readonly method: HttpVerb;
  readonly url: string;
}

/** Counts requests by verb; tests use writes() to prove a steady-state resync writes nothing. */
export class RequestCounter {
  readonly requests: RecordedRequest[] = [];
  readonly middleware: PromiseMiddleware = {
    pre: async (context: RequestContext) => {
      const m = String(context.getHttpMethod()).toUpperCase();
      const method = (
        ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"].includes(m) ? m : "OTHER"
      ) as HttpVerb;
      this.requests.push({ method, url: context.getUrl() });
      return context;
    },
    post: async (response: ResponseContext) => response,
  };

  writes(): RecordedRequest[] {
    return this.requests.filter((r) => WRITE_VERBS.has(r.method));
  }

  reset(): void {
    this.requests.length = 0;
  }
}

export interface KubeClients {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
  readonly events: EventsV1Api;
  readonly objects: ObjectApi;
}

export interface MakeClientsOptions {
  readonly middleware?: readonly PromiseMiddleware[];
}

export function makeClients(kc: KubeConfig, options: MakeClientsOptions = {}): KubeClients {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("the kubeconfig has no current cluster; check its current-context");
  // Built like KubeConfig.makeApiClient, plus our middleware, which makeApiClient cannot take.
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kc },
    promiseMiddleware: [...(options.middleware ?? [])],
  });
  return {
    kubeConfig: kc,
    core: new CoreV1Api(configuration),
    coordination: new CoordinationV1Api(configuration),
    events: new EventsV1Api(configuration),
    objects: ObjectApi.create(kc, configuration),
  };
}
