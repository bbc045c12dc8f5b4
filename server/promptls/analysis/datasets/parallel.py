"""Process-parallel `check_file`: the file split into byte ranges at line boundaries, each checked in a forked
process, the partial results merged into exactly what the sequential pass gives.

The parent decides the file's format first and passes it to every chunk. A chunk counts offsets and lines from
its own start; the merge shifts them by the earlier chunks' totals. What depends on earlier lines is decided
in the parent, in file order: duplicates (chunks report a digest per example; the parent keeps the same bounded
digest table the sequential pass keeps, and reads back the few lines whose DS009 findings it keeps, to locate
them), system-prompt variants (chunks report their distinct prompts in order, with the spans of the first two:
the first one differing from the file's first prompt is one of them), the per-code caps (chunks keep their
first MAX_FINDINGS_PER_CODE of each code in emission order; the merge keeps the first of their concatenation),
DS013 and p95 (the chunks' samples concatenated: exact up to RESERVOIR_SIZE examples as in the sequential
pass, a uniform sample weighted by chunk beyond). Each chunk's locator is copied only for the spans kept.
"""

from __future__ import annotations

import bisect
import multiprocessing
import os
import random
from array import array
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from promptls.analysis.datasets.check import (
    MAX_DIGESTS,
    MAX_FINDINGS_PER_CODE,
    MAX_LINE_BYTES,
    MAX_SYSTEM_VARIANTS,
    RESERVOIR_SIZE,
    Analyzer,
    DatasetResult,
    DatasetSettings,
    Reservoir,
    check_stream,
    example_digest,
    feed_file,
    majority_format,
    sample_lines,
    sentence,
    split_break,
    text_digest,
)
from promptls.core.findings import Finding
from promptls.core.positions import LineLocator, Span
from promptls.core.registry import rule
from promptls.documents.dataset.formats import Example, Issue

PARALLEL_MIN_BYTES = 32 * 1024 * 1024  # below this, forking and merging cost more than they save
# The merge keeps a few ints per example (~48 bytes); above this size the sequential pass, whose memory stays
# bounded whatever the file holds, is used instead.
PARALLEL_MAX_BYTES = 1024 * 1024 * 1024
_ROW = 4  # ints per example in `_Partial.rows`: line, start, length, byte position


@dataclass(slots=True)
class _Partial:
    """What one chunk's check sends back; offsets and lines relative to the chunk's start."""

    chars: int
    lines: int
    findings: list[Finding]  # emission order; no DS009, DS011 or DS013 (decided in the merge)
    dropped: dict[str, int]
    locator: LineLocator
    digests: bytes  # 16 bytes per example, in file order
    rows: array  # _ROW ints per example, aligned with `digests`
    systems: dict[bytes, tuple[int, Span | None]]  # distinct system prompts in order: first line, span (first two)
    first_line: Span | None
    examples: int
    invalid_lines: int
    over_limit: int
    tokens_total: int
    tokens_min: int | None
    tokens_max: int
    exact: bool
    sample: array  # the chunk's token-count reservoir
    seen: int


class _ChunkAnalyzer(Analyzer):
    """The sequential analyser, except that duplicates and system prompts are recorded for the merge."""

    def __init__(self, settings: DatasetSettings, file_format: str, at_file_start: bool) -> None:
        super().__init__(settings, file_format)
        self.at_file_start = at_file_start
        self.digests = bytearray()
        self.rows = array("q")
        self.systems: dict[bytes, tuple[int, Span | None]] = {}

    def _duplicate(self, line: int, start: int, text: str, obj: dict, issues: list[Issue]) -> None:
        digest = example_digest(obj)
        if digest is not None:
            self.digests += digest
            self.rows.extend((line, start, len(text), self.position))

    def _system(self, line: int, start: int, text: str, example: Example) -> None:
        system = example.system or ""
        if system == self._last_system:
            return
        self._last_system = system
        digest = text_digest(system.encode("utf-8", "surrogatepass"))
        if digest in self.systems or len(self.systems) >= MAX_SYSTEM_VARIANTS:
            return
        span = None
        if len(self.systems) < 2:
            span = self._issue_span(Issue("DS011", "", example.system_path), start, text)
            self.locator.note(start, line, text, span)
        self.systems[digest] = (line, span)

    def partial(self, chars: int, lines: int) -> _Partial:
        return _Partial(chars, lines, self.findings, dict(self._dropped), self.locator, bytes(self.digests),
                        self.rows, self.systems, self._first_line, self.examples, self.invalid_lines,
                        self.over_limit, self.tokens_total, self.tokens_min, self.tokens_max, self.exact,
                        self._reservoir.values, self._reservoir.seen)


def _check_chunk(task: tuple[str, DatasetSettings, str, int, int]) -> _Partial:
    path, settings, file_format, begin, end = task
    analyzer = _ChunkAnalyzer(settings, file_format, at_file_start=begin == 0)
    with open(path, "rb") as f:
        f.seek(begin)
        chars, lines = feed_file(analyzer, f, end)
    return analyzer.partial(chars, lines)


def split_ranges(path: str, parts: int) -> list[tuple[int, int]]:
    """[begin, end) byte ranges of about equal size, each starting at a line start; fewer when lines are long."""
    size = os.path.getsize(path)
    cuts = [0]
    with open(path, "rb") as f:
        for k in range(1, parts):
            cut = _line_start_at(f, max(size * k // parts, cuts[-1]), size)
            if cuts[-1] < cut < size:
                cuts.append(cut)
    return list(zip(cuts, [*cuts[1:], size], strict=True)) if size else []


def _line_start_at(f, target: int, size: int) -> int:
    """The first line start at or after byte `target`."""
    if target == 0:
        return 0
    f.seek(target - 1)
    position = target - 1
    while True:
        block = f.read(1 << 16)
        if not block:
            return size
        i = block.find(b"\n")
        if i >= 0:
            return position + i + 1
        position += len(block)


def fork_context() -> multiprocessing.context.BaseContext | None:
    """The fork context, or None where there is none or this process is itself a worker (no nested pools)."""
    if multiprocessing.parent_process() is not None:
        return None
    try:
        return multiprocessing.get_context("fork")
    except ValueError:
        return None


def check_parallel(path: str, settings: DatasetSettings, file_format: str, jobs: int,
                   min_bytes: int | None = None) -> DatasetResult | None:
    """`check_file` in `jobs` forked processes; None when that does not apply (a small file, no fork)."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return None
    ctx = fork_context()
    if ctx is None or jobs < 2 or size <= (PARALLEL_MIN_BYTES if min_bytes is None else min_bytes) \
            or size > PARALLEL_MAX_BYTES:
        return None
    ranges = split_ranges(path, jobs)
    if len(ranges) < 2:
        return None
    merged = _Merge(path, Analyzer(settings, file_format))
    merged.analyzer._count("warm up")  # build the encoding before forking, so the workers inherit it
    tasks = [(path, settings, file_format, begin, end) for begin, end in ranges]
    with ProcessPoolExecutor(len(tasks), mp_context=ctx) as pool:
        for partial in pool.map(_check_chunk, tasks):
            merged.add(partial)
    return merged.finish()


@dataclass(slots=True)
class _Merge:
    """Folds the chunks' partial results, in file order, into an `Analyzer` whose `finish` gives the result."""

    path: str
    analyzer: Analyzer
    chars: int = 0
    lines: int = 0
    seen: dict[bytes, int] = field(default_factory=dict)  # digest -> first line, as `Analyzer._digests`
    reread: list[tuple[int, int, int, Span]] = field(default_factory=list)  # kept DS009: position, start, line
    samples: list[tuple[array, int]] = field(default_factory=list)

    def add(self, part: _Partial) -> None:
        a = self.analyzer
        for finding in part.findings:
            original = finding.span
            finding.span = original.shift(self.chars)
            if self._keep(finding):
                a.locator.copy_from(part.locator, original, self.chars, self.lines)
        for code, dropped in part.dropped.items():
            a._dropped[code] += dropped
        self._duplicates(part)
        self._systems(part)
        if a._first_line is None and part.first_line is not None:
            a._first_line = part.first_line.shift(self.chars)
            a.locator.copy_from(part.locator, part.first_line, self.chars, self.lines)
        a.examples += part.examples
        a.invalid_lines += part.invalid_lines
        a.over_limit += part.over_limit
        a.tokens_total += part.tokens_total
        if part.tokens_min is not None and (a.tokens_min is None or part.tokens_min < a.tokens_min):
            a.tokens_min = part.tokens_min
        a.tokens_max = max(a.tokens_max, part.tokens_max)
        a.exact = a.exact and part.exact
        self.samples.append((part.sample, part.seen))
        self.chars += part.chars
        self.lines += part.lines

    def _keep(self, finding: Finding) -> bool:
        """The cap of `Analyzer._emit`, over the merged order."""
        a = self.analyzer
        if a._kept[finding.code] >= MAX_FINDINGS_PER_CODE:
            a._dropped[finding.code] += 1
            return False
        a._kept[finding.code] += 1
        a.findings.append(finding)
        a._last[finding.code] = finding
        return True

    def _duplicates(self, part: _Partial) -> None:
        severity = rule("DS009").severity
        rows, digests = part.rows, part.digests
        for i in range(len(digests) // 16):
            digest = digests[16 * i:16 * i + 16]
            first = self.seen.get(digest)
            line, start, length, position = rows[_ROW * i:_ROW * i + _ROW]
            if first is not None:
                self.analyzer.duplicates += 1
                span = Span(start + self.chars, start + length + self.chars)
                message = sentence(f"duplicate of the example on line {first + 1}")
                if self._keep(Finding("DS009", severity, message, span)):
                    self.reread.append((position, span.start, line + self.lines, span))
            elif len(self.seen) < MAX_DIGESTS:
                self.seen[digest] = line + self.lines

    def _systems(self, part: _Partial) -> None:
        a = self.analyzer
        for digest, (line, span) in part.systems.items():
            if a._first_system is None:
                a._first_system = (digest, line + self.lines)
            elif digest != a._first_system[0] and a._system_diff is None and span is not None:
                a._system_diff = (span.shift(self.chars), line + self.lines)
                a.locator.copy_from(part.locator, span, self.chars, self.lines)
            if len(a._systems) < MAX_SYSTEM_VARIANTS:
                a._systems.add(digest)

    def finish(self) -> DatasetResult:
        self._locate_duplicates()
        self.analyzer._reservoir = merged_reservoir(self.samples)
        return self.analyzer.finish()

    def _locate_duplicates(self) -> None:
        """Read back the lines of the kept DS009 findings (their chunks did not keep them) for the locator."""
        if not self.reread:
            return
        with open(self.path, "rb") as f:
            for position, start, line, span in self.reread:
                f.seek(position)
                body, _breaks = split_break(f.readline(MAX_LINE_BYTES))
                self.analyzer.locator.note(start, line, body.decode("utf-8"), span)


def merged_reservoir(samples: Iterable[tuple[array, int]], size: int = RESERVOIR_SIZE) -> Reservoir:
    """One reservoir from the chunks' (sample, examples seen): their concatenation while the total fits (so
    p95 is exact, as in the sequential pass), else `size` values drawn uniformly over all examples."""
    samples = list(samples)
    merged = Reservoir(size)
    merged.seen = sum(seen for _values, seen in samples)
    if merged.seen <= size:
        for values, _seen in samples:
            merged.values.extend(values)
        return merged
    rng = random.Random(0x5EED)
    ends = []
    total = 0
    for _values, seen in samples:
        total += seen
        ends.append(total)
    counts = [0] * len(samples)
    for pick in rng.sample(range(total), size):  # which examples, hence how many from each chunk
        counts[bisect.bisect_right(ends, pick)] += 1
    for (values, _seen), count in zip(samples, counts, strict=True):
        merged.values.extend(rng.sample(values, count) if count < len(values) else values)
    return merged


def check_file(path: str, settings: DatasetSettings, jobs: int = 1, *, min_bytes: int | None = None) -> DatasetResult:
    """Check a dataset file (the CLI's path): one streaming pass with bounded memory (`check.check_stream`), or,
    with `jobs` > 1 and a file larger than `min_bytes` (default PARALLEL_MIN_BYTES), that many forked processes,
    one byte range each, with the same result."""
    file_format = majority_format(sample_lines(path))
    if jobs > 1:
        result = check_parallel(path, settings, file_format, jobs, min_bytes)
        if result is not None:
            return result
    return check_stream(path, settings, file_format)
