#!/usr/bin/python3
"""Writes the fixture for tests/model/torchscript_test.cc into OUTDIR.

  make_torchscript_fixture.py OUTDIR

A small seeded model (6 features -> Linear 32 -> ReLU -> Linear 16 -> Tanh as the backbone,
Linear 16 -> 1 -> Sigmoid as the head) exported with tools/export_model.py's export():
  OUTDIR/manifest.json, backbone.pt, head.pt   head returns a probability (auto-detected)
  OUTDIR/logit_head/manifest.json, ...         the same network, head without the sigmoid
  OUTDIR/rows.f32                              50 x 6 float32, row-major, little-endian
  OUTDIR/expected.f32                          50 float32: the PyTorch model's probabilities
  OUTDIR/softmax3/manifest.json, ...           the same backbone, a 3-class head ending in a softmax
  OUTDIR/softmax3_expected.f32                 50 x 3 float32: its class probabilities
  OUTDIR/logits3/manifest.json, ...            the same 3-class head without the softmax (logits)
  OUTDIR/two_class/manifest.json, ...          a 2-class softmax head (served as binary)
  OUTDIR/two_class_expected.f32                50 float32: PyTorch's probability of class 1
"""

import array
import os
import sys

import torch
from torch import nn

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import export_model  # noqa: E402

FEATURES = ["f0", "f1", "f2", "f3", "f4", "f5"]
ROWS = 50


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 16), nn.Tanh())
        self.head = nn.Sequential(nn.Linear(16, 1), nn.Sigmoid())

    def forward(self, x):
        return self.head(self.backbone(x))


def write_f32(path, tensor):
    values = array.array("f", tensor.reshape(-1).tolist())  # float32 -> float -> float32: exact
    if sys.byteorder != "little":
        values.byteswap()
    with open(path, "wb") as f:
        f.write(values.tobytes())


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.argv[1]
    torch.manual_seed(1234)
    model = Model().eval()
    prob = export_model.export(model.backbone, model.head, FEATURES, out, full_model=model)
    assert prob["head_output"] == "probability", prob
    assert prob["width"] == 16, prob

    logit_head = model.head[0]  # the Linear alone
    logit = export_model.export(model.backbone, logit_head, FEATURES, os.path.join(out, "logit_head"),
                                head_output="logit")
    assert logit["head_output"] == "logit", logit

    rows = torch.randn(ROWS, len(FEATURES), generator=torch.Generator().manual_seed(99)) * 2.0
    with torch.no_grad():
        expected = model(rows).reshape(-1)
    write_f32(os.path.join(out, "rows.f32"), rows)
    write_f32(os.path.join(out, "expected.f32"), expected)

    linear3 = nn.Linear(16, 3)
    softmax3 = nn.Sequential(linear3, nn.Softmax(dim=-1)).eval()
    m3 = export_model.export(model.backbone, softmax3, FEATURES, os.path.join(out, "softmax3"),
                             class_names=["ok", "bearing", "seal"])
    assert (m3["head_kind"], m3["num_classes"], m3["head_output"]) == ("softmax", 3, "probability"), m3
    l3 = export_model.export(model.backbone, linear3, FEATURES, os.path.join(out, "logits3"))
    assert (l3["head_kind"], l3["head_output"]) == ("softmax", "logit"), l3
    two = nn.Sequential(nn.Linear(16, 2), nn.Softmax(dim=1)).eval()
    m2 = export_model.export(model.backbone, two, FEATURES, os.path.join(out, "two_class"))
    assert (m2["head_kind"], m2["num_classes"]) == ("softmax", 2), m2
    with torch.no_grad():
        write_f32(os.path.join(out, "softmax3_expected.f32"), softmax3(model.backbone(rows)))
        write_f32(os.path.join(out, "two_class_expected.f32"), two(model.backbone(rows))[:, 1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
