#!/usr/bin/env bash
# process-rolled.sh: logroll's cron workflow. It forces a roll, processes
# every finished (rolled) file of the logs it is given exactly once, and
# deletes each file once its report is saved. It never touches an active
# file: it only takes the files `logrollctl rolled` lists. Rolled files may
# be plain (.old) or compressed (.old.gz, .old.zst: rolled_compression), in
# logfile_dir or in a log's rolled_dir.
#
# usage: process-rolled.sh [-c CONFIG] [-o REPORT_DIR] [-l LOCK] [-x CMD] [-s SUFFIX] [-n] [LOG...]
#
#   -c CONFIG      the daemon's records.toml, to find its admin socket
#                  (default $LOGROLL_CONFIG, else /etc/logroll/records.toml)
#   -o REPORT_DIR  one report per processed file goes here, named
#                  NAME.RUNID.report after the rolled file's NAME
#                  (default $LOGROLL_REPORTS, else /var/lib/logroll/reports)
#   -l LOCK        the lock file (default <logfile_dir>/.process-rolled.lock:
#                  one lock per log folder, whatever the report folder)
#   -x CMD         process each file with `CMD FILE`, whose standard output is
#                  the report, instead of the example analysis (requests per
#                  status code). FILE is the claimed file (a hidden name, see
#                  below), as stored: a compressed file compressed (-x cat
#                  archives it as it is; -x 'gzip -dc' reads a .gz file,
#                  -x 'zstd -dcq' a .zst one); CMD also gets, in its
#                  environment:
#                    LOGROLL_NAME    the rolled file's name
#                                    (access.log.web01.START-END.old)
#                    LOGROLL_PATH    the path it was listed at (in the log
#                                    folder or the log's rolled_dir)
#                    LOGROLL_REPORT  the path its output is saved at
#                  so that an uploader or an archiver can name what it makes:
#                  -x 'aws s3 cp "$1" "s3://bucket/$LOGROLL_NAME"'
#   -s SUFFIX      end report names with SUFFIX instead of .report; with
#                  -x 'gzip -c' -s .gz each file is archived gzipped as
#                  REPORT_DIR/NAME.RUNID.gz
#   -n             do not force a roll: take only what has rolled already
#   LOG...         the logs (access or access.log); default every rolled file
#                  in the log folder, of configured logs or not
#
# Environment: LOGROLLCTL (default logrollctl), JQ (default jq; set it empty
# to use the plain-text output of logrollctl instead).
#
# Exit status: 0 done, or another run holds the lock (nothing done; said on
# stderr); 1 a file could not be processed or a log did not roll (the others
# were done; details on stderr); 2 usage; 3 the daemon is not reachable.
#
# How a file is processed exactly once, even if a run is killed:
#  1. claim: rename FILE (FILE.old, FILE.old.gz, FILE.old.zst) to
#     .FILE.RUNID.claim in the same folder. The daemon then no longer lists
#     it, and its space manager never deletes a name that is not a rolled
#     name.
#  2. process the claim into REPORT_DIR/.tmp.*, then rename that to
#     REPORT_DIR/FILE.old.RUNID.report (SUFFIX for .report): the report
#     exists whole or not at all.
#  3. delete the claim.
# A run that died leaves a claim; the next run finishes it: if its report
# exists (with the same SUFFIX), it only deletes the claim, otherwise it
# processes it again. If
# processing fails, the claim is renamed back and retried at the next run.
# RUNID (seconds since 1970 and the pid) makes every report name new, so a
# rolled name seen again (the daemon never reuses one; a file put back by
# hand) is still processed.
#
# jq is used when it is there (logrollctl --json, fields by name); without
# it the script reads the tab-separated output of the same verbs, which
# carries the same fields (docs/logrollctl.md). Both are tested.
#
# Install (docs in README.md, "Processing rolled files from cron"):
#   install -D -m 0755 etc/cron/process-rolled.sh /usr/local/lib/logroll/process-rolled.sh
#   install -d -o logroll -g logroll -m 0750 /var/lib/logroll/reports
#   install -m 0644 etc/cron/logroll /etc/cron.d/logroll
set -euo pipefail
umask 027

prog=process-rolled
config=${LOGROLL_CONFIG:-/etc/logroll/records.toml}
reports=${LOGROLL_REPORTS:-/var/lib/logroll/reports}
lock=
cmd=
suffix=.report
roll=1

usage() {
	echo "usage: $prog [-c CONFIG] [-o REPORT_DIR] [-l LOCK] [-x CMD] [-s SUFFIX] [-n] [LOG...]" >&2
	exit 2
}
warn() { echo "$prog: $*" >&2; }

while getopts 'c:o:l:x:s:nh' opt; do
	case $opt in
	c) config=$OPTARG ;;
	o) reports=$OPTARG ;;
	l) lock=$OPTARG ;;
	x) cmd=$OPTARG ;;
	s) suffix=$OPTARG ;;
	n) roll=0 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
case $suffix in
'' | */*)
	warn "-s '$suffix': a report name suffix, such as .gz (not empty, no '/')"
	usage
	;;
esac

ctl=${LOGROLLCTL:-logrollctl}
jq=${JQ-jq}
if [ -n "$jq" ] && ! command -v "$jq" >/dev/null 2>&1; then
	jq=
fi
if ! command -v flock >/dev/null 2>&1; then
	warn "flock(1) (util-linux) is needed for the lock"
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

# ctlrun runs logrollctl against the daemon of $config; its exit status is
# logrollctl's (1 refused or failed, 2 usage, 3 not reachable).
ctlrun() { "$ctl" -config "$config" "$@"; }

# unquote VALUE: a string as records.toml writes it ("archive"), plain.
unquote() {
	local v=$1
	v=${v#\"}
	v=${v%\"}
	printf '%s\n' "$v"
}

# The log folder, absolute, as the daemon sees it.
ctlrun status ${jq:+--json} >"$tmp/status" || exit $?
if [ -n "$jq" ]; then
	logdir=$("$jq" -r '.dir // empty' "$tmp/status")
else
	logdir=$(sed -n 's/^dir:[[:space:]]*//p' "$tmp/status")
fi
if [ -z "$logdir" ] || [ ! -d "$logdir" ]; then
	warn "the daemon reports log folder '$logdir', which is not a folder here"
	exit 1
fi

# The folders rolled files are in: the log folder and every log's rolled
# folder (rolled_dir, relative to the log folder unless absolute), each
# once: where claims are made, and where those of a killed run are found.
folders=("$logdir")
ctlrun config get proxy.config.log.rolled_dir >"$tmp/rolled_dirs" || exit $?
while read -r _ value; do
	rd=$(unquote "$value")
	case $rd in
	"") rd=$logdir ;;
	/*) ;;
	*) rd=$logdir/$rd ;;
	esac
	rd=${rd%/}
	known=0
	for f in "${folders[@]}"; do
		[ "$f" = "$rd" ] && known=1
	done
	[ "$known" = 1 ] || folders+=("$rd")
done <"$tmp/rolled_dirs"

# folder DIR: whether DIR is one of the daemon's folders.
folder() {
	local f
	for f in "${folders[@]}"; do
		[ "$f" = "$1" ] && return 0
	done
	return 1
}

# One run at a time per log folder. A second run exits at once: cron starts
# the next one soon enough.
lock=${lock:-$logdir/.process-rolled.lock}
exec 9>>"$lock"
if ! flock -n 9; then
	warn "another run holds $lock; nothing done"
	exit 0
fi
mkdir -p -- "$reports"
# Half-written reports of a run that was killed.
rm -f -- "$reports"/.tmp.*

status=0
runid="$(date +%s)-$$"

# Active names of the logs asked for (Traffic Server's rule: no dot, .log
# appended; a final dot removed), to pick up only their claims.
actives=()
for l in "$@"; do
	case $l in *.) actives+=("${l%.}") ;; *.*) actives+=("$l") ;; *) actives+=("$l.log") ;; esac
done

# ours NAME: whether NAME (a rolled file's base name) belongs to a log asked for.
ours() {
	[ ${#actives[@]} -eq 0 ] && return 0
	local a
	for a in "${actives[@]}"; do
		case $1 in "$a".* | "$a"_*) return 0 ;; esac
	done
	return 1
}

# statuses FILE: the example analysis, requests per HTTP status code. A
# record is a JSON object with a "status" member (Logstash, Fluent Bit,
# Vector), a common/combined log format line ("GET / HTTP/1.1" 200 …), or
# any text line whose last three-digit field is the status
# ("GET /index.html 200"); "-" counts records with none.
statuses() {
	LC_ALL=C awk '
	{
		s = "-"
		if (match($0, /"status"[ \t]*:[ \t]*"?[1-5][0-9][0-9]/)) {
			s = substr($0, RSTART + RLENGTH - 3, 3)
		} else if (match($0, /" [1-5][0-9][0-9] /)) {
			s = substr($0, RSTART + 2, 3)
		} else {
			for (i = NF; i > 0; i--) if ($i ~ /^[1-5][0-9][0-9]$/) { s = $i; break }
		}
		n[s]++
		total++
	}
	END {
		printf "# requests per status code: %d records\n", total
		for (s in n) printf "%s\t%d\n", s, n[s] | "sort"
		close("sort")
	}' "$1"
}

# contents NAME FILE: writes what FILE, a rolled file named NAME (its
# name says how it is stored), holds: decompressed with the stock gzip or
# zstd command when compressed.
contents() {
	case $1 in
	*.old.gz) gzip -dc -- "$2" ;;
	*.old.zst)
		if ! command -v zstd >/dev/null 2>&1; then
			warn "zstd is needed to read $1"
			return 1
		fi
		zstd -dcq -- "$2"
		;;
	*) cat -- "$2" ;;
	esac
}

# process CLAIM NAME: turns a claimed file (in its folder) into
# REPORT_DIR/NAME.RUNID$suffix and deletes it. RUNID is taken from the
# claim's name.
process() {
	local claim=$1 name=$2 dir=${1%/*} id report out
	id=${claim%.claim}
	id=${id##*.}
	report="$reports/$name.$id$suffix"
	out=$(mktemp "$reports/.tmp.XXXXXX")
	if [ -n "$cmd" ]; then
		# shellcheck disable=SC2016 # $1 is expanded by that sh, not here.
		if ! LOGROLL_NAME=$name LOGROLL_PATH=$dir/$name LOGROLL_REPORT=$report \
			sh -c "$cmd"' "$1"' sh "$claim" >"$out" </dev/null; then
			rm -f -- "$out"
			return 1
		fi
	elif ! contents "$name" "$claim" | statuses /dev/stdin >"$out"; then # pipefail: either failing fails
		rm -f -- "$out"
		return 1
	fi
	chmod 0640 "$out"
	mv -f -- "$out" "$report"
	rm -f -- "$claim"
	echo "processed $dir/$name -> $report"
}

# 1. Finish the claims of a run that died, in every folder.
for f in "${folders[@]}"; do
	for claim in "$f"/.*.old.*-*.claim; do
		[ -f "$claim" ] || continue
		name=${claim##*/}
		name=${name#.}
		id=${name%.claim}
		id=${id##*.}
		name=${name%."$id".claim}
		ours "$name" || continue
		if [ -e "$reports/$name.$id$suffix" ]; then
			rm -f -- "$claim"
			echo "finished $f/$name: its report was saved by an earlier run"
		elif ! process "$claim" "$name"; then
			warn "processing $claim (left by an earlier run) failed; kept for the next run"
			status=1
		fi
	done
done

# 2. Roll now. Exit 1 means some log failed to roll (the others did).
if [ "$roll" = 1 ]; then
	rc=0
	ctlrun roll ${jq:+--json} "$@" >"$tmp/roll" || rc=$?
	case $rc in
	0) ;;
	1) status=1 ;;
	*) exit "$rc" ;;
	esac
fi

# 3. Every finished file, oldest first per log: PATH LOG HOST START END BYTES
# (the folder and the compression are in the path).
rc=0
ctlrun rolled ${jq:+--json} "$@" >"$tmp/rolled" || rc=$?
if [ "$rc" -ne 0 ]; then
	exit "$rc"
fi
if [ -n "$jq" ]; then
	"$jq" -r '.rolled[] | [.path, .log, .host, .start, .end, (.bytes | tostring)] | @tsv' \
		"$tmp/rolled" >"$tmp/rolled.tsv"
else
	cp -- "$tmp/rolled" "$tmp/rolled.tsv"
fi

# 4. Claim, process, delete.
while IFS=$'\t' read -r path log _ start end bytes <&3; do
	name=${path##*/}
	dir=${path%/*}
	case $name in
	*.old | *.old.gz | *.old.zst) rolled=1 ;;
	*) rolled=0 ;;
	esac
	if ! folder "$dir" || [ "$rolled" = 0 ]; then
		warn "skipping $path: not a rolled file in the daemon's folders (${folders[*]})"
		status=1
		continue
	fi
	claim="$dir/.$name.$runid.claim"
	if ! mv -- "$path" "$claim" 2>/dev/null; then
		if [ ! -e "$path" ]; then
			echo "skipped $path: gone since it was listed (deleted by the space manager?)"
		else
			warn "cannot claim $path"
			status=1
		fi
		continue
	fi
	if ! process "$claim" "$name"; then
		warn "processing $path ($log, $start to $end, $bytes bytes) failed; left for the next run"
		mv -- "$claim" "$path" || warn "cannot put $claim back as $path: the next run finishes it"
		status=1
	fi
done 3<"$tmp/rolled.tsv"

exit "$status"
