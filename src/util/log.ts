// Structured JSON log lines, one per event, on stdout (info/debug) or stderr (warn/error).
// Level threshold from EMBEDOPS_LOG_LEVEL (debug|info|warn|error; default info).

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function threshold(): number {
  const raw = process.env.EMBEDOPS_LOG_LEVEL;
  return raw && raw in order ? order[raw as LogLevel] : order.info;
}

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

function errorFields(value: unknown): unknown {
  if (value instanceof Error) return { message: value.message, name: value.name, stack: value.stack };
  return value;
}

export function createLogger(base: LogFields = {}): Logger {
  const min = threshold();
  const write = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (order[level] < min) return;
    const line: LogFields = { time: new Date().toISOString(), level, msg, ...base };
    if (fields) for (const [k, v] of Object.entries(fields)) line[k] = errorFields(v);
    const text = `${JSON.stringify(line)}\n`;
    if (order[level] >= order.warn) process.stderr.write(text);
    else process.stdout.write(text);
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (fields) => createLogger({ ...base, ...fields }),
  };
}
