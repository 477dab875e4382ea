// On the one-node cluster of scripts/cluster/up.sh (made, loaded and charted by
// one-node-setup.ts). The test body is shared with kind (quickstart-flow.ts); here the router's
// Service is reached at its ClusterIP, which kube-proxy routes on this host.
import { inject } from "vitest";
import { kubectlWith, quickstartFlow } from "./quickstart-flow.js";

const kubeconfig = inject("kubeconfig");
const kubectl = kubectlWith(kubeconfig);

quickstartFlow({
  name: "the one-node cluster",
  kubeconfig,
  async reach(namespace, service) {
    const ip = kubectl(["-n", namespace, "get", "svc", service, "-o", "jsonpath={.spec.clusterIP}"]);
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip))
      throw new Error(`Service ${namespace}/${service} has no ClusterIP ("${ip}")`);
    return { url: `http://${ip}:8080`, close: () => {} };
  },
});
