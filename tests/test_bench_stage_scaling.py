"""bench.stage_scaling: the generated inputs grow as stated and the per-unit cost stays flat (linear stages)."""
from __future__ import annotations

from bench import stage_scaling as S


def test_each_shape_builds_its_input_proportionally() -> None:
    for shape in S.SHAPES:
        small, big = shape.build(shape.base * 10)[1], shape.build(shape.base * 100)[1]  # past the fixed package size
        assert 5 * len(small) < len(big) < 15 * len(small), shape.name


def test_narrative_and_sections_cost_per_unit_is_flat_from_10x_to_100x() -> None:
    """10x more numbers or headings costs about 10x (a quadratic stage would cost 100x)."""
    for shape in S.SHAPES[:2]:
        ten, hundred = S.measure(shape, 10), S.measure(shape, 100)
        assert ten.outcome == hundred.outcome == "200"
        assert hundred.us_per_unit < 3 * ten.us_per_unit, (shape.name, ten.us_per_unit, hundred.us_per_unit)


def test_a_cap_is_reported_with_its_name_and_rendered() -> None:
    point = S.measure(S.SHAPES[4], 100)  # a 400-deep styles chain
    assert point.outcome == "resource-limit max_style_depth"
    table = S.render([S.StagePoint("x", "u", m, m, m, 1.0, 2.0, "200") for m in S.MULTIPLES])
    assert "| x | u |" in table and "1,000×÷10× per unit" in table
