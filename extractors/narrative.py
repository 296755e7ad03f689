def claims(doc): return []
