--- :checkhealth promptls: Neovim version, the server executable, and the running client.
local M = {}

function M.check()
  local h = vim.health
  h.start("promptls")
  if vim.fn.has("nvim-0.11") == 1 then
    -- tostring(vim.version()) appends the build (`0.11.4+v0.11.4`); the version once is what people compare.
    local v = vim.version()
    h.ok(("Neovim %d.%d.%d%s"):format(v.major, v.minor, v.patch, v.prerelease and ("-" .. v.prerelease) or ""))
  else
    h.error("Neovim 0.11 or newer is needed (vim.lsp.config / vim.lsp.enable)")
  end
  local opts = require("promptls").options
  if not opts then
    h.warn('setup() has not been called: add require("promptls").setup({}) to your config')
  end
  local cmd = opts and opts.cmd
  if type(cmd) == "function" then
    h.ok("server: in-process cmd function")
  else
    local why
    if not cmd then
      cmd, why = require("promptls.config").find_cmd()
    end
    if cmd then
      if vim.fn.executable(cmd[1]) == 1 then
        h.ok("server: " .. table.concat(cmd, " "))
      else
        h.error("server command is not executable: " .. cmd[1])
      end
    else
      h.error(why)
    end
  end
  local clients = vim.lsp.get_clients({ name = "promptls" })
  if #clients == 0 then
    h.info("no promptls client running (open a .prompt or .prompty file)")
  end
  for _, c in ipairs(clients) do
    local inline = c.server_capabilities.inlineCompletionProvider and "yes" or "no"
    h.ok(("client %d: root %s, inline completions: %s"):format(c.id, c.root_dir or "(single file)", inline))
  end
  if vim.lsp.inline_completion then
    h.info("inline completions: Neovim's built-in vim.lsp.inline_completion")
  else
    h.info("inline completions: promptls ghost text (Neovim has no built-in one before 0.12)")
  end
end

return M
