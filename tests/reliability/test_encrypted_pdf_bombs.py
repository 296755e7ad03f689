"""Encrypted PDF bombs that open without a password (issue #16), through the deployed service.

The files (`pdf_encrypted.CASES`: a 1 GiB Flate bomb and the 250-fonts ToUnicode
bomb, each as RC4 R3, AESV2 R4 and AESV3 R6 with an empty user password) are
real: pdfium alone aborts on every one under RLIMIT_AS 512 MiB. The service
(`python -m app` on loopback, GOVREPORT_WORKER_MEMORY_LIMIT_MB=512, 2 workers)
answers each with 422 `resource-limit` naming the budget's cap, decided by the
budget (pdf_budget deciphers the streams) before pdfium allocates anything.
"""
from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pdf_encrypted as E
import pytest
from rel_support import Hosted, hosted_service

CPU_LIMIT_MS = 5_000.0
IDS = [ident for ident, _, _ in E.CASES]

_RAW_PDFIUM = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (512 << 20, resource.RLIM_INFINITY))
import pypdfium2 as pdfium
doc = pdfium.PdfDocument(open(sys.argv[1], "rb").read())  # no password: it opens
doc[0].get_textpage().get_text_range()
"""


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosted]:
    with hosted_service(tmp_path_factory, "enc", {"GOVREPORT_WORKERS": "2", "GOVREPORT_WORKER_MEMORY_LIMIT_MB": "512"}) as hosted:
        yield hosted


@pytest.mark.parametrize(("ident", "build", "cap"), E.CASES, ids=IDS)
def test_without_the_budget_pdfium_itself_dies_on_the_encrypted_bombs_at_512_mib(
    tmp_path: Path, ident: str, build, cap: str
) -> None:
    path = tmp_path / "bomb.pdf"
    path.write_bytes(build())
    proc = subprocess.run([sys.executable, "-c", _RAW_PDFIUM, str(path)], capture_output=True, timeout=120)
    assert proc.returncode < 0, (ident, proc.returncode, proc.stderr[-300:])  # killed by a signal (abort), no exception


@pytest.mark.parametrize(("ident", "build", "cap"), E.CASES, ids=IDS)
def test_encrypted_bombs_are_a_422_naming_the_budget_cap_under_the_deployed_memory_limit(
    deployed: Hosted, ident: str, build, cap: str
) -> None:
    with deployed.client(timeout=90) as client:
        r = client.post("/v1/extract", files={"file": ("report.pdf", build())})
        assert r.status_code == 422, (ident, r.text[:300])
        body = r.json()
        assert body["type"].endswith("/resource-limit") and body["limit"] == cap and cap in body["detail"], body
        m = re.search(r"worker-cpu;dur=([0-9.]+)", r.headers["server-timing"])
        assert m and float(m.group(1)) < CPU_LIMIT_MS, r.headers["server-timing"]
        assert client.get("/readyz").status_code == 200


def test_an_encrypted_report_that_opens_without_a_password_is_read(deployed: Hosted, corpus: Path) -> None:
    """The other side: a real report, encrypted with an owner password only, is read like the clear file."""
    import io

    import pikepdf

    src = sorted((corpus / "pdf").glob("*.pdf"))[0]
    out = io.BytesIO()
    with pikepdf.open(src) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(owner="owner", user="", R=6, aes=True))
    with deployed.client(timeout=90) as client:
        clear = client.post("/v1/extract", files={"file": (src.name, src.read_bytes())})
        enc = client.post("/v1/extract", files={"file": (src.name, out.getvalue())})
    assert clear.status_code == enc.status_code == 200, enc.text[:300]
    values = lambda r: {i["id"]: i["value"] for i in r.json()["indicators"]}  # noqa: E731
    assert values(enc) == values(clear) and len(values(clear)) > 20
