// `embedops crds`: print the CustomResourceDefinitions, e.g. `embedops crds | kubectl apply -f -`.
import { renderCrds } from "../api/crd/render.js";

export async function run(argv: string[]): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write("usage: embedops crds    print the CRDs as one multi-document YAML stream\n");
    return;
  }
  process.stdout.write(
    renderCrds()
      .map((c) => c.yaml.trimEnd())
      .join("\n---\n") + "\n",
  );
}
