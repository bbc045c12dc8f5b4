-- Minimal init for the headless Neovim tests: the plugin from the repository, promptls.setup() with the command
-- and settings the pytest test chose, then the named scenario once Neovim has finished starting.
local plugin = assert(vim.env.PROMPTLS_NVIM_PLUGIN, "PROMPTLS_NVIM_PLUGIN not set")
local fixtures = assert(vim.env.PROMPTLS_NVIM_FIXTURES, "PROMPTLS_NVIM_FIXTURES not set")
package.path = fixtures .. "/?.lua;" .. package.path
vim.o.swapfile = false
vim.o.more = false

local args = vim.json.decode(vim.env.PROMPTLS_NVIM_ARGS or "{}")
local mode = args.mode or "setup"

if mode == "setup" then
  vim.opt.rtp:prepend(plugin)
  local server = assert(vim.env.PROMPTLS_NVIM_SERVER, "PROMPTLS_NVIM_SERVER not set")
  local cmd = server == "fake-inline" and require("fake_inline_server").cmd or vim.json.decode(server)
  require("promptls").setup({
    cmd = cmd,
    settings = args.settings or {},
    -- Neovim 0.11 has no built-in inline completion, so this exercises the plugin's own ghost text either way.
    inline = { builtin = false, debounce_ms = 50 },
  })
elseif mode == "rtp-enable" then
  -- The plugin on 'runtimepath' without setup(): its lsp/promptls.lua and filetype detection only.
  vim.opt.rtp:prepend(plugin)
  vim.lsp.enable("promptls")
elseif mode == "snippet" then
  -- No plugin at all: the README's plain vim.lsp.config snippet, as written there.
  assert(loadstring(args.snippet, "README snippet"))()
else
  error("unknown mode " .. mode)
end

-- Scheduled out of the VimEnter autocmd: files opened inside an autocmd would not fire their own BufRead and
-- FileType autocmds (autocmds do not nest by default), so no filetype and no LSP.
vim.api.nvim_create_autocmd("VimEnter", {
  once = true,
  callback = vim.schedule_wrap(function()
    local name = vim.env.PROMPTLS_NVIM_SCENARIO
    local scenario = require("scenarios")[name]
    require("harness").run(function(H)
      assert(scenario, "unknown scenario " .. tostring(name))
      scenario(H, args)
    end)
  end),
})
