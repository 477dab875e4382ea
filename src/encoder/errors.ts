// One error type for every refusal the encoder makes. The central error handler renders it in the
// dialect of the route that was called: OpenAI's {"error":{message,type,param,code}} or TEI's
// {"error","error_type"}. Routes only throw; they never format errors themselves.

export type TeiErrorType = "Validation" | "Overloaded" | "Unhealthy" | "Backend" | "Tokenizer" | "Empty";

export interface ApiErrorOptions {
  /** The request field at fault, e.g. "input[2]"; null when the request as a whole is at fault. */
  param?: string | null;
  /** Machine-readable code, e.g. "invalid_type", "rate_limit_exceeded". */
  code?: string;
  teiType?: TeiErrorType;
  headers?: Record<string, string>;
}

export class ApiError extends Error {
  override name = "ApiError";
  readonly param: string | null;
  readonly code: string;
  readonly teiType: TeiErrorType;
  readonly headers: Record<string, string>;

  constructor(
    readonly status: number,
    message: string,
    opts: ApiErrorOptions = {},
  ) {
    super(message);
    this.param = opts.param ?? null;
    this.code = opts.code ?? defaultCode(status);
    this.teiType = opts.teiType ?? defaultTeiType(status);
    this.headers = opts.headers ?? {};
  }
}

/** A validation failure naming the field: 400 unless told otherwise. */
export function invalid(
  param: string | null,
  message: string,
  code = "invalid_value",
  status = 400,
): ApiError {
  return new ApiError(status, message, { param, code, teiType: "Validation" });
}

function defaultCode(status: number): string {
  if (status === 401) return "invalid_api_key";
  if (status === 404) return "not_found";
  if (status === 413) return "payload_too_large";
  if (status === 429) return "rate_limit_exceeded";
  if (status === 503) return "model_not_ready";
  if (status >= 500) return "internal_error";
  return "invalid_request";
}

function defaultTeiType(status: number): TeiErrorType {
  if (status === 429) return "Overloaded";
  if (status === 503) return "Unhealthy";
  if (status >= 500) return "Backend";
  return "Validation";
}

function openAiType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

export function openAiErrorBody(e: ApiError): unknown {
  return { error: { message: e.message, type: openAiType(e.status), param: e.param, code: e.code } };
}

export function teiErrorBody(e: ApiError): unknown {
  return { error: e.message, error_type: e.teiType };
}
