"""The rule implementations, one module per family; `ALL_CHECKS` is the order they run in."""

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
