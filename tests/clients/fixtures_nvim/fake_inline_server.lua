-- An in-process stand-in for a language server that answers textDocument/inlineCompletion, used to test the
-- plugin's ghost text on its own (the real server's inline completions arrive with issue 4; the end-to-end test
-- covers that path). It completes the word before the cursor to each of `candidates` (given at run time),
-- with a range from the word's start to the cursor (nothing after a non-word character), and records every
-- request it gets.
local M = { requests = {}, candidates = {} }

local function word_before(line, character)
  local before = line:sub(1, character)
  return before:match("([%w_%-]*)$") or ""
end

--- The `cmd` function for vim.lsp.config: Neovim calls it with dispatchers and talks to the returned object.
function M.cmd(dispatchers)
  local closing = false
  local next_id = 0
  local docs = {}
  local srv = {}

  function srv.request(method, params, callback)
    next_id = next_id + 1
    local id = next_id
    local result
    if method == "initialize" then
      result = {
        capabilities = { textDocumentSync = 1, inlineCompletionProvider = true },
        serverInfo = { name = "fake-inline" },
      }
    elseif method == "textDocument/inlineCompletion" then
      table.insert(M.requests, { position = params.position, context = params.context })
      local lines = docs[params.textDocument.uri] or {}
      local line = lines[params.position.line + 1] or ""
      local word = word_before(line, params.position.character)
      local items = {}
      for _, cand in ipairs(M.candidates) do
        if word ~= "" and cand:sub(1, #word) == word then
          items[#items + 1] = {
            insertText = cand,
            range = {
              start = { line = params.position.line, character = params.position.character - #word },
              ["end"] = params.position,
            },
          }
        end
      end
      result = { items = items }
    elseif method == "shutdown" then
      result = vim.NIL
    end
    vim.schedule(function()
      callback(nil, result)
    end)
    return true, id
  end

  function srv.notify(method, params)
    if method == "textDocument/didOpen" then
      docs[params.textDocument.uri] = vim.split(params.textDocument.text, "\n", { plain = true })
    elseif method == "textDocument/didChange" then
      -- textDocumentSync = 1 (full): the last change is the whole text
      local changes = params.contentChanges
      docs[params.textDocument.uri] = vim.split(changes[#changes].text, "\n", { plain = true })
    elseif method == "exit" then
      closing = true
      vim.schedule(function()
        dispatchers.on_exit(0, 0)
      end)
    end
    return true
  end

  function srv.is_closing()
    return closing
  end

  function srv.terminate()
    closing = true
  end

  return srv
end

return M
