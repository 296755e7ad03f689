def split(doc): return []
