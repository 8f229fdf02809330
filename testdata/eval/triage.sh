#!/usr/bin/env bash
# Joins a run's findings (results/RUN/<repo>.txt) with the verdicts of verdicts.tsv
# and prints the triage table (markdown) of that run, with the counts per repository.
#
#   testdata/eval/triage.sh RUN            e.g. triage.sh final
#   testdata/eval/triage.sh RUN guarded    only the guarded-field reports of RUN ("which X guards",
#                                          "under only the read lock of X")
#   testdata/eval/triage.sh all            triage.md: triage-header.md, then the table of each run, newest first
#
# A finding is keyed by repository, file:line, check and cell (the cell without the guarded-field
# suffix); one without a verdict is "untriaged".
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
run=$1
only=${2:-}
guarded='which [^:]* guards: |under only the read lock of '
if [[ $run == all ]]; then # triage.md: the header, then each run's table, newest first
	cat "$here/triage-header.md"
	for r in final3 final2 final2-guarded final2-precision final precision-0e7d1ab precision main; do
		compgen -G "$here/results/$r/*.txt" >/dev/null || continue
		printf '## Run: %s\n\n' "$r"
		"$0" "$r"
		echo
	done
	exit 0
fi
rows=$(for f in "$here/results/$run"/*.txt; do
	name=$(basename "$f" .txt)
	commit=$(awk -F'\t' -v n="$name" '$1 == n {print substr($3, 1, 12)}' "$here/repos.tsv")
	[[ $name == std ]] && commit=$(go env GOVERSION)
	awk -F'\t' -v repo="$name" -v commit="$commit" '
		FNR == NR { if ($0 !~ /^#/ && NF >= 6) { v[$1 "\t" $2 "\t" $3 "\t" $4] = $5; w[$1 "\t" $2 "\t" $3 "\t" $4] = $6 }; next }
		{
			line = $0
			split(line, p, ": ")
			pos = p[1]; check = p[2]
			cell = line; sub(/^[^:]*:[0-9]*: [a-z]*: (check-then-act on|non-atomic read-modify-write of) /, "", cell); sub(/: .*/, "", cell); sub(/, which .* guards$/, "", cell); sub(/ under only the read lock of .*$/, "", cell)
			k = repo "\t" pos "\t" check "\t" cell
			verdict = (k in v) ? v[k] : "untriaged"; why = (k in w) ? w[k] : ""
			gsub(/\|/, "\\|", cell); gsub(/\|/, "\\|", why)
			printf "| %s | %s | %s | %s | `%s` | %s | %s |\n", repo, commit, pos, check, cell, verdict, why
		}' "$here/verdicts.tsv" <(if [[ $only == guarded ]]; then grep -E "$guarded" "$f" || true; else cat "$f"; fi)
done)
echo "| repository | findings | true | benign-true | false | false share |"
echo "|---|---|---|---|---|---|"
awk -F' [|] ' '
	NF > 1 { n[$1]++; c[$1, $6]++; t[$6]++; all++ }
	END {
		if (!all) exit
		for (r in n) printf "%s | %d | %d | %d | %d | %s |\n", r, n[r], c[r, "true"], c[r, "benign-true"], c[r, "false"], (c[r, "untriaged"] ? c[r, "untriaged"] " untriaged" : sprintf("%.0f%%", 100 * c[r, "false"] / n[r]))
		printf "| **all** | %d | %d | %d | %d | %s |\n", all, t["true"], t["benign-true"], t["false"], (t["untriaged"] ? t["untriaged"] " untriaged" : sprintf("%.0f%%", 100 * t["false"] / all))
	}' <<<"$rows" | sort
for f in "$here/results/$run"/*.txt; do
	if [[ $only == guarded ]]; then
		grep -qE "$guarded" "$f" || echo "| $(basename "$f" .txt) | 0 | 0 | 0 | 0 | - |"
		continue
	fi
	[[ -s $f ]] || echo "| $(basename "$f" .txt) | 0 | 0 | 0 | 0 | - |"
done
echo
echo "| repository | commit | file:line | check | cell | verdict | why |"
echo "|---|---|---|---|---|---|---|"
echo "$rows"
