-- A tiny async test runner for headless Neovim: a scenario runs in a coroutine that waits on conditions
-- (polled from timers, so the main loop keeps reading input, LSP messages and autocmds in between), records
-- what it saw in H.result, and the runner writes that as JSON to $PROMPTLS_NVIM_OUT and quits.
-- Every wait is bounded; a global deadline ends the run even if a scenario hangs.
local H = { result = {} }

local uv = vim.uv
local out_path = assert(vim.env.PROMPTLS_NVIM_OUT, "PROMPTLS_NVIM_OUT not set")
H.timeout_ms = tonumber(vim.env.PROMPTLS_NVIM_TIMEOUT_MS or "") or 15000

local finished = false

local function write_and_quit(ok, err)
  if finished then
    return
  end
  finished = true
  local messages = vim.api.nvim_exec2("messages", { output = true }).output
  local payload = {
    ok = ok,
    error = err,
    result = H.result,
    messages = messages,
    nvim = tostring(vim.version()),
    elapsed_ms = H.started and uv.now() - H.started,
  }
  local encoded_ok, encoded = pcall(vim.json.encode, payload)
  if not encoded_ok then
    encoded = vim.json.encode({ ok = false, error = "result not encodable: " .. tostring(encoded) })
  end
  local f = assert(io.open(out_path, "w"))
  f:write(encoded)
  f:close()
  if ok and H.hold_ms then
    -- A scenario that shows a screen keeps it up for the test to capture (tmux), then quits by itself.
    vim.defer_fn(function()
      vim.cmd("qall!")
    end, H.hold_ms)
    return
  end
  vim.cmd("qall!")
end

local co

local function resume()
  if finished or not co or coroutine.status(co) ~= "suspended" then
    return
  end
  local ok, err = coroutine.resume(co)
  if not ok then
    write_and_quit(false, tostring(err))
  end
end

--- Yield to the main loop for about ms milliseconds.
function H.sleep(ms)
  vim.defer_fn(resume, ms)
  coroutine.yield()
end

--- Wait until cond() returns a truthy value (returned), polling every 20 ms; raise after ms.
function H.wait(what, cond, ms)
  ms = ms or H.timeout_ms
  local deadline = uv.now() + ms
  while true do
    local ok, v = pcall(cond)
    if ok and v then
      return v
    end
    if uv.now() >= deadline then
      error(("timed out after %d ms waiting for %s%s"):format(ms, what, ok and "" or (" (" .. tostring(v) .. ")")), 2)
    end
    H.sleep(20)
  end
end

--- Type keys as a user would (through the input queue, so mappings and autocmds run).
function H.input(keys)
  vim.api.nvim_input(keys)
  H.sleep(30)
end

--- The promptls client attached to a buffer, once it is initialized.
function H.client(bufnr)
  return H.wait("promptls client on buffer " .. bufnr, function()
    local c = vim.lsp.get_clients({ bufnr = bufnr, name = "promptls" })[1]
    return c and c.initialized and c
  end)
end

--- Diagnostics of a buffer as plain tables.
function H.diagnostics(bufnr)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    out[#out + 1] = {
      code = d.code,
      source = d.source,
      severity = d.severity,
      lnum = d.lnum,
      col = d.col,
      end_lnum = d.end_lnum,
      end_col = d.end_col,
      message = d.message,
    }
  end
  return out
end

--- Floating windows currently open (e.g. a hover), with their text.
function H.floats()
  local out = {}
  for _, w in ipairs(vim.api.nvim_list_wins()) do
    local cfg = vim.api.nvim_win_get_config(w)
    if cfg.relative and cfg.relative ~= "" then
      local buf = vim.api.nvim_win_get_buf(w)
      out[#out + 1] = {
        win = w,
        filetype = vim.bo[buf].filetype,
        lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false),
      }
    end
  end
  return out
end

--- Ghost text drawn in a namespace: the virtual text and virtual lines of its extmarks, joined.
function H.ghost(bufnr, ns)
  local parts = {}
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })) do
    local d = m[4]
    local chunks = {}
    for _, c in ipairs(d.virt_text or {}) do
      chunks[#chunks + 1] = c[1]
    end
    local text = table.concat(chunks)
    for _, vl in ipairs(d.virt_lines or {}) do
      local line = {}
      for _, c in ipairs(vl) do
        line[#line + 1] = c[1]
      end
      text = text .. "\n" .. table.concat(line)
    end
    parts[#parts + 1] = { row = m[2], col = m[3], text = text, pos = d.virt_text_pos, hl = (d.virt_text or {})[1] and d.virt_text[1][2] }
  end
  return parts
end

--- Run a scenario function f(H) and write the result.
function H.run(f)
  H.started = uv.now()
  local total = tonumber(vim.env.PROMPTLS_NVIM_TOTAL_MS or "") or 60000
  vim.defer_fn(function()
    write_and_quit(false, ("scenario did not finish within %d ms"):format(total))
  end, total)
  co = coroutine.create(function()
    local ok, err = xpcall(f, debug.traceback, H)
    write_and_quit(ok, not ok and tostring(err) or nil)
  end)
  resume()
end

return H
