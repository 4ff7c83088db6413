#!/bin/sh
# Writes two epochs of metrics for the seed and learning rate it is given.
out="$1"; seed="$2"; lr="$3"
mkdir -p "$out"
printf '{"epoch":1,"val_macro_f1":0.%s1,"lr":%s}\n{"epoch":2,"val_macro_f1":0.%s2,"lr":%s}\n' "$seed" "$lr" "$seed" "$lr" > "$out/metrics.jsonl"
