// An upstream (shard replica or encoder) answered with an HTTP error. Kept apart from transport
// failures (RequestFailed) because a 4xx is the request's fault and must not be retried elsewhere.
import { errorText, type HttpResponse } from "./http-client.js";

export class UpstreamError extends Error {
  override name = "UpstreamError";
  constructor(
    readonly url: string,
    readonly status: number,
    readonly upstreamMessage: string,
  ) {
    super(`${url} answered ${status}: ${upstreamMessage}`);
  }

  static from(url: string, res: HttpResponse): UpstreamError {
    return new UpstreamError(url, res.status, errorText(res));
  }

  /** 4xx other than 408/429 means the same request would fail on any replica. */
  get clientFault(): boolean {
    return this.status >= 400 && this.status < 500 && this.status !== 408 && this.status !== 429;
  }
}
