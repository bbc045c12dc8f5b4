-- Default config for `vim.lsp.enable("promptls")` (Neovim 0.11+ reads lsp/<name>.lua from 'runtimepath').
-- require("promptls").setup() layers its options on top of this with vim.lsp.config().
---@type vim.lsp.Config
return {
  cmd = { "promptls", "serve" },
  filetypes = { "dotprompt", "prompty", "jinja", "handlebars", "mustache" },
  root_markers = { "promptls.toml", ".promptls.toml", "pyproject.toml", ".git" },
  settings = { promptls = vim.empty_dict() },
}
