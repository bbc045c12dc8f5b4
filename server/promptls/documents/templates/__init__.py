"""Template engines (Handlebars/Mustache scanner, Jinja2 via its own parser): syntax, variables, rendering."""
