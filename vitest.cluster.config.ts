import { defineConfig } from "vitest/config";

// npm run e2e: the shared e2e body on a real one-node cluster on this machine. The global setup
// starts the cluster (scripts/cluster/up.sh), builds and loads the image and installs the chart;
// its teardown stops the cluster unless EMBEDOPS_KEEP_CLUSTER=1.
export default defineConfig({
  test: {
    include: ["test/e2e/one-node.test.ts"],
    globalSetup: ["test/e2e/one-node-setup.ts"],
    fileParallelism: false,
    testTimeout: 900_000,
    hookTimeout: 900_000,
  },
});
