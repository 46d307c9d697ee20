"""bench/updates.py still measures working code: its quick run passes its own checks."""

from __future__ import annotations

import pytest

from bench import updates


def test_the_quick_run_checks_itself_and_prints_the_ratio(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert updates.main(["--quick", "--concurrency", "4"]) == 0
    out = capsys.readouterr().out
    assert "ratio full/bare, sequential:" in out
    assert "ratio full/bare, 4 in flight:" in out
    assert "checked: 20 members registered with consent" in out


def test_a_broken_stack_fails_the_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """If the measured path stops working, the bench says so instead of printing figures."""

    async def a_problem_found(*_args: object) -> list[str]:
        return ["member 1: stored nothing"]

    monkeypatch.setattr(updates, "full_stack_problems", a_problem_found)
    assert updates.main(["--quick", "--concurrency", "1"]) == 1
    assert "BENCHMARK FAILED" in capsys.readouterr().err
