--- The `promptls/status` notification: kept per client, shown by statusline(), announced as `User PromptlsStatus`.
local M = {}

---@class promptls.Status
---@field state "idle"|"busy"
---@field provider string|nil
---@field sessionCostUsd number
---@field sessionCostText string|nil
---@field activeFile {uri: string, tokens: integer, costUsd: number|nil, exact: boolean, text: string}|nil

---@type table<integer, promptls.Status>
M.by_client = {}

---@type fun(status: promptls.Status)?
M.on_status = nil

--- Handler for the server's `promptls/status` notification (registered in the client's handlers).
---@param result promptls.Status
---@param ctx lsp.HandlerContext
function M.handler(_, result, ctx)
  if type(result) ~= "table" then
    return
  end
  M.by_client[ctx.client_id] = result
  if M.on_status then
    M.on_status(result)
  end
  vim.api.nvim_exec_autocmds("User", { pattern = "PromptlsStatus", modeline = false, data = result })
  vim.cmd.redrawstatus({ bang = true })
end

--- The latest status for a buffer (from the promptls client attached to it), or nil.
---@param bufnr? integer
---@return promptls.Status?
function M.get(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  for _, client in ipairs(vim.lsp.get_clients({ bufnr = bufnr, name = "promptls" })) do
    if M.by_client[client.id] then
      return M.by_client[client.id]
    end
  end
end

--- A short string for 'statusline' / lualine: tokens and cost of the current prompt file, provider, busy state.
--- Example: `vim.o.statusline = "%f %= %{v:lua.require'promptls'.statusline()}"`
---@return string
function M.statusline()
  local s = M.get()
  if not s then
    return ""
  end
  local parts = {}
  local file = s.activeFile
  if file and file.uri == vim.uri_from_bufnr(0) and type(file.text) == "string" then
    -- The server's own words (`~285 tokens · $0.000068/call`): the lens, the hover and `promptls check` say
    -- the same; formatting numbers here would make a second, different figure.
    table.insert(parts, file.text)
  end
  if s.provider then
    table.insert(parts, s.provider)
  end
  if s.state == "busy" then
    table.insert(parts, "…")
  end
  return table.concat(parts, " ")
end

return M
