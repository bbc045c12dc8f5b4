--- promptls for Neovim 0.11+: require("promptls").setup({...}) configures and enables the language server
--- through vim.lsp.config / vim.lsp.enable, with filetypes, user commands, a status line and inline completions.
local M = {}

---@type promptls.Options?
M.options = nil

--- Configure and enable the promptls language server. See README.md for the options.
---@param opts? promptls.Options
function M.setup(opts)
  local config = require("promptls.config")
  local status = require("promptls.status")
  local inline = require("promptls.inline")

  local o = config.resolve(opts)
  M.options = o
  require("promptls.filetypes").register()

  local cmd = o.cmd
  if not cmd then
    local why
    cmd, why = config.find_cmd()
    if not cmd then
      vim.notify(why, vim.log.levels.ERROR)
      return
    end
  end

  status.on_status = o.on_status
  inline.opts = o.inline
  local ui = require("promptls.ui")
  local handlers = { ["promptls/status"] = status.handler }
  if o.lenses then
    handlers["workspace/codeLens/refresh"] = ui.on_refresh
  end
  if o.most_severe_per_line then
    ui.wrap_handlers()
  end
  vim.lsp.config(config.name, config.lsp_config(o, cmd, handlers))

  local group = vim.api.nvim_create_augroup("promptls", { clear = true })
  vim.api.nvim_create_autocmd("LspAttach", {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if not client or client.name ~= config.name then
        return
      end
      if o.inline.enabled and client:supports_method("textDocument/inlineCompletion", args.buf) then
        inline.attach(args.buf, client)
      end
      if o.lenses then
        ui.attach(args.buf, group)
      end
    end,
  })
  vim.api.nvim_create_autocmd("LspDetach", {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == config.name then
        inline.detach(args.buf)
        ui.detach(args.buf)
        status.by_client[client.id] = nil
      end
    end,
  })

  if o.commands then
    require("promptls.commands").create()
  end
  vim.lsp.enable(config.name)
end

--- Tokens, cost and provider of the current prompt file, for 'statusline'.
function M.statusline()
  return require("promptls.status").statusline()
end

--- The latest `promptls/status` for a buffer.
---@param bufnr? integer
function M.status(bufnr)
  return require("promptls.status").get(bufnr)
end

--- Accept the shown inline completion; false when none is shown (use it in your own <expr> mapping).
---@param bufnr? integer
---@return boolean
function M.accept(bufnr)
  return require("promptls.inline").get(bufnr)
end

function M.run(bufnr)
  require("promptls.commands").run(bufnr)
end

function M.usage(bufnr)
  require("promptls.commands").usage(bufnr)
end

function M.restart(on_done)
  require("promptls.commands").restart(on_done)
end

return M
