// Reloads the config file when its content changes. Polls content instead of using fs.watch: a
// Kubernetes ConfigMap volume updates by swapping a symlink (..data), which inotify watches on the
// file miss, and polling a small file once a second costs nothing.
import { readFile } from "node:fs/promises";
import { ConfigError, parseRouterConfig, type RouterConfig } from "./config.js";

export interface ConfigWatcher {
  stop(): void;
  /** Checks the file once now; used by tests and after start. */
  poll(): Promise<void>;
}

export function watchConfig(
  path: string,
  initialText: string,
  intervalMs: number,
  onChange: (config: RouterConfig) => Promise<void>,
  onError: (err: Error) => void,
): ConfigWatcher {
  let last = initialText;
  let running: Promise<void> | undefined;
  const poll = async () => {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      onError(
        new ConfigError(
          `cannot read router config ${path}: ${(err as Error).message}; keeping the current config`,
        ),
      );
      return;
    }
    if (text === last) return;
    last = text;
    let config: RouterConfig;
    try {
      config = parseRouterConfig(JSON.parse(text), `router config ${path}`);
    } catch (err) {
      const message =
        err instanceof SyntaxError
          ? `router config ${path} is not valid JSON: ${err.message}`
          : (err as Error).message;
      onError(new ConfigError(`${message}; keeping the current config`));
      return;
    }
    await onChange(config);
  };
  const serialPoll = () => {
    running ??= poll().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => void serialPoll(), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer), poll: serialPoll };
}
