import { defineConfig } from "vitest/config";

// One project per rung of the testing ladder (see DESIGN.md), so `vitest run --project unit`
// stays fast and the slow rungs get their own timeouts and setup.
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["test/unit/**/*.test.ts"] },
      },
      {
        extends: true,
        test: {
          name: "dataplane",
          include: ["test/dataplane/**/*.test.ts"],
          // Real servers with real models: files would fight over 2 cores and memory.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/integration/global-setup.ts"],
          // One shared kube-apiserver: files run one after another so their watches and
          // cluster-scoped objects do not interleave.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
