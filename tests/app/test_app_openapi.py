"""The committed OpenAPI document: in sync with the code, fully typed, and usable by a generated client."""
from __future__ import annotations

import importlib
import io
import json
import subprocess
import sys
from pathlib import Path

import httpx
from app_live import LiveServer

from app.openapi import main as openapi_main
from app.openapi import render_spec
from app.settings import Settings, env_name
from extractors import __version__

EXTRACT_ERRORS = {"400", "401", "413", "415", "422", "500", "503", "504"}


def _spec(spec_path: Path) -> dict:
    return json.loads(spec_path.read_text(encoding="utf-8"))


def test_committed_spec_matches_the_app(spec_path: Path) -> None:
    """Fails when routes/models change without `python -m app.openapi` being run."""
    assert spec_path.read_text(encoding="utf-8") == render_spec()
    assert openapi_main(["--check", "--output", str(spec_path)]) == 0


def test_check_mode_detects_drift(tmp_path: Path) -> None:
    stale = tmp_path / "openapi.json"
    stale.write_text("{}\n", encoding="utf-8")
    assert openapi_main(["--check", "--output", str(stale)]) == 1
    assert openapi_main(["--output", str(stale)]) == 0
    assert openapi_main(["--check", "--output", str(stale)]) == 0


def test_every_route_documents_typed_problems(spec_path: Path) -> None:
    spec = _spec(spec_path)
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            errors = {s for s in op["responses"] if s.startswith(("4", "5"))}
            assert "500" in errors, (method, path)
            for status in errors:
                content = op["responses"][status]["content"]
                assert content == {"application/problem+json": {"schema": problem_ref}}, (method, path, status)
            for response in op["responses"].values():
                assert {"X-Request-ID", "X-Processing-Time-Ms", "Server-Timing"} <= set(response["headers"])
    for path in ("/v1/extract", "/extract"):
        op = spec["paths"][path]["post"]
        assert set(op["responses"]) == {"200"} | EXTRACT_ERRORS
        assert "Retry-After" in op["responses"]["503"]["headers"]
        ok = op["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": "#/components/schemas/ExtractionResult"}
        assert set(op["requestBody"]["content"]) == {"multipart/form-data", "application/octet-stream"}
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])
    assert spec["info"]["version"] == __version__


def test_description_documents_every_setting_with_its_default(spec_path: Path) -> None:
    description = _spec(spec_path)["info"]["description"]
    for name, field in Settings.model_fields.items():
        assert env_name(name) in description
        assert field.description and field.description in description
    assert "`52428800`" in description and "`60.0`" in description and "`os.cpu_count()`" in description


def test_generated_client_extracts_a_corpus_file(
    server: LiveServer, spec_path: Path, corpus: Path, tmp_path: Path
) -> None:
    """openapi-python-client builds a client from the committed spec; it talks to the live server."""
    config = tmp_path / "config.yaml"
    config.write_text("post_hooks: []\npackage_name_override: govreport_client\nproject_name_override: govreport-client\n")
    out = tmp_path / "client"
    done = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(spec_path),
         "--config", str(config), "--output-path", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout, done.stdout
    sys.path.insert(0, str(out))
    try:
        gc = importlib.import_module("govreport_client")
        from govreport_client.api.catalogue import list_indicators
        from govreport_client.api.extraction import extract_v1
        from govreport_client.api.operations import version
        from govreport_client.models import ExtractionResult, ExtractUpload, IndicatorCatalogue, Part, Problem
        from govreport_client.types import File

        path = sorted((corpus / "pdf").glob("0*.pdf"))[0]
        gold = json.loads((corpus / "gold" / f"{path.stem}.json").read_text(encoding="utf-8"))
        client = gc.Client(base_url=server.url, timeout=httpx.Timeout(120.0))
        upload = ExtractUpload(file=File(payload=io.BytesIO(path.read_bytes()), file_name=path.name))
        result = extract_v1.sync(client=client, body=upload)
        assert isinstance(result, ExtractionResult)
        assert result.document.report_year.value == gold["report_year"]
        assert result.document.template.value.value == gold["template"]

        raw = extract_v1.sync_detailed(
            client=client, body=File(payload=io.BytesIO(path.read_bytes())), include=[Part.INDICATORS], filename=path.name
        )
        assert raw.status_code == 200
        assert [i.id for i in raw.parsed.indicators] == [i.id for i in result.indicators]

        problem = extract_v1.sync(client=client, body=File(payload=io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)))
        assert isinstance(problem, Problem)
        assert problem.status == 415 and problem.type_.endswith("/unsupported-media-type")

        catalogue = list_indicators.sync(client=client)
        assert isinstance(catalogue, IndicatorCatalogue) and catalogue.count == len(catalogue.indicators) > 0
        assert version.sync(client=client).extractor_version == __version__
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == "govreport_client" or m.startswith("govreport_client.")]:
            del sys.modules[name]
