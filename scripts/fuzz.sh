#!/usr/bin/env bash
# Long fuzz runs of the media readers and the checkpoint loader, without the mavin CLI: the XCTest fuzz cases,
# each batch in a fresh process under glibc's malloc checks, seed after seed, until MINUTES have passed.
# A crash or a failed check stops the run and prints the seed to replay:
#   MAVIN_FUZZ_SEED=SEED MAVIN_FUZZ_CASES=N .build/debug/MavinPackageTests.xctest MediaTests.VideoFuzzTests
# Usage: scripts/fuzz.sh [MINUTES (default 60)] [CASES PER BATCH (default 2000)] [FIRST SEED (default 1000)]
set -uo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-60}
cases=${2:-2000}
seed=${3:-1000}
swift build --build-tests >/dev/null || exit 1
tests=.build/debug/MavinPackageTests.xctest
deadline=$(( $(date +%s) + minutes * 60 ))
total=0
while [ "$(date +%s)" -lt "$deadline" ]; do
    for suite in MediaTests.VideoFuzzTests ModelTests.CheckpointFuzzTests; do
        log=$(mktemp)
        if ! MAVIN_FUZZ_SEED=$seed MAVIN_FUZZ_CASES=$cases MALLOC_CHECK_=3 LD_PRELOAD=libc_malloc_debug.so.0 \
                "$tests" "$suite" >"$log" 2>&1; then
            tail -40 "$log"
            echo "fuzz: $suite FAILED at seed $seed after $total cases; replay with MAVIN_FUZZ_SEED=$seed"
            exit 1
        fi
        grep -h "fuzz:" "$log"
        rm -f "$log"
        # The video suite also runs its PNG test with the same number of cases.
        if [ "$suite" = MediaTests.VideoFuzzTests ]; then total=$((total + 2 * cases)); else total=$((total + cases)); fi
    done
    seed=$((seed + 1))
done
echo "fuzz: $total cases passed (seeds ${3:-1000}…$((seed - 1)))"
