"""The rule registry: every finding promptls can report, with its stable code, default severity and rationale.

Codes never change meaning once released. The README's rule table and SARIF rule metadata are generated from
this list, so a rule exists only once it is here.
"""

from __future__ import annotations

from dataclasses import dataclass

from promptls.core.findings import Severity

E, W, I, H = Severity.ERROR, Severity.WARNING, Severity.INFO, Severity.HINT


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str
    rationale: str


_RULES = [
    # -- frontmatter -------------------------------------------------------------------------------
    Rule("FM001", "yaml-syntax", E, "The frontmatter is not valid YAML.",
         "Every runtime parses the frontmatter before rendering; a YAML error fails the whole prompt at load."),
    Rule("FM002", "unclosed-frontmatter", W, "The frontmatter opens with `---` but never closes.",
         "Without the closing `---` the runtime finds no frontmatter and renders the whole file as the template: "
         "Dotprompt sends the `---` line and every setting line to the model as text, and the model, config and "
         "input schema are lost. A warning, since the engine renders it without an error."),
    Rule("FM003", "unknown-key", W, "A frontmatter key the format does not define.",
         "Misspelt keys (`temprature`) are silently ignored by runtimes; extensions belong under `ext`/`metadata`."),
    Rule("FM004", "wrong-type", E, "A frontmatter value has the wrong type.",
         "A string where a number or mapping is expected is rejected by the runtime or the provider API."),
    Rule("FM005", "bad-enum", E, "A frontmatter value is not one of the allowed values.",
         "Values such as `output.format` or a Prompty `model.api` accept a fixed set; others fail at run time."),
    Rule("FM006", "out-of-range", W, "A sampling parameter is outside the range providers accept.",
         "Providers reject temperature/top_p outside their range with a 400 error on every call."),
    Rule("FM007", "prompty-v1-key-in-v2", W, "A Prompty v1 key in a Prompty v2 file.",
         "Prompty v2 ignores legacy keys such as `model.configuration` or `sample`; the setting is silently lost."),
    Rule("FM008", "prompty-v2-key-in-v1", W, "A Prompty v2 key in a Prompty v1 file.",
         "A v1 runtime does not know v2 keys such as `model.connection` or `inputs` lists; mixing both is ambiguous."),
    Rule("FM009", "json-output-without-schema", W, "`output.format: json` without an output schema.",
         "Without a schema the model decides the JSON shape, so downstream parsing breaks unpredictably."),
    Rule("FM010", "dialect-assumed", I, "The file's dialect was guessed; says which one was assumed.",
         "A `.prompt` file without Dotprompt frontmatter may be another format; stating the guess explains the "
         "findings that follow and avoids a wall of false errors."),
    # -- template syntax ---------------------------------------------------------------------------
    Rule("TP001", "template-syntax", E, "The template engine cannot parse this.",
         "A syntax error makes the render fail; the position comes from the engine's own parser where possible. "
         "What the engine renders anyway is a warning: mustache.js looks up `{{first name}}` or `{{}}` as one "
         "(missing) name and renders it empty."),
    Rule("TP002", "unclosed-block", E, "A block is opened and never closed.",
         "An unclosed `{{#if}}`/`{% for %}` is a render error in every engine."),
    Rule("TP003", "unmatched-close", E, "A block is closed that was never opened, or closed with another name.",
         "The engine rejects a closing tag with no matching opening tag."),
    Rule("TP004", "stray-brace", E, "A `}}` without `{{`, or a `{{` never closed.",
         "An unterminated `{{` fails the parse (an error). A `}}` outside a tag is rendered as text by "
         "Handlebars and Mustache, so it reaches the model: a warning saying so."),
    Rule("TP005", "wrong-engine-syntax", E, "Syntax of another template engine.",
         "An error where the engine rejects the tag (`{{x | upper}}` in Handlebars, `{{#if}}` in Jinja or "
         "mustache.js). A warning where it renders it: Handlebars and Mustache print `{% %}` and `{# #}` to the "
         "model verbatim, Jinja renders `{{else}}` as an empty variable, Mustache renders `{{x | upper}}` empty."),
    Rule("TP006", "too-deep", W, "Nesting too deep to analyse safely.",
         "Analysis stops descending past a bound so that hostile input cannot exhaust the server."),
    Rule("TP007", "unknown-role", E, "A message role the format does not know.",
         "Providers accept system/user/assistant (and tool/developer in some); other roles fail the request: "
         "Dotprompt's `{{role \"sistem\"}}` sends role `sistem`, an error. A Prompty-style line `sistem:` is a "
         "warning: it is no role line, so the engine renders it as text of the message before it, and it reaches "
         "the model."),
    Rule("TP008", "empty-message", W, "A message with no content.",
         "Empty messages are rejected by several providers (Anthropic, Gemini) and waste a turn elsewhere."),
    Rule("TP009", "role-block", W, "`{{#role}}...{{/role}}` used as a block.",
         "Dotprompt's `role` is a plain helper that starts a message; as a block, runtimes drop or misplace the "
         "enclosed text. Write `{{role \"system\"}}` before the message instead."),
    Rule("TP010", "operator-in-tag", W, "An operator (`>=`, `==`, `&&`...) inside a Handlebars tag.",
         "Handlebars has no operators: Handlebars.js refuses to compile `{{#if age >= 18}}`. A warning by default "
         "because other linters (and Dotprompt's own examples) accept it; make it an error with "
         "`[severity] TP010 = \"error\"`."),
    # -- variables ---------------------------------------------------------------------------------
    Rule("VR001", "undefined-variable", W, "A variable used in the template but not declared as an input.",
         "Undeclared variables render empty, silently; the model then answers a different prompt."),
    Rule("VR002", "unused-input", W, "A declared input that the template never uses.",
         "The caller pays to supply it and the model never sees it; often a typo in the template."),
    Rule("VR003", "required-input-without-value", I, "A required input with neither a default nor a sample.",
         "Without a value the prompt cannot be previewed, counted or run from the editor."),
    Rule("VR004", "sample-type-mismatch", W, "A sample/default value does not match the declared type.",
         "The preview and token counts then describe a call that production will never make."),
    # -- partials and references -------------------------------------------------------------------
    Rule("PT001", "missing-partial", W, "A partial that cannot be found beside the prompt or in the workspace.",
         "Dotprompt resolves `{{> name}}` from `_name.prompt`; a missing file fails the render unless the "
         "application registers the partial in code, which is why this is a warning."),
    Rule("PT002", "circular-partial", E, "Partials that include each other.",
         "A cycle recurses until the runtime's depth limit and fails."),
    Rule("RF001", "file-ref-escapes", E, "`${file:...}` points outside the prompt's folder.",
         "Reading files outside the prompt's folder can leak unrelated files into a prompt."),
    Rule("RF002", "env-ref-without-default", I, "`${env:VAR}` without a default.",
         "The prompt fails to load wherever the variable is not set (CI, a colleague's machine)."),
    Rule("RF003", "file-ref-missing", E, "`${file:...}` names a file that does not exist.",
         "The runtime fails to load the prompt."),
    Rule("RF004", "file-ref-unreadable", E, "A referenced file (`${file:...}` or a partial) is not read: it is "
         "no regular file (a FIFO, a device, a directory) or it is too large.",
         "A runtime that reads such a file waits forever (a FIFO), never reaches the end (`/dev/zero`) or runs out "
         "of memory; promptls reads regular files of at most 1 MB only, and says so instead of guessing."),
    # -- tokens and cost ---------------------------------------------------------------------------
    Rule("TK001", "token-count", I, "Retired: a call's tokens are shown as figures (lens, hint, hover, report).",
         "Knowing the size of a prompt while writing it is the first defence against cost and overflow, but a "
         "size is a metric, not a problem: it is no longer reported as a finding. The code stays reserved so that "
         "configurations naming it remain valid."),
    Rule("TK002", "context-overflow", E, "Input plus reserved output exceeds the model's context window.",
         "The provider rejects the request (or truncates it) on every call."),
    Rule("TK003", "max-output-above-limit", E, "The requested max output is above the model's limit.",
         "Providers reject `max_tokens` above the model's maximum with a 400 error."),
    Rule("TK004", "cost-per-call", I, "Retired: a call's cost is shown as a figure (lens, hover, status, report).",
         "A prompt's cost is a design decision; seeing it per call makes it one. It is a metric, not a problem, "
         "so it is no longer reported as a finding (TK005 reports a cost above the budget). The code stays "
         "reserved so that configurations naming it remain valid."),
    Rule("TK005", "over-budget", W, "The estimated cost per call is above the configured budget.",
         "Teams set a per-call budget; crossing it should be a review decision, not an accident."),
    Rule("TK006", "price-tier-crossed", W, "The input crosses a price tier (e.g. above 200k tokens).",
         "Some models charge a higher rate for the whole request past a token threshold."),
    Rule("TK007", "variable-in-cached-prefix", H, "A variable early in the prompt prevents prompt caching.",
         "Provider prompt caches match an exact prefix; a variable near the start makes every call a cache miss."),
    # -- models ------------------------------------------------------------------------------------
    Rule("MD001", "unknown-model", W, "The model is not in the catalog.",
         "A typo in a model id fails every call; custom models can be declared in config."),
    Rule("MD002", "deprecated-model", W, "The model is deprecated and has a shutdown date or successor.",
         "Deprecated models stop working on their shutdown date; migrating early avoids an outage."),
    Rule("MD003", "retired-model", E, "The model's shutdown date has passed.",
         "Every call to a retired model fails; the successor named in the message is the usual replacement."),
    # -- secrets -----------------------------------------------------------------------------------
    Rule("SC001", "literal-secret", E, "An API key written literally in the file.",
         "Keys in prompt files end up in git history, logs and prompts sent to third parties."),
    # -- SDK call sites in source code -------------------------------------------------------------
    Rule("SD001", "anthropic-max-tokens-missing", E, "An Anthropic Messages call without `max_tokens`.",
         "The Messages API requires `max_tokens`; the call fails with a 400 error every time."),
    Rule("SD002", "sampling-out-of-range", E, "`temperature`/`top_p` outside the range the provider accepts.",
         "Providers reject temperature above 1 (Anthropic) or 2 (OpenAI, Gemini) and top_p above 1 with a 400 "
         "error on every call."),
    Rule("SD003", "client-without-timeout", I, "An SDK client created without a timeout.",
         "SDK default timeouts are 10 minutes; one stalled request then holds a worker or a user that long. "
         "Set a timeout that matches the call."),
    Rule("SD004", "legacy-api", W, "A legacy SDK API with a modern equivalent.",
         "Legacy endpoints (Text Completions, `openai.ChatCompletion`) are removed or frozen: new models and "
         "features never reach them."),
    Rule("SD005", "json-without-schema", W, "JSON output requested without a schema.",
         "JSON mode guarantees syntax, not shape: without a schema the model decides the fields and parsing "
         "breaks unpredictably. Structured outputs with a schema are supported by every major provider."),
    Rule("SD006", "long-literal-prompt", I, "A long prompt written literally in code, with its tokens and cost.",
         "Long prompts in code are hard to review and version; a prompt file gets token counts, lint and a "
         "preview. The message states what the prompt costs per call."),
    Rule("SD007", "deprecated-parameter", W, "A request parameter the model or API no longer accepts.",
         "`functions`/`function_call` are superseded by `tools`/`tool_choice`; reasoning models reject "
         "`max_tokens` (use `max_completion_tokens`) with a 400 error."),
    # -- fine-tuning datasets ----------------------------------------------------------------------
    Rule("DS001", "invalid-json-line", E, "A dataset line that is not valid JSON.",
         "The fine-tuning service rejects the whole file when one line fails to parse."),
    Rule("DS002", "wrong-type", E, "A dataset field has the wrong type.",
         "`messages` must be a list of objects, `content` a string or list of parts, `weight` 0 or 1; other "
         "types fail validation of the upload."),
    Rule("DS003", "missing-field", E, "An example lacks a field its format requires (`messages`, `completion`...).",
         "An example without its required fields is rejected by the validator or trains on nothing."),
    Rule("DS004", "unknown-key", W, "A key the dataset format does not define.",
         "Unknown keys are rejected by some validators and silently dropped by others; usually a typo."),
    Rule("DS005", "unknown-role", E, "A message role the fine-tuning format does not accept.",
         "Chat fine-tuning accepts system, developer, user, assistant, tool and function roles only."),
    Rule("DS006", "missing-content", E, "A message without `content` (and without tool calls).",
         "A message needs content unless it is an assistant turn that calls tools; the upload fails otherwise."),
    Rule("DS007", "no-assistant-message", E, "An example with no assistant message to learn from.",
         "Training learns only from assistant turns; an example without one is rejected."),
    Rule("DS008", "example-too-long", E, "An example longer than the model's training context.",
         "Examples above the per-example token limit are truncated or rejected, so the model never sees their "
         "ending, which is usually the answer."),
    Rule("DS009", "duplicate-example", W, "An example identical to an earlier one.",
         "Duplicates over-weight one behaviour, cost training tokens and leak between train and validation "
         "splits."),
    Rule("DS010", "empty-content", W, "A message or field whose content is empty or whitespace only.",
         "Empty turns teach the model to answer with nothing and are rejected by several validators."),
    Rule("DS011", "system-prompt-varies", I, "System prompts differ across examples.",
         "A fine-tuned model learns the system prompt it saw; inconsistent ones dilute the behaviour. Stated "
         "once per file, with how many variants there are."),
    Rule("DS012", "mixed-formats", E, "Examples of different dataset formats in one file.",
         "A fine-tuning file has one format; a chat example among prompt/completion pairs fails the upload."),
    Rule("DS013", "too-few-examples", W, "Fewer examples than the fine-tuning service accepts.",
         "OpenAI requires at least 10 examples per training file (50 to 100 recommended)."),
    # -- prompt tests (promptls eval, in the editor) ---------------------------------------------------
    Rule("EV001", "failing-case", E, "A test case's assertion failed on the last run (shown on its line in the "
         "case file).",
         "A prompt edit that breaks a case should be seen where the case is written, like a failing unit test; "
         "the message names the case, the model and why the assertion failed. Cleared by the next passing run."),
    Rule("EV002", "case-file", W, "A case file (`NAME.tests.yaml`, promptfoo config) has a key or assertion "
         "promptls eval does not support, or a value it cannot use.",
         "A silently ignored key or assertion makes a suite pass that never checked anything; errors stop "
         "`promptls eval` before any call (exit 2)."),
    # -- robustness --------------------------------------------------------------------------------
    Rule("IO001", "file-skipped", W, "The file could not be analysed (binary, invalid UTF-8, too large, not a "
         "regular file).",
         "Saying why a file was skipped beats silently passing it. A FIFO or a device is never read: it could block "
         "or never end."),
    Rule("CF001", "invalid-config", E, "The promptls configuration is invalid.",
         "A bad setting is reported where it is, instead of being silently ignored."),
]

RULES: dict[str, Rule] = {r.code: r for r in _RULES}
RULES_BY_NAME: dict[str, Rule] = {r.name: r for r in _RULES}


def rule(code: str) -> Rule:
    return RULES[code]


def lookup(code_or_name: str) -> Rule | None:
    """A rule by code (`VR001`) or name (`undefined-variable`)."""
    return RULES.get(code_or_name.upper()) or RULES_BY_NAME.get(code_or_name.lower())


def matches(selector: str, code: str) -> bool:
    """Ruff-style selectors: `ALL`, a family prefix (`VR`, `TK00`) or a full code; names are accepted too."""
    sel = selector.strip()
    r = RULES_BY_NAME.get(sel.lower())
    if r is not None:
        return r.code == code
    sel = sel.upper()
    return sel == "ALL" or code.startswith(sel)
