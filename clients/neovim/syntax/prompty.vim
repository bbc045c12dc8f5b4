" Vim syntax file
" Language: Prompty (.prompty): YAML frontmatter, then a Jinja body split into messages by role lines.
" Part of promptls.

if exists('b:current_syntax')
  finish
endif

syntax include @promptlsYaml syntax/yaml.vim
unlet! b:current_syntax
syntax region promptlsFrontmatter matchgroup=promptlsFrontmatterDelim
      \ start=/\%^---\s*$/ end=/^---\s*$/ keepend contains=@promptlsYaml

runtime! syntax/jinja.vim
unlet! b:current_syntax

" `system:` / `user:` / `assistant:` alone on a line start a message.
syntax match promptyRole /^\s*\(system\|user\|assistant\|developer\|tool\|function\)\s*:\s*$/

highlight default link promptlsFrontmatterDelim PreProc
highlight default link promptyRole Title

let b:current_syntax = 'prompty'
