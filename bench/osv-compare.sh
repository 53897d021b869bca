#!/usr/bin/env bash
# Benchmark Vigil's vulnerability scanner against osv-scanner v2.6.0: the same SBOMs, the same
# offline OSV data (../shared/data/osv), both run without network (unshare -n). Measures the full
# CLI scan time of each, diffs the findings, and writes OUTDIR/results.md. See bench/README.md.
#
# usage: bench/osv-compare.sh [-r RUNS] [-w WARMUP] [-o OUTDIR] [--no-boundary]
#
#   -r RUNS        timed runs per tool and SBOM (default 10)
#   -w WARMUP      untimed warm-up runs (default 2)
#   -o OUTDIR      where outputs and results.md go (default: a new directory under ${TMPDIR:-/tmp})
#   --no-boundary  skip the boundary SBOMs (one component per advisory range boundary; ~1 min)
#
# Environment: VIGIL_BENCH_DATA (default <repo>/../shared/data), VIGIL_BIN (use this vigil binary
# instead of building ./cmd/vigil), OSV_SCANNER (use this osv-scanner), NO_HYPERFINE=1 (time with a
# shell loop even when hyperfine is installed), XDG_CACHE_HOME (osv-scanner
# is installed into ${XDG_CACHE_HOME:-$HOME/.cache}/vigil-bench/bin when missing: the only step
# that uses the network, once).
set -euo pipefail

RUNS=10
WARMUP=2
OUT=""
BOUNDARY=1
while [ $# -gt 0 ]; do
	case "$1" in
	-r) RUNS=$2; shift 2 ;;
	-w) WARMUP=$2; shift 2 ;;
	-o) OUT=$2; shift 2 ;;
	--no-boundary) BOUNDARY=0; shift ;;
	-h | --help) sed -n '2,17p' "$0"; exit 0 ;;
	*) echo "osv-compare: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done

REPO=$(cd "$(dirname "$0")/.." && pwd)
DATA=${VIGIL_BENCH_DATA:-$REPO/../shared/data}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/vigil-bench
OSV=${OSV_SCANNER:-$CACHE/bin/osv-scanner}
OSV_VERSION=2.6.0
if [ -z "$OUT" ]; then
	OUT=$(mktemp -d "${TMPDIR:-/tmp}/vigil-osv-compare.XXXXXX")
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
BIN=$OUT/bin
mkdir -p "$BIN" "$OUT/sboms" "$OUT/scans"

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'osv-compare: %s\n' "$*" >&2; exit 1; }

for t in go jq unzip; do command -v "$t" >/dev/null || die "$t is required"; done
HYPERFINE=$(command -v hyperfine || true)
[ "${NO_HYPERFINE:-}" = 1 ] && HYPERFINE=""
GNUTIME=""
if [ -x /usr/bin/time ] && /usr/bin/time -f %M true >/dev/null 2>&1; then GNUTIME=/usr/bin/time; fi

for f in osv/golang-vulndb-osv.zip osv/pypa-advisory-database-osv-json.zip osv/rustsec-advisory-db-osv.zip \
	schemas/osv/ecosystems.json sboms/generated/prometheus-d15adb9-syft.cdx.json; do
	[ -f "$DATA/$f" ] || die "$DATA/$f is missing (set VIGIL_BENCH_DATA to the shared data folder)"
done
DATA=$(cd "$DATA" && pwd)

# --- 1. tools -------------------------------------------------------------------------------
if [ ! -x "$OSV" ]; then
	log "installing osv-scanner v$OSV_VERSION into $CACHE/bin (network needed this once)"
	mkdir -p "$CACHE/bin"
	(cd "$OUT" && GOBIN=$CACHE/bin GOTOOLCHAIN=go1.27.3 go install "github.com/google/osv-scanner/v2/cmd/osv-scanner@v$OSV_VERSION")
	OSV=$CACHE/bin/osv-scanner
fi
OSV_VER_LINE=$("$OSV" --version 2>/dev/null | sed -n 1p)
case "$OSV_VER_LINE" in
*"$OSV_VERSION"*) ;;
*) log "warning: $OSV is not v$OSV_VERSION ($OSV_VER_LINE)" ;;
esac

if [ -n "${VIGIL_BIN:-}" ]; then
	log "using VIGIL_BIN=$VIGIL_BIN"
	cp "$VIGIL_BIN" "$BIN/vigil"
	VIGIL_SRC="prebuilt binary $VIGIL_BIN"
else
	log "building vigil"
	(cd "$REPO" && go build -o "$BIN/vigil" ./cmd/vigil) || die "go build ./cmd/vigil failed (a prebuilt binary can be given as VIGIL_BIN)"
	VIGIL_SRC="built from $REPO with $(go version | cut -d' ' -f3)"
fi
(cd "$REPO" && go build -o "$BIN/cmpfindings" ./bench/cmpfindings && go build -o "$BIN/boundarysbom" ./bench/boundarysbom) ||
	die "building the bench helpers failed"
VIGIL=$BIN/vigil
CMP=$BIN/cmpfindings

# Network isolation: both tools run in an empty network namespace.
NETNS=(unshare -n)
NETNOTE="both tools ran inside \`unshare -n\` (no network)"
if ! unshare -n true 2>/dev/null; then
	NETNS=()
	NETNOTE="**\`unshare -n\` failed (needs root or user namespaces): both tools ran WITHOUT network isolation**"
	log "warning: unshare -n failed; running without network isolation"
fi

# --- 2. the offline databases ------------------------------------------------------------------
log "preparing the osv-scanner offline database in $OUT/osvdb"
ODB=$OUT/osvdb/osv-scalibr
rm -rf "$OUT/osvdb"
mkdir -p "$ODB/Go" "$ODB/PyPI" "$ODB/crates.io"
cp "$DATA/osv/golang-vulndb-osv.zip" "$ODB/Go/all.zip"
cp "$DATA/osv/pypa-advisory-database-osv-json.zip" "$ODB/PyPI/all.zip"
cp "$DATA/osv/rustsec-advisory-db-osv.zip" "$ODB/crates.io/all.zip"
# osv-scanner aborts the whole scan when the zip of an ecosystem it meets is missing, so every
# other OSV ecosystem (and GIT, used for packages without one) gets an empty zip: 22 bytes, the
# end-of-central-directory record alone.
n_empty=0
while IFS= read -r eco; do
	[ -e "$ODB/$eco/all.zip" ] && continue
	mkdir -p "$ODB/$eco"
	{ printf 'PK\005\006'; head -c 18 /dev/zero; } >"$ODB/$eco/all.zip"
	n_empty=$((n_empty + 1))
done < <(jq -r 'if type == "object" then keys[] else .[] end' "$DATA/schemas/osv/ecosystems.json"; echo GIT)

log "importing the same three zips into a Vigil database"
VDB=$OUT/vigil-vulns.db
IMPORT_CMD="'$VIGIL' vulndb import '$DATA/osv/golang-vulndb-osv.zip' '$DATA/osv/pypa-advisory-database-osv-json.zip' '$DATA/osv/rustsec-advisory-db-osv.zip' --db '$VDB'"
if [ -n "$HYPERFINE" ]; then
	hyperfine -r 3 --style basic --prepare "rm -f '$VDB' '$VDB-wal' '$VDB-shm'" --export-json "$OUT/time-import.json" \
		-n "vigil vulndb import" "$IMPORT_CMD" >&2
	IMPORT_MEAN=$(jq -r '.results[0].mean' "$OUT/time-import.json")
	IMPORT_SD=$(jq -r '.results[0].stddev // 0' "$OUT/time-import.json")
else
	t0=$(date +%s%N)
	rm -f "$VDB"*
	eval "$IMPORT_CMD" 2>"$OUT/import.err"
	IMPORT_MEAN=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN{print (b-a)/1e9}')
	IMPORT_SD=0
fi
rm -f "$VDB" "$VDB-wal" "$VDB-shm"
"$VIGIL" vulndb import "$DATA/osv/golang-vulndb-osv.zip" "$DATA/osv/pypa-advisory-database-osv-json.zip" \
	"$DATA/osv/rustsec-advisory-db-osv.zip" --db "$VDB" 2>"$OUT/import.err"
cat "$OUT/import.err" >&2
VDB_SIZE=$(du -k "$VDB" | cut -f1)

# --- 3. the SBOMs --------------------------------------------------------------------------------
# osv-scanner picks its SBOM parser by file name: CycloneDX must be *.cdx.json.
S=$OUT/sboms
cp "$DATA/sboms/generated/prometheus-d15adb9-syft.cdx.json" "$S/"
cp "$DATA/sboms/generated/telegraf-b272631-cyclonedx-gomod.cdx.json" "$S/"
cp "$DATA/sboms/generated/telegraf-v1.20.0-gomod-syft.cdx.json" "$S/"
for v in 1.6.3 1.8.0; do
	src=$DATA/sboms/cyclonedx/bom-examples/SBOM/proton-bridge/proton-bridge-v$v.bom.json
	if [ -f "$src" ] && [ "$(jq -r .bomFormat "$src")" = CycloneDX ]; then cp "$src" "$S/proton-bridge-v$v.cdx.json"; fi
done
REAL=(prometheus-d15adb9-syft telegraf-b272631-cyclonedx-gomod telegraf-v1.20.0-gomod-syft)
for v in 1.6.3 1.8.0; do [ -f "$S/proton-bridge-v$v.cdx.json" ] && REAL+=("proton-bridge-v$v"); done

# A small hand-written SBOM with the cases where the two scanners are known to differ or where
# de-duplication and alias grouping matter.
cat >"$S/edge-cases.cdx.json" <<'EOF'
{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [
 {"type": "library", "bom-ref": "std", "name": "std", "version": "go1.21.0", "purl": "pkg:golang/std@go1.21.0"},
 {"type": "library", "bom-ref": "k8s", "name": "k8s.io/kubernetes", "version": "v1.20.0", "purl": "pkg:golang/k8s.io/kubernetes@v1.20.0"},
 {"type": "library", "bom-ref": "k8s-again", "name": "k8s.io/kubernetes", "version": "v1.20.0", "purl": "pkg:golang/k8s.io/kubernetes@v1.20.0"},
 {"type": "library", "bom-ref": "docker", "name": "github.com/docker/docker", "version": "v20.10.0+incompatible", "purl": "pkg:golang/github.com/docker/docker@v20.10.0%2Bincompatible"},
 {"type": "library", "bom-ref": "blocky", "name": "github.com/0xERR0R/blocky", "version": "v0.28.0", "purl": "pkg:golang/github.com/0xERR0R/blocky@v0.28.0"},
 {"type": "library", "bom-ref": "failure", "name": "failure", "version": "0.1.8", "purl": "pkg:cargo/failure@0.1.8"},
 {"type": "library", "bom-ref": "spin", "name": "spin", "version": "0.4.0", "purl": "pkg:cargo/spin@0.4.0"},
 {"type": "library", "bom-ref": "wasmtime", "name": "wasmtime", "version": "0.35.0", "purl": "pkg:cargo/wasmtime@0.35.0"},
 {"type": "library", "bom-ref": "zope", "name": "Zope", "version": "4.0", "purl": "pkg:pypi/Zope@4.0"},
 {"type": "library", "bom-ref": "ansible", "name": "ansible", "version": "1.2.0", "purl": "pkg:pypi/ansible@1.2.0"},
 {"type": "library", "bom-ref": "jw", "name": "jw.util", "version": "1.0a", "purl": "pkg:pypi/jw.util@1.0a"}
]}
EOF
SYNTH=(edge-cases)
if [ "$BOUNDARY" = 1 ]; then
	"$BIN/boundarysbom" -o "$S" golang="$DATA/osv/golang-vulndb-osv.zip" pypi="$DATA/osv/pypa-advisory-database-osv-json.zip" \
		cargo="$DATA/osv/rustsec-advisory-db-osv.zip" >&2
	SYNTH+=(boundary-golang boundary-pypi boundary-cargo)
fi

vigil_cmd() { printf "%s '%s' scan '%s' --db '%s' --format json" "${NETNS[*]:-}" "$VIGIL" "$S/$1.cdx.json" "$VDB"; }
osv_cmd() {
	printf "%s '%s' scan source --offline --offline-vulnerabilities --local-db-path '%s' --format json -L '%s'" \
		"${NETNS[*]:-}" "$OSV" "$OUT/osvdb" "$S/$1.cdx.json"
}

# run_once NAME: one run of each tool whose output is kept; peak RSS and wall time by GNU time.
run_once() {
	local name=$1 rc
	local tm=()
	[ -n "$GNUTIME" ] && tm=("$GNUTIME" -f '%e %M')
	set +e
	"${tm[@]}" ${tm:+-o "$OUT/scans/rss-vigil-$name.txt"} "${NETNS[@]}" "$VIGIL" scan "$S/$name.cdx.json" --db "$VDB" --format json \
		>"$OUT/scans/vigil-$name.json" 2>"$OUT/scans/vigil-$name.err"
	rc=$?
	[ $rc -eq 0 ] || { cat "$OUT/scans/vigil-$name.err" >&2; die "vigil scan $name: exit $rc"; }
	"${tm[@]}" ${tm:+-o "$OUT/scans/rss-osv-$name.txt"} "${NETNS[@]}" "$OSV" scan source --offline --offline-vulnerabilities \
		--local-db-path "$OUT/osvdb" --format json -L "$S/$name.cdx.json" >"$OUT/scans/osv-$name.json" 2>"$OUT/scans/osv-$name.err"
	rc=$?
	set -e
	# osv-scanner exits 1 when it found vulnerabilities, 0 when none; anything else is an error.
	if [ $rc -gt 1 ] || grep -q '^Error during\|could not load db' "$OUT/scans/osv-$name.err"; then
		grep -v '^Neither CPE nor PURL' "$OUT/scans/osv-$name.err" | tail -5 >&2
		die "osv-scanner on $name: exit $rc"
	fi
}

# timeit NAME: mean and standard deviation (seconds) of each tool's full CLI scan.
timeit() {
	local name=$1
	if [ -n "$HYPERFINE" ]; then
		hyperfine -N -i -w "$WARMUP" -r "$RUNS" --style basic --export-json "$OUT/scans/time-$name.json" \
			-n vigil "$(vigil_cmd "$name")" -n osv-scanner "$(osv_cmd "$name")" >&2
	else
		local tool cmd i t0 t1 times
		printf '{"results":[' >"$OUT/scans/time-$name.json"
		for tool in vigil osv-scanner; do
			if [ $tool = vigil ]; then cmd=$(vigil_cmd "$name"); else cmd=$(osv_cmd "$name"); fi
			for ((i = 0; i < WARMUP; i++)); do eval "$cmd" >/dev/null 2>&1 || true; done
			times=()
			for ((i = 0; i < RUNS; i++)); do
				t0=$(date +%s%N)
				eval "$cmd" >/dev/null 2>&1 || true
				t1=$(date +%s%N)
				times+=("$(((t1 - t0) / 1000))")
			done
			printf '%s' "${times[*]}" | awk -v n="$tool" -v sep="$([ $tool = vigil ] && echo , || echo)" '{
				for (i = 1; i <= NF; i++) { x = $i / 1e6; s += x; q += x * x }
				m = s / NF; sd = (NF > 1) ? sqrt((q - NF * m * m) / (NF - 1)) : 0
				printf "{\"command\":\"%s\",\"mean\":%.6f,\"stddev\":%.6f}%s", n, m, sd, sep }' >>"$OUT/scans/time-$name.json"
		done
		printf ']}\n' >>"$OUT/scans/time-$name.json"
	fi
}

# --- 4. scans ------------------------------------------------------------------------------------
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
for name in "${REAL[@]}"; do
	log "scan $name"
	run_once "$name"
	timeit "$name"
done
for name in "${SYNTH[@]}"; do
	log "scan $name (once)"
	run_once "$name"
done

# --- 5. results ----------------------------------------------------------------------------------
# stat_of FILE COMMAND FIELD: mean or stddev of one command in a hyperfine export.
stat_of() { jq -r --arg c "$2" --arg k "$3" '([.results[] | select(.command == $c)][0][$k]) // 0' "$1"; }
# wall_rss / rss_of FILE: wall time and peak RSS from GNU time's output (its last line: the first
# one may report a non-zero exit status).
wall_rss() { tail -n 1 "$1" | awk '{printf "%.2f s, %d MiB", $1, $2 / 1024}'; }
rss_of() { tail -n 1 "$1" | awk '{printf "%d", $2 / 1024}'; }
R=$OUT/results.md
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)
{
	echo "# Vigil vs osv-scanner — $(date -u +%Y-%m-%dT%H:%MZ)"
	echo
	echo "- machine: ${cpu:-unknown CPU}, $(nproc) cores, $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
	echo "- vigil: $VIGIL_SRC ($("$VIGIL" --version 2>/dev/null | sed -n 1p))"
	echo "- osv-scanner $OSV_VERSION: $OSV (${OSV_VER_LINE})"
	echo "- load average before / after the runs: $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine inflates and scatters the times)"
	echo "- $NETNOTE; timing by ${HYPERFINE:+hyperfine $(hyperfine --version | cut -d' ' -f2), }$RUNS runs after $WARMUP warm-up runs"
	echo "- offline data: Go $(unzip -l "$ODB/Go/all.zip" | tail -1 | awk '{print $2}') records, PyPI $(unzip -l "$ODB/PyPI/all.zip" | tail -1 | awk '{print $2}'), crates.io $(unzip -l "$ODB/crates.io/all.zip" | tail -1 | awk '{print $2}'); $n_empty other ecosystems as empty zips"
	printf -- '- vigil vulndb import of the three zips: %.2f s ± %.2f s (3 runs), database %s MiB\n' "$IMPORT_MEAN" "$IMPORT_SD" "$((VDB_SIZE / 1024))"
	echo
	echo "## Full CLI scan time (mean ± sd)"
	echo
	echo "| SBOM | components | vigil | osv-scanner | osv-scanner / vigil | CPU (user+sys) vigil / osv-scanner | vigil matching | peak RSS vigil / osv-scanner |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	for name in "${REAL[@]}"; do
		f=$OUT/scans/time-$name.json
		vm=$(stat_of "$f" vigil mean)
		vs=$(stat_of "$f" vigil stddev)
		om=$(stat_of "$f" osv-scanner mean)
		os=$(stat_of "$f" osv-scanner stddev)
		cpu="$(jq -r '[.results[] | select(.command == "vigil", .command == "osv-scanner") | if .user == null then "–" else ((.user + .system) * 1000 | floor | tostring) + " ms" end] | join(" / ")' "$f")"
		comps=$(jq '.components | length' "$S/$name.cdx.json")
		match=$(grep -o 'findings ([0-9]* known exploited) in [^ ]*$' "$OUT/scans/vigil-$name.err" | awk '{print $NF}')
		rss="–"
		if [ -n "$GNUTIME" ]; then
			rss="$(rss_of "$OUT/scans/rss-vigil-$name.txt") / $(rss_of "$OUT/scans/rss-osv-$name.txt") MiB"
		fi
		awk -v n="$name" -v c="$comps" -v vm="$vm" -v vs="$vs" -v om="$om" -v os="$os" -v m="$match" -v rss="$rss" -v cpu="$cpu" 'BEGIN {
			r = om / vm; rs = r * sqrt((vs / vm) ^ 2 + (os / om) ^ 2)
			printf "| %s | %d | %.0f ms ± %.0f | %.0f ms ± %.0f | **%.2f× ± %.2f** | %s | %s | %s |\n", n, c, vm * 1000, vs * 1000, om * 1000, os * 1000, r, rs, cpu, m, rss }'
	done
	if [ "$BOUNDARY" = 1 ]; then
		echo
		echo "Single runs on the synthetic boundary SBOMs (wall time, peak RSS):"
		echo
		echo "| SBOM | components | vigil | osv-scanner | vigil matching |"
		echo "|---|---:|---:|---:|---:|"
		for name in boundary-golang boundary-pypi boundary-cargo; do
			comps=$(jq '.components | length' "$S/$name.cdx.json")
			match=$(grep -o 'findings ([0-9]* known exploited) in [^ ]*$' "$OUT/scans/vigil-$name.err" | awk '{print $NF}')
			if [ -n "$GNUTIME" ]; then
				echo "| $name | $comps | $(wall_rss "$OUT/scans/rss-vigil-$name.txt") | $(wall_rss "$OUT/scans/rss-osv-$name.txt") | $match |"
			else
				echo "| $name | $comps | – | – | $match |"
			fi
		done
	fi
	echo
	echo "## Findings"
	echo
	echo "Units: Vigil findings (one per package and vulnerability, overlapping advisories merged) against"
	echo "osv-scanner groups (its records grouped by overlapping IDs/aliases), matched on package and overlapping identifiers."
	echo
	echo "| SBOM | vigil findings | osv-scanner records / groups | same | identifiers differ | grouping differs | only vigil | only osv-scanner |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
} >"$R"

DIFFS=0
for name in "${REAL[@]}" "${SYNTH[@]}"; do
	set +e
	"$CMP" -label "$name" -osvdb "$OUT/osvdb" "$OUT/scans/vigil-$name.json" "$OUT/scans/osv-$name.json" >"$OUT/scans/cmp-$name.txt"
	rc=$?
	set -e
	[ $rc -le 1 ] || die "cmpfindings $name failed"
	[ $rc -eq 0 ] || DIFFS=$((DIFFS + 1))
	head -1 "$OUT/scans/cmp-$name.txt" | sed -E 's/^SUMMARY ([^:]*): vigil ([0-9]+) findings \| osv-scanner ([0-9]+) records in ([0-9]+) groups.*same ([0-9]+), identifiers differ ([0-9]+), grouping differs ([0-9]+), only vigil ([0-9]+), only osv-scanner ([0-9]+).*/| \1 | \2 | \3 \/ \4 | \5 | \6 | \7 | \8 | \9 |/' >>"$R"
done
{
	echo
	echo "### Differences and their causes"
	echo
	echo '```'
	for name in "${REAL[@]}" "${SYNTH[@]}"; do cat "$OUT/scans/cmp-$name.txt"; done
	echo '```'
} >>"$R"

log "done: $R"
cat "$R"
