--- What a person sees of promptls in a buffer, beyond Neovim's defaults:
--- - code lenses (tokens and cost per call, or why a call fails) as a virtual line above the line they describe,
---   so they never sit between the code and a diagnostic's virtual text; refreshed whenever the server has
---   analysed the buffer again (after every edit and every quick fix, through DiagnosticChanged);
--- - signs and virtual text showing the most severe promptls finding of a line (the others stay in the
---   location list, `vim.diagnostic.open_float()` and `]d`).
local M = {}

local api = vim.api

M.ns = api.nvim_create_namespace("promptls.lens")
---@type table<integer, integer>  bufnr -> changedtick of the last lens request
local asked = {}

api.nvim_set_hl(0, "PromptlsLens", { link = "LspCodeLens", default = true })

local function client_for(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr, name = "promptls" })[1]
end

--- Draw lenses: each one a virtual line above its line (below the first line of the buffer, where a line above
--- would only show after scrolling up past the top).
---@param bufnr integer
---@param lenses lsp.CodeLens[]
function M.draw(bufnr, lenses)
  if not api.nvim_buf_is_valid(bufnr) then
    return
  end
  api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  local by_line = {}
  for _, lens in ipairs(lenses or {}) do
    local title = lens.command and lens.command.title
    if title and title ~= "" then
      local line = lens.range.start.line
      by_line[line] = by_line[line] or {}
      table.insert(by_line[line], title)
    end
  end
  local last = api.nvim_buf_line_count(bufnr) - 1
  for line, titles in pairs(by_line) do
    line = math.min(line, last)
    local indent = line > 0 and (api.nvim_buf_get_lines(bufnr, line, line + 1, false)[1] or ""):match("^%s*") or ""
    api.nvim_buf_set_extmark(bufnr, M.ns, line, 0, {
      virt_lines = { { { indent .. table.concat(titles, " | "), "PromptlsLens" } } },
      virt_lines_above = line > 0,
    })
  end
end

--- Ask the server for the buffer's lenses and draw them (once per buffer change).
---@param bufnr integer
function M.refresh(bufnr)
  local client = client_for(bufnr)
  if not client or not client:supports_method("textDocument/codeLens", bufnr) then
    return
  end
  local tick = api.nvim_buf_get_changedtick(bufnr)
  asked[bufnr] = tick
  local params = { textDocument = vim.lsp.util.make_text_document_params(bufnr) }
  client:request("textDocument/codeLens", params, function(err, result)
    if err or asked[bufnr] ~= tick then
      return -- an error, or a newer request is on its way
    end
    M.draw(bufnr, result)
  end, bufnr)
end

--- The diagnostics to show on each line: only the most severe of the line (the first when several tie).
---@param diagnostics vim.Diagnostic[]
---@return vim.Diagnostic[]
function M.most_severe_per_line(diagnostics)
  local worst = {}
  for _, d in ipairs(diagnostics) do
    local w = worst[d.lnum]
    if not w or d.severity < w.severity then -- vim.diagnostic.severity.ERROR is 1
      worst[d.lnum] = d
    end
  end
  local out = {}
  for _, d in ipairs(diagnostics) do
    if worst[d.lnum] == d then
      table.insert(out, d)
    end
  end
  return out
end

local function is_promptls_ns(ns)
  local meta = vim.diagnostic.get_namespace(ns)
  return meta and type(meta.name) == "string" and meta.name:find("promptls", 1, true) ~= nil
end

--- Wrap the signs and virtual text handlers so that promptls namespaces show the most severe finding per line;
--- other sources are passed through untouched.
local wrapped = false
function M.wrap_handlers()
  if wrapped then
    return
  end
  wrapped = true
  for _, name in ipairs({ "signs", "virtual_text" }) do
    local orig = vim.diagnostic.handlers[name]
    if orig then
      vim.diagnostic.handlers[name] = {
        show = function(ns, bufnr, diagnostics, opts)
          if is_promptls_ns(ns) then
            diagnostics = M.most_severe_per_line(diagnostics)
          end
          return orig.show(ns, bufnr, diagnostics, opts)
        end,
        hide = function(ns, bufnr)
          return orig.hide(ns, bufnr)
        end,
      }
    end
  end
end

--- Set up lenses and diagnostics display for one buffer the promptls client attached to.
---@param bufnr integer
---@param group integer  the plugin's augroup
function M.attach(bufnr, group)
  M.refresh(bufnr)
  api.nvim_create_autocmd("DiagnosticChanged", {
    group = group,
    buffer = bufnr,
    -- The server publishes (or is pulled for) diagnostics after each analysis: the lenses of the same analysis.
    callback = function()
      M.refresh(bufnr)
    end,
  })
end

--- Forget one buffer (client detached).
---@param bufnr integer
function M.detach(bufnr)
  asked[bufnr] = nil
  if api.nvim_buf_is_valid(bufnr) then
    api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  end
end

--- Handler for `workspace/codeLens/refresh`: redraw the lenses of every attached buffer.
---@param ctx lsp.HandlerContext
function M.on_refresh(_, _, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  for bufnr in pairs(client and client.attached_buffers or {}) do
    M.refresh(bufnr)
  end
  return vim.NIL
end

return M
