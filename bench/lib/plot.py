"""Line charts for the benchmark reports, drawn from a JSON spec on stdin (see bench/lib/plot.ts).

Kept generic on purpose: any benchmark sends panels of named series; this file knows nothing about
encoders or indexes. Run with the bench venv's python (scripts/bench-venv.sh installs matplotlib).
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")  # no display here: render straight to the PNG
import matplotlib.pyplot as plt  # noqa: E402


def main() -> None:
    out = sys.argv[1]
    spec = json.load(sys.stdin)
    panels = spec["panels"]
    fig, axes = plt.subplots(1, len(panels), figsize=(6.4 * len(panels), 4.8), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        for s in panel["series"]:
            ax.plot(s["x"], s["y"], s.get("style", "o-"), label=s["label"])
        if panel.get("xlog"):
            ax.set_xscale("log", base=2)
            ax.set_xticks(panel["xticks"] if "xticks" in panel else sorted({x for s in panel["series"] for x in s["x"]}))
            ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
        elif "xticks" in panel:
            ax.set_xticks(panel["xticks"])
        if panel.get("ylog"):
            ax.set_yscale("log")
        ax.set_title(panel["title"])
        ax.set_xlabel(panel.get("xlabel", ""))
        ax.set_ylabel(panel.get("ylabel", ""))
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
    if spec.get("title"):
        fig.suptitle(spec["title"])
    if spec.get("footnote"):
        fig.text(0.01, 0.01, spec["footnote"], fontsize="x-small", alpha=0.7)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main()
