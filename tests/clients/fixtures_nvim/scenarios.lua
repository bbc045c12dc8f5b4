-- Scenarios for test_neovim.py. Each one drives Neovim as a user would (opening files, typing, calling the
-- LSP functions behind the default keymaps) and records what it saw in H.result; the pytest side asserts.
-- Arguments (files, codes, text to type) come from the test, so nothing here knows the expected answers.
local S = {}

local api = vim.api

local function open(path)
  vim.cmd.edit(vim.fn.fnameescape(path))
  return api.nvim_get_current_buf()
end

local function promptls_codes(bufnr)
  local have = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.source == "promptls" and d.code then
      have[d.code] = true
    end
  end
  return have
end

--- Wait until every code in `want` is among the buffer's promptls diagnostics, recording them as it goes so a
--- timeout still shows what did arrive.
local function wait_codes(H, bufnr, want, key)
  key = key or "diagnostics"
  H.wait("promptls diagnostics " .. table.concat(want, ","), function()
    H.result[key] = H.diagnostics(bufnr)
    local have = promptls_codes(bufnr)
    for _, c in ipairs(want) do
      if not have[c] then
        return false
      end
    end
    return true
  end)
end

--- Put the cursor inside the first occurrence of `text` (searched from the top, literally).
local function cursor_on(text)
  api.nvim_win_set_cursor(0, { 1, 0 })
  local pos = vim.fn.searchpos("\\V" .. vim.fn.escape(text, "\\"), "cW")
  assert(pos[1] > 0, "text not found in buffer: " .. text)
  -- one byte into the match, so that the cursor is unambiguously on it
  api.nvim_win_set_cursor(0, { pos[1], pos[2] - 1 + math.min(1, #text - 1) })
  return pos
end

--- The code lens texts the plugin drew in a buffer (virtual lines), as { line = 0-based, text = ..., above = bool }.
local function lenses(bufnr)
  local ns = api.nvim_create_namespace("promptls.lens")
  local out = {}
  for _, m in ipairs(api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })) do
    local chunks = {}
    for _, vl in ipairs(m[4].virt_lines or {}) do
      for _, chunk in ipairs(vl) do
        chunks[#chunks + 1] = chunk[1]
      end
    end
    out[#out + 1] = { line = m[2], text = table.concat(chunks), above = m[4].virt_lines_above or false }
  end
  return out
end

local function close_floats(H)
  for _, f in ipairs(H.floats()) do
    pcall(api.nvim_win_close, f.win, true)
  end
end

function S.diagnostics(H, a)
  local events = {}
  api.nvim_create_autocmd("User", {
    pattern = "PromptlsStatus",
    callback = function(ev)
      events[#events + 1] = ev.data
    end,
  })
  local buf = open(a.file)
  H.result.filetype = vim.bo[buf].filetype
  H.result.uri = vim.uri_from_bufnr(buf)
  local client = H.client(buf)
  H.result.client = { name = client.name, root_dir = client.root_dir, offset_encoding = client.offset_encoding }
  wait_codes(H, buf, a.expect_codes)
  if a.expect_status then
    H.result.status = H.wait("a promptls/status for this file", function()
      local st = require("promptls").status(buf)
      return st and st.activeFile and st.activeFile.uri == H.result.uri and st
    end)
    H.result.statusline = require("promptls").statusline()
    H.result.status_events = #events
  end
end

function S.settings_change(H, a)
  local buf = open(a.file)
  local client = H.client(buf)
  wait_codes(H, buf, { a.code }, "before")
  -- What a user's `:lua` or a settings plugin does: new settings, announced to the server.
  client.settings = { promptls = a.new_settings }
  client:notify("workspace/didChangeConfiguration", { settings = client.settings })
  H.wait(a.code .. " to go away without editing the buffer", function()
    H.result.after = H.diagnostics(buf)
    return not promptls_codes(buf)[a.code]
  end)
end

function S.hover(H, a)
  local buf = open(a.file)
  H.client(buf)
  H.result.hovers = {}
  for _, target in ipairs(a.targets) do
    cursor_on(target)
    vim.lsp.buf.hover()
    local floats = H.wait("a hover window on " .. target, function()
      local f = H.floats()
      return #f > 0 and f
    end)
    table.insert(H.result.hovers, { target = target, lines = floats[1].lines, filetype = floats[1].filetype })
    close_floats(H)
    H.wait("hover window closed", function()
      return #H.floats() == 0
    end)
  end
end

function S.quickfix(H, a)
  local buf = open(a.file)
  H.client(buf)
  wait_codes(H, buf, { a.code }, "before")
  local diag
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.source == "promptls" and d.code == a.code then
      diag = d
      break
    end
  end
  H.result.line_before = api.nvim_buf_get_lines(buf, diag.lnum, diag.lnum + 1, false)[1]
  H.result.lens_before = H.wait("the code lens", function()
    local l = lenses(buf)
    return #l > 0 and l
  end)
  api.nvim_win_set_cursor(0, { diag.lnum + 1, diag.col })

  -- The user picks from the code action menu: the first action that says it fixes our diagnostic.
  H.result.offered = {}
  vim.ui.select = function(items, opts, on_choice)
    local pick
    for i, item in ipairs(items) do
      local action = item.action or item
      local title = opts.format_item and opts.format_item(item) or action.title
      table.insert(H.result.offered, { title = title, kind = action.kind })
      for _, d in ipairs(action.diagnostics or {}) do
        if d.code == a.code and not pick then
          pick = i
        end
      end
    end
    pick = pick or 1
    H.result.chosen = H.result.offered[pick].title
    on_choice(items[pick], pick)
  end
  local tick = api.nvim_buf_get_changedtick(buf)
  vim.lsp.buf.code_action({ context = { only = { "quickfix" } }, apply = true })
  H.wait("the quick fix to change the buffer", function()
    return api.nvim_buf_get_changedtick(buf) ~= tick
  end)
  H.result.line_after = api.nvim_buf_get_lines(buf, diag.lnum, diag.lnum + 1, false)[1]
  H.wait(a.code .. " to go away after the fix", function()
    H.result.after = H.diagnostics(buf)
    return not promptls_codes(buf)[a.code]
  end)
  -- The lens follows the fix without any other edit (it names the model the fix replaced).
  H.wait("the code lens to follow the fix", function()
    H.result.lens_after = lenses(buf)
    local text = (H.result.lens_after[1] or {}).text or ""
    return text ~= "" and text ~= H.result.lens_before[1].text
  end)
end

function S.health(H, _)
  vim.cmd("checkhealth promptls")
  H.result.lines = H.wait("the health report", function()
    local lines = api.nvim_buf_get_lines(0, 0, -1, false)
    for _, line in ipairs(lines) do
      if line:find("Neovim", 1, true) then
        return lines
      end
    end
  end)
end

--- Open a file in a real UI (the test runs Neovim in tmux), show what a user with virtual text on sees, record
--- the lenses and diagnostics, and hold the screen for the test to capture (H.hold_ms).
function S.screen(H, a)
  vim.diagnostic.config({ virtual_text = true, signs = true, underline = true })
  vim.o.statusline = "%f %= %{v:lua.require'promptls'.statusline()}"
  vim.o.laststatus = 2
  vim.o.number = true
  local buf = open(a.file)
  H.client(buf)
  wait_codes(H, buf, a.expect_codes)
  H.result.lenses = H.wait("code lenses", function()
    local l = lenses(buf)
    return #l >= (a.min_lenses or 1) and l
  end)
  H.result.diagnostics = H.diagnostics(buf)
  -- What the virtual text handler drew for promptls, per line: the messages of its extmarks.
  H.result.virtual_text = {}
  for name, ns in pairs(api.nvim_get_namespaces()) do
    if name:find("promptls", 1, true) and name:find("virtual_text", 1, true) then
      for _, m in ipairs(api.nvim_buf_get_extmarks(buf, ns, 0, -1, { details = true })) do
        local chunks = {}
        for _, c in ipairs(m[4].virt_text or {}) do
          chunks[#chunks + 1] = c[1]
        end
        table.insert(H.result.virtual_text, { line = m[2], text = table.concat(chunks) })
      end
    end
  end
  vim.cmd("redraw!")
  H.sleep(300)
  H.hold_ms = a.hold_ms or 20000
end

function S.filetypes(H, a)
  H.result.files = {}
  local bufs = {}
  for _, f in ipairs(a.files) do
    local buf = open(f)
    bufs[#bufs + 1] = buf
    table.insert(H.result.files, { file = f, filetype = vim.bo[buf].filetype })
  end
  -- Attach decisions are made when a buffer's filetype is set, in the order opened; once the files that should
  -- attach have, the others' decisions are final.
  for i, f in ipairs(a.files) do
    if vim.tbl_contains(a.expect_attached, f) then
      H.client(bufs[i])
    end
  end
  for i, buf in ipairs(bufs) do
    local c = vim.lsp.get_clients({ bufnr = buf, name = "promptls" })[1]
    H.result.files[i].attached = c ~= nil
    H.result.files[i].commentstring = vim.bo[buf].commentstring
    H.result.files[i].syntax = vim.bo[buf].syntax
  end
end

function S.commands(H, a)
  local buf = open(a.file)
  local first = H.client(buf)
  H.result.user_commands = vim.tbl_keys(api.nvim_get_commands({}))
  wait_codes(H, buf, a.expect_codes, "before")

  vim.cmd("PromptlsRestart")
  local second = H.wait("a new promptls client after :PromptlsRestart", function()
    local c = vim.lsp.get_clients({ bufnr = buf, name = "promptls" })[1]
    return c and c.id ~= first.id and c.initialized and c
  end)
  H.result.restart = { old_id = first.id, new_id = second.id, old_stopped = first:is_stopped() }
  wait_codes(H, buf, a.expect_codes, "after_restart")

  local provider = second.server_capabilities.executeCommandProvider
  H.result.server_commands = type(provider) == "table" and provider.commands or {}
  -- Server commands: only once the server offers them (issue 4). An answer is a new window (the result, or a
  -- document the server asked to show) or a message.
  local function answered(command, excmd, key)
    if not vim.tbl_contains(H.result.server_commands, command) then
      return
    end
    local wins = #api.nvim_list_wins()
    local bufs = #api.nvim_list_bufs()
    local messages = api.nvim_exec2("messages", { output = true }).output
    vim.cmd(excmd)
    H.wait("an answer to :" .. excmd, function()
      return #api.nvim_list_wins() > wins
        or #api.nvim_list_bufs() > bufs
        or api.nvim_exec2("messages", { output = true }).output ~= messages
    end, 30000)
    H.result[key] = true
  end
  answered("promptls.showUsage", "PromptlsUsage", "usage_answered")
  api.nvim_set_current_buf(buf)
  answered("promptls.runPrompt", "PromptlsRun", "run_answered")
end

function S.eval(H, a)
  local buf = open(a.file)
  H.client(buf)
  H.result.user_commands = vim.tbl_keys(api.nvim_get_commands({}))
  vim.fn.setqflist({}, " ", { title = "before" })
  vim.cmd("PromptlsEval")
  H.wait("the quickfix list of :PromptlsEval", function()
    return vim.fn.getqflist({ title = 0 }).title == "promptls eval"
  end, 30000)
  H.result.quickfix = {}
  for _, it in ipairs(vim.fn.getqflist()) do
    H.result.quickfix[#H.result.quickfix + 1] = { file = api.nvim_buf_get_name(it.bufnr), lnum = it.lnum,
      text = it.text, type = it.type }
  end
  H.result.qf_open = vim.iter(api.nvim_list_wins()):any(function(w)
    return vim.fn.getwininfo(w)[1].quickfix == 1
  end)
  H.result.messages = api.nvim_exec2("messages", { output = true }).output
end

function S.inline_fake(H, a)
  local fake = require("fake_inline_server")
  local inline = require("promptls.inline")
  fake.candidates = a.candidates
  local buf = open(a.file)
  H.client(buf)
  H.result.keymaps = {}
  for _, m in ipairs(api.nvim_buf_get_keymap(buf, "i")) do
    H.result.keymaps[#H.result.keymaps + 1] = m.lhs
  end

  local function ghost_text()
    local g = H.ghost(buf, inline.ns)
    return #g > 0 and g[1] or nil
  end

  H.input("Go" .. a.prefix)
  H.result.first = H.wait("ghost text", ghost_text)
  H.result.cursor_at_first = api.nvim_win_get_cursor(0)
  H.result.first_request = fake.requests[#fake.requests]
  local requests = #fake.requests

  -- Typing what the ghost says keeps it (shorter) without asking the server again.
  H.input(a.type_through)
  H.result.after_type_through = H.wait("ghost text after typing through", function()
    local g = ghost_text()
    return g and g.text ~= H.result.first.text and g
  end)
  H.sleep(a.settle_ms)
  H.result.requests_added_by_type_through = #fake.requests - requests

  H.input("<M-]>")
  H.result.after_next = H.wait("next candidate", function()
    local g = ghost_text()
    return g and g.text ~= H.result.after_type_through.text and g
  end)

  H.input("<Tab>")
  H.wait("the accepted text in the buffer", function()
    return api.nvim_get_current_line() ~= a.prefix .. a.type_through
  end)
  H.result.line_after_accept = api.nvim_get_current_line()
  H.result.cursor_after_accept = api.nvim_win_get_cursor(0)
  H.result.mode_after_accept = api.nvim_get_mode().mode

  -- <Esc> hides a fresh suggestion, and nothing is inserted.
  H.input("<CR>" .. a.prefix)
  H.wait("a second ghost text", ghost_text)
  H.input("<Esc>")
  H.wait("normal mode", function()
    return api.nvim_get_mode().mode == "n"
  end)
  H.result.ghost_after_esc = H.ghost(buf, inline.ns)
  H.result.line_after_esc = api.nvim_get_current_line()

  -- With no suggestion shown, the accept key is just itself.
  H.input("o<Tab>x<Esc>")
  H.wait("normal mode after typing a tab", function()
    return api.nvim_get_mode().mode == "n" and api.nvim_get_current_line() ~= ""
  end)
  H.result.line_after_plain_tab = api.nvim_get_current_line()
  H.result.lines = api.nvim_buf_get_lines(buf, 0, -1, false)
end

function S.inline_e2e(H, a)
  local inline = require("promptls.inline")
  local buf = open(a.file)
  local client = H.client(buf)
  H.result.inline_provider = client.server_capabilities.inlineCompletionProvider ~= nil
  if not H.result.inline_provider then
    return
  end
  H.input("Go" .. a.prefix)
  H.result.ghost = H.wait("ghost text from the server", function()
    local g = H.ghost(buf, inline.ns)
    return #g > 0 and g[1]
  end, a.wait_ms)
  H.input("<Tab>")
  H.wait("the accepted completion in the buffer", function()
    return table.concat(api.nvim_buf_get_lines(buf, 0, -1, false), "\n"):find(a.expect, 1, true)
  end)
  H.result.lines = api.nvim_buf_get_lines(buf, 0, -1, false)
end

return S
