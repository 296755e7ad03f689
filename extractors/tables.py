def interpret(doc): return []
