"""The analysis entry point shared by the CLI and the language server: a file's bytes or text in, a report out.

Three kinds of file are analysed, each with its own document model and rules: prompt files (`documents/`),
source files calling LLM SDKs (`code/`) and fine-tuning datasets (`datasets/`). A prompt or source file is parsed,
its calls are measured (tokens and cost, `measure.py`), then the rules run over the document and the measurement."""

from __future__ import annotations

import datetime as _dt
import logging
import os

from promptls.analysis.context import Context
from promptls.analysis.measure import measure_code, measure_prompt
from promptls.analysis.rules import ALL_CHECKS
from promptls.analysis.suppress import apply
from promptls.config import Config
from promptls.core.findings import FileReport, Finding, Severity
from promptls.core.positions import LineIndex, Span
from promptls.core.safe_read import BINARY_SNIFF_CHARS, Refused, binary_reason, check_regular, read_bytes, read_head
from promptls.documents.kinds import kind_of
from promptls.documents.load import parse_document
from promptls.documents.partials import PartialLookup, fs_partials
from promptls.documents.prompt.model import PromptDocument

log = logging.getLogger(__name__)


def decode(data: bytes) -> tuple[str | None, str | None]:
    """The text of a file's bytes, or the reason it is not analysed (binary, not UTF-8)."""
    if b"\x00" in data[:BINARY_SNIFF_CHARS]:  # before decoding: most binary files are not UTF-8 either
        return None, binary_reason("\x00")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return None, f"not valid UTF-8 (byte {e.start}: {data[e.start:e.start + 1]!r})"
    reason = binary_reason(text)
    return (None, reason) if reason else (text, None)


def analyze_path(path: str, config: Config, *, partials: PartialLookup = fs_partials,
                 today: _dt.date | None = None, online_count=None, workspace=None) -> tuple[FileReport, str]:
    """`check` on one file: read (a regular file of at most `max-file-bytes` only), then as `analyze_text`."""
    if path.endswith(".jsonl"):
        return _dataset_path(path, config), ""
    try:
        data = read_bytes(path, config.max_file_bytes, "max-file-bytes")
    except Refused as e:
        return _skipped(path, e.reason), ""
    text, reason = decode(data)
    if text is None:
        return _skipped(path, reason or "unreadable"), ""
    return analyze_text(path, text, config, partials=partials, today=today, online_count=online_count,
                        workspace=workspace), text


def _skipped(path: str, reason: str) -> FileReport:
    finding = Finding("IO001", Severity.WARNING, f"Not analysed: {reason}.", Span(0, 0))
    return FileReport(path, "unknown", None, [finding], skipped=reason)


def analyze_text(path: str, text: str, config: Config, *, partials: PartialLookup = fs_partials,
                 today: _dt.date | None = None, online_count=None, workspace=None) -> FileReport:
    return analyze(path, text, config, partials=partials, today=today, online_count=online_count,
                   workspace=workspace)[1]


def analyze(path: str, text: str, config: Config, *, partials: PartialLookup = fs_partials,
            today: _dt.date | None = None, kind: str | None = None,
            online_count=None, workspace=None, index: LineIndex | None = None) -> tuple[object, FileReport]:
    """The parsed document (for editor features: a PromptDocument, CodeDocument or DatasetResult; None when the
    text is over the size limit) and its report. `online_count`: see `Context.online_count`. `workspace`: a
    `workspace.WorkspaceIndex` through which a source file's call sites resolve names of other modules.
    `index`: a `LineIndex` of this very `text` the caller already has (the language server's), reused to read
    suppression comments instead of building another."""
    ctx = Context(config, partials, today or config.today or _dt.date.today(), online_count=online_count)
    kind = kind or kind_of(path, config, text[:65536]) or "prompt"
    limit, key = ((config.dataset_max_bytes, "datasets.max-bytes") if kind == "dataset"
                  else (config.max_file_bytes, "max-file-bytes"))
    if len(text) > limit:  # editors send whatever is open; the server must not spend seconds on a huge buffer
        return None, _skipped(path, f"document is {len(text):,} characters, above the limit (`{key}`)")
    if reason := binary_reason(text):  # as `check` says of the same file
        return None, _skipped(path, reason)
    if kind == "code":
        return _analyze_code(path, text, ctx, workspace, index)
    if kind == "dataset":
        return _analyze_dataset(path, text, ctx)
    doc = parse_document(path, text, config)
    return doc, run_rules(doc, ctx, index)


def _analyze_code(path: str, text: str, ctx: Context, workspace=None,
                  index: LineIndex | None = None) -> tuple[object, FileReport]:
    from promptls.analysis.rules import code as code_rules
    from promptls.documents.code.load import parse_code

    language = ctx.config.code_language_for(path) or "python"
    env = None
    if workspace is not None:
        try:
            env = workspace.env_for(path, text, defer_parse=True)
        except Exception:  # the file is still analysed on its own
            if os.environ.get("PROMPTLS_STRICT") == "1":
                raise
            log.exception("workspace index failed on %s", path)
    doc = parse_code(path, text, language, env=env)
    for site in doc.calls:  # an Azure client's `model=` names a deployment: `[deployments]` says which model
        model = site.args.get("model")
        if site.client is not None and site.client.endpoint == "azure" and model is not None \
                and isinstance(model.value, str):
            site.deployment_model = ctx.config.deployments.get(model.value)
    findings: list[Finding] = []
    if doc.calls or doc.clients or "sk-" in text or "AIza" in text:
        ctx.measurement = measure_code(doc, ctx)
        findings = [*ctx.measurement.failures, *_guarded(code_rules.check, doc, ctx)]
    if findings:
        findings = _in_order(apply(findings, doc, ctx.config, path, index or LineIndex(text)))
    calls = list(ctx.measurement.calls)
    models = sorted({e.model for e in calls if e.model})
    return doc, FileReport(path, doc.language, ", ".join(models) or None, findings, kind="code", calls=calls)


def dataset_settings(config: Config):
    from promptls.analysis.datasets import DatasetSettings

    return DatasetSettings(model=config.dataset_model, epochs=config.dataset_epochs,
                           max_example_tokens=config.dataset_max_example_tokens,
                           training_price_per_mtok=config.dataset_training_price_per_mtok)


def _analyze_dataset(path: str, text: str, ctx: Context, limit_lines: int | None = None) -> tuple[object, FileReport]:
    from promptls.analysis.datasets import check_text

    result = check_text(text, dataset_settings(ctx.config), limit_lines=limit_lines)
    return result, _dataset_report(path, result, ctx.config)


def analyze_dataset_prefix(path: str, text: str, config: Config, limit_lines: int) -> tuple[object, FileReport]:
    """The first `limit_lines` lines only: what the editor shows first on a large dataset."""
    if reason := binary_reason(text):
        return None, _skipped(path, reason)
    return _analyze_dataset(path, text, Context(config), limit_lines)


def _dataset_path(path: str, config: Config) -> FileReport:
    """`check` on a dataset: one streaming pass over the file, never the whole text in memory; a large file in
    several forked processes, one byte range each (the same result)."""
    from promptls.analysis.datasets import check_file
    from promptls.analysis.datasets.parallel import PARALLEL_MIN_BYTES

    try:
        size = check_regular(path, config.dataset_max_bytes, "datasets.max-bytes")
        # the editor judges the text it has; the same head of the file, decoded as it would be, gets the same word
        head = read_head(path, 4 * BINARY_SNIFF_CHARS).decode("utf-8-sig", "replace")
    except Refused as e:
        return _skipped(path, e.reason)
    if reason := binary_reason(head):
        return _skipped(path, reason)
    jobs = min(os.cpu_count() or 1, 8) if size > PARALLEL_MIN_BYTES else 1
    try:
        result = check_file(path, dataset_settings(config), jobs=jobs)
    except Refused as e:  # replaced by something else since the check above
        return _skipped(path, e.reason)
    return _dataset_report(path, result, config, locator=result.locator)


def _dataset_report(path: str, result, config: Config, locator=None) -> FileReport:
    findings = _in_order(apply(result.findings, None, config, path, None))
    return FileReport(path, "jsonl", result.summary.model, findings, kind="dataset", dataset=result.summary,
                      locator=locator)


def _in_order(findings: list[Finding]) -> list[Finding]:
    """File order, the most severe first where findings start at the same place."""
    findings.sort(key=lambda f: (f.span.start, -f.severity, f.code))
    return findings


def _guarded(check, doc, ctx: Context) -> list[Finding]:
    """One rule module's findings; a rule that crashes keeps what it found before the crash and costs no other
    rule anything (PROMPTLS_STRICT=1 re-raises)."""
    found: list[Finding] = []
    try:
        found.extend(check(doc, ctx))
    except Exception:
        if os.environ.get("PROMPTLS_STRICT") == "1":
            raise
        log.exception("rule %s failed on %s", check.__module__, doc.path)
    return found


def run_rules(doc: PromptDocument, ctx: Context, index: LineIndex | None = None) -> FileReport:
    """Measure the prompt's call, then run every prompt rule over the document and that measurement."""
    ctx.measurement = measure_prompt(doc, ctx)
    findings: list[Finding] = list(ctx.measurement.failures)
    for check in ALL_CHECKS:
        findings.extend(_guarded(check, doc, ctx))
    findings = _in_order(apply(findings, doc, ctx.config, doc.path, index or LineIndex(doc.text)))
    measured = ctx.measurement.prompt
    return FileReport(doc.path, doc.dialect, doc.model.ref if doc.model else None, findings,
                      tokens=measured.report if measured is not None else None)
