"""campaigns.modelcheck: a validator's HintedError becomes a problem whose hint is a field of its
own; the words of a plain error are reported whole."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel

from campaigns.modelcheck import check_model
from campaigns.problems import HintedError
from campaigns.yamlsource import read_yaml


def _hinted(value: str) -> str:
    if value != "ok":
        raise HintedError(f"'{value}' is not ok", hint="write ok")
    return value


def _plain(value: str) -> str:
    if value != "ok":
        raise ValueError(f"'{value}' is not ok | hint: kept as written")
    return value


class _Model(BaseModel):
    hinted: Annotated[str, AfterValidator(_hinted)] = "ok"
    plain: Annotated[str, AfterValidator(_plain)] = "ok"


def test_a_hinted_error_keeps_its_hint_apart(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("hinted: no\nplain: nope\n", encoding="utf-8")
    model, problems = check_model(_Model, read_yaml(path))
    assert model is None
    found = {(p.where.line, p.message, p.hint) for p in problems}
    assert found == {
        (1, "'no' is not ok", "write ok"),
        (2, "'nope' is not ok | hint: kept as written", None),
    }
