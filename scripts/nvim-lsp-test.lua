-- Run by scripts/nvim-lsp-test.sh inside `nvim --headless`: Neovim's own LSP
-- client (the 0.7 API, vim.lsp.start_client) with `mprace lsp` as the Go
-- server opens a racy file, prints what vim.diagnostic.get() holds, applies
-- mprace's quickfix through vim.lsp.buf.code_action, saves, and prints the
-- diagnostics again. Lines go to stdout for the script to check; any failure
-- exits with status 1.
local mprace, gopls, dir = os.getenv("MPRACE"), os.getenv("GOPLS"), os.getenv("MODDIR")
local timeout = 120000

local function out(s)
  io.stdout:write(s .. "\n")
  io.stdout:flush()
end

local function fail(why)
  out("FAIL " .. why)
  vim.cmd("cquit 1")
end

local function from(source)
  local r = {}
  for _, d in ipairs(vim.diagnostic.get(0)) do
    if d.source == source then
      table.insert(r, d)
    end
  end
  return r
end

local function show(label)
  local ds = {}
  for _, d in ipairs(vim.diagnostic.get(0)) do
    local lsp = (d.user_data or {}).lsp or {}
    table.insert(ds, {
      line = d.lnum + 1, col = d.col + 1, source = d.source, message = d.message,
      code = lsp.code, href = (lsp.codeDescription or {}).href,
      related = #(lsp.relatedInformation or {}),
    })
  end
  out(label .. " " .. vim.fn.json_encode(ds))
end

vim.cmd("edit " .. dir .. "/racy.go")
vim.bo.filetype = "go"
local id = vim.lsp.start_client({
  name = "mprace",
  cmd = { mprace, "lsp", "-gopls", gopls },
  root_dir = dir,
})
if not id then
  fail("vim.lsp.start_client did not start mprace lsp")
end
vim.lsp.buf_attach_client(0, id)

if not vim.wait(timeout, function() return #from("mprace") > 0 and #from("printf") > 0 end, 100) then
  show("DIAGNOSTICS")
  fail("no mprace and gopls diagnostics together")
end
show("DIAGNOSTICS")

-- Put the cursor on mprace's diagnostic and take its quickfix from the
-- code action menu (vim.ui.select is the menu; choose mprace's entry).
local d = from("mprace")[1]
vim.api.nvim_win_set_cursor(0, { d.lnum + 1, d.col })
local chosen
vim.ui.select = function(items, _, choose)
  for i, item in ipairs(items) do
    local action = item[2]
    if action.kind == "quickfix" and action.diagnostics and action.diagnostics[1]
        and action.diagnostics[1].source == "mprace" then
      chosen = action.title
      return choose(item, i)
    end
  end
  choose(nil, nil)
end
vim.lsp.buf.code_action()
if not vim.wait(timeout, function() return chosen ~= nil end, 100) then
  fail("no mprace quickfix among the code actions")
end
out("ACTION " .. chosen)
if not vim.wait(timeout, function()
  return vim.fn.getline(d.lnum + 1):find("Add(1)", 1, true) ~= nil
end, 100) then
  fail("the quickfix did not edit the buffer: " .. vim.fn.getline(d.lnum + 1))
end
out("AFTER " .. vim.fn.getline(d.lnum + 1))

vim.cmd("write")
if not vim.wait(timeout, function() return #from("mprace") == 0 and #from("printf") > 0 end, 100) then
  show("FINAL")
  fail("mprace's diagnostic did not go after the fix was saved")
end
show("FINAL")

vim.lsp.stop_client(id)
vim.wait(10000, function() return vim.lsp.get_client_by_id(id) == nil end, 100)
out("PASS")
vim.cmd("qall!")
