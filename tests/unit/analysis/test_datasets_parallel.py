"""The parallel `check_file` (datasets/parallel.py) gives exactly the sequential result: findings, summary and
locator positions, on files whose chunk boundaries cut across duplicates, system-prompt variants and caps."""

from __future__ import annotations

import json
from array import array
from itertools import pairwise
from pathlib import Path

import pytest

from promptls.analysis.datasets import DatasetSettings, check_file
from promptls.analysis.datasets.check import MAX_FINDINGS_PER_CODE
from promptls.analysis.datasets.parallel import check_parallel, merged_reservoir, split_ranges

SETTINGS = DatasetSettings(max_example_tokens=60)
SYSTEMS = [
    "You are a travel agent for Alpine Rail. Answer briefly.",
    "Tu es un agent de voyage pour Alpine Rail. Réponds brièvement.",
    "あなたはAlpine Railの旅行代理店です。簡潔に答えてください。",
]


def _example(i: int, system: str | None) -> dict:
    messages = [{"role": "user", "content": f"Which train goes from Zürich to Chur at {i % 24:02d}:{i % 60:02d}?"},
                {"role": "assistant", "content": f"The IC {i} leaves Zürich HB — platform {i % 17} ☕" * (1 + i % 4)}]
    if system is not None:
        messages.insert(0, {"role": "system", "content": system})
    return {"messages": messages}


def _line(i: int, system: str | None) -> bytes:
    return json.dumps(_example(i, system), ensure_ascii=i % 2 == 0).encode()


def _mixed_dataset(path: Path, n: int = 3000, systems_from: int = 0) -> Path:
    """Valid examples with every kind of trouble spread over the file; the last lines repeat the first ones."""
    lines: list[bytes] = []
    for i in range(n):
        system = None if i < systems_from else SYSTEMS[0] if i < n // 2 else SYSTEMS[i % 3]
        if i % 5 == 1:
            lines.append(b'{"messages": [{"role": "user", "content": "cut sh')  # > 500 DS001 findings
        elif i % 97 == 7:
            lines.append(b'{"messages": [{"role": "user", "content": "caf\xe9 cr\xe8me"}]}')  # Latin-1, not UTF-8
        elif i % 50 == 20:
            lines.append(b"   ")
        elif i >= n - 300 and i % 3 == 0:
            lines.append(_line(i - (n - 300), SYSTEMS[0]))  # a duplicate of a line in the first chunk
        elif i % 41 == 4:
            lines.append(_line(i, system).replace(b'{"messages": ', b'{"messages":\r', 1))  # a lone CR
        else:
            lines.append(_line(i, system))
    breaks = [b"\r\n" if i % 7 == 0 else b"\n" for i in range(n)]
    data = b"\xef\xbb\xbf" + b"".join(line + brk for line, brk in zip(lines, breaks, strict=True))
    path.write_bytes(data)
    return path


def _observed(path: Path, jobs: int) -> tuple[list, dict, list]:
    result = check_file(str(path), SETTINGS, jobs=jobs, min_bytes=0)
    findings = [(f.code, f.message, f.span) for f in result.findings]
    positions = [(result.locator.range(f.span), result.locator.client_range(f.span)) for f in result.findings]
    return findings, result.summary.to_json(), positions


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _mixed_dataset(tmp_path_factory.mktemp("parallel") / "train.jsonl")


@pytest.mark.parametrize("jobs", [2, 3])
def test_parallel_check_is_identical_to_the_sequential_one(mixed: Path, jobs: int) -> None:
    assert len(split_ranges(str(mixed), jobs)) == jobs
    sequential = _observed(mixed, 1)
    assert _observed(mixed, jobs) == sequential


def test_the_mixed_dataset_exercises_every_merge_step(mixed: Path) -> None:
    findings, summary, _positions = _observed(mixed, 2)
    codes = [code for code, _message, _span in findings]
    assert codes.count("DS001") == MAX_FINDINGS_PER_CODE
    assert any("more DS001 findings not shown" in message for _code, message, _span in findings)
    named = [int(m.rstrip(".").rsplit(" ", 1)[1]) for code, m, _span in findings if code == "DS009"]
    assert summary["duplicates"] == len(named) and max(named) < 1000  # lines 2700+ repeat early lines
    assert "DS011" in codes and "DS008" in codes
    assert summary["system_prompt_variants"] == 3
    assert summary["examples"] > 2000 and summary["invalid_lines"] > MAX_FINDINGS_PER_CODE


def test_the_parallel_path_is_taken_when_forced_and_skipped_for_small_files(mixed: Path) -> None:
    assert check_parallel(str(mixed), SETTINGS, "chat", 2, min_bytes=0) is not None
    assert check_parallel(str(mixed), SETTINGS, "chat", 2) is None  # below PARALLEL_MIN_BYTES
    assert check_parallel(str(mixed), SETTINGS, "chat", 1, min_bytes=0) is None


def test_first_system_prompt_and_its_variant_in_later_chunks(tmp_path: Path) -> None:
    path = _mixed_dataset(tmp_path / "late.jsonl", n=1500, systems_from=1000)
    assert _observed(path, 3) == _observed(path, 1)


def test_a_bom_at_a_chunk_start_is_only_stripped_at_the_file_start(tmp_path: Path) -> None:
    line = "\ufeff" + json.dumps(_example(1, SYSTEMS[1]), ensure_ascii=False)
    path = tmp_path / "boms.jsonl"
    path.write_text("\n".join([line] * 400) + "\n", encoding="utf-8")
    findings, summary, _positions = _observed(path, 3)
    assert (findings, summary) == _observed(path, 1)[:2]
    assert summary["examples"] == 1 and summary["invalid_lines"] == 399


def test_too_few_examples_and_blank_chunks(tmp_path: Path) -> None:
    path = tmp_path / "few.jsonl"
    path.write_bytes(b"\n" * 200 + b"\r\n".join(_line(i, SYSTEMS[2]) for i in range(4)) + b"\n" * 300)
    findings, summary, positions = _observed(path, 3)
    assert (findings, summary, positions) == _observed(path, 1)
    assert [code for code, _m, _s in findings].count("DS013") == 1 and summary["examples"] == 4


def test_split_ranges_start_at_line_starts(mixed: Path) -> None:
    data = mixed.read_bytes()
    ranges = split_ranges(str(mixed), 5)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    for (_begin, end), (begin, _end) in pairwise(ranges):
        assert end == begin and data[begin - 1:begin] == b"\n"


def test_merged_reservoir_is_exact_while_it_fits_and_a_sample_beyond() -> None:
    parts = [(array("q", [5, 1, 9]), 3), (array("q", [7, 3]), 2)]
    exact = merged_reservoir(parts, size=5)
    assert list(exact.values) == [5, 1, 9, 7, 3] and exact.seen == 5
    big = [(array("q", range(0, 10)), 40), (array("q", range(100, 110)), 10)]
    sample = merged_reservoir(big, size=10)
    assert len(sample.values) == 10 and sample.seen == 50
    assert set(sample.values) <= set(range(10)) | set(range(100, 110))
