-- promptls: filetype detection only. Everything else waits for require("promptls").setup(),
-- so merely having the plugin on 'runtimepath' costs nothing at startup.
if vim.g.loaded_promptls then
  return
end
vim.g.loaded_promptls = true

if vim.fn.has("nvim-0.11") == 0 then
  vim.notify_once("promptls.nvim needs Neovim 0.11 or newer", vim.log.levels.WARN)
  return
end

require("promptls.filetypes").register()
