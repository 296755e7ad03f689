"""Write the committed OpenAPI document, `openapi/openapi.json`, from the app.

`python -m app.openapi` rewrites the committed file; `python -m app.openapi --check`
exits 1 when it has drifted from the code (the test suite checks the same).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .main import create_app
from .settings import Settings
from .spec import build_spec

SPEC_PATH = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"


def render_spec() -> str:
    """The committed file's exact text for the current code (defaults only: the environment never leaks in)."""
    app = create_app(Settings(_env_file=None, workers=1))  # type: ignore[call-arg]
    return json.dumps(build_spec(app), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.openapi", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed spec differs from the code")
    parser.add_argument("--output", type=Path, default=SPEC_PATH, help="where to write (default: %(default)s)")
    args = parser.parse_args(argv)
    text = render_spec()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date; run `python -m app.openapi`.", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
