"""The worker's warm-up inputs: built from the package's knowledge, read by the reader of their format."""
from __future__ import annotations

import pytest

from app.worker import warm_up_files
from extractors import NotAReportError, extract
from extractors.readers import sniff


def test_warm_up_inputs_walk_every_main_reader_and_the_whole_pipeline() -> None:
    files = dict(warm_up_files())
    assert {sniff(data, name, None) for name, data in files.items()} == {"md", "docx", "html", "pdf"}
    assert len(files) == 5  # the composed report as each main reader reads it, and the revised forms as Markdown
    counts = set()
    for name in ("warm-up.md", "warm-up.docx", "warm-up.html"):
        result = extract(files[name], name)
        counts.add(len(result.indicators))
        assert len(result.sections) >= 8  # a numbered heading per section of data/sections.toml
    assert len(counts) == 1 and counts.pop() > 50  # the same composed report, whichever reader reads it
    with pytest.raises(NotAReportError):  # the PDF only warms the reader: a grid of numbers is no report
        extract(files["warm-up.pdf"], "warm-up.pdf")


def test_the_revised_warm_up_report_is_read_as_the_2019_forms_with_every_row_of_the_newest_table_three() -> None:
    """The legacy-looking flat table of `warm-up.md` never walks the 表三 reading; this input does."""
    from extractors import indicators
    from extractors.forms import FORMS

    result = extract(dict(warm_up_files())["warm-up-revised.md"], "warm-up-revised.md")
    assert result.document.template.value == "revised_2019"
    got = {i.id: i.value for i in result.indicators}
    forms = FORMS()
    newest = forms.requests.forms[-1]
    expected = {f"{row}.{col}" for row in newest.rows for col in forms.requests.columns}
    assert len(expected) == 25 * 7 and expected <= set(got)  # the 2021+ printing: 25 rows, 7 columns
    assert {i for g in forms.review_groups for i in g} <= set(got)  # 表四's three groups of five
    assert set(got.values()) == {0}  # nothing but the zeros it prints
    assert indicators._REQUESTS_MEMO  # the 表三 label readings are filled


def test_a_new_worker_settles_before_it_reports_ready_and_then_serves() -> None:
    """`worker_main` runs `settle` (the warm-up inputs through the whole pipeline) and only then sends READY,
    which is what the pool waits for before it hands the worker a request."""
    import multiprocessing

    from app.worker import READY, ExtractJob, Reply, run_extract, worker_main

    ctx = multiprocessing.get_context("forkserver")
    # as the pool does: the forkserver is one per process, and whichever test starts it sets its preload
    ctx.set_forkserver_preload(["app.preload"])
    parent, child = ctx.Pipe(duplex=True)
    proc = ctx.Process(target=worker_main, args=(child, run_extract, 0), daemon=True)
    proc.start()
    child.close()
    try:
        assert parent.poll(60) and parent.recv() == READY
        data = dict(warm_up_files())["warm-up.md"]
        parent.send(ExtractJob(data, "warm-up.md", None, 500))
        reply = None
        while not isinstance(reply, Reply):  # stage reports (reading, later stages) come first
            assert parent.poll(60)
            reply = parent.recv()
        assert reply.output is not None and b'"indicators"' in reply.output.result_json
        parent.send(None)  # the polite stop
        proc.join(10)
        assert proc.exitcode == 0
    finally:
        if proc.is_alive():
            proc.kill()
