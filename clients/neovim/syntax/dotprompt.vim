" Vim syntax file
" Language: Dotprompt (.prompt): YAML frontmatter, then a Handlebars body with {{role}}/{{history}} helpers.
" Part of promptls.

if exists('b:current_syntax')
  finish
endif

syntax include @promptlsYaml syntax/yaml.vim
unlet! b:current_syntax
syntax region promptlsFrontmatter matchgroup=promptlsFrontmatterDelim
      \ start=/\%^---\s*$/ end=/^---\s*$/ keepend contains=@promptlsYaml

syntax region dotpromptComment start=/{{!--/ end=/--}}/
syntax region dotpromptComment start=/{{!\(--\)\@!/ end=/}}/
syntax region dotpromptExpr matchgroup=dotpromptDelim
      \ start=/{{{\?\~\?[#/^>]\?/ end=/\~\?}}}\?/
      \ contains=dotpromptHelper,dotpromptString,dotpromptNumber,dotpromptData
syntax keyword dotpromptHelper contained if else unless each with lookup log
syntax keyword dotpromptHelper contained role history media section json
syntax match dotpromptData contained /@[a-zA-Z_]\+/
syntax region dotpromptString contained start=/"/ skip=/\\"/ end=/"/
syntax region dotpromptString contained start=/'/ skip=/\\'/ end=/'/
syntax match dotpromptNumber contained /\<\d\+\(\.\d\+\)\?\>/

highlight default link promptlsFrontmatterDelim PreProc
highlight default link dotpromptDelim Delimiter
highlight default link dotpromptExpr Identifier
highlight default link dotpromptHelper Statement
highlight default link dotpromptData Special
highlight default link dotpromptString String
highlight default link dotpromptNumber Number
highlight default link dotpromptComment Comment

let b:current_syntax = 'dotprompt'
