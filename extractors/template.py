from dataclasses import dataclass
@dataclass(frozen=True)
class TemplateGuess:
    name: str = "unknown"
    variant: str | None = None
    confidence: float = 0.0
def detect(doc): return TemplateGuess()
