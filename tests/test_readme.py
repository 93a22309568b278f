"""The README's Python examples run as written and give the numbers it quotes.

The blocks of its "Python" section run in order in one namespace, from the repository
root, as a reader would paste them. The whole-chain block (about 3 min) is the slow test.
Tolerances: the quoted numbers are rounded to the digits shown.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = re.search(r"^## Python\n(.*?)^## ", text, re.S | re.M)
    assert section, "README.md has no '## Python' section"
    return re.findall(r"```python\n(.*?)```", section.group(1), re.S)


def _run(blocks: list[str], monkeypatch) -> dict:
    monkeypatch.chdir(ROOT)
    ns: dict = {}
    for code in blocks:
        exec(compile(code, "README.md", "exec"), ns)
    return ns


def _fast_blocks() -> list[str]:
    return [b for b in _python_blocks() if "simulate_chain" not in b]


def test_readme_has_the_python_examples():
    blocks = _python_blocks()
    assert len(blocks) == 4
    assert sum("simulate_chain" in b for b in blocks) == 1


def test_readme_python_examples(monkeypatch):
    ns = _run(_fast_blocks(), monkeypatch)
    np.testing.assert_allclose(ns["cv"], [43.4, 50.2], atol=0.05)
    assert len(ns["first"]) == 1
    assert ns["tau_sd"].shape == ns["rheobase"].shape == (2,)
    assert np.all(ns["tau_sd"] > 0) and np.all(ns["rheobase"] > 0)
    np.testing.assert_allclose(ns["change"].values.ravel(), [0.0, -24.8, -32.8], atol=0.05)
    ko = dict(zip(ns["ds"]["kind"].values, ns["ko"].values, strict=True))
    assert ko["motor"] == pytest.approx(4.38, abs=0.005)
    assert ko["sensory"] == pytest.approx(5.03, abs=0.005)


@pytest.mark.slow
def test_readme_whole_chain_example(monkeypatch):
    ns = _run(_python_blocks(), monkeypatch)
    lying, extension = ns["verdicts"]
    assert not lying["cramp"] and lying["ectopic_inputs"] == 0
    assert extension["cramp"]
    assert extension["rate_mean_hz"] == pytest.approx(13.0, abs=0.5)
    assert ns["rate"].shape == (1,) and ns["rate"][0] > 0


def test_top_level_names_resolve():
    import neurosim

    for name in neurosim.__all__:
        assert getattr(neurosim, name) is not None, name
