"""Worked example: load the long table with pandas and plot one indicator's series for a few agencies.

    python -m extractors batch ../shared/corpus/pdf --out results.jsonl --long long.parquet
    python docs/examples/plot_series.py long.parquet --indicator requests.new.total --out docs/examples/series.png

Needs the `[dataset]` extra (pandas, pyarrow, matplotlib).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("long", type=Path, help="the long table (.parquet or .csv)")
    ap.add_argument("--indicator", default="requests.new.total")
    ap.add_argument("--agencies", type=int, default=5, help="plot this many agencies with the most years")
    ap.add_argument("--out", type=Path, default=Path("series.png"))
    args = ap.parse_args()

    long = pd.read_parquet(args.long) if args.long.suffix == ".parquet" else pd.read_csv(args.long)
    one = long[long["indicator"] == args.indicator].dropna(subset=["value", "year"]).copy()
    # one agency printed with and without its prefecture (洪泽区人民政府 / 淮安市洪泽区人民政府) is one line
    from extractors.series import agency_groups

    one["agency_key"] = one["agency_key"].map(agency_groups(one["agency_key"].dropna()))
    # several renderings of one report-year: keep the most confident value
    one = one.sort_values("confidence").groupby(["agency_key", "year"], as_index=False).last()
    top = one.groupby("agency_key")["year"].nunique().sort_values(ascending=False).index[: args.agencies]
    from matplotlib import font_manager

    cjk = [f.name for f in font_manager.fontManager.ttflist if any(k in f.name for k in ("CJK", "Hei", "Song", "Ming"))]
    if cjk:
        plt.rcParams["font.sans-serif"] = [cjk[0], "DejaVu Sans"]
    names = {key: key if cjk else f"agency {i + 1}" for i, key in enumerate(top)}  # no Chinese font: numbered legend
    for key, name in names.items():
        print(f"{name}: {key}")
    fig, ax = plt.subplots(figsize=(7, 4))
    for key in top:
        s = one[one["agency_key"] == key].sort_values("year")
        ax.plot(s["year"], s["value"], marker="o", label=names[key])
    label = one["label_zh"].dropna().iloc[0] if one["label_zh"].notna().any() else args.indicator
    ax.set_title(f"{args.indicator}\n{label}" if cjk else args.indicator, fontsize=9)
    ax.set_xlabel("year")
    ax.set_ylabel(str(one["unit"].dropna().iloc[0]) if cjk and one["unit"].notna().any() else "value")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"{len(top)} agencies, {len(one)} points -> {args.out}")


if __name__ == "__main__":
    main()
