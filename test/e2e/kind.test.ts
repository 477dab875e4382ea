// On a kind cluster made by scripts/e2e-kind.sh (chart installed, image loaded). The test body is
// shared with the one-node cluster (quickstart-flow.ts); here the router's Service is reached
// through `kubectl port-forward`, since kind's ClusterIPs live inside Docker's network.
import { spawn } from "node:child_process";
import { quickstartFlow } from "./quickstart-flow.js";

const kubeconfig = process.env.E2E_KUBECONFIG;
if (!kubeconfig) throw new Error("E2E_KUBECONFIG is not set: run this suite through npm run e2e:kind");

let nextPort = 18080;

quickstartFlow({
  name: "kind",
  kubeconfig,
  async reach(namespace, service) {
    const port = nextPort++;
    const forward = spawn(
      "kubectl",
      ["--kubeconfig", kubeconfig, "-n", namespace, "port-forward", `svc/${service}`, `${port}:8080`],
      { stdio: "ignore" },
    );
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 60; i++) {
      try {
        await fetch(`${url}/healthz`);
        return { url, close: () => forward.kill() };
      } catch {
        // port-forward not up yet
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    forward.kill();
    throw new Error(`kubectl port-forward svc/${service} never answered on ${url}`);
  },
});
