from .result import DocumentInfo
def extract(doc, tpl, secs): return DocumentInfo(format=doc.format, pages=doc.pages)
