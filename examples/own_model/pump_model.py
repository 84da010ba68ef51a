"""The example's own model: a pump-failure classifier in plain PyTorch (examples/own_model).

PumpNet = backbone -> head. The backbone standardises the five sensor readings with the
training data's mean and standard deviation (buffers, so they travel in the state dict and in
the TorchScript export) and maps them through two ReLU layers to 16 numbers; the head is one
linear unit: the log-odds that the pump fails. tools/export_model.py exports it with
--backbone backbone --head head; Reflex puts its adapter between the two.
"""

import torch
from torch import nn

FEATURES = ["temperature", "vibration", "pressure", "rpm", "current"]
LABEL = "failed"


class Standardize(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.register_buffer("mean", torch.zeros(n))
        self.register_buffer("std", torch.ones(n))

    def forward(self, x):
        return (x - self.mean) / self.std


class PumpNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(Standardize(len(FEATURES)), nn.Linear(len(FEATURES), 32), nn.ReLU(),
                                      nn.Linear(32, 16), nn.ReLU())
        self.head = nn.Linear(16, 1)

    def forward(self, x):
        return self.head(self.backbone(x))
