-- Prompty buffers: Jinja comments.
vim.bo.commentstring = "{# %s #}"
local undo = vim.b.undo_ftplugin
vim.b.undo_ftplugin = (undo and undo ~= "" and undo .. " | " or "") .. "setlocal commentstring<"
