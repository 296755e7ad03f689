def map_rows(rows, tpl): return [], []
def fill_from_narrative(m, c, t): return m
def unmatched_warning(u): raise NotImplementedError
