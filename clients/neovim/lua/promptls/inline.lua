--- Inline (ghost text) completions from `textDocument/inlineCompletion`.
---
--- Neovim 0.12 has this built in (vim.lsp.inline_completion) and we use it there. Neovim 0.11 has none, so this
--- module carries a small extmark-based one with the same shape: get() accepts (and works from an <expr>
--- mapping), select() cycles candidates, the suggestion survives typing that matches it, and any other edit or
--- cursor move hides it.
local api = vim.api

local M = {}

M.ns = api.nvim_create_namespace("promptls.inline")
M.hl_group = "PromptlsGhostText"

local METHOD = "textDocument/inlineCompletion"
local TRIGGER_INVOKED, TRIGGER_AUTOMATIC = 1, 2

---@class promptls.InlineAnchor
---@field row integer        0-based row of the suggestion
---@field start_col integer  byte column where the inserted text starts (range start)
---@field tail integer       bytes after the cursor that the insert replaces (range end - cursor)

---@class promptls.InlineState
---@field bufnr integer
---@field client_id integer
---@field augroup integer
---@field timer? uv.uv_timer_t
---@field request_id? integer
---@field items lsp.InlineCompletionItem[]
---@field index integer
---@field anchor? promptls.InlineAnchor
---@field shown? string      the ghost text currently displayed
---@field shown_tick? integer
---@field shown_cursor? integer[]

---@type table<integer, promptls.InlineState>
local states = {}

---@type promptls.InlineOptions
M.opts = nil

---@param opts? promptls.InlineOptions  nil before setup(): "auto"
---@return boolean
function M.use_builtin(opts)
  opts = opts or { builtin = "auto" }
  local has = vim.lsp.inline_completion ~= nil and vim.lsp.inline_completion.enable ~= nil
  if opts.builtin == "auto" then
    return has
  end
  return opts.builtin == true and has
end

local function resolve_buf(bufnr)
  return (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
end

---@param item lsp.InlineCompletionItem
---@return string text, boolean is_snippet
local function insert_text(item)
  local t = item.insertText
  if type(t) == "table" then
    return t.value or "", t.kind == "snippet"
  end
  return t or "", false
end

--- What a snippet looks like once expanded with its defaults: `${1:name}` → `name`, `$0` → ``.
---@param s string
---@return string
local function snippet_preview(s)
  local prev
  repeat
    prev = s
    s = s:gsub("%${%d+:([^{}]*)}", "%1"):gsub("%${%d+|([^,|}]*)[^}]*|}", "%1")
  until s == prev
  return (s:gsub("%${%d+}", ""):gsub("%$%d+", ""):gsub("\\([%$}\\])", "%1"))
end

---@param bufnr integer
---@param row integer
---@return string
local function line_at(bufnr, row)
  return api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
end

local function stop_timer(state)
  local t = state.timer
  state.timer = nil
  if t and not t:is_closing() then
    t:stop()
    t:close()
  end
end

local function cancel_request(state)
  if state.request_id then
    local client = vim.lsp.get_client_by_id(state.client_id)
    if client then
      client:cancel_request(state.request_id)
    end
    state.request_id = nil
  end
end

--- Hide the suggestion and forget it.
---@param bufnr? integer
function M.dismiss(bufnr)
  bufnr = resolve_buf(bufnr)
  if M.use_builtin(M.opts) then
    return -- the built-in hides itself on cursor moves and InsertLeave
  end
  local state = states[bufnr]
  if api.nvim_buf_is_valid(bufnr) then
    api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  end
  if state then
    state.items, state.index, state.anchor, state.shown = {}, 0, nil, nil
  end
end

--- Draw the current item as ghost text after the cursor. False when it no longer fits what is typed.
---@param state promptls.InlineState
---@return boolean
local function render(state)
  api.nvim_buf_clear_namespace(state.bufnr, M.ns, 0, -1)
  state.shown = nil
  local item, a = state.items[state.index], state.anchor
  if not item or not a or api.nvim_get_current_buf() ~= state.bufnr then
    return false
  end
  local cursor = api.nvim_win_get_cursor(0)
  if cursor[1] - 1 ~= a.row or cursor[2] < a.start_col then
    return false
  end
  local text, is_snippet = insert_text(item)
  if is_snippet then
    text = snippet_preview(text)
  end
  -- Characters the user typed since the range start must match the suggestion; the ghost shows the rest.
  local typed = line_at(state.bufnr, a.row):sub(a.start_col + 1, cursor[2])
  if text:sub(1, #typed) ~= typed then
    return false
  end
  local rest = text:sub(#typed + 1)
  if rest == "" then
    return false
  end
  local lines = vim.split(rest, "\n", { plain = true })
  local virt_lines = {}
  for i = 2, #lines do
    virt_lines[#virt_lines + 1] = { { lines[i], M.hl_group } }
  end
  api.nvim_buf_set_extmark(state.bufnr, M.ns, a.row, cursor[2], {
    virt_text = { { lines[1], M.hl_group } },
    virt_text_pos = "inline",
    virt_lines = #virt_lines > 0 and virt_lines or nil,
    hl_mode = "combine",
  })
  state.shown = rest
  state.shown_tick = api.nvim_buf_get_changedtick(state.bufnr)
  state.shown_cursor = cursor
  return true
end

---@param state promptls.InlineState
---@param client vim.lsp.Client
---@param cursor integer[]
local function present(state, client, cursor)
  local item = state.items[state.index]
  local row, col = cursor[1] - 1, cursor[2]
  local start_col, end_col = col, col
  local range = item and item.range
  -- Inline completions replace text on the cursor's line; a range elsewhere is treated as "insert here".
  if range and range.start.line == row and range["end"].line == row then
    local line = line_at(state.bufnr, row)
    start_col = vim.str_byteindex(line, client.offset_encoding, range.start.character, false)
    end_col = vim.str_byteindex(line, client.offset_encoding, range["end"].character, false)
  end
  state.anchor = { row = row, start_col = math.min(start_col, col), tail = math.max(end_col - col, 0) }
  if not render(state) then
    M.dismiss(state.bufnr)
  end
end

---@param state promptls.InlineState
---@param kind integer
local function request(state, kind)
  cancel_request(state)
  local client = vim.lsp.get_client_by_id(state.client_id)
  if not client or client:is_stopped() or api.nvim_get_current_buf() ~= state.bufnr then
    return
  end
  local win = api.nvim_get_current_win()
  local params = vim.lsp.util.make_position_params(win, client.offset_encoding)
  params.context = { triggerKind = kind }
  local tick = api.nvim_buf_get_changedtick(state.bufnr)
  local cursor = api.nvim_win_get_cursor(win)
  local ok, id = client:request(METHOD, params, function(err, result, ctx)
    if state.request_id == ctx.request_id then
      state.request_id = nil
    end
    if err or not result then
      return
    end
    -- An answer for a text or cursor that has moved on is stale: a newer request is on its way.
    if
      not api.nvim_buf_is_valid(state.bufnr)
      or api.nvim_buf_get_changedtick(state.bufnr) ~= tick
      or api.nvim_get_current_buf() ~= state.bufnr
      or not vim.deep_equal(api.nvim_win_get_cursor(0), cursor)
      or not api.nvim_get_mode().mode:match("^i")
    then
      return
    end
    local items = result.items or result
    if type(items) ~= "table" or #items == 0 then
      M.dismiss(state.bufnr)
      return
    end
    state.items, state.index = items, 1
    present(state, client, cursor)
  end, state.bufnr)
  if ok then
    state.request_id = id
  end
end

local function debounced_request(state)
  stop_timer(state)
  state.timer = vim.defer_fn(function()
    state.timer = nil
    if api.nvim_get_mode().mode:match("^i") and api.nvim_get_current_buf() == state.bufnr then
      request(state, TRIGGER_AUTOMATIC)
    end
  end, M.opts.debounce_ms)
end

--- Accept the shown suggestion. Returns false when there is none, so an <expr> mapping can fall through to
--- the key itself; the edit is scheduled because <expr> mappings may not change the buffer.
---@param bufnr? integer
---@return boolean
function M.get(bufnr)
  bufnr = resolve_buf(bufnr)
  if M.use_builtin(M.opts) then
    return vim.lsp.inline_completion.get({ bufnr = bufnr })
  end
  local state = states[bufnr]
  if not (state and state.shown and state.anchor) then
    return false
  end
  local item, a = state.items[state.index], state.anchor
  vim.schedule(function()
    if not api.nvim_buf_is_valid(bufnr) or api.nvim_get_current_buf() ~= bufnr then
      return
    end
    M.dismiss(bufnr)
    local cursor = api.nvim_win_get_cursor(0)
    local end_col = math.min(cursor[2] + a.tail, #line_at(bufnr, a.row))
    local text, is_snippet = insert_text(item)
    if is_snippet then
      api.nvim_buf_set_text(bufnr, a.row, a.start_col, a.row, end_col, { "" })
      api.nvim_win_set_cursor(0, { a.row + 1, a.start_col })
      vim.snippet.expand(text)
    else
      local lines = vim.split(text, "\n", { plain = true })
      api.nvim_buf_set_text(bufnr, a.row, a.start_col, a.row, end_col, lines)
      local last = #lines
      api.nvim_win_set_cursor(0, { a.row + last, (last == 1 and a.start_col or 0) + #lines[last] })
    end
    if item.command then
      local client = vim.lsp.get_client_by_id(state.client_id)
      if client then
        client:exec_cmd(item.command, { bufnr = bufnr })
      end
    end
  end)
  return true
end

--- Show the next (count > 0) or previous candidate.
---@param count? integer
---@param bufnr? integer
function M.select(count, bufnr)
  bufnr = resolve_buf(bufnr)
  count = count or 1
  if M.use_builtin(M.opts) then
    vim.lsp.inline_completion.select({ bufnr = bufnr, count = count })
    return
  end
  local state = states[bufnr]
  if not (state and state.shown and #state.items > 1) then
    return
  end
  state.index = (state.index - 1 + count) % #state.items + 1
  if not render(state) then
    M.dismiss(bufnr)
  end
end

--- Ask for a suggestion now (the trigger key).
---@param bufnr? integer
function M.trigger(bufnr)
  bufnr = resolve_buf(bufnr)
  local state = states[bufnr]
  if state and not M.use_builtin(M.opts) then
    stop_timer(state)
    request(state, TRIGGER_INVOKED)
  end
end

--- The ghost text on screen for a buffer (nil when none); for statuslines and tests.
---@param bufnr? integer
---@return string?
function M.current(bufnr)
  local state = states[resolve_buf(bufnr)]
  return state and state.shown or nil
end

local function set_highlight()
  api.nvim_set_hl(0, M.hl_group, { link = "Comment", default = true })
end

local function map_keys(bufnr)
  local keys = M.opts.keymaps or {}
  local builtin = M.use_builtin(M.opts)
  local function map(lhs, rhs, desc, opts)
    if lhs then
      vim.keymap.set("i", lhs, rhs, vim.tbl_extend("force", { buffer = bufnr, desc = desc }, opts or {}))
    end
  end
  map(keys.accept, function()
    return M.get(bufnr) and "" or vim.keycode(keys.accept)
  end, "promptls: accept inline completion", { expr = true, replace_keycodes = false })
  map(keys.next, function()
    M.select(1, bufnr)
  end, "promptls: next inline completion")
  map(keys.prev, function()
    M.select(-1, bufnr)
  end, "promptls: previous inline completion")
  if not builtin then
    map(keys.dismiss, function()
      M.dismiss(bufnr)
    end, "promptls: dismiss inline completion")
    map(keys.trigger, function()
      M.trigger(bufnr)
    end, "promptls: ask for an inline completion")
  end
end

--- Turn inline completions on for a buffer whose promptls client supports them.
---@param bufnr integer
---@param client vim.lsp.Client
function M.attach(bufnr, client)
  set_highlight()
  map_keys(bufnr)
  if M.use_builtin(M.opts) then
    vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
    return
  end
  if states[bufnr] then
    states[bufnr].client_id = client.id
    return
  end
  local group = api.nvim_create_augroup("promptls.inline." .. bufnr, { clear = true })
  local state = { bufnr = bufnr, client_id = client.id, augroup = group, items = {}, index = 0 }
  states[bufnr] = state

  api.nvim_create_autocmd("TextChangedI", {
    group = group,
    buffer = bufnr,
    callback = function()
      -- Typing what the suggestion says keeps it (no new request); anything else replaces it.
      if state.shown and render(state) then
        return
      end
      M.dismiss(bufnr)
      if M.opts.auto_trigger then
        debounced_request(state)
      end
    end,
  })
  api.nvim_create_autocmd("CursorMovedI", {
    group = group,
    buffer = bufnr,
    callback = function()
      -- Moves caused by typing arrive with a new changedtick and are TextChangedI's business.
      if
        state.shown
        and api.nvim_buf_get_changedtick(bufnr) == state.shown_tick
        and not vim.deep_equal(api.nvim_win_get_cursor(0), state.shown_cursor)
      then
        M.dismiss(bufnr)
      end
    end,
  })
  api.nvim_create_autocmd({ "InsertLeave", "BufLeave" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      stop_timer(state)
      cancel_request(state)
      M.dismiss(bufnr)
    end,
  })
  api.nvim_create_autocmd("ColorScheme", { group = group, callback = set_highlight })
end

--- Undo attach() (the client stopped or detached).
---@param bufnr integer
function M.detach(bufnr)
  local state = states[bufnr]
  if not state then
    return
  end
  stop_timer(state)
  cancel_request(state)
  M.dismiss(bufnr)
  pcall(api.nvim_del_augroup_by_id, state.augroup)
  states[bufnr] = nil
end

return M
