"""Check a JSONL fine-tuning dataset: one streaming pass, bounded memory, findings DS001-DS013 and a summary.

`check_text` is the editor's path (text in memory), `check_file` the CLI's (the file read line by line in
binary, never whole); both feed the same `Analyzer`, so they give the same findings at the same offsets.
Per line: one JSON parse, one validation walk (`formats.validate`), one canonical dump hashed for duplicates.
Only lines with findings are scanned again, to find the offending key or value in the raw text.
Tokens are counted inline, one `count_uncached` call per text (system prompts and tool definitions, which most
examples repeat, through a small bounded memo). Measured on message-sized texts (bench/bench_datasets.py),
tiktoken's `encode_ordinary_batch` on 2 threads was 4x slower than one thread, and a pipelined pool of
counting threads no faster than counting inline: short calls leave too little work outside the GIL.

Memory stays bounded: findings are capped per code, the line locator (`core.positions.LineLocator`) keeps a
few numbers per line with findings, duplicate detection keeps 16-byte digests (up to MAX_DIGESTS), system
prompts are tracked by digest (up to MAX_SYSTEM_VARIANTS), repeated texts are memoised within MEMO_CHARS, and
p95 comes from a bounded reservoir sample.

`check_file(..., jobs=N)` checks a large file in N forked processes and merges their results into the
same one (datasets/parallel.py); the hooks here are `feed_file`'s byte range, `at_file_start`, `position`
and `LineLocator.copy_from`.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import random
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from json.decoder import scanstring
from typing import IO, Any

from promptls.catalog.training import training_cost, training_target
from promptls.core.findings import Finding
from promptls.core.positions import LineLocator, Span
from promptls.core.registry import rule
from promptls.core.safe_read import open_regular
from promptls.documents.dataset.formats import (
    _BOM,
    CHAT,
    PREFERENCE,
    ROLES,
    UNKNOWN,
    Example,
    Framing,
    Issue,
    Path,
    canonical,
    detect,
    parse_line,
    type_name,
    validate,
)
from promptls.tokens import counter_for_tokenizer, overhead_for_family

MAX_FINDINGS_PER_CODE = 500
MIN_EXAMPLES = 10
# A longer line is reported, not parsed or tokenised. No example reaches it: the largest training context is
# 65,536 tokens (about 0.3 MB of text); tokenising a 50 MB line took a minute and 2.6 GB in the editor.
MAX_LINE_BYTES = 4 * 1024 * 1024
MAX_DIGESTS = 1_000_000  # ~130 bytes each; later examples are still compared against these
MAX_SYSTEM_VARIANTS = 1_000
RESERVOIR_SIZE = 100_000  # p95 is exact up to this many examples, a uniform-sample estimate beyond
FORMAT_SAMPLE = 25  # detected examples that decide the file's format
FORMAT_SAMPLE_CHARS = 4_000_000
MEMO_CHARS = 2_000_000  # system prompts and tool definitions remembered with their counts


@dataclass(frozen=True, slots=True)
class DatasetSettings:
    model: str = "gpt-4o-mini-2024-07-18"
    epochs: int = 3
    max_example_tokens: int | None = None  # override of the model's training context
    training_price_per_mtok: float | None = None  # override of the bundled training price


@dataclass(slots=True)
class DatasetSummary:
    """What the code lens and `check --format json` show about a dataset."""

    format: str  # "chat" | "preference" | "prompt-completion" | "alpaca" | "unknown"
    examples: int
    invalid_lines: int
    model: str
    tokenizer: str
    exact: bool
    tokens_min: int
    tokens_mean: float
    tokens_p95: int
    tokens_max: int
    total_tokens: int
    epochs: int
    billed_tokens: int
    training_cost_usd: float | None
    training_price_source: str | None
    max_example_tokens: int | None
    over_limit: int
    duplicates: int
    system_prompt_variants: int
    complete: bool = True  # False when only the first `limit_lines` lines were analysed

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(slots=True)
class DatasetResult:
    findings: list[Finding]
    summary: DatasetSummary
    locator: LineLocator


# -- locating a key or value in a raw line ---------------------------------------------------------------------
_WHITESPACE = " \t\n\r"
_RAW_DECODER = json.JSONDecoder()


def locate(line: str, path: Path, at_key: bool = False) -> tuple[int, int] | None:
    """[start, end) of the value at `path` (or of its key, with `at_key`) in a valid JSON text, or None."""
    try:
        return _find(line, _skip(line, 0), path, at_key)
    except (ValueError, IndexError, RecursionError):
        return None


def _skip(s: str, i: int) -> int:
    n = len(s)
    while i < n and s[i] in _WHITESPACE:
        i += 1
    return i


def _find(s: str, i: int, path: Path, at_key: bool) -> tuple[int, int] | None:
    if not path:
        return i, _RAW_DECODER.raw_decode(s, i)[1]
    head, rest = path[0], path[1:]
    if isinstance(head, str):
        member = _member(s, i, head)
        if member is None:
            return None
        key_start, key_end, value_start = member
        return (key_start, key_end) if at_key and not rest else _find(s, value_start, rest, at_key)
    return _element(s, i, head, rest, at_key)


def _member(s: str, i: int, name: str) -> tuple[int, int, int] | None:
    """(key start, key end, value start) of member `name` of the object at i; the last one wins, as in
    json.loads."""
    if s[i] != "{":
        return None
    i = _skip(s, i + 1)
    found = None
    while s[i] == '"':
        key, key_end = scanstring(s, i + 1)
        value_start = _skip(s, _skip(s, key_end) + 1)  # past the ':'
        if key == name:
            found = (i, key_end, value_start)
        i = _skip(s, _RAW_DECODER.raw_decode(s, value_start)[1])
        if s[i] != ",":
            break
        i = _skip(s, i + 1)
    return found


def _element(s: str, i: int, index: int, rest: Path, at_key: bool) -> tuple[int, int] | None:
    if s[i] != "[":
        return None
    i = _skip(s, i + 1)
    for _ in range(index):
        i = _skip(s, _RAW_DECODER.raw_decode(s, i)[1])
        if s[i] != ",":
            return None
        i = _skip(s, i + 1)
    return None if s[i] == "]" else _find(s, i, rest, at_key)


# -- parsing one line ------------------------------------------------------------------------------------------
def text_digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def example_digest(obj: dict[str, Any]) -> bytes | None:
    """What duplicate detection compares: a digest of the example's canonical JSON (None: too deep to dump)."""
    try:
        return text_digest(canonical(obj).encode("ascii"))
    except RecursionError:
        return None


# -- statistics ------------------------------------------------------------------------------------------------
class Reservoir:
    """Token counts for p95: all of them up to `size`, then a uniform sample of that size (Algorithm R with a
    fixed seed, so a file always gives the same figure)."""

    def __init__(self, size: int = RESERVOIR_SIZE) -> None:
        self.size = size
        self.values = array("q")
        self.seen = 0
        self._random = random.Random(0x5EED)

    def add(self, value: int) -> None:
        self.seen += 1
        if len(self.values) < self.size:
            self.values.append(value)
            return
        j = self._random.randrange(self.seen)
        if j < self.size:
            self.values[j] = value

    def percentile(self, p: float) -> int:
        """Nearest-rank percentile (0 when empty)."""
        if not self.values:
            return 0
        ordered = sorted(self.values)
        rank = max(1, -(-len(ordered) * p // 100))
        return ordered[int(rank) - 1]


# -- the analyser ----------------------------------------------------------------------------------------------
class Analyzer:
    """Consumes a dataset's lines in order and produces findings and the summary."""

    def __init__(self, settings: DatasetSettings, file_format: str) -> None:
        self.settings = settings
        self.file_format = file_format
        self.target = training_target(settings.model, max_example_tokens=settings.max_example_tokens,
                                      price_per_mtok=settings.training_price_per_mtok)
        self.counter = counter_for_tokenizer(self.target.tokenizer)
        count = getattr(self.counter, "count_uncached", self.counter.count)
        self._count: Callable[[str], int] = count
        overhead = overhead_for_family(self.counter.family)
        self.framed = file_format in (CHAT, PREFERENCE)
        self.exact = self.counter.exact and (overhead.documented or not self.framed)
        self._role_cache: dict[str, int] = {}
        self._memo: dict[str, int] = {}
        self._memo_chars = 0
        # OpenAI Cookbook's num_tokens_from_messages: a `name` costs its tokens plus one.
        self.framing = Framing(overhead.per_message, 1, overhead.reply_priming, self._role_tokens)
        self.locator = LineLocator()
        self.findings: list[Finding] = []
        self._kept: Counter[str] = Counter()
        self._dropped: Counter[str] = Counter()
        self._last: dict[str, Finding] = {}
        self._digests: dict[bytes, int] = {}
        self._systems: set[bytes] = set()
        self._first_system: tuple[bytes, int] | None = None
        self._system_diff: tuple[Span, int] | None = None
        self._last_system: str | None = None
        self._first_line: Span | None = None
        self._reservoir = Reservoir()
        self.at_file_start = True  # False in a chunk of a parallel check that starts after the file's first line
        self.position = 0  # the byte offset of the line being fed, set by `feed_file`
        self.examples = self.invalid_lines = self.duplicates = self.over_limit = 0
        self.tokens_total = 0
        self.tokens_min: int | None = None
        self.tokens_max = 0

    def _count_repeated(self, text: str) -> int:
        """Count a text most examples share; remembered, within MEMO_CHARS of text held."""
        cached = self._memo.get(text)
        if cached is None:
            cached = self._count(text)
            if self._memo_chars + len(text) > MEMO_CHARS:
                self._memo.clear()
                self._memo_chars = 0
            self._memo[text] = cached
            self._memo_chars += len(text)
        return cached

    def _role_tokens(self, role: str) -> int:
        cached = self._role_cache.get(role)
        if cached is None:
            cached = self._count(role)
            if role in ROLES:
                self._role_cache[role] = cached
        return cached

    # -- findings --------------------------------------------------------------------------------------------
    def _emit(self, code: str, message: str, span: Span, line: int, start: int, text: str | None) -> None:
        """Add a finding unless its code is over the cap; `text` None: a line not kept (see note_plain)."""
        if self._kept[code] >= MAX_FINDINGS_PER_CODE:
            self._dropped[code] += 1
            return
        self._kept[code] += 1
        finding = Finding(code, rule(code).severity, sentence(message), span)
        self.findings.append(finding)
        self._last[code] = finding
        if text is None:
            self.locator.note_plain(start, line, span.end - start)
        else:
            self.locator.note(start, line, text, span)

    def _issue_span(self, issue: Issue, start: int, text: str) -> Span:
        if issue.path:
            found = locate(text, issue.path, issue.at_key)
            if found is not None:
                return Span(start + found[0], start + found[1])
        return Span(start, start + len(text))

    # -- lines -----------------------------------------------------------------------------------------------
    def feed(self, line: int, start: int, text: str) -> None:
        """One line (without its line break) starting at offset `start`."""
        if line == 0 and self.at_file_start and text.startswith(_BOM):
            text, start = text[1:], start + 1
        if not text or (text[0] in _WHITESPACE and text.isspace()):
            return
        if self._first_line is None:
            self._first_line = Span(start, start + len(text))
            self.locator.note(start, line, text, self._first_line)
        try:
            obj = parse_line(text)
        except ValueError as exc:
            self._invalid(line, start, text, f"invalid JSON: {_json_error(exc)}")
            return
        except RecursionError:
            self._invalid(line, start, text, "invalid JSON: nested too deeply to parse")
            return
        if type(obj) is not dict:
            self._invalid(line, start, text, f"the line is a JSON {type_name(obj)}, not an object")
            return
        self._example(line, start, text, obj)

    def feed_undecodable(self, line: int, start: int, text: str, byte: int) -> None:
        """A line that is not valid UTF-8; `text` is its decoding with replacement characters."""
        if self._first_line is None:
            self._first_line = Span(start, start + len(text))
            self.locator.note(start, line, text, self._first_line)
        self._invalid(line, start, text, f"the line is not valid UTF-8 (byte {byte + 1})")

    def feed_oversized(self, line: int, start: int, length: int) -> None:
        """A line longer than MAX_LINE_BYTES, not parsed; `length` is its length in code points."""
        self.invalid_lines += 1
        if self._first_line is None:
            self._first_line = Span(start, start + length)
            self.locator.note_plain(start, line, length)
        message = f"the line is longer than {MAX_LINE_BYTES:,} bytes and was not analysed"
        self._emit("DS001", message, Span(start, start + length), line, start, None)

    def _invalid(self, line: int, start: int, text: str, message: str) -> None:
        self.invalid_lines += 1
        self._emit("DS001", message, Span(start, start + len(text)), line, start, text)

    def _example(self, line: int, start: int, text: str, obj: dict[str, Any]) -> None:
        self.examples += 1
        fmt = detect(obj)
        issues: list[Issue] = []
        if fmt is not None and self.file_format != UNKNOWN and fmt != self.file_format:
            issues.append(Issue("DS012", f"a {fmt} example in a {self.file_format} file (the format of most "
                                         "of its first examples)"))
        check_as = fmt or (self.file_format if self.file_format != UNKNOWN else None)
        if check_as is None:
            example = Example()
            issues.append(Issue("DS003", "not a fine-tuning example: expected `messages`, `prompt`/`completion`, "
                                         "`instruction`/`output` or `input`/`preferred_output`"))
        else:
            example = validate(check_as, obj, self.framing, issues)
        self._duplicate(line, start, text, obj, issues)
        if example.system is not None:
            self._system(line, start, text, example)
        for issue in issues:
            self._emit(issue.code, issue.message, self._issue_span(issue, start, text), line, start, text)
        self._tokens(line, start, text, example)

    def _duplicate(self, line: int, start: int, text: str, obj: dict[str, Any], issues: list[Issue]) -> None:
        digest = example_digest(obj)
        if digest is None:
            return
        first = self._digests.get(digest)
        if first is not None:
            self.duplicates += 1
            issues.append(Issue("DS009", f"duplicate of the example on line {first + 1}"))
        elif len(self._digests) < MAX_DIGESTS:
            self._digests[digest] = line

    def _system(self, line: int, start: int, text: str, example: Example) -> None:
        system = example.system or ""
        if system == self._last_system:  # the usual case; a string compare is cheaper than hashing
            return
        self._last_system = system
        digest = text_digest(system.encode("utf-8", "surrogatepass"))
        if self._first_system is None:
            self._first_system = (digest, line)
        elif digest != self._first_system[0] and self._system_diff is None:
            span = self._issue_span(Issue("DS011", "", example.system_path), start, text)
            self.locator.note(start, line, text, span)
            self._system_diff = (span, line)
        if len(self._systems) < MAX_SYSTEM_VARIANTS:
            self._systems.add(digest)

    # -- counting --------------------------------------------------------------------------------------------
    def _tokens(self, line: int, start: int, text: str, example: Example) -> None:
        tokens = example.extra_tokens + sum(map(self._count, example.texts))
        if example.repeated:
            tokens += sum(map(self._count_repeated, example.repeated))
        if example.approximate:
            self.exact = False
        self.tokens_total += tokens
        if self.tokens_min is None or tokens < self.tokens_min:
            self.tokens_min = tokens
        if tokens > self.tokens_max:
            self.tokens_max = tokens
        self._reservoir.add(tokens)
        limit = self.target.max_example_tokens
        if limit is not None and tokens > limit:
            self.over_limit += 1
            self._emit("DS008", f"example has {tokens:,} tokens, above the {limit:,}-token training limit of "
                                f"{self.target.model}", Span(start, start + len(text)), line, start, text)

    # -- the end ---------------------------------------------------------------------------------------------
    def finish(self, complete: bool = True) -> DatasetResult:
        self._file_findings(complete)
        for code, dropped in self._dropped.items():
            self._last[code].message += f" (and {dropped:,} more {code} findings not shown)"
        self.findings.sort(key=lambda f: (f.span.start, f.span.end, f.code))
        return DatasetResult(self.findings, self._summary(complete), self.locator)

    def _file_findings(self, complete: bool) -> None:
        variants = len(self._systems)
        if self._system_diff is not None and self._first_system is not None:
            span, _line = self._system_diff
            many = f"at least {variants:,}" if variants >= MAX_SYSTEM_VARIANTS else f"{variants:,}"
            self.findings.append(Finding(
                "DS011", rule("DS011").severity,
                sentence(f"system prompt differs from the one on line {self._first_system[1] + 1}; {many} variants "
                         "in this file"), span))
        if complete and self.examples < MIN_EXAMPLES:
            span = self._first_line or Span(0, 0)
            if self._first_line is None:
                self.locator.note(0, 0, "", span)
            self.findings.append(Finding(
                "DS013", rule("DS013").severity,
                sentence(f"only {self.examples} example{'' if self.examples == 1 else 's'}: fine-tuning needs at "
                         f"least {MIN_EXAMPLES} (50 to 100 recommended)"), span))

    def _summary(self, complete: bool) -> DatasetSummary:
        epochs = self.settings.epochs
        billed = self.tokens_total * epochs
        return DatasetSummary(
            format=self.file_format,
            examples=self.examples,
            invalid_lines=self.invalid_lines,
            model=self.target.model,
            tokenizer=self.counter.name,
            exact=self.exact,
            tokens_min=self.tokens_min or 0,
            tokens_mean=self.tokens_total / self.examples if self.examples else 0.0,
            tokens_p95=self._reservoir.percentile(95),
            tokens_max=self.tokens_max,
            total_tokens=self.tokens_total,
            epochs=epochs,
            billed_tokens=billed,
            training_cost_usd=training_cost(billed, self.target.price_per_mtok),
            training_price_source=self.target.price_source,
            max_example_tokens=self.target.max_example_tokens,
            over_limit=self.over_limit,
            duplicates=self.duplicates,
            system_prompt_variants=len(self._systems),
            complete=complete,
        )


def _json_error(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (column {exc.colno})"
    return str(exc)


# -- the file's format -----------------------------------------------------------------------------------------
def majority_format(lines: Iterable[str]) -> str:
    """The format of most of the first FORMAT_SAMPLE recognisable examples (ties: the earliest), or unknown."""
    votes: Counter[str] = Counter()
    order: list[str] = []
    seen = 0
    for text in lines:
        seen += len(text)
        try:
            obj = parse_line(text.lstrip(_BOM))
        except (ValueError, RecursionError):
            obj = None
        fmt = detect(obj) if type(obj) is dict else None
        if fmt is not None:
            if fmt not in votes:
                order.append(fmt)
            votes[fmt] += 1
            if sum(votes.values()) >= FORMAT_SAMPLE:
                break
        if seen >= FORMAT_SAMPLE_CHARS:
            break
    if not votes:
        return UNKNOWN
    return max(order, key=lambda fmt: (votes[fmt], -order.index(fmt)))


# -- the two entry points --------------------------------------------------------------------------------------
def _oversized(chunk: str) -> bool:
    """Longer than MAX_LINE_BYTES in UTF-8 (the cheap length test first: a code point is 1 to 4 bytes)."""
    n = len(chunk)
    if n > MAX_LINE_BYTES:
        return True
    return n * 4 > MAX_LINE_BYTES and len(chunk.encode("utf-8", "surrogatepass")) > MAX_LINE_BYTES


def _text_lines(text: str) -> Iterator[tuple[int, int, str]]:
    """(line number, start offset, text without its '\\n' or '\\r\\n') for each '\\n'-separated line; line
    numbers count lone CRs as breaks, as LSP does."""
    i, n, line = 0, len(text), 0
    while i < n:
        j = text.find("\n", i)
        nxt = n if j < 0 else j + 1
        end = n if j < 0 else j - 1 if j > i and text[j - 1] == "\r" else j
        chunk = text[i:end]
        yield line, i, chunk
        line += 1 + (chunk.count("\r") if "\r" in chunk else 0)
        i = nxt


def check_text(text: str, settings: DatasetSettings, *, limit_lines: int | None = None) -> DatasetResult:
    """Check a dataset held in memory (the editor's path). With `limit_lines`, only the first lines are analysed
    and the summary describes the examples seen so far (`complete` is then False)."""
    sample = (chunk for _line, _start, chunk in _text_lines(text) if not _oversized(chunk))
    analyzer = Analyzer(settings, majority_format(sample))
    complete = True
    for line, start, chunk in _text_lines(text):
        if limit_lines is not None and line >= limit_lines:
            complete = False
            break
        if _oversized(chunk):
            analyzer.feed_oversized(line, start, len(chunk))
        else:
            analyzer.feed(line, start, chunk)
    return analyzer.finish(complete)


def _file_lines(f: IO[bytes]) -> Iterator[tuple[bytes, bool]]:
    """Raw lines of at most MAX_LINE_BYTES; the flag is True for the pieces of a longer line after the first."""
    continued = False
    while True:
        raw = f.readline(MAX_LINE_BYTES)
        if not raw:
            return
        yield raw, continued
        continued = not raw.endswith(b"\n")


def sample_lines(path: str) -> Iterator[str]:
    with open_regular(path) as f:
        for raw, continued in _file_lines(f):
            if continued or (len(raw) >= MAX_LINE_BYTES and not raw.endswith(b"\n")):
                continue  # pieces of an oversized line
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                continue


def split_break(raw: bytes) -> tuple[bytes, int]:
    """The line without its break, and the break's length in characters."""
    if raw.endswith(b"\r\n"):
        return raw[:-2], 2
    if raw.endswith(b"\n"):
        return raw[:-1], 1
    return raw, 0


def check_stream(path: str, settings: DatasetSettings, file_format: str | None = None) -> DatasetResult:
    """Check a dataset file in one streaming pass (the CLI's path): bounded memory, offsets in code points of
    the file decoded as UTF-8 without its BOM, as `check_text` would give for that text. A line that is not
    valid UTF-8 is a DS001 finding on that line (its length counted with replacement characters). `file_format`:
    the file's majority format when the caller sampled it already.

    Only a regular file is read (a FIFO or a device would never end): safe_read.Refused otherwise."""
    if file_format is None:
        file_format = majority_format(sample_lines(path))
    analyzer = Analyzer(settings, file_format)
    with open_regular(path) as f:
        feed_file(analyzer, f)
    return analyzer.finish()


def feed_file(analyzer: Analyzer, f: IO[bytes], stop: int | None = None) -> tuple[int, int]:
    """Feed the lines from `f`'s position up to byte `stop` (a line start; None: the end) to `analyzer`, with
    offsets and line numbers counted from that position; returns the code points and lines fed."""
    offset = line = 0
    position = f.tell()
    pieces = _file_lines(f)
    for raw, _continued in pieces:
        if position == 0 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
            position = len(codecs.BOM_UTF8)
        analyzer.position = position
        if len(raw) >= MAX_LINE_BYTES and not raw.endswith(b"\n"):
            length, breaks, crs = _skip_long_line(raw, pieces)
            analyzer.feed_oversized(line, offset, length)
            offset += length + breaks
            line += 1 + crs
            position = f.tell()
        else:
            body, breaks = split_break(raw)
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                text = body.decode("utf-8", "replace")
                analyzer.feed_undecodable(line, offset, text, exc.start)
            else:
                analyzer.feed(line, offset, text)
            offset += len(text) + breaks
            line += 1 + (body.count(b"\r") if b"\r" in body else 0)
            position += len(raw)
        if stop is not None and position >= stop:
            break
    return offset, line


def _skip_long_line(first: bytes, pieces: Iterator[tuple[bytes, bool]]) -> tuple[int, int, int]:
    """Consume the rest of an oversized line: its length in code points without the break (decoded with
    replacement characters), the length of its break, and its lone CRs."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    length = len(decoder.decode(first))
    crs = first.count(b"\r")
    tail = first[-2:]
    if not first.endswith(b"\n"):
        for raw, _continued in pieces:
            length += len(decoder.decode(raw))
            crs += raw.count(b"\r")
            tail = (tail + raw)[-2:]
            if raw.endswith(b"\n"):
                break
    length += len(decoder.decode(b"", final=True))
    breaks = 2 if tail == b"\r\n" else 1 if tail.endswith(b"\n") else 0
    return length - breaks, breaks, crs - (1 if breaks == 2 else 0)


def sentence(message: str) -> str:
    """Findings read like the other rules' messages: a capital first letter and a full stop."""
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "?", "!")) else message + "."
