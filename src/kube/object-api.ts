// KubernetesObjectApi plus what it lacks: requests to the /status subresource. It reuses the
// parent's discovery (kind -> resource path) and request pipeline, so middleware (the request
// counter) and authentication apply to status writes too.
import {
  type Configuration,
  HttpMethod,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  type PatchStrategy,
} from "@kubernetes/client-node";

export class ObjectApi extends KubernetesObjectApi {
  static create(kc: KubeConfig, configuration: Configuration): ObjectApi {
    const api = new ObjectApi(configuration);
    api.setDefaultNamespace(kc);
    return api;
  }

  /** PATCH .../<name>/status with the given content type (server-side apply for applyStatus). */
  async patchStatus<T extends KubernetesObject>(
    body: KubernetesObject,
    strategy: PatchStrategy,
    fieldManager: string,
    force?: boolean,
  ): Promise<T> {
    const path = `${await this.specUriPath(body, "patch")}/status`;
    const request = this.configuration.baseServer.makeRequestContext(path, HttpMethod.PATCH);
    request.setHeaderParam("Accept", "application/json");
    request.setHeaderParam("Content-Type", strategy);
    request.setQueryParam("fieldManager", fieldManager);
    if (force !== undefined) request.setQueryParam("force", String(force));
    // JSON is valid YAML, so it is a valid apply-patch+yaml body as well as a merge patch.
    request.setBody(JSON.stringify(body));
    return this.requestPromise<T>(request);
  }

  /**
   * GET one object as PartialObjectMetadata: its metadata and nothing else. For Secrets, whose
   * existence the operator checks without ever holding their data.
   */
  async readMetadata(ref: KubernetesObject): Promise<KubernetesObject> {
    const path = await this.specUriPath(ref, "read");
    const request = this.configuration.baseServer.makeRequestContext(path, HttpMethod.GET);
    request.setHeaderParam("Accept", "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1");
    // No client model for PartialObjectMetadata: the serializer hands the parsed JSON through.
    return this.requestPromise<KubernetesObject>(request, "PartialObjectMetadata");
  }
}
