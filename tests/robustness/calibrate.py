"""Fit the confidence model's weights (extractors.confidence.ConfidenceSettings).

    python -m tests.robustness.calibrate            # fit on the training split, report held-out numbers

Data: every gold-bearing shared corpus file (PDFs included) plus the robustness corpus for the
training seeds; the held-out seeds (tests/test_confidence.py uses the same) are only scored.
Method: logistic regression with a Gaussian prior on the weights (MAP), sign-constrained, by Newton's method on the grouped feature vectors
(pure Python: the features are few and mostly binary). Prints the weights to paste into
ConfidenceSettings and the calibration table.
"""
from __future__ import annotations

import math
from collections import Counter

from extractors import confidence
from tests.robustness import corpus as C

TRAIN_SEEDS = range(0, 6)
HELD_OUT_SEEDS = range(100, 102)  # == tests/test_confidence.py
L2 = 2.0  # strength of the Gaussian prior on each weight (per unit of weight², in observations)
# The prior's centre: what each piece of evidence is believed to be worth before the data
# (hand-set, as the model had them before it was fitted). Features the data rarely or never see
# fail (a label rescued by context, a value from a sentence) keep about this much doubt instead of
# being fitted to "always right".
PRIOR = {
    "bias": 0.0, "label_gap": -6.0, "parse_gap": -3.0, "loose": -1.5, "narrative": -1.5, "fuzzy": -0.5,
    "rescued": -2.5, "tie": -1.0, "header_unseen": -1.5, "short_row": -1.0, "label_below": -1.5,
    "zone_guessed": -0.5, "contested": -2.0, "rule_holds": 1.0, "rule_broken": -1.0,
    "broken_unconfirmed": -1.0, "unconfirmed": -0.5, "narrative_disagrees": -1.0,
    # provenance of the number (extractors/fit.py): each reading was forced, but by less direct evidence
    "cell_split": -1.0, "digit_run": -1.5, "row_inferred": -1.5, "form_unverified": -2.0,
    "detached": -1.5, "shifted": -1.0, "reader_doubt": -3.0,
}


def records(seeds: range, with_corpus: bool) -> list[C.Record]:
    ss = (C.corpus_files(with_pdf=True) if with_corpus else []) + C.samples(seeds)
    return [r for s in ss for r in C.run(s, capture=True).records]


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        piv = m[c][c] or 1e-12
        for r in range(n):
            if r != c and m[r][c]:
                f = m[r][c] / piv
                m[r] = [x - f * y for x, y in zip(m[r], m[c])]
    return [m[i][n] / (m[i][i] or 1e-12) for i in range(n)]


def _newton(groups: Counter, names: list[str], free: list[bool]) -> list[float]:
    w = [0.0] * len(names)
    w[0] = 3.0
    for _ in range(60):
        grad = [0.0] * len(names)
        hess = [[0.0] * len(names) for _ in names]
        for (x, y), n in groups.items():
            z = sum(a * b for a, b in zip(w, x))
            p = 1 / (1 + math.exp(-max(-30, min(30, z))))
            g = (p - (1.0 if y else 0.0)) * n
            h = p * (1 - p) * n
            for i, xi in enumerate(x):
                if not xi or not free[i]:
                    continue
                grad[i] += g * xi
                for j, xj in enumerate(x):
                    if xj and free[j]:
                        hess[i][j] += h * xi * xj
        for i in range(len(names)):
            if i:
                grad[i] += L2 * (w[i] - PRIOR.get(names[i], 0.0))
                hess[i][i] += L2
            if not free[i]:
                grad[i], hess[i] = 0.0, [0.0] * len(names)
                hess[i][i] = 1.0
        step = _solve(hess, grad)
        w = [a - b for a, b in zip(w, step)]
        if max(abs(s) for s in step) < 1e-7:
            break
    return w


def fit(recs: list[C.Record]) -> dict[str, float]:
    """Sign-constrained logistic regression with a Gaussian prior (MAP): evidence against a value may not raise its
    confidence, so a feature whose fitted weight comes out on the wrong side is fixed at 0 and
    the rest refitted (an active-set loop)."""
    names = list(confidence.FEATURES)
    groups: Counter[tuple[tuple[float, ...], bool]] = Counter()
    for r in recs:
        groups[(tuple(round(r.features.get(k, 0.0), 4) for k in names), r.correct)] += 1
    free = [True] * len(names)
    while True:
        w = _newton(groups, names, free)
        bad = [i for i, k in enumerate(names) if free[i] and k not in confidence.RAISING and w[i] > 0]
        if not bad:
            return dict(zip(names, w))
        for i in bad:
            free[i] = False


def report(recs: list[C.Record], title: str) -> None:
    hi = [r for r in recs if r.confidence >= 0.9]
    prec = sum(r.correct for r in hi) / max(1, len(hi))
    correct = sum(r.correct for r in recs)
    kept = sum(r.correct for r in hi) / max(1, correct)
    print(f"{title}: values={len(recs)} accuracy={correct / max(1, len(recs)):.4f} precision@0.9={prec:.4f} "
          f"correct kept@0.9={kept:.3f} ECE={C.ece(recs):.4f}")
    for b in range(10):
        sel = [r for r in recs if b / 10 <= r.confidence < (b + 1) / 10 or (b == 9 and r.confidence >= 1.0)]
        if sel:
            print(f"  [{b / 10:.1f},{(b + 1) / 10:.1f}) n={len(sel):6d} mean conf={sum(r.confidence for r in sel) / len(sel):.3f} "
                  f"accuracy={sum(r.correct for r in sel) / len(sel):.3f}")


def main() -> None:
    train = records(TRAIN_SEEDS, with_corpus=True)
    w = fit(train)
    print("ConfidenceSettings(")
    for k, v in w.items():
        print(f"    {k}={v:.2f},")
    print(")")
    confidence.SETTINGS = confidence.ConfidenceSettings(**{k: round(v, 2) for k, v in w.items()})
    for r in train:
        r.confidence = confidence.probability(r.features, confidence.SETTINGS)
    report(train, "train (refit weights)")
    held = records(HELD_OUT_SEEDS, with_corpus=False)
    report(held, "held-out")


if __name__ == "__main__":
    main()
