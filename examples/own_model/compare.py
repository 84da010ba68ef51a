#!/usr/bin/python3
"""The example's last step (examples/own_model): the fleet against your frozen model.

  compare.py DIR

Reads DIR/holdout.csv (Fahrenheit rows never streamed), DIR/holdout_scores.csv (what the fleet
answered for them: reflex_client.py score's request_id,row,probability,version), DIR/pump.pt
(the model as trained), and, when present, DIR/stream.csv with DIR/scores.csv (the fleet's
answers for the stream). Prints the held-out accuracy of the frozen model, as PyTorch computes
it, and of the fleet, and how far the fleet's version-0 scores are from PyTorch's on the same
stream rows. Exit status 0; 2 when a file is missing or malformed.
"""

import csv
import os
import sys

import torch

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pump_data import read_csv  # noqa: E402
from pump_model import PumpNet  # noqa: E402


def read_scores(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [float(r["probability"]) for r in rows], [int(r["version"]) for r in rows]


def summarise(folder):
    """A dict: frozen_accuracy, fleet_accuracy, fleet_versions and rows (held-out), and, with the
    stream's scores, v0_rows and v0_max_difference (|fleet at version 0 - PyTorch|)."""
    model = PumpNet()
    model.load_state_dict(torch.load(os.path.join(folder, "pump.pt")))
    model.eval()

    def pytorch(x):
        with torch.no_grad():
            return torch.sigmoid(model(x).reshape(-1))

    x, y = read_csv(os.path.join(folder, "holdout.csv"))
    fleet, versions = read_scores(os.path.join(folder, "holdout_scores.csv"))
    if len(fleet) != len(y):
        raise ValueError("holdout_scores.csv has %d rows, holdout.csv %d" % (len(fleet), len(y)))
    out = {
        "rows": len(y),
        "frozen_accuracy": ((pytorch(x) > 0.5).long() == y).float().mean().item(),
        "fleet_accuracy": ((torch.tensor(fleet) > 0.5).long() == y).float().mean().item(),
        "fleet_versions": sorted(set(versions)),
    }
    if os.path.exists(os.path.join(folder, "scores.csv")):
        sx, _ = read_csv(os.path.join(folder, "stream.csv"))
        scores, stream_versions = read_scores(os.path.join(folder, "scores.csv"))
        at_v0 = [i for i, v in enumerate(stream_versions) if v == 0]
        expected = pytorch(sx)
        out["v0_rows"] = len(at_v0)
        out["v0_max_difference"] = max((abs(scores[i] - expected[i].item()) for i in at_v0), default=0.0)
    return out


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        s = summarise(argv[1])
    except (OSError, ValueError, KeyError) as e:
        print("compare.py: %s" % e, file=sys.stderr)
        return 2
    versions = ", ".join("v%d" % v for v in s["fleet_versions"])
    print("held-out Fahrenheit rows (%d): frozen model (PyTorch) %.1f%%, the fleet (%s) %.1f%%"
          % (s["rows"], 100 * s["frozen_accuracy"], versions, 100 * s["fleet_accuracy"]))
    if "v0_rows" in s:
        print("the fleet's version-0 scores of stream.csv vs PyTorch's: max |difference| %.2g over %d rows"
              % (s["v0_max_difference"], s["v0_rows"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
