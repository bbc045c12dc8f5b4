"""The rule implementations, one module per family; `ALL_CHECKS` lists the prompt-file ones. They are
independent of each other: what they share (tokens and cost) is measured before them (`analysis/measure.py`)
and read from the context, so their order only decides the order of findings before sorting."""

from promptls.analysis.rules import frontmatter, models, references, secrets, template, tokens, variables

ALL_CHECKS = (
    frontmatter.check,
    template.check,
    variables.check,
    references.check,
    models.check,
    tokens.check,
    secrets.check,
)
