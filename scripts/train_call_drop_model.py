#!/usr/bin/env python3
"""Trains the call-drop model that queries/cell_drop_risk.sql scores with PREDICT.

Reads a CDR sample with a planted outage and its truth (../shared/cdr/SCHEMA.md), computes
the features CELL_HEALTH computes per cell and minute (voice calls, drop rate, average setup
time), and labels a minute positive when its middle lies in the outage cell's degraded time,
[precursor_start, end): the model learns what a cell looks like just before and during an
outage, so it warns in the precursor minutes, before the outage begins.

Needs Python xgboost 1.7.x (the model file must load in Debian's libxgboost 1.7.4):
  python3 -m venv build/venv && build/venv/bin/pip install xgboost==1.7.6 numpy
  build/venv/bin/python scripts/train_call_drop_model.py
"""
import argparse
import collections
import json
import pathlib

import numpy as np
import xgboost

FEATURES = ["calls", "drop_rate", "avg_setup_ms"]  # PREDICT's argument order
ROOT = pathlib.Path(__file__).resolve().parent.parent


def cell_minutes(sample):
    """(cell, minute start ms) -> [calls, dropped, setup_ms sum] over VOICE records."""
    minutes = collections.defaultdict(lambda: [0, 0, 0])
    with open(sample) as lines:
        for line in lines:
            record = json.loads(line)
            if record["record_type"] != "VOICE":
                continue
            key = (record["cell_id"], record["start_ts"] // 60000 * 60000)
            minutes[key][0] += 1
            minutes[key][1] += record["termination"] == "DROPPED"
            minutes[key][2] += record["setup_ms"]
    return minutes


def dataset(sample, truth):
    outages = json.load(open(truth))["cell_outage"]
    rows, labels = [], []
    for (cell, start), (calls, dropped, setup) in sorted(cell_minutes(sample).items()):
        middle = start + 30000
        degraded = any(cell == o["cell_id"] and
                       o.get("precursor_start", o["start"]) <= middle < o["end"]
                       for o in outages)
        rows.append([calls, dropped / calls, setup / calls])
        labels.append(1 if degraded else 0)
    return np.array(rows, dtype=np.float32), np.array(labels)


def main():
    shared = ROOT.parent / "shared" / "cdr"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", default=str(shared / "sample-v2-120min.jsonl"))
    parser.add_argument("--output", default=str(ROOT / "models" / "call_drop.json"))
    args = parser.parse_args()
    features, labels = dataset(args.sample, args.sample.replace(".jsonl", ".truth.json"))
    positives = int(labels.sum())
    params = {
        "objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "seed": 0, "nthread": 1,
        # Few positive minutes among thousands: weigh them up so they are not ignored.
        "scale_pos_weight": (len(labels) - positives) / max(positives, 1),
    }
    # No feature names: PREDICT passes the features by position.
    booster = xgboost.train(params, xgboost.DMatrix(features, label=labels), num_boost_round=40)
    booster.save_model(args.output)
    risk = booster.predict(xgboost.DMatrix(features))
    alerts = risk >= 0.5
    print(f"{len(labels)} cell-minutes, {positives} degraded; on the training sample: "
          f"{int((alerts & (labels == 1)).sum())} degraded minutes alerted, "
          f"{int((alerts & (labels == 0)).sum())} false alerts; model written to {args.output}")


if __name__ == "__main__":
    main()
