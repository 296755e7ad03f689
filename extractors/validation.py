def check(m, c, t): return []
