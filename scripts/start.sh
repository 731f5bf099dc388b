#!/bin/sh
# `npm start`: the shortest honest version of the ladder-world experiment (issue 21; docs/results.md,
# "Does RL learn to look? The ladder world"), about 4-7 minutes on 2 cores. From the shipped base that
# reads (models/ladder-reader, configs/ladder-reader.yaml; made by scripts/exp-ladder.sh with
# LADDER_BASE=ladder-reader), on 256 test problems of rung 3, avg@8 under 3 sampling seeds, pooled:
#   - the base at temperature 1, and at 0.1, its best temperature on a validation stream (chosen
#     by `npm run exp:ladder`, never on the test), so sharpening is not mistaken for learning;
#   - DAPO and PGPO, 60 RL steps each from the base with the logit scale frozen (a real LVLM has
#     none), one RL seed each: seed 0 of the recorded 5-seed comparison (recorded before the engine's
#     2026-12-06 kernel and decode changes: base and DAPO rows repeat exactly, PGPO's within 0.2).
# Resumable: re-run it after an interruption (runs/start). The first ladder base (models/ladder-base,
# which does not read) is PGPO_START_BASE=ladder-base; the classic world's main job, the recorded
# `small` story, is `npm run start:classic`.
set -e
out=${PGPO_START_OUT:-runs/start}
case ${PGPO_START_BASE:-ladder-reader} in
  ladder-reader) base=models/ladder-reader cfg=configs/ladder-reader.yaml temp=0.1 ;;
  ladder-base) base=models/ladder-base cfg=configs/ladder.yaml temp=0.2 ;;
  *) echo "PGPO_START_BASE must be ladder-reader or ladder-base, not '$PGPO_START_BASE'" >&2; exit 2 ;;
esac
node bin/pgpo.js compare --preset medium --config "$cfg" --base "$base" \
  --algos base,dapo,pgpo --base-temperature "$temp" --seeds 1 --budget 60 --out "$out" \
  eval.seeds=3 experiment.pg_var_freq=20 worker.actor.optim.logit_scale_lr=0
cat <<MSG

What this is: one RL seed per algorithm from $base, so the differences above have no interval.
It is seed 0 of the comparison in docs/results.md ("Does RL learn to look? The ladder world"),
which runs 3 or more RL seeds per algorithm, each evaluated under 3 sampling seeds, with the logit
scale frozen and then trained, and puts 95% intervals on PGPO - DAPO and on each algorithm against
the base at its best temperature: read the conclusions there, or run them with
\`LADDER_BASE=ladder-reader LADDER_CONFIG=configs/ladder-reader.yaml npm run exp:ladder\`
(resumable). In "Where the samples go", "answered the prior" counts, of the samples whose problem
has a misleading language prior, those that gave it; "misread" a wrong value written,
"computed wrong" right values and a wrong result.
See it all as a page: npx pgpo report $out --out $out/report.html
MSG
