#!/usr/bin/python3
"""Makes the example's data and trains its model (examples/own_model): your own training code
would stand here.

  train.py --out DIR

Writes into DIR:
  train.csv     4000 clean labelled rows the model is trained on
  clean.csv     2000 other clean labelled rows: the bundle's calibration set (reflex-bundle --clean)
  stream.csv    3000 rows in time order: 1000 clean, then the temperature sensor reports
                degrees Fahrenheit for the remaining 2000 (the drift)
  holdout.csv   2000 more Fahrenheit rows, never streamed: to measure the fleet against the model
  pump.pt       the trained PumpNet's state dict (tools/export_model.py --state-dict)
  features.txt  the feature names, one per line (tools/export_model.py --features-file)
Deterministic: the same files on every run (one thread, fixed seeds).
"""

import argparse
import os
import sys

import torch
from torch import nn

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pump_data import generate, write_csv  # noqa: E402
from pump_model import FEATURES, PumpNet  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(7)
    g = torch.Generator().manual_seed(2024)
    train_x, train_y = generate(4000, g)
    clean_x, clean_y = generate(2000, g)
    stream_clean = generate(1000, g)
    stream_drift = generate(2000, g, fahrenheit=True)
    holdout_x, holdout_y = generate(2000, g, fahrenheit=True)
    stream_x = torch.cat([stream_clean[0], stream_drift[0]])
    stream_y = torch.cat([stream_clean[1], stream_drift[1]])

    model = PumpNet()
    model.backbone[0].mean.copy_(train_x.mean(0))
    model.backbone[0].std.copy_(train_x.std(0))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.BCEWithLogitsLoss()
    for epoch in range(30):
        order = torch.randperm(len(train_x))
        for i in range(0, len(order), 200):
            idx = order[i:i + 200]
            opt.zero_grad()
            loss = loss_fn(model(train_x[idx]).reshape(-1), train_y[idx].float())
            loss.backward()
            opt.step()
    model.eval()

    def accuracy(x, y):
        with torch.no_grad():
            return ((model(x).reshape(-1) > 0).long() == y).float().mean().item()

    os.makedirs(args.out, exist_ok=True)
    for name, x, y in (("train", train_x, train_y), ("clean", clean_x, clean_y), ("stream", stream_x, stream_y),
                       ("holdout", holdout_x, holdout_y)):
        write_csv(os.path.join(args.out, name + ".csv"), x, y)
    torch.save(model.state_dict(), os.path.join(args.out, "pump.pt"))
    with open(os.path.join(args.out, "features.txt"), "w") as f:
        f.write("\n".join(FEATURES) + "\n")
    print("trained PumpNet on %d rows: accuracy %.1f%% on clean.csv, %.1f%% on holdout.csv (Fahrenheit)"
          % (len(train_x), 100 * accuracy(clean_x, clean_y), 100 * accuracy(holdout_x, holdout_y)))
    print("wrote %s/{train,clean,stream,holdout}.csv, pump.pt, features.txt" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
