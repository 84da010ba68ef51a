#!/usr/bin/python3
"""Export a PyTorch model for Reflex: backbone.pt + head.pt (TorchScript) + manifest.json.

Reflex serves a model as   backbone -> adapter -> head.   The backbone maps a float32 batch
[rows, len(feature_names)] to [rows, width]; the head maps [rows, width] to class scores:
  binary   one number per row ([rows] or [rows, 1]): a logit, or a probability when the head
           ends in a sigmoid;
  K-class  K numbers per row ([rows, K], K >= 2): logits, or probabilities when the head ends
           in a softmax over its last dimension (a final log_softmax gives log-probabilities,
           which Reflex treats as logits: softmax undoes it exactly).
Regression heads are refused (see "Regression" below). Reflex's C++ side
(libs/model/healable_model.cc, HealableModel::LoadTorchScript) loads both files with
torch::jit::load and puts its adapter between them, starting at identity, so on the day of
deployment C++ scores equal this model's outputs.

Command line (run with a Python that has torch, e.g. Debian's /usr/bin/python3):

  export_model.py --module FILE.py:FACTORY --backbone ATTR --head ATTR \\
                  --features a,b,c --out DIR [options]
  export_model.py --module FILE.py:FACTORY --split-index K --features-file names.txt --out DIR

  --module FILE.py:FACTORY  FACTORY is a function or class in FILE.py called with no arguments
                            (or with --factory-kwargs JSON), or a module-level nn.Module instance.
  --backbone ATTR --head ATTR
                            dotted attribute paths of the two submodules ("encoder",
                            "net.0", "heads.click"). The full module's forward must be
                            head(backbone(x)); this is checked on random inputs
                            (--skip-full-check turns that off when forward does more).
  --split-index K           for an nn.Sequential: layers [0, K) are the backbone, [K, end) the head.
  --features a,b,c | --features-file FILE
                            the input columns in order (file: one name per line; blank lines and
                            lines starting with # are ignored).
  --out DIR                 created if missing; backbone.pt, head.pt and manifest.json are
                            (over)written there.
  --head-output auto|logit|probability
                            what the head returns. auto (default): "probability" when the head's
                            TorchScript graph ends in a sigmoid (binary) or a softmax (K-class),
                            else "logit". An explicit choice that contradicts the graph (a
                            sigmoid or softmax head declared "logit", or a "probability" head
                            giving values outside [0, 1], or K-class rows that do not sum to 1)
                            is an error.
  --class-names a,b,c       names of the head's classes, in output order (recorded in the
                            manifest; reflex-bundle matches label values against them). Default:
                            "0", "1", ... (binary: "0" and "1").
  --state-dict W.pt         weights to load (strictly) into the module before export; a state
                            dict, a {"state_dict": ...} checkpoint, or a whole saved nn.Module.
  --adapter-hidden N        tanh units in Reflex's adapter (default: width).

Exit status: 0 on success, 2 on bad input (the message says what, where and why).

From Python:

  import export_model
  manifest = export_model.export(model.backbone, model.head, ["age", "income"], "out/",
                                 full_model=model)

Each part is compiled with torch.jit.script, falling back to torch.jit.trace with an example
batch when scripting fails (a traced part is checked on several batch sizes, since tracing can
freeze shapes). Every saved file is reloaded and compared with the eager module. Modules are
exported in eval mode (their training flags are restored afterwards); parameters must be
float32 and on the CPU.

Regression. Reflex serves and heals classifiers only, and a head's graph cannot always tell a
regression output from a class score, so the export refuses what it can recognise and
reflex-bundle refuses the rest from the data:
  - a head whose output passes last through relu, relu6, softplus, exp, abs or square (a
    non-negative, unbounded quantity such as a count or a duration: never a logit, and not a
    probability) is refused as a regression head, unless --head-output logit or probability is
    given explicitly;
  - a K-output head ending in a sigmoid is multi-label (K independent yes/no outputs), not one
    class per row: refused;
  - a plain linear single-output head is exported as a binary logit (the graph of a regression
    head is the same); `reflex-bundle --clean` then refuses a clean CSV whose labels are not the
    head's classes ("label '23.7' on line 5 ... is not one of the model's classes 0, 1").
What to do with a regression model: serve a classifier of the decision you act on (for example
"fails within 7 days" from a time-to-failure regressor: a head with one logit, trained on that
label), and export that.

manifest.json:
  {"format": "reflex-model/1", "feature_names": [...], "width": W, "adapter_hidden": H,
   "backbone": "backbone.pt", "head": "head.pt", "head_output": "logit"|"probability",
   "head_kind": "binary"|"softmax", "num_classes": 2 (binary) or K, "class_names": [...],
   "torch_version": "...", "compiled_with": {"backbone": "script"|"trace", "head": ...}}
C++ reads a manifest without head_kind as a binary head (manifests of earlier exports). A 2-class
softmax head is served by Reflex as a binary model: the probability of class 1 (its second
output), from the logit z1 - z0.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import warnings
from typing import Iterable, List, Optional, Sequence, Tuple

import torch
from torch import nn

FORMAT = "reflex-model/1"
BACKBONE_FILE = "backbone.pt"
HEAD_FILE = "head.pt"
MANIFEST_FILE = "manifest.json"
HEAD_OUTPUTS = ("logit", "probability")
# Tolerances for "the same output": scripting and reloading should be exact, but allow for
# differently fused kernels.
ATOL = 1e-5
RTOL = 1e-5
_CHECK_BATCH_SIZES = (1, 3, 17, 64)
# Ops that do not change values: a sigmoid followed by these still makes a probability.
_PASS_THROUGH_OPS = {
    "aten::view", "aten::reshape", "aten::squeeze", "aten::squeeze_", "aten::unsqueeze",
    "aten::flatten", "aten::contiguous", "aten::clone", "aten::detach", "aten::to",
    "aten::type_as", "aten::view_as", "aten::reshape_as", "aten::select", "aten::slice",
    "aten::alias",
}
_SIGMOID_OPS = {"aten::sigmoid"}
_SOFTMAX_OPS = {"aten::softmax"}  # a final aten::log_softmax makes log-probabilities: logits
# A final op that makes a non-negative, unbounded number: a regression output (see the docstring).
_REGRESSION_OPS = {"aten::relu", "aten::relu6", "aten::softplus", "aten::exp", "aten::abs",
                   "aten::square"}


class ExportError(Exception):
    """Bad input: the message says what is wrong, where, and why."""


# ---- library -----------------------------------------------------------------------------


def export(backbone: nn.Module, head: nn.Module, feature_names: Sequence[str], out_dir: str,
           head_output: Optional[str] = None, *, full_model: Optional[nn.Module] = None,
           adapter_hidden: Optional[int] = None, seed: int = 0,
           class_names: Optional[Sequence[str]] = None) -> dict:
    """Exports backbone and head to out_dir; returns the manifest written.

    head_output: "logit", "probability", or None/"auto" to detect a final sigmoid (binary) or
    softmax (K-class).
    full_model: when given, head(backbone(x)) must equal full_model(x) on random inputs.
    class_names: the head's classes in output order (default "0", "1", ...).
    Raises ExportError on bad input, a regression head included (see the module's docstring).
    """
    names = _check_feature_names(feature_names)
    if head_output is None:
        head_output = "auto"
    if head_output not in HEAD_OUTPUTS + ("auto",):
        raise ExportError(f"head_output must be 'logit', 'probability' or 'auto', not {head_output!r}")
    if adapter_hidden is not None and (not isinstance(adapter_hidden, int) or adapter_hidden <= 0):
        raise ExportError(f"adapter_hidden must be a positive integer, not {adapter_hidden!r}")
    for label, module in (("backbone", backbone), ("head", head), ("full model", full_model)):
        if module is not None:
            _check_module(label, module)

    modules = [m for m in (backbone, head, full_model) if m is not None]
    was_training = [(m, m.training) for m in modules]
    try:
        for m in modules:
            m.eval()
        with torch.no_grad():
            return _export_eval(backbone, head, names, out_dir, head_output, full_model,
                                adapter_hidden, seed, class_names)
    finally:
        for m, flag in was_training:
            m.train(flag)


def _outputs_per_row(out, rows: int) -> Optional[int]:
    """1 for a binary head ([rows] or [rows, 1]), K for [rows, K]; None for any other shape."""
    if not isinstance(out, torch.Tensor):
        return None
    if out.dim() == 1 and out.shape[0] == rows:
        return 1
    if out.dim() == 2 and out.shape[0] == rows and out.shape[1] >= 1:
        return int(out.shape[1])
    return None


def _export_eval(backbone, head, names, out_dir, head_output, full_model, adapter_hidden, seed,
                 class_names):
    n_in = len(names)
    gen = torch.Generator().manual_seed(seed)

    # Width: a zero batch through the backbone.
    probe = torch.zeros(2, n_in)
    h = _run("backbone", backbone, probe,
             f"does not accept a float32 batch of shape [2, {n_in}] ({n_in} = len(feature_names))")
    if not isinstance(h, torch.Tensor) or h.dim() != 2 or h.shape[0] != 2:
        raise ExportError(f"backbone: maps [2, {n_in}] to {_describe(h)}; Reflex's adapter needs "
                          f"a 2-D [rows, width] tensor")
    if h.dtype != torch.float32:
        raise ExportError(f"backbone: outputs {h.dtype}, Reflex needs float32")
    width = int(h.shape[1])
    if width == 0:
        raise ExportError("backbone: output width is 0")
    out = _run("head", head, h, f"does not accept the backbone's output of shape [2, {width}]")
    per_row = _outputs_per_row(out, 2)
    if per_row is None:
        raise ExportError(f"head: maps [2, {width}] to {_describe(out)}; Reflex needs one output "
                          f"per row ([2] or [2, 1]: a binary head) or K per row ([2, K]: a K-class "
                          f"head)")
    if not out.is_floating_point():
        raise ExportError(f"head: outputs {out.dtype}; Reflex needs float class scores (logits or "
                          f"probabilities), not class indices")
    num_classes = 2 if per_row == 1 else per_row
    classes = _check_class_names(class_names, num_classes)

    inputs = [torch.randn(b, n_in, generator=gen) * 2.0 for b in _CHECK_BATCH_SIZES]

    if full_model is not None:
        for x in inputs:
            want = _run("full model", full_model, x, f"failed on a random batch of shape {list(x.shape)}")
            if _outputs_per_row(want, x.shape[0]) != per_row:
                raise ExportError(f"full model: gives {_describe(want)} for {x.shape[0]} rows; expected "
                                  f"{'one output' if per_row == 1 else f'{per_row} outputs'} per row, "
                                  f"as the head gives")
            got = head(backbone(x))
            if not torch.allclose(got.reshape(-1), want.reshape(-1), atol=ATOL, rtol=RTOL):
                diff = (got.reshape(-1) - want.reshape(-1)).abs().max().item()
                raise ExportError(
                    f"head(backbone(x)) differs from the full model's output by up to {diff:.3g} on "
                    f"random inputs of shape {list(x.shape)}: the model's forward is not just "
                    f"backbone then head (check the attribute names, or skip this check when "
                    f"forward does more on purpose)")

    backbone_ts, backbone_how = _compile("backbone", backbone, inputs[-1], inputs)
    head_inputs = [backbone(x) for x in inputs]
    head_ts, head_how = _compile("head", head, head_inputs[-1], head_inputs)

    final = _final_op(head_ts)
    head_values = [head(z).reshape(z.shape[0], -1) for z in head_inputs]
    flat = torch.cat([v.reshape(-1) for v in head_values])
    in_unit = bool(((flat >= 0) & (flat <= 1)).all())
    if per_row == 1:
        head_output = _binary_head_output(head_output, final, in_unit, flat)
    else:
        head_output = _softmax_head_output(head_output, final, in_unit, head_values, per_row)

    manifest = {
        "format": FORMAT,
        "feature_names": names,
        "width": width,
        "adapter_hidden": adapter_hidden if adapter_hidden is not None else width,
        "backbone": BACKBONE_FILE,
        "head": HEAD_FILE,
        "head_output": head_output,
        "head_kind": "binary" if per_row == 1 else "softmax",
        "num_classes": num_classes,
        "class_names": classes,
        "torch_version": torch.__version__,
        "compiled_with": {"backbone": backbone_how, "head": head_how},
    }

    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        raise ExportError(f"{out_dir}: cannot create the output folder: {e.strerror}") from e
    for name, ts, eager, xs in ((BACKBONE_FILE, backbone_ts, backbone, inputs),
                                (HEAD_FILE, head_ts, head, head_inputs)):
        path = os.path.join(out_dir, name)
        _atomic_write(path, lambda tmp, ts=ts: torch.jit.save(ts, tmp))
        reloaded = torch.jit.load(path, map_location="cpu")
        _check_same(f"{path} (reloaded)", reloaded, eager, xs)
    manifest_path = os.path.join(out_dir, MANIFEST_FILE)

    def write_manifest(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=2)
            f.write("\n")

    _atomic_write(manifest_path, write_manifest)
    return manifest


def _regression_error(final: str, shape: str) -> ExportError:
    op = final.split("::")[-1]
    return ExportError(
        f"head: its output ({shape}) passes last through {op}, which makes a non-negative, "
        f"unbounded quantity: a regression head, not class scores. Reflex serves and heals "
        f"classifiers only (a binary head: one logit or sigmoid probability per row; a K-class "
        f"head: K logits or softmax probabilities). Export a classifier of the decision you act "
        f"on instead (for example 'fails within 7 days', trained on that label); if this head "
        f"really returns log-odds or probabilities, say so with head_output='logit' or "
        f"'probability' (--head-output)")


def _binary_head_output(head_output, final, in_unit, values) -> str:
    if head_output == "auto":
        if final in _SIGMOID_OPS:
            return "probability"
        if final in _REGRESSION_OPS:
            raise _regression_error(final, "one number per row")
        if in_unit:
            warnings.warn("head: every output on random inputs lies in [0, 1] but no final sigmoid "
                          "was found in its graph; exporting as 'logit'. Pass head_output="
                          "'probability' if it returns probabilities.")
        return "logit"
    if head_output == "logit" and final in _SIGMOID_OPS:
        raise ExportError("head: its graph ends in a sigmoid, so it returns probabilities, but "
                          "head_output is 'logit' (Reflex would apply a second sigmoid); use "
                          "'probability' or 'auto'")
    if head_output == "probability" and not in_unit:
        raise ExportError(f"head: head_output is 'probability' but it returns values in "
                          f"[{values.min().item():.3g}, {values.max().item():.3g}] on "
                          f"random inputs; use 'logit'")
    return head_output


def _softmax_head_output(head_output, final, in_unit, values, k) -> str:
    shape = f"{k} numbers per row"
    if final in _SIGMOID_OPS:
        raise ExportError(f"head: its {k} outputs per row each pass through a sigmoid: a "
                          f"multi-label head (K independent yes/no outputs), not one class per "
                          f"row. Reflex serves K-class heads that end in a softmax (or return K "
                          f"logits) and binary heads with one output; export one of those")
    sums = torch.cat([v.sum(dim=1) for v in values])
    rows_sum_to_one = bool(((sums - 1).abs() <= 1e-4).all())
    if final in _SOFTMAX_OPS and not rows_sum_to_one:
        worst = (sums - 1).abs().max().item()
        raise ExportError(f"head: its graph ends in a softmax, but a row's {k} outputs sum to 1 "
                          f"only within {worst:.3g} on random inputs: the softmax is over another "
                          f"dimension than the classes (use dim=-1)")
    if head_output == "auto":
        if final in _SOFTMAX_OPS:
            return "probability"
        if final in _REGRESSION_OPS:
            raise _regression_error(final, shape)
        if in_unit and rows_sum_to_one:
            warnings.warn(f"head: every row's {k} outputs on random inputs lie in [0, 1] and sum to "
                          f"1, but no final softmax was found in its graph; exporting as 'logit'. "
                          f"Pass head_output='probability' if it returns probabilities.")
        return "logit"
    if head_output == "logit" and final in _SOFTMAX_OPS:
        raise ExportError("head: its graph ends in a softmax, so it returns probabilities, but "
                          "head_output is 'logit' (Reflex would apply a second softmax); use "
                          "'probability' or 'auto'")
    if head_output == "probability" and not (in_unit and rows_sum_to_one):
        raise ExportError(f"head: head_output is 'probability' but its {k} outputs per row are not "
                          f"probabilities on random inputs (values outside [0, 1], or rows that do "
                          f"not sum to 1); use 'logit'")
    return head_output


def _check_class_names(class_names, num_classes: int) -> List[str]:
    if class_names is None:
        return [str(i) for i in range(num_classes)]
    if isinstance(class_names, str):
        raise ExportError(f"class_names must be a list of names, not one string ({class_names!r})")
    names = list(class_names)
    if len(names) != num_classes:
        raise ExportError(f"class_names has {len(names)} name(s) but the head has {num_classes} "
                          f"classes" + (" (a one-output head is binary: 2 classes, the names of "
                                        "outputs near 0 and near 1)" if num_classes == 2 else ""))
    seen = set()
    for i, n in enumerate(names):
        if not isinstance(n, str) or not n.strip():
            raise ExportError(f"class_names[{i}] is {n!r}; names must be non-empty strings")
        if n != n.strip():
            raise ExportError(f"class_names[{i}] {n!r} has leading or trailing spaces")
        if n in seen:
            raise ExportError(f"class_names[{i}] {n!r} appears twice")
        seen.add(n)
    return names


def _check_feature_names(feature_names) -> List[str]:
    if isinstance(feature_names, str):
        raise ExportError("feature_names must be a list of names, not one string "
                          f"({feature_names!r}); split it first")
    names = list(feature_names)
    if not names:
        raise ExportError("feature_names is empty; the model needs at least one input column")
    seen = set()
    for i, n in enumerate(names):
        if not isinstance(n, str) or not n.strip():
            raise ExportError(f"feature_names[{i}] is {n!r}; names must be non-empty strings")
        if n != n.strip():
            raise ExportError(f"feature_names[{i}] {n!r} has leading or trailing spaces")
        if n in seen:
            raise ExportError(f"feature_names[{i}] {n!r} appears twice")
        seen.add(n)
    return names


def _check_module(label: str, module) -> None:
    if not isinstance(module, nn.Module):
        raise ExportError(f"{label}: expected a torch.nn.Module, got {type(module).__name__}")
    for kind, items in (("parameter", module.named_parameters()), ("buffer", module.named_buffers())):
        for name, t in items:
            if t.device.type != "cpu":
                raise ExportError(f"{label}: {kind} '{name}' is on {t.device}; Reflex loads on the "
                                  f"CPU, call .cpu() before exporting")
            if t.is_floating_point() and t.dtype != torch.float32:
                raise ExportError(f"{label}: {kind} '{name}' is {t.dtype}; Reflex feeds float32 rows, "
                                  f"call .float() before exporting")


def _run(label, module, x, what):
    try:
        return module(x)
    except Exception as e:  # the user's forward can raise anything
        raise ExportError(f"{label}: {what}: {type(e).__name__}: {_short(e)}") from e


def _compile(label, module, example, check_inputs) -> Tuple[torch.jit.ScriptModule, str]:
    if isinstance(module, torch.jit.ScriptModule):
        ts, how = module, "script"
    else:
        try:
            ts, how = torch.jit.script(module), "script"
        except Exception as script_error:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", torch.jit.TracerWarning)
                    ts, how = torch.jit.trace(module, example, check_trace=False), "trace"
            except Exception as trace_error:
                raise ExportError(
                    f"{label}: cannot compile to TorchScript. torch.jit.script failed: "
                    f"{_short(script_error)}; torch.jit.trace failed: {_short(trace_error)}") from trace_error
    _check_same(f"{label} ({how}d)", ts, module, check_inputs,
                hint=" (tracing froze a shape or a branch; make the module scriptable)" if how == "trace" else "")
    return ts, how


def _check_same(label, ts, eager, inputs, hint=""):
    for x in inputs:
        try:
            got = ts(x)
        except Exception as e:
            raise ExportError(f"{label}: fails on a batch of shape {list(x.shape)}: {_short(e)}{hint}") from e
        want = eager(x)
        if not isinstance(got, torch.Tensor) or got.shape != want.shape or not torch.allclose(
                got, want, atol=ATOL, rtol=RTOL):
            raise ExportError(f"{label}: gives {_describe(got)} where the eager module gives "
                              f"{_describe(want)} on a batch of shape {list(x.shape)}{hint}")


def _final_op(ts: torch.jit.ScriptModule) -> str:
    """The kind of the node that makes the value forward returns, looking through shape-only ops
    ("aten::sigmoid", "aten::softmax", "aten::addmm", ...); "" for an unusual graph."""
    try:
        graph = ts.forward.graph.copy()
        torch._C._jit_pass_inline(graph)
        value = graph.return_node().inputsAt(0)
        for _ in range(100):
            node = value.node()
            kind = node.kind()
            if kind not in _PASS_THROUGH_OPS:
                return kind[:-1] if kind.endswith("_") else kind  # in-place variants: aten::relu_
            value = node.inputsAt(0)
    except Exception:  # an unusual graph: treat as "nothing recognised"
        return ""
    return ""


def _atomic_write(path, write):
    tmp = path + ".tmp"
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as e:
        raise ExportError(f"{path}: cannot write: {e.strerror or e}") from e
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _describe(v) -> str:
    if isinstance(v, torch.Tensor):
        return f"a {v.dtype} tensor of shape {list(v.shape)}"
    return f"a {type(v).__name__}"


def _short(e: BaseException, limit: int = 400) -> str:
    text = " ".join(str(e).split())
    return text if len(text) <= limit else text[:limit] + "..."


# ---- command line ------------------------------------------------------------------------


def load_module(spec: str, factory_kwargs: Optional[dict] = None) -> nn.Module:
    """Returns the nn.Module named by "FILE.py:FACTORY"."""
    path, sep, factory_name = spec.rpartition(":")
    if not sep or not path or not factory_name:
        raise ExportError(f"--module {spec!r}: expected FILE.py:FACTORY")
    if not os.path.isfile(path):
        raise ExportError(f"--module: {path}: no such file")
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)  # so the file can import its neighbours
    name = "_reflex_user_model_" + os.path.splitext(os.path.basename(path))[0].replace("-", "_")
    try:
        mod_spec = importlib.util.spec_from_file_location(name, path)
        if mod_spec is None or mod_spec.loader is None:
            raise ExportError(f"--module: {path}: not a Python file")
        user = importlib.util.module_from_spec(mod_spec)
        sys.modules[name] = user
        mod_spec.loader.exec_module(user)
    except ExportError:
        raise
    except Exception as e:
        raise ExportError(f"--module: {path}: importing it failed: {type(e).__name__}: {_short(e)}") from e
    if not hasattr(user, factory_name):
        raise ExportError(f"--module: {path} defines no {factory_name!r}")
    factory = getattr(user, factory_name)
    if isinstance(factory, nn.Module):
        if factory_kwargs:
            raise ExportError(f"--factory-kwargs: {factory_name} is a module instance, not a factory")
        return factory
    if not callable(factory):
        raise ExportError(f"--module: {path}:{factory_name} is a {type(factory).__name__}, not a "
                          f"function, class or nn.Module")
    try:
        model = factory(**(factory_kwargs or {}))
    except Exception as e:
        raise ExportError(f"--module: calling {path}:{factory_name} failed: {type(e).__name__}: "
                          f"{_short(e)}") from e
    if not isinstance(model, nn.Module):
        raise ExportError(f"--module: {path}:{factory_name} returned a {type(model).__name__}, not "
                          f"a torch.nn.Module")
    return model


def load_state_dict(model: nn.Module, path: str) -> None:
    if not os.path.isfile(path):
        raise ExportError(f"--state-dict: {path}: no such file")
    try:
        obj = torch.load(path, map_location="cpu")
    except Exception as e:
        raise ExportError(f"--state-dict: {path}: torch.load failed: {_short(e)}") from e
    if isinstance(obj, nn.Module):
        obj = obj.state_dict()
    elif isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ExportError(f"--state-dict: {path}: holds a {type(obj).__name__}, not a state dict")
    try:
        model.load_state_dict(obj, strict=True)
    except Exception as e:
        raise ExportError(f"--state-dict: {path}: does not fit the module: {_short(e, 800)}") from e


def submodule(model: nn.Module, dotted: str, flag: str) -> nn.Module:
    current = model
    walked = []
    for part in dotted.split("."):
        if not part or not hasattr(current, part):
            children = ", ".join(n for n, _ in current.named_children()) or "none"
            where = ".".join(walked) or "the module"
            raise ExportError(f"{flag} {dotted!r}: {where} has no attribute {part!r} "
                              f"(its submodules: {children})")
        current = getattr(current, part)
        walked.append(part)
    if not isinstance(current, nn.Module):
        raise ExportError(f"{flag} {dotted!r}: is a {type(current).__name__}, not a torch.nn.Module")
    return current


def read_feature_names(args) -> List[str]:
    if args.features is not None:
        return [n.strip() for n in args.features.split(",")]
    try:
        with open(args.features_file, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise ExportError(f"--features-file: {args.features_file}: {e.strerror}") from e
    names = [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]
    if not names:
        raise ExportError(f"--features-file: {args.features_file}: names no features")
    return names


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="export_model.py",
        description="Export a PyTorch model for Reflex as backbone.pt + head.pt + manifest.json.",
        epilog="Exit status 0 on success, 2 on bad input. See the top of this file for details.")
    p.add_argument("--module", required=True, metavar="FILE.py:FACTORY",
                   help="function, class or nn.Module instance giving the model")
    p.add_argument("--factory-kwargs", metavar="JSON", help="keyword arguments for FACTORY, as a JSON object")
    p.add_argument("--state-dict", metavar="W.pt", help="weights to load into the model first (strict)")
    split = p.add_mutually_exclusive_group(required=True)
    split.add_argument("--backbone", metavar="ATTR", help="dotted path of the backbone submodule (with --head)")
    split.add_argument("--split-index", type=int, metavar="K",
                       help="for an nn.Sequential: layers [0,K) are the backbone, [K,end) the head")
    p.add_argument("--head", metavar="ATTR", help="dotted path of the head submodule (with --backbone)")
    feats = p.add_mutually_exclusive_group(required=True)
    feats.add_argument("--features", metavar="a,b,c", help="input column names, in order, comma-separated")
    feats.add_argument("--features-file", metavar="FILE", help="input column names, one per line")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    p.add_argument("--head-output", choices=("auto",) + HEAD_OUTPUTS, default="auto",
                   help="what the head returns (default auto: probability iff it ends in a sigmoid)")
    p.add_argument("--class-names", metavar="a,b,c",
                   help="the head's classes in output order (default 0,1,...; binary: 0,1)")
    p.add_argument("--adapter-hidden", type=int, metavar="N", help="tanh units in the adapter (default: width)")
    p.add_argument("--skip-full-check", action="store_true",
                   help="do not require the model's forward to equal head(backbone(x))")
    return p


def main(argv: Optional[Iterable[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.backbone is not None and args.head is None:
        parser.error("--backbone needs --head")
    if args.split_index is not None and args.head is not None:
        parser.error("--split-index and --head cannot be used together")
    try:
        kwargs = None
        if args.factory_kwargs:
            try:
                kwargs = json.loads(args.factory_kwargs)
            except json.JSONDecodeError as e:
                raise ExportError(f"--factory-kwargs: not valid JSON: {e}") from e
            if not isinstance(kwargs, dict):
                raise ExportError("--factory-kwargs: must be a JSON object")
        names = read_feature_names(args)
        model = load_module(args.module, kwargs)
        if args.state_dict:
            load_state_dict(model, args.state_dict)
        if args.split_index is not None:
            if not isinstance(model, nn.Sequential):
                raise ExportError(f"--split-index: the model is a {type(model).__name__}, not an "
                                  f"nn.Sequential; use --backbone and --head")
            k = args.split_index
            if not 1 <= k < len(model):
                raise ExportError(f"--split-index {k}: must be between 1 and {len(model) - 1} "
                                  f"(the Sequential has {len(model)} layers)")
            layers = list(model.children())
            backbone, head = nn.Sequential(*layers[:k]), nn.Sequential(*layers[k:])
        else:
            backbone = submodule(model, args.backbone, "--backbone")
            head = submodule(model, args.head, "--head")
        full = None if args.skip_full_check else model
        classes = None if args.class_names is None else [c.strip() for c in args.class_names.split(",")]
        manifest = export(backbone, head, names, args.out, args.head_output, full_model=full,
                          adapter_hidden=args.adapter_hidden, class_names=classes)
    except ExportError as e:
        print(f"export_model.py: error: {e}", file=sys.stderr)
        return 2
    done = {"script": "scripted", "trace": "traced"}
    if manifest["head_kind"] == "binary":
        kind = f"binary, {manifest['head_output']}"
    else:
        plural = {"logit": "logits", "probability": "probabilities"}[manifest["head_output"]]
        kind = f"{manifest['num_classes']}-class softmax, {plural}"
    print(f"wrote {os.path.join(args.out, MANIFEST_FILE)}: {len(manifest['feature_names'])} features -> "
          f"backbone ({done[manifest['compiled_with']['backbone']]}, width {manifest['width']}) -> "
          f"head ({done[manifest['compiled_with']['head']]}, {kind}; classes "
          f"{', '.join(manifest['class_names'])})")
    if manifest["head_kind"] == "softmax" and manifest["num_classes"] == 2:
        print("a 2-class softmax head is served as a binary model: the probability of class "
              f"{manifest['class_names'][1]!r}, from the logit z1 - z0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
