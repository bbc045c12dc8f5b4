"""The rule registry: every finding promptls can report, declared once, as one `Rule` object.

A rule holds its stable code and name, its default severity, its LSP tags, the safety of its fix, and its
documentation: what it does (`summary`), why it matters (`rationale`), a short file it fires on (`example`, or
`no_example` saying why no small file shows it) and what its fix does (`fix_doc`). `promptls rules`, the README's
rule table, SARIF rule metadata and the LSP diagnostic tags are generated from these objects (`core/rule_docs.py`
renders them), and a test analyses every example and checks that its rule fires on it.

Codes never change meaning once released, so a rule exists only once it is here.
"""

from __future__ import annotations

import enum
import textwrap
from dataclasses import dataclass

from promptls.core.findings import Severity

E, W, I, H = Severity.ERROR, Severity.WARNING, Severity.INFO, Severity.HINT


class Tag(enum.Enum):
    """What an editor may show besides the severity (LSP `DiagnosticTag`): faded code, struck-through code."""

    UNNECESSARY = "unnecessary"
    DEPRECATED = "deprecated"


class FixSafety(enum.Enum):
    """What applying a rule's fix does. `Fix.preferred` is another matter: it marks the best of the offered edits
    (the one an editor's "auto fix" picks), also when that edit is a guess."""

    NONE = "none"  # no fix is offered
    SAFE = "safe"  # the edit makes valid what was written and keeps its meaning: apply it without review
    UNSAFE = "unsafe"  # the edit picks a value or changes behaviour (a guessed name, another model): review it


@dataclass(frozen=True, slots=True)
class Example:
    """A short file the rule fires on. The suffix of `file` decides how it is read (`x.prompt`, `x.prompty`,
    `app.py`, `train.jsonl`, `NAME.tests.yaml` for eval case files, `promptls.toml` for the configuration);
    `beside` holds other files of the same folder (partials, the prompt a case file tests); `config` is the
    `promptls.toml` text the example needs, if any."""

    file: str
    text: str
    beside: tuple[tuple[str, str], ...] = ()
    config: str = ""


def ex(file: str, text: str, *, beside: dict[str, str] | None = None, config: str = "") -> Example:
    """An `Example` whose texts are written indented in this module (dedented here)."""
    return Example(file, textwrap.dedent(text), tuple((name, textwrap.dedent(body))
                                                      for name, body in (beside or {}).items()),
                   textwrap.dedent(config))


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str  # what it does
    rationale: str  # why it matters
    example: Example | None = None
    no_example: str = ""  # why no small file shows it, when `example` is None
    fix: FixSafety = FixSafety.NONE
    fix_doc: str = ""  # what the fix does, and why it is safe or not
    tags: tuple[Tag, ...] = ()

    @property
    def what(self) -> str:
        return self.summary

    @property
    def why(self) -> str:
        return self.rationale


SAFE, UNSAFE = FixSafety.SAFE, FixSafety.UNSAFE
UNNECESSARY, DEPRECATED = (Tag.UNNECESSARY,), (Tag.DEPRECATED,)


_RULES = [
    # -- frontmatter -------------------------------------------------------------------------------
    Rule("FM001", "yaml-syntax", E, "The frontmatter is not valid YAML.",
         "Every runtime parses the frontmatter before rendering; a YAML error fails the whole prompt at load.",
         example=ex("summarize.prompt", """\
             ---
             model: openai/gpt-5.2
             input:
               schema
                 article: string
             ---
             Summarize: {{article}}
             """)),
    Rule("FM002", "unclosed-frontmatter", W, "The frontmatter opens with `---` but never closes.",
         "Without the closing `---` the runtime finds no frontmatter and renders the whole file as the template: "
         "Dotprompt sends the `---` line and every setting line to the model as text, and the model, config and "
         "input schema are lost. A warning, since the engine renders it without an error.",
         example=ex("summarize.prompt", """\
             ---
             model: openai/gpt-5.2
             config:
               temperature: 0.2

             Summarize the article in three bullet points.
             """)),
    Rule("FM003", "unknown-key", W, "A frontmatter key the format does not define.",
         "Misspelt keys (`temprature`) are silently ignored by runtimes; extensions belong under `ext`/`metadata`.",
         example=ex("summarize.prompt", """\
             ---
             model: openai/gpt-5.2
             config:
               temprature: 0.2
             ---
             Summarize the article in three bullet points.
             """),
         fix=UNSAFE, fix_doc="Renames the key to the nearest key the format defines (`temprature` → `temperature`), "
         "offered when one is close. Unsafe: the nearest key is a guess, and a setting ignored until now takes "
         "effect."),
    Rule("FM004", "wrong-type", E, "A frontmatter value has the wrong type.",
         "A string where a number or mapping is expected is rejected by the runtime or the provider API.",
         example=ex("summarize.prompt", """\
             ---
             model: openai/gpt-5.2
             config: temperature=0.2
             ---
             Summarize the article in three bullet points.
             """)),
    Rule("FM005", "bad-enum", E, "A frontmatter value is not one of the allowed values.",
         "Values such as `output.format` or a Prompty `model.api` accept a fixed set; others fail at run time.",
         example=ex("extract.prompt", """\
             ---
             model: openai/gpt-5.2
             output:
               format: jsn
               schema:
                 title: string
             ---
             Extract the title of the article.
             """),
         fix=UNSAFE, fix_doc="Replaces the value with the nearest allowed one (`jsn` → `json`), offered when one is "
         "close. Unsafe: the nearest value is a guess."),
    Rule("FM006", "out-of-range", W, "A sampling parameter is outside the range providers accept.",
         "Providers reject temperature/top_p outside their range with a 400 error on every call.",
         example=ex("summarize.prompt", """\
             ---
             model: openai/gpt-5.2
             config:
               temperature: 3
             ---
             Summarize the article in three bullet points.
             """)),
    Rule("FM007", "prompty-v1-key-in-v2", W, "A Prompty v1 key in a Prompty v2 file.",
         "Prompty v2 ignores legacy keys such as `model.configuration` or `sample`; the setting is silently lost.",
         example=ex("summarize.prompty", """\
             ---
             name: summarize
             model:
               id: gpt-5.2
               provider: openai
               parameters:
                 temperature: 0.2
             ---
             system:
             Summarize the article in three bullet points.
             """),
         fix=UNSAFE, fix_doc="Rewrites the whole frontmatter as Prompty v2 (`model.parameters` → `model.options`, "
         "`sample` → `inputs[].default`, ...). Unsafe: the frontmatter is written anew, so its comments, quoting "
         "and key order are lost; it is offered, never preferred."),
    Rule("FM008", "prompty-v2-key-in-v1", W, "A Prompty v2 key in a Prompty v1 file.",
         "A v1 runtime does not know v2 keys such as `model.connection` or `inputs` lists; mixing both is ambiguous.",
         example=ex("summarize.prompty", """\
             ---
             name: summarize
             model:
               api: chat
               configuration:
                 type: openai
                 model: gpt-5.2
               options:
                 temperature: 0.2
             ---
             system:
             Summarize the article in three bullet points.
             """)),
    Rule("FM009", "json-output-without-schema", W, "`output.format: json` without an output schema.",
         "Without a schema the model decides the JSON shape, so downstream parsing breaks unpredictably.",
         example=ex("extract.prompt", """\
             ---
             model: openai/gpt-5.2
             output:
               format: json
             ---
             Extract the title and the author of the article as JSON.
             """)),
    Rule("FM010", "dialect-assumed", I, "The file's dialect was guessed; says which one was assumed.",
         "A `.prompt` file without Dotprompt frontmatter may be another format; stating the guess explains the "
         "findings that follow and avoids a wall of false errors.",
         example=ex("summarize.prompt", """\
             system:
             Summarize the article in three bullet points.

             user:
             {{article}}
             """)),
    # -- template syntax ---------------------------------------------------------------------------
    Rule("TP001", "template-syntax", E, "The template engine cannot parse this.",
         "A syntax error makes the render fail; the position comes from the engine's own parser where possible. "
         "What the engine renders anyway is a warning: mustache.js looks up `{{first name}}` or `{{}}` as one "
         "(missing) name and renders it empty.",
         example=ex("greet.prompt", """\
             ---
             model: openai/gpt-5.2
             ---
             Hello {{name)}}!
             """)),
    Rule("TP002", "unclosed-block", E, "A block is opened and never closed.",
         "An unclosed `{{#if}}`/`{% for %}` is a render error in every engine.",
         example=ex("greet.prompt", """\
             ---
             model: openai/gpt-5.2
             input:
               schema:
                 name?: string
             ---
             {{#if name}}
             Hello {{name}}!
             """)),
    Rule("TP003", "unmatched-close", E, "A block is closed that was never opened, or closed with another name.",
         "The engine rejects a closing tag with no matching opening tag.",
         example=ex("greet.prompt", """\
             ---
             model: openai/gpt-5.2
             input:
               schema:
                 name?: string
             ---
             {{#if name}}Hello {{name}}!{{/each}}
             """)),
    Rule("TP004", "stray-brace", E, "A `}}` without `{{`, or a `{{` never closed.",
         "An unterminated `{{` fails the parse (an error). A `}}` outside a tag is rendered as text by "
         "Handlebars and Mustache, so it reaches the model: a warning saying so.",
         example=ex("greet.prompt", """\
             ---
             model: openai/gpt-5.2
             ---
             Hello {{name}}, welcome }} aboard.
             """)),
    Rule("TP005", "wrong-engine-syntax", E, "Syntax of another template engine.",
         "An error where the engine rejects the tag (`{{x | upper}}` in Handlebars, `{{#if}}` in Jinja or "
         "mustache.js). A warning where it renders it: Handlebars and Mustache print `{% %}` and `{# #}` to the "
         "model verbatim, Jinja renders `{{else}}` as an empty variable, Mustache renders `{{x | upper}}` empty.",
         example=ex("greet.prompt", """\
             ---
             model: openai/gpt-5.2
             ---
             Hello {{ name | upper }}!
             """)),
    Rule("TP006", "too-deep", W, "Nesting too deep to analyse safely.",
         "Analysis stops descending past a bound so that hostile input cannot exhaust the server.",
         no_example="It takes blocks nested more than 200 deep, or subexpressions more than 40 deep (Jinja: "
         "a comparable bound): no template written by hand gets there, and a generated or hostile one that does "
         "is analysed up to the bound, with this finding where analysis stopped."),
    Rule("TP007", "unknown-role", E, "A message role the format does not know.",
         "Providers accept system/user/assistant (and tool/developer in some); other roles fail the request: "
         "Dotprompt's `{{role \"sistem\"}}` sends role `sistem`, an error. A Prompty-style line `sistem:` is a "
         "warning: it is no role line, so the engine renders it as text of the message before it, and it reaches "
         "the model.",
         example=ex("greet.prompt", """\
             ---
             model: openai/gpt-5.2
             ---
             {{role "sistem"}}
             You are a friendly assistant.
             """),
         fix=UNSAFE, fix_doc="Replaces the role with the nearest known one (`sistem` → `system`), offered when one "
         "is close. Unsafe: the nearest role is a guess, and on a Prompty-style line the text becomes a message "
         "of its own."),
    Rule("TP008", "empty-message", W, "A message with no content.",
         "Empty messages are rejected by several providers (Anthropic, Gemini) and waste a turn elsewhere.",
         example=ex("greet.prompt", """\
             ---
             model: openai/gpt-5.2
             ---
             {{role "system"}}
             {{role "user"}}
             Say hello.
             """)),
    Rule("TP009", "role-block", W, "`{{#role}}...{{/role}}` used as a block.",
         "Dotprompt's `role` is a plain helper that starts a message; as a block, runtimes drop or misplace the "
         "enclosed text. Write `{{role \"system\"}}` before the message instead.",
         example=ex("greet.prompt", """\
             ---
             model: openai/gpt-5.2
             ---
             {{#role "system"}}
             You are a friendly assistant.
             {{/role}}
             """)),
    Rule("TP010", "operator-in-tag", W, "An operator (`>=`, `==`, `&&`...) inside a Handlebars tag.",
         "Handlebars has no operators: Handlebars.js refuses to compile `{{#if age >= 18}}`. A warning by default "
         "because other linters (and Dotprompt's own examples) accept it; make it an error with "
         "`[severity] TP010 = \"error\"`.",
         example=ex("greet.prompt", """\
             ---
             model: openai/gpt-5.2
             ---
             {{#if age >= 18}}Welcome.{{/if}}
             """)),
    # -- variables ---------------------------------------------------------------------------------
    Rule("VR001", "undefined-variable", W, "A variable used in the template but not declared as an input.",
         "Undeclared variables render empty, silently; the model then answers a different prompt.",
         example=ex("greet.prompt", """\
             ---
             model: openai/gpt-5.2
             input:
               schema:
                 name: string
               default:
                 name: Ada
             ---
             Hello {{name}}, you are {{age}} years old.
             """),
         fix=UNSAFE, fix_doc="Declares the variable as a `string` input, in the format's own way (Dotprompt "
         "`input.schema`, Prompty `inputs`). Unsafe: the type is a guess, and a declared input is part of what "
         "callers must pass."),
    Rule("VR002", "unused-input", W, "A declared input that the template never uses.",
         "The caller pays to supply it and the model never sees it; often a typo in the template.",
         example=ex("greet.prompt", """\
             ---
             model: openai/gpt-5.2
             input:
               schema:
                 name: string
                 age: integer
               default:
                 name: Ada
                 age: 36
             ---
             Hello {{name}}!
             """),
         fix=UNSAFE, fix_doc="Removes the input's declaration. Unsafe: callers that pass it may now be rejected, "
         "and the input may have been meant for the template (a typo there); it is offered, never preferred.",
         tags=UNNECESSARY),
    Rule("VR003", "required-input-without-value", I, "A required input with neither a default nor a sample.",
         "Without a value the prompt cannot be previewed, counted or run from the editor.",
         example=ex("greet.prompty", """\
             ---
             name: greet
             model:
               id: gpt-5.2
               provider: openai
             inputs:
               - name: customer
                 kind: string
                 required: true
             ---
             user:
             Hello {{customer}}!
             """)),
    Rule("VR004", "sample-type-mismatch", W, "A sample/default value does not match the declared type.",
         "The preview and token counts then describe a call that production will never make.",
         example=ex("greet.prompty", """\
             ---
             name: greet
             model:
               id: gpt-5.2
               provider: openai
             inputs:
               - name: age
                 kind: integer
                 default: thirty
             ---
             user:
             You are {{age}} years old.
             """)),
    # -- partials and references -------------------------------------------------------------------
    Rule("PT001", "missing-partial", W, "A partial that cannot be found beside the prompt or in the workspace.",
         "Dotprompt resolves `{{> name}}` from `_name.prompt`; a missing file fails the render unless the "
         "application registers the partial in code, which is why this is a warning.",
         example=ex("answer.prompt", """\
             ---
             model: openai/gpt-5.2
             ---
             {{> house_style}}
             Answer the question.
             """)),
    Rule("PT002", "circular-partial", E, "Partials that include each other.",
         "A cycle recurses until the runtime's depth limit and fails.",
         example=ex("answer.prompt", """\
             ---
             model: openai/gpt-5.2
             ---
             {{> header}}
             Answer the question.
             """, beside={"_header.prompt": "{{> footer}}\n", "_footer.prompt": "{{> header}}\n"})),
    Rule("RF001", "file-ref-escapes", E, "`${file:...}` points outside the prompt's folder.",
         "Reading files outside the prompt's folder can leak unrelated files into a prompt.",
         example=ex("answer.prompty", """\
             ---
             name: answer
             model:
               id: gpt-5.2
               provider: openai
               connection:
                 kind: key
                 key: ${file:../../.env}
             ---
             user:
             Answer the question.
             """)),
    Rule("RF002", "env-ref-without-default", I, "`${env:VAR}` without a default.",
         "The prompt fails to load wherever the variable is not set (CI, a colleague's machine).",
         example=ex("answer.prompty", """\
             ---
             name: answer
             model:
               id: gpt-5.2
               provider: openai
               connection:
                 kind: key
                 key: ${env:OPENAI_API_KEY}
             ---
             user:
             Answer the question.
             """)),
    Rule("RF003", "file-ref-missing", E, "`${file:...}` names a file that does not exist.",
         "The runtime fails to load the prompt.",
         example=ex("answer.prompty", """\
             ---
             name: answer
             model:
               id: gpt-5.2
               provider: openai
             inputs:
               - name: question
                 kind: string
                 default: ${file:sample_question.txt}
             ---
             user:
             {{question}}
             """)),
    Rule("RF004", "file-ref-unreadable", E, "A referenced file (`${file:...}` or a partial) is not read: it is "
         "no regular file (a FIFO, a device, a directory) or it is too large.",
         "A runtime that reads such a file waits forever (a FIFO), never reaches the end (`/dev/zero`) or runs out "
         "of memory; promptls reads regular files of at most 1 MB only, and says so instead of guessing.",
         no_example="The referenced file is what is wrong, not the text: `${file:data.txt}` fires when "
         "`data.txt` is a FIFO, a device, a folder or larger than 1 MB, which no short example file can show."),
    # -- tokens and cost ---------------------------------------------------------------------------
    Rule("TK001", "token-count", I, "Retired: a call's tokens are shown as figures (lens, hint, hover, report).",
         "Knowing the size of a prompt while writing it is the first defence against cost and overflow, but a "
         "size is a metric, not a problem: it is no longer reported as a finding. The code stays reserved so that "
         "configurations naming it remain valid.",
         no_example="Retired: never reported. The token counts it reported are figures now (lens, hint, hover, "
         "the check report)."),
    Rule("TK002", "context-overflow", E, "Input plus reserved output exceeds the model's context window.",
         "The provider rejects the request (or truncates it) on every call.",
         example=ex("report.prompt", """\
             ---
             model: openai/gpt-5.2
             config:
               maxOutputTokens: 2000000
             ---
             Write the annual report.
             """)),
    Rule("TK003", "max-output-above-limit", E, "The requested max output is above the model's limit.",
         "Providers reject `max_tokens` above the model's maximum with a 400 error.",
         example=ex("report.prompt", """\
             ---
             model: anthropic/claude-haiku-4-5
             config:
               maxOutputTokens: 100000
             ---
             Write the annual report.
             """)),
    Rule("TK004", "cost-per-call", I, "Retired: a call's cost is shown as a figure (lens, hover, status, report).",
         "A prompt's cost is a design decision; seeing it per call makes it one. It is a metric, not a problem, "
         "so it is no longer reported as a finding (TK005 reports a cost above the budget). The code stays "
         "reserved so that configurations naming it remain valid.",
         no_example="Retired: never reported. The cost per call it reported is a figure now (lens, hover, "
         "status, the check report); TK005 reports a cost above the budget."),
    Rule("TK005", "over-budget", W, "The estimated cost per call is above the configured budget.",
         "Teams set a per-call budget; crossing it should be a review decision, not an accident.",
         example=ex("report.prompt", """\
             ---
             model: anthropic/claude-opus-4-5
             config:
               maxOutputTokens: 16000
             ---
             Write the annual report.
             """, config="""\
             [cost]
             per-call-budget-usd = 0.05
             """)),
    Rule("TK006", "price-tier-crossed", W, "The input crosses a price tier (e.g. above 200k tokens).",
         "Some models charge a higher rate for the whole request past a token threshold.",
         no_example="The tiers start at hundreds of thousands of input tokens (200,000 for the models that have "
         "one): a prompt that crosses one is no short example."),
    Rule("TK007", "variable-in-cached-prefix", H, "A variable early in the prompt prevents prompt caching.",
         "Provider prompt caches match an exact prefix; a variable near the start makes every call a cache miss.",
         no_example="It fires when a variable comes before at least the model's minimum cacheable prefix of static "
         "text (1,024 tokens or more, a few pages): `Hello {{name}}.` followed by a long fixed instruction text. "
         "Moving the variable after the static text lets every call reuse the cache."),
    # -- models ------------------------------------------------------------------------------------
    Rule("MD001", "unknown-model", W, "The model is not in the catalog.",
         "A typo in a model id fails every call; custom models can be declared in config.",
         example=ex("answer.prompt", """\
             ---
             model: openai/gtp-5.2
             ---
             Answer the question.
             """),
         fix=UNSAFE, fix_doc="Replaces the id with a close catalog id (up to three are offered, the closest "
         "preferred), keeping the provider prefix. Unsafe: the close id is a guess, and another model answers "
         "differently and costs differently."),
    Rule("MD002", "deprecated-model", W, "The model is deprecated and has a shutdown date or successor.",
         "Deprecated models stop working on their shutdown date; migrating early avoids an outage.",
         example=ex("answer.prompt", """\
             ---
             model: openai/gpt-4o
             ---
             Answer the question.
             """),
         fix=UNSAFE, fix_doc="Replaces the id with the successor the provider names (followed past retired "
         "successors), when there is one. Unsafe: another model answers differently and costs differently; "
         "re-run the prompt's tests.",
         tags=DEPRECATED),
    Rule("MD003", "retired-model", E, "The model's shutdown date has passed.",
         "Every call to a retired model fails; the successor named in the message is the usual replacement.",
         example=ex("answer.prompt", """\
             ---
             model: anthropic/claude-3-5-sonnet-20241022
             ---
             Answer the question.
             """),
         fix=UNSAFE, fix_doc="Replaces the id with the successor the provider names (followed past retired "
         "successors), when there is one. Unsafe: another model answers differently and costs differently; "
         "re-run the prompt's tests.",
         tags=DEPRECATED),
    # -- secrets -----------------------------------------------------------------------------------
    Rule("SC001", "literal-secret", E, "An API key written literally in the file.",
         "Keys in prompt files end up in git history, logs and prompts sent to third parties.",
         example=ex("app.py", """\
             import anthropic

             client = anthropic.Anthropic(api_key="sk-ant-api03-EXAMPLE-not-a-real-key-000000", timeout=30)
             """),
         fix=UNSAFE, fix_doc="In source code, where the key is a client's `api_key`, reads it from the provider's "
         "environment variable instead (`os.environ[\"ANTHROPIC_API_KEY\"]`, `process.env.ANTHROPIC_API_KEY`). "
         "Unsafe: the program now needs that variable set; and the key is still in the history, so revoke it."),
    # -- SDK call sites in source code -------------------------------------------------------------
    Rule("SD001", "anthropic-max-tokens-missing", E, "An Anthropic Messages call without `max_tokens`.",
         "The Messages API requires `max_tokens`; the call fails with a 400 error every time.",
         example=ex("app.py", """\
             import anthropic

             client = anthropic.Anthropic(timeout=30)
             reply = client.messages.create(
                 model="claude-haiku-4-5",
                 messages=[{"role": "user", "content": "Hello"}],
             )
             """),
         fix=SAFE, fix_doc="Adds `max_tokens=1024` (the model's output limit when that is lower). Safe: the call "
         "failed on every request before, so no working behaviour changes; raise the value for long answers."),
    Rule("SD002", "sampling-out-of-range", E, "`temperature`/`top_p` outside the range the provider accepts.",
         "Providers reject temperature above 1 (Anthropic) or 2 (OpenAI, Gemini) and top_p above 1 with a 400 "
         "error on every call.",
         example=ex("app.py", """\
             import anthropic

             client = anthropic.Anthropic(timeout=30)
             reply = client.messages.create(
                 model="claude-haiku-4-5",
                 max_tokens=512,
                 temperature=1.5,
                 messages=[{"role": "user", "content": "Write a poem."}],
             )
             """)),
    Rule("SD003", "client-without-timeout", I, "An SDK client created without a timeout.",
         "SDK default timeouts are 10 minutes; one stalled request then holds a worker or a user that long. "
         "Set a timeout that matches the call.",
         example=ex("app.py", """\
             from openai import OpenAI

             client = OpenAI()
             """),
         fix=UNSAFE, fix_doc="Adds a 60-second timeout to the client (`timeout=60.0`, `timeout: 60000`, Gemini's "
         "`http_options`). Unsafe: requests that take longer, such as long generations, now fail."),
    Rule("SD004", "legacy-api", W, "A legacy SDK API with a modern equivalent.",
         "Legacy endpoints (Text Completions, `openai.ChatCompletion`) are removed or frozen: new models and "
         "features never reach them.",
         example=ex("app.py", """\
             import openai

             reply = openai.ChatCompletion.create(
                 model="gpt-5.2",
                 messages=[{"role": "user", "content": "Hello"}],
             )
             """),
         tags=DEPRECATED),
    Rule("SD005", "json-without-schema", W, "JSON output requested without a schema.",
         "JSON mode guarantees syntax, not shape: without a schema the model decides the fields and parsing "
         "breaks unpredictably. Structured outputs with a schema are supported by every major provider.",
         example=ex("app.py", """\
             from openai import OpenAI

             client = OpenAI(timeout=30)
             reply = client.chat.completions.create(
                 model="gpt-5.2",
                 response_format={"type": "json_object"},
                 messages=[{"role": "user", "content": "Give the title and author as JSON."}],
             )
             """)),
    Rule("SD006", "long-literal-prompt", I, "A long prompt written literally in code, with its tokens and cost.",
         "Long prompts in code are hard to review and version; a prompt file gets token counts, lint and a "
         "preview. The message states what the prompt costs per call.",
         example=ex("app.py", """\
             from openai import OpenAI

             SYSTEM = ("You are the support assistant of Acme Inc. Answer in a friendly tone, cite the help-centre "
                       "article you used, never promise refunds, and hand over to a human when asked to.")
             client = OpenAI(timeout=30)
             reply = client.chat.completions.create(
                 model="gpt-5.2",
                 messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}],
             )
             """, config="""\
             [code]
             long-prompt-tokens = 40
             """)),
    Rule("SD007", "deprecated-parameter", W, "A request parameter the model or API no longer accepts.",
         "`functions`/`function_call` are superseded by `tools`/`tool_choice`; reasoning models reject "
         "`max_tokens` (use `max_completion_tokens`) with a 400 error.",
         example=ex("app.py", """\
             from openai import OpenAI

             client = OpenAI(timeout=30)
             reply = client.chat.completions.create(
                 model="gpt-5.2",
                 max_tokens=1024,
                 messages=[{"role": "user", "content": "Prove that there are infinitely many primes."}],
             )
             """),
         fix=SAFE, fix_doc="Renames `max_tokens` to `max_completion_tokens` for a reasoning model. Safe: the same "
         "limit under the name the model accepts (the call failed before). `functions` and `function_call` have "
         "no fix: tools are declared differently.",
         tags=DEPRECATED),
    # -- fine-tuning datasets ----------------------------------------------------------------------
    Rule("DS001", "invalid-json-line", E, "A dataset line that is not valid JSON.",
         "The fine-tuning service rejects the whole file when one line fails to parse.",
         example=ex("train.jsonl", """\
             {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]
             """)),
    Rule("DS002", "dataset-wrong-type", E, "A dataset field has the wrong type.",
         "`messages` must be a list of objects, `content` a string or list of parts, `weight` 0 or 1; other "
         "types fail validation of the upload.",
         example=ex("train.jsonl", """\
             {"messages": {"role": "user", "content": "Hi"}}
             """)),
    Rule("DS003", "missing-field", E, "An example lacks a field its format requires (`messages`, `completion`...).",
         "An example without its required fields is rejected by the validator or trains on nothing.",
         example=ex("train.jsonl", """\
             {"prompt": "Translate to French: cat"}
             """)),
    Rule("DS004", "dataset-unknown-key", W, "A key the dataset format does not define.",
         "Unknown keys are rejected by some validators and silently dropped by others; usually a typo.",
         example=ex("train.jsonl", """\
             {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}], "wieght": 1}
             """)),
    Rule("DS005", "dataset-unknown-role", E, "A message role the fine-tuning format does not accept.",
         "Chat fine-tuning accepts system, developer, user, assistant, tool and function roles only.",
         example=ex("train.jsonl", """\
             {"messages": [{"role": "customer", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
             """)),
    Rule("DS006", "missing-content", E, "A message without `content` (and without tool calls).",
         "A message needs content unless it is an assistant turn that calls tools; the upload fails otherwise.",
         example=ex("train.jsonl", """\
             {"messages": [{"role": "user"}, {"role": "assistant", "content": "Hello!"}]}
             """)),
    Rule("DS007", "no-assistant-message", E, "An example with no assistant message to learn from.",
         "Training learns only from assistant turns; an example without one is rejected.",
         example=ex("train.jsonl", """\
             {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]}
             """)),
    Rule("DS008", "example-too-long", E, "An example longer than the model's training context.",
         "Examples above the per-example token limit are truncated or rejected, so the model never sees their "
         "ending, which is usually the answer.",
         example=ex("train.jsonl",
                    '{"messages": [{"role": "user", "content": "Summarize the notes of the planning review."}, '
                    '{"role": "assistant", "content": "Ship in May (Ana); hire two engineers (Bo)."}]}\n',
                    config="""\
                    [datasets]
                    max-example-tokens = 30
                    """)),
    Rule("DS009", "duplicate-example", W, "An example identical to an earlier one.",
         "Duplicates over-weight one behaviour, cost training tokens and leak between train and validation "
         "splits.",
         example=ex("train.jsonl", """\
             {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
             {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
             """)),
    Rule("DS010", "empty-content", W, "A message or field whose content is empty or whitespace only.",
         "Empty turns teach the model to answer with nothing and are rejected by several validators.",
         example=ex("train.jsonl", """\
             {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": " "}]}
             """)),
    Rule("DS011", "system-prompt-varies", I, "System prompts differ across examples.",
         "A fine-tuned model learns the system prompt it saw; inconsistent ones dilute the behaviour. Stated "
         "once per file, with how many variants there are.",
         example=ex("train.jsonl",
                    '{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, '
                    '{"role": "assistant", "content": "Hello!"}]}\n'
                    '{"messages": [{"role": "system", "content": "Be concise."}, {"role": "user", "content": "Bye"}, '
                    '{"role": "assistant", "content": "Goodbye!"}]}\n')),
    Rule("DS012", "mixed-formats", E, "Examples of different dataset formats in one file.",
         "A fine-tuning file has one format; a chat example among prompt/completion pairs fails the upload.",
         example=ex("train.jsonl", """\
             {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
             {"messages": [{"role": "user", "content": "Bye"}, {"role": "assistant", "content": "Goodbye!"}]}
             {"prompt": "Thanks", "completion": "You are welcome!"}
             """)),
    Rule("DS013", "too-few-examples", W, "Fewer examples than the fine-tuning service accepts.",
         "OpenAI requires at least 10 examples per training file (50 to 100 recommended).",
         example=ex("train.jsonl", """\
             {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
             {"messages": [{"role": "user", "content": "Bye"}, {"role": "assistant", "content": "Goodbye!"}]}
             """)),
    # -- prompt tests (promptls eval, in the editor) ---------------------------------------------------
    Rule("EV001", "failing-case", E, "A test case's assertion failed on the last run (shown on its line in the "
         "case file).",
         "A prompt edit that breaks a case should be seen where the case is written, like a failing unit test; "
         "the message names the case, the model and why the assertion failed. Cleared by the next passing run.",
         no_example="It reports the result of running the cases against a model (`promptls eval`, or a run from "
         "the editor), not something in the text: a case such as `assert: [{type: contains, value: bridge}]` "
         "fires when the model's answer lacks `bridge`."),
    Rule("EV002", "case-file", W, "A case file (`NAME.tests.yaml`, promptfoo config) has a key or assertion "
         "promptls eval does not support, or a value it cannot use.",
         "A silently ignored key or assertion makes a suite pass that never checked anything; errors stop "
         "`promptls eval` before any call (exit 2).",
         example=ex("summarize.tests.yaml", """\
             tests:
               - vars:
                   article: The council approved the new bridge on Monday.
                 assert:
                   - type: contains-any-word
                     value: bridge
             """, beside={"summarize.prompt": """\
             ---
             model: openai/gpt-5.2
             input:
               schema:
                 article: string
             ---
             Summarize: {{article}}
             """})),
    # -- robustness --------------------------------------------------------------------------------
    Rule("IO001", "file-skipped", W, "The file could not be analysed (binary, invalid UTF-8, too large, not a "
         "regular file).",
         "Saying why a file was skipped beats silently passing it. A FIFO or a device is never read: it could block "
         "or never end.",
         no_example="What it reports is the file itself, not its text: bytes that are not UTF-8 or hold NUL "
         "characters, a size above `max-file-bytes`, a FIFO or a device."),
    Rule("CF001", "invalid-config", E, "The promptls configuration is invalid.",
         "A bad setting is reported where it is, instead of being silently ignored.",
         example=ex("promptls.toml", """\
             select = ["ALL"]

             [severity]
             VR001 = "fatal"
             """)),
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
