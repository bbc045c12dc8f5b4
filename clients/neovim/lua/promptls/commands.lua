--- User commands: :PromptlsRun, :PromptlsUsage, :PromptlsEval (server commands) and :PromptlsRestart (client side).
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

---@param v any
---@return any
local function value(v)
  if v == vim.NIL then
    return nil
  end
  return v
end

--- The quickfix items of an evaluation's answer (`promptls.eval`): one per failing assertion of a failing case,
--- on its line in the case file.
---@param result table
---@return table[]
function M.eval_items(result)
  local items = {}
  for _, r in ipairs(value(result.results) or {}) do
    if not r.pass then
      local failures = value(r.failures) or {}
      if #failures == 0 then
        failures = { { type = "score", message = ("score %s below the threshold"):format(tostring(r.score)) } }
      end
      for _, f in ipairs(failures) do
        items[#items + 1] = {
          filename = value(f.file) or value(r.file),
          lnum = value(f.line) or value(r.line) or 1,
          col = 1,
          type = "E",
          text = ("%s [%s]: %s: %s"):format(r.case, value(r.model) or value(r.provider) or "?", f.type, f.message),
        }
      end
    end
  end
  return items
end

--- Run the cases of the prompt (or case file) in the current buffer through the server (`promptls.eval`) and
--- fill the quickfix list with the failing ones; opened when there are any.
---@param bufnr? integer
function M.eval(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local client = client_for(bufnr)
  if not client then
    return
  end
  vim.notify("promptls: running the cases...")
  local args = { title = "eval", command = "promptls.eval", arguments = { vim.uri_from_bufnr(bufnr) } }
  client:exec_cmd(args, { bufnr = bufnr }, function(err, result)
    if err then
      vim.notify(("promptls: eval failed: %s"):format(err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    result = value(result) or {}
    local items = M.eval_items(result)
    vim.fn.setqflist({}, " ", { title = "promptls eval", items = items })
    if value(result.error) and #items == 0 then
      vim.notify("promptls: " .. tostring(result.error), vim.log.levels.ERROR)
      return
    end
    local passed, total = value(result.passed) or 0, value(result.total) or 0
    vim.notify(("promptls eval: %d/%d cases passed"):format(passed, total),
      #items > 0 and vim.log.levels.WARN or vim.log.levels.INFO)
    if #items > 0 then
      vim.cmd("botright copen")
    end
  end)
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
  cmd("PromptlsEval", function()
    M.eval(0)
  end, { desc = "promptls: run this prompt's test cases; failing ones go to the quickfix list" })
  cmd("PromptlsRestart", function()
    M.restart(function(n)
      vim.notify(("promptls: restarted (%d client%s)"):format(n, n == 1 and "" or "s"))
    end)
  end, { desc = "promptls: restart the language server" })
end

return M
