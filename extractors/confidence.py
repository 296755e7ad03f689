def score(m, f, d): return []
