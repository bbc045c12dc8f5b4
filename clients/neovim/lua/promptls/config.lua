--- Options of require("promptls").setup(): defaults, validation, and the vim.lsp.config table built from them.
local M = {}

M.name = "promptls"

---@class promptls.InlineKeymaps
---@field accept string|false      accept the shown suggestion (falls through to the key when none is shown)
---@field dismiss string|false     hide the suggestion
---@field next string|false        show the next candidate
---@field prev string|false        show the previous candidate
---@field trigger string|false     ask for a suggestion now

---@class promptls.InlineOptions
---@field enabled boolean          inline (ghost text) completions from the server
---@field builtin "auto"|boolean   use vim.lsp.inline_completion (Neovim 0.12+) when it exists
---@field auto_trigger boolean     ask while typing (debounced); false = only on the trigger key
---@field debounce_ms integer
---@field keymaps promptls.InlineKeymaps

---@class promptls.Options
---@field cmd? string[]|fun(dispatchers: table): table  server command; nil = find `promptls` (venv, then PATH)
---@field filetypes string[]
---@field root_markers string[]
---@field settings table           the `promptls` settings section: the same keys as promptls.toml
---@field commands boolean         define :PromptlsRun, :PromptlsUsage, :PromptlsEval, :PromptlsRestart
---@field inline promptls.InlineOptions
---@field lenses boolean          code lenses (tokens and cost per call) as a virtual line above their line
---@field most_severe_per_line boolean  signs and virtual text show the most severe promptls finding of a line
---@field on_status? fun(status: table)  called with every `promptls/status` notification
---@field lsp table                extra vim.lsp.Config fields (on_attach, capabilities, ...), merged last

---@type promptls.Options
M.defaults = {
  cmd = nil,
  -- markdown attaches only to `*.prompt.md` (see root_dir below). Source files are analysed for LLM SDK calls
  -- and JSONL files as fine-tuning datasets; drop those filetypes here to keep the server off them.
  filetypes = { "dotprompt", "prompty", "jinja", "handlebars", "mustache", "markdown", "python", "typescript",
    "typescriptreact", "javascript", "javascriptreact", "jsonl" },
  root_markers = { "promptls.toml", ".promptls.toml", "pyproject.toml", ".git" },
  settings = {},
  commands = true,
  inline = {
    enabled = true,
    builtin = "auto",
    auto_trigger = true,
    debounce_ms = 150,
    keymaps = {
      accept = "<Tab>",
      dismiss = "<C-]>",
      next = "<M-]>",
      prev = "<M-[>",
      trigger = "<M-\\>",
    },
  },
  lenses = true,
  most_severe_per_line = true,
  on_status = nil,
  lsp = {},
}

---@param opts? table
---@return promptls.Options
function M.resolve(opts)
  opts = opts or {}
  vim.validate("opts", opts, "table")
  -- Since 0.11 tbl_deep_extend replaces lists (filetypes, root_markers) instead of merging them by index.
  local merged = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
  vim.validate("cmd", merged.cmd, { "table", "function" }, true)
  vim.validate("filetypes", merged.filetypes, "table")
  vim.validate("root_markers", merged.root_markers, "table")
  vim.validate("settings", merged.settings, "table")
  vim.validate("inline", merged.inline, "table")
  vim.validate("on_status", merged.on_status, "function", true)
  vim.validate("lenses", merged.lenses, "boolean")
  vim.validate("most_severe_per_line", merged.most_severe_per_line, "boolean")
  return merged
end

--- The server command: `promptls serve` from the active virtualenv, else from PATH.
---@return string[]? cmd
---@return string? why  when no executable was found: what to do about it
function M.find_cmd()
  local candidates = {}
  if vim.env.VIRTUAL_ENV and vim.env.VIRTUAL_ENV ~= "" then
    table.insert(candidates, vim.fs.joinpath(vim.env.VIRTUAL_ENV, "bin", "promptls"))
  end
  table.insert(candidates, "promptls")
  for _, exe in ipairs(candidates) do
    local path = vim.fn.exepath(exe)
    if path ~= "" then
      return { path, "serve" }
    end
  end
  return nil,
    "promptls: no `promptls` executable found (looked in $VIRTUAL_ENV/bin and PATH). "
      .. "Install it with `pip install promptls` (or `pipx install promptls`), "
      .. 'or pass setup({ cmd = { "/path/to/promptls", "serve" } }).'
end

--- `*.prompt.md` files are markdown for Neovim; other markdown files are none of promptls's business.
---@param bufnr integer
---@return boolean
function M.wants_buffer(bufnr)
  if vim.bo[bufnr].filetype ~= "markdown" then
    return true
  end
  return vim.api.nvim_buf_get_name(bufnr):match("%.prompt%.md$") ~= nil
end

--- The vim.lsp.config table for these options.
---@param opts promptls.Options
---@param cmd string[]|function
---@param handlers table<string, function>
---@return vim.lsp.Config
function M.lsp_config(opts, cmd, handlers)
  local markers = opts.root_markers
  local diagnostics = require("promptls.diagnostics")
  local capabilities = diagnostics.capabilities()
  if opts.inline.enabled then
    -- Neovim 0.11 does not announce inline completion support itself; 0.12 does, and this merges harmlessly.
    capabilities.textDocument = { inlineCompletion = { dynamicRegistration = false } }
  end
  handlers = vim.tbl_extend("force", diagnostics.handlers(), handlers)
  -- An empty Lua table is encoded as a JSON array; the server expects an object.
  local settings = next(opts.settings) and opts.settings or vim.empty_dict()
  local cfg = {
    cmd = cmd,
    filetypes = opts.filetypes,
    root_dir = function(bufnr, on_dir)
      if not M.wants_buffer(bufnr) then
        return -- not calling on_dir keeps the client off this buffer
      end
      local root = vim.fs.root(bufnr, markers)
      if not root then
        local name = vim.api.nvim_buf_get_name(bufnr)
        root = name ~= "" and vim.fs.dirname(name) or vim.uv.cwd()
      end
      on_dir(root)
    end,
    settings = { promptls = settings },
    init_options = settings,
    capabilities = capabilities,
    handlers = handlers,
  }
  return vim.tbl_deep_extend("force", cfg, opts.lsp or {})
end

return M
