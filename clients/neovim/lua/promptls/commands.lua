--- User commands: :PromptlsRun, :PromptlsUsage (server commands) and :PromptlsRestart (client side).
local M = {}

local NAME = "promptls"

---@param bufnr integer
---@return vim.lsp.Client?
local function client_for(bufnr)
  local client = vim.lsp.get_clients({ bufnr = bufnr, name = NAME })[1]
  if not client then
    vim.notify("promptls is not attached to this buffer", vim.log.levels.WARN)
  end
  return client
end

--- Show a command's answer in a scratch split. The server may instead answer through window/showDocument or
--- window/showMessage, which Neovim handles itself; then there is nothing to show here.
---@param title string
---@param result any
function M.show_result(title, result)
  if result == nil or result == vim.NIL then
    return
  end
  local text = result
  if type(result) == "table" then
    text = result.markdown or result.text or result.content or result.output
    if type(text) ~= "string" then
      text = vim.inspect(result)
    end
  end
  text = tostring(text)
  vim.cmd("botright new")
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].swapfile = false
  pcall(vim.api.nvim_buf_set_name, buf, "promptls://" .. title)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(text, "\n", { plain = true }))
  vim.bo[buf].filetype = "markdown"
  vim.bo[buf].modifiable = false
end

---@param command string
---@param arguments table?
---@param title string
---@param bufnr integer
local function exec(command, arguments, title, bufnr)
  local client = client_for(bufnr)
  if not client then
    return
  end
  client:exec_cmd({ title = title, command = command, arguments = arguments }, { bufnr = bufnr }, function(err, result)
    if err then
      vim.notify(("promptls: %s failed: %s"):format(title, err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    M.show_result(title, result)
  end)
end

--- Run the prompt file in the current buffer through the server's router (`promptls.runPrompt`).
---@param bufnr? integer
function M.run(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  exec("promptls.runPrompt", { vim.uri_from_bufnr(bufnr) }, "run", bufnr)
end

--- Show tokens and cost spent so far (`promptls.showUsage`).
---@param bufnr? integer
function M.usage(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  exec("promptls.showUsage", {}, "usage", bufnr)
end

--- Stop every promptls client, wait for them to exit (forcing after a few seconds), then start again for
--- the open buffers. on_done gets the number of clients that were stopped.
---@param on_done? fun(stopped: integer)
function M.restart(on_done)
  local clients = vim.lsp.get_clients({ name = NAME })
  vim.lsp.enable(NAME, false)
  local deadline = vim.uv.now() + 5000
  local function wait()
    local alive = vim.iter(clients):any(function(c)
      return not c:is_stopped()
    end)
    if alive and vim.uv.now() < deadline then
      vim.defer_fn(wait, 50)
      return
    end
    for _, c in ipairs(clients) do
      if not c:is_stopped() then
        c:stop(true)
      end
    end
    vim.lsp.enable(NAME, true)
    if on_done then
      on_done(#clients)
    end
  end
  wait()
end

function M.create()
  local cmd = vim.api.nvim_create_user_command
  cmd("PromptlsRun", function()
    M.run(0)
  end, { desc = "promptls: run the prompt file in this buffer" })
  cmd("PromptlsUsage", function()
    M.usage(0)
  end, { desc = "promptls: show tokens and cost spent" })
  cmd("PromptlsRestart", function()
    M.restart(function(n)
      vim.notify(("promptls: restarted (%d client%s)"):format(n, n == 1 and "" or "s"))
    end)
  end, { desc = "promptls: restart the language server" })
end

return M
