--- `workspace/diagnostic/refresh` for Neovim 0.11, which pulls diagnostics but has no handler for the server's
--- request to pull them again (after a settings or promptls.toml change). 0.12 handles it itself.
local M = {}

--- Handler: pull diagnostics again for every buffer the client is attached to.
---@param ctx lsp.HandlerContext
function M.refresh(_, _, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if not client then
    return vim.NIL
  end
  for bufnr in pairs(client.attached_buffers) do
    if vim.api.nvim_buf_is_loaded(bufnr) then
      local params = { textDocument = vim.lsp.util.make_text_document_params(bufnr) }
      -- no handler given: Neovim's own textDocument/diagnostic handler stores the result
      client:request("textDocument/diagnostic", params, nil, bufnr)
    end
  end
  return vim.NIL
end

--- Handlers to add to the client config: only where Neovim has none of its own.
---@return table<string, function>
function M.handlers()
  if vim.lsp.handlers["workspace/diagnostic/refresh"] then
    return {}
  end
  return { ["workspace/diagnostic/refresh"] = M.refresh }
end

--- Client capabilities that go with handlers().
---@return table
function M.capabilities()
  if vim.lsp.handlers["workspace/diagnostic/refresh"] then
    return {}
  end
  return { workspace = { diagnostics = { refreshSupport = true } } }
end

return M
