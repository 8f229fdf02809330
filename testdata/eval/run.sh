#!/usr/bin/env bash
# Evaluation of mprace on real code (not part of CI; see README "Evaluation on real code").
#
#   testdata/eval/run.sh [-o OUTDIR] [NAME...]     NAME: a row of repos.tsv (default: all of them, std first)
#   testdata/eval/run.sh [-o OUTDIR] history [ID...]  the fixed races of history.tsv: parent vs fix
#                                                     (findings of a commit already in OUTDIR are reused)
#
# For each repository it extracts the pinned commit from the bare snapshot
# $MPRACE_MIRROR/<owner>+<name>/repo into $EVAL_WORK, downloads the modules from
# the Go module proxy, builds mprace from this tree, and runs plain `go vet` and
# `go vet -vettool=mprace` over the packages, one after the other. It prints the
# findings per check, both times and their ratio, and the largest resident size
# of one vet process; OUTDIR/<name>.txt gets the findings as sorted
# "file:line: check: message" lines, paths relative to the module root.
#
# Timing: dependencies are compiled first (go list -export -test -deps), so both
# timed runs see a warm build cache; go vet caches a package's verdict, so each
# timed run uses a fresh vet key (a nonce flag for plain vet, a nonce appended to
# a copy of the mprace binary, whose -V=full ID hashes the file). EVAL_TIME=0
# skips the plain go vet run (findings only).
# The whole script is one function, read before it runs: editing the file while
# an evaluation runs does not change the running one.
main() {
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
mirror=${MPRACE_MIRROR:-/work/.mirror}
work=${EVAL_WORK:-${TMPDIR:-/tmp}/mprace-eval}
out=$work/out
if [[ ${1:-} == -o ]]; then
	out=$2
	shift 2
fi
mkdir -p "$work/src" "$work/bin" "$out"
out=$(cd "$out" && pwd)
export GOTOOLCHAIN=local GOFLAGS=-mod=mod

# Binaries of this run only: runs from two trees may overlap.
bin=$work/bin/run-$$
mkdir -p "$bin"
trap 'rm -rf "$bin"' EXIT
(cd "$root" && go build -o "$bin/mprace" ./cmd/mprace && go build -o "$bin/vetjson" ./testdata/eval/vetjson)
echo "mprace from $root at $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- . 2>/dev/null || echo '+dirty'); $(go version); load $(cut -d' ' -f1-3 /proc/loadavg)"

# checkout REPO COMMIT: extract the commit of the snapshot, print the directory.
checkout() {
	local repo=$1 commit=$2 gitdir dir
	gitdir=$mirror/${repo/\//+}/repo
	if ! git --git-dir="$gitdir" rev-parse -q --verify "$commit^{commit}" >/dev/null; then
		echo "eval: $repo: commit $commit is not in $gitdir (fetch github:$repo first)" >&2
		return 1
	fi
	dir=$work/src/${repo/\//+}@${commit:0:12}
	if [[ ! -d $dir ]]; then
		mkdir -p "$dir.tmp"
		git --git-dir="$gitdir" archive "$commit" | tar -x -C "$dir.tmp"
		mv "$dir.tmp" "$dir"
	fi
	echo "$dir"
}

# vetrun DIR PKGS OUTFILE: mprace findings of PKGS run from DIR into OUTFILE;
# prints "seconds maxrss-KiB".
vetrun() {
	local dir=$1 pkgs=$2 file=$3 tool rc=0
	tool=$bin/mprace-$RANDOM
	cp "$bin/mprace" "$tool"
	printf 'eval-nonce-%s' "$RANDOM$RANDOM" >>"$tool"
	(cd "$dir" && /usr/bin/time -f '%e %M' -o "$tool.time" go vet -json -vettool="$tool" $pkgs >"$tool.json" 2>&1) || true
	"$bin/vetjson" "$dir" <"$tool.json" >"$file" || rc=$?
	tail -1 "$tool.time"
	rm -f "$tool" "$tool.json" "$tool.time"
	return $rc
}

summary() { # FILE: findings per check
	local n
	n=$(wc -l <"$1")
	echo "$n findings$( [[ $n -gt 0 ]] && cut -d: -f3 "$1" | sort | uniq -c | awk '{printf "%s%s %s", (NR==1?" (":", "), $2, $1} END {print ")"}')"
}

evalrepo() { # NAME REPO COMMIT MODDIR PKGS
	local name=$1 repo=$2 commit=$3 moddir=$4 pkgs=$5 dir plain mp
	if [[ $name == std ]]; then
		dir=$(go env GOROOT)/src
		commit=$(go env GOVERSION)
	else
		dir=$(checkout "$repo" "$commit")/$moddir
		(cd "$dir" && go mod download)
	fi
	plain="0 0"
	if [[ ${EVAL_TIME:-1} != 0 ]]; then
		(cd "$dir" && go list -export -test -deps $pkgs >/dev/null) # warm-up, for fair times only
		(cd "$dir" && /usr/bin/time -f '%e %M' -o "$bin/plain.time" go vet -printf.funcs="evalnonce$$$RANDOM" $pkgs >/dev/null 2>&1) || true
		plain=$(tail -1 "$bin/plain.time") # time says "Command exited with non-zero status" first when vet finds something
	fi
	mp=$(vetrun "$dir" "$pkgs" "$out/$name.txt") || echo "eval: $name: go vet reported errors (see vet-error lines above)" >&2
	read -r pt pm <<<"$plain"
	read -r mt mm <<<"$mp"
	printf '%-14s %-12s %s; go vet %ss (%s MiB), with mprace %ss (%s MiB), ratio %s\n' "$name" "${commit:0:12}" \
		"$(summary "$out/$name.txt")" "$pt" $((pm / 1024)) "$mt" $((mm / 1024)) "$(awk -v a="$mt" -v b="$pt" 'BEGIN {if (b > 0) printf "%.2f", a / b; else printf "-"}')"
}

evalhistory() { # ID REPO FIX MODDIR PKGS FILE CHECK CELL
	local id=$1 repo=$2 fix=$3 moddir=$4 pkgs=$5 file=$6 check=$7 cell=$8 parent dir before after
	parent=$(git --git-dir="$mirror/${repo/\//+}/repo" rev-parse "$fix^")
	for c in "$parent" "$fix"; do
		# A commit's findings already in OUTDIR are reused (remove the file to analyse it again).
		[[ -e $out/history-$id-${c:0:12}.txt ]] && continue
		dir=$(checkout "$repo" "$c")/$moddir
		(cd "$dir" && go mod download) # no warm-up: history counts findings, it does not time them
		vetrun "$dir" "$pkgs" "$out/history-$id-${c:0:12}.txt" >/dev/null || echo "eval: $id: go vet reported errors at ${c:0:12}" >&2
	done
	match() { { grep -E "^$file:[0-9]+: $check: .*$cell" "$1" || true; } | wc -l; }
	before=$(match "$out/history-$id-${parent:0:12}.txt")
	after=$(match "$out/history-$id-${fix:0:12}.txt")
	printf '%-24s %s fix %s: %s %s on %s (%s) before, %s after: %s\n' "$id" "$repo" "${fix:0:12}" "$before" "$check" "$file" "$cell" "$after" \
		"$( ((before > after)) && echo 'reported before, gone after' || echo 'NOT reported before and gone after')"
}

rows() { grep -v '^#' "$1" | grep -v '^[[:space:]]*$'; }

if [[ ${1:-} == history ]]; then
	shift
	rows "$here/history.tsv" | while IFS=$'\t' read -r id repo fix moddir pkgs file check cell _; do
		if [[ $# -eq 0 || " $* " == *" $id "* ]]; then
			evalhistory "$id" "$repo" "$fix" "$moddir" "$pkgs" "$file" "$check" "$cell" </dev/null
		fi
	done
	exit 0
fi
# The names given, in their order (default: every row); an unknown name is an error.
names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then
	mapfile -t names < <(rows "$here/repos.tsv" | cut -f1)
fi
for name in "${names[@]}"; do
	row=$(rows "$here/repos.tsv" | awk -F'\t' -v n="$name" '$1 == n')
	if [[ -z $row ]]; then
		echo "eval: no repository named $name in repos.tsv" >&2
		exit 2
	fi
	IFS=$'\t' read -r name repo commit moddir pkgs <<<"$row"
	evalrepo "$name" "$repo" "$commit" "$moddir" "$pkgs" </dev/null
done
}
main "$@"
exit
