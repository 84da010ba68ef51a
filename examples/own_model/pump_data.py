"""Synthetic pump sensor data for the example (examples/own_model), seeded and deterministic.

Five readings per pump: temperature (degrees Celsius), vibration (mm/s), pressure (bar), rpm
and motor current (A); `failed` is 1 for a pump that fails within the week (30% of pumps).
Failing pumps run hotter, vibrate more, lose pressure and draw more current; rpm carries no
signal. The drift: the temperature sensor is replaced by one that reports degrees Fahrenheit
(T -> 1.8 T + 32); nothing else changes, the pumps included.
"""

import csv

import torch

from pump_model import FEATURES, LABEL

FAIL_RATE = 0.3
#                 temperature  vibration  pressure  rpm     current
HEALTHY_MEAN = [62.0, 2.2, 6.0, 1480.0, 11.5]
HEALTHY_SD = [6.0, 0.7, 0.5, 25.0, 1.2]
FAILING_MEAN = [73.0, 3.3, 5.5, 1480.0, 12.8]
FAILING_SD = [7.0, 0.8, 0.6, 25.0, 1.4]


def generate(rows, generator, fahrenheit=False):
    """(features [rows, 5] float32, labels [rows] int64)."""
    failed = (torch.rand(rows, generator=generator) < FAIL_RATE).long()
    noise = torch.randn(rows, len(FEATURES), generator=generator)
    mean = torch.where(failed[:, None] == 1, torch.tensor(FAILING_MEAN), torch.tensor(HEALTHY_MEAN))
    sd = torch.where(failed[:, None] == 1, torch.tensor(FAILING_SD), torch.tensor(HEALTHY_SD))
    x = mean + sd * noise
    if fahrenheit:
        x[:, 0] = x[:, 0] * 1.8 + 32.0
    x = torch.round(x.float() * 100) / 100  # the sensors report two decimals: the CSV files are exact
    return x, failed


def write_csv(path, x, y):
    with open(path, "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(FEATURES + [LABEL])
        for row, label in zip(x.tolist(), y.tolist()):
            out.writerow(["%.2f" % v for v in row] + [label])


def read_csv(path):
    """(features [rows, 5] float32, labels [rows] int64) from a file write_csv wrote."""
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header != FEATURES + [LABEL]:
            raise ValueError("%s: columns %s, expected %s" % (path, header, FEATURES + [LABEL]))
        rows = [[float(v) for v in line] for line in reader if line]
    t = torch.tensor(rows, dtype=torch.float32)
    return t[:, :-1].contiguous(), t[:, -1].long()
