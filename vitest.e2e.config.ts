import { defineConfig } from "vitest/config";

// The kind suite runs only through `npm run e2e:kind` (scripts/e2e-kind.sh), which makes the cluster.
export default defineConfig({
  test: {
    include: ["test/e2e/kind.test.ts"],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 900_000,
  },
});
