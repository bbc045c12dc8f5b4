"""Every configuration section the faces know: importing this module makes each owner declare its section
(`config/sections.py`), so loading a config validates them all and the JSON Schema lists them all.
Imported by the two faces, `cli/` and `lsp/` (and by the tests' conftest)."""

# isort: off
# Declaration order is the JSON Schema's property order (the editors' settings pages follow it).
import promptls.router.settings
import promptls.eval.settings
import promptls.assist.settings  # noqa: F401
# isort: on
