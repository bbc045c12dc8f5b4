--- Filetype detection for prompt files: `.prompt` is Dotprompt, `.prompty` is Prompty.
--- The filetype names double as LSP language ids, which is what the server expects.
local M = {}

M.extensions = {
  prompt = "dotprompt",
  prompty = "prompty",
  -- Neovim 0.11 knows `.jinja` and `.hbs` but not these spellings of the same engines.
  j2 = "jinja",
  jinja2 = "jinja",
  handlebars = "handlebars",
}

function M.register()
  vim.filetype.add({ extension = M.extensions })
end

return M
