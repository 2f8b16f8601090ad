#!/usr/bin/env bash
# tests/cli/install_test.sh BUILD-DIR — `cmake --install` puts the executable in PREFIX/bin and the
# manual page in PREFIX/share/man/man1; the installed program runs; `man -l` renders the page
# without a single troff warning; and the page names every command and every long option that
# the program's --help texts list (the page is generated from them: this holds it to that).
set -u
build=${1:?usage: install_test.sh BUILD-DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "cmake --install"; }
bin=$tmp/prefix/bin/danescan
page=$tmp/prefix/share/man/man1/danescan.1
[[ -x $bin ]] || fail "no executable $bin"
[[ -f $page ]] || fail "no manual page $page"
version=$("$bin" --version 2>&1) || fail "installed danescan --version exited $?"
[[ $version =~ ^danescan\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "installed --version printed '$version'"

MANWIDTH=80 man -l --warnings "$page" >"$tmp/page.txt" 2>"$tmp/warnings.txt" || fail "man -l exited $?"
[[ -s $tmp/warnings.txt ]] && fail "man -l warnings: $(cat "$tmp/warnings.txt")"
grep -q '^NAME' "$tmp/page.txt" || fail "the rendered page has no NAME section"
# The rendered text without hyphenation at line ends, so that options read as typed.
man_text=$(MANWIDTH=1000 man -l "$page" 2>/dev/null)

commands=$("$bin" --help | awk '/^Subcommands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on = 0}')
[[ $(wc -w <<<"$commands") -ge 7 ]] || fail "found only these commands in --help: $commands"
checked=0
for command in $commands; do
  grep -q "^   danescan $command\$" <<<"$man_text" || fail "the page has no section for 'danescan $command'"
  for option in $("$bin" "$command" --help | grep -oE '(^| |,)--[a-z][a-z0-9-]*' | sed 's/^[ ,]*//' | sort -u); do
    checked=$((checked + 1))
    # The option, in this command's section (from its heading to the next command's).
    awk -v c="danescan $command" -v o="$option" '
      $0 == "   " c {on = 1; next}
      on && /^   danescan [a-z]+$/ {on = 0}
      on && index($0, o) {found = 1}
      END {exit found ? 0 : 1}' <<<"$man_text" || fail "the page's 'danescan $command' section does not list $option"
  done
done
[[ $checked -ge 40 ]] || fail "only $checked options checked"
echo "install_test: $(wc -w <<<"$commands") commands, $checked options in the page, $failed failures"
[[ $failed -eq 0 ]]
