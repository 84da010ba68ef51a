#!/usr/bin/python3
"""Runs the README's quick start for your own model, command by command, exactly as written.

  /usr/bin/python3 tests/tools/quickstart_test.py --repo REPO --bin BUILD/bin [--print] [unittest args]

The commands are the ```sh blocks between "<!-- quickstart:begin -->" and "<!-- quickstart:end -->"
in README.md, so the quick start cannot rot. They run in order, each with bash from a scratch
folder laid out like the repository (tools/, examples/, deploy/, configs/ link to REPO; build/bin
links to --bin), so the commands' relative paths work unchanged and run/ stays out of the
source tree. Every command must exit 0. Then the healed fleet must beat the frozen model on the
held-out Fahrenheit rows, and the fleet's version-0 scores must equal PyTorch's within 1e-5.
The cluster is stopped whatever happens. --print shows each command's output (to refresh the
README's).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True

REPO = None
BIN = None
PRINT = False
BEGIN, END = "<!-- quickstart:begin -->", "<!-- quickstart:end -->"
MAX_COMMANDS = 10
COMMAND_TIMEOUT_S = 240


def quickstart_commands(readme_text):
    """The ```sh blocks between the markers, one command each (backslash-newlines joined)."""
    start, end = readme_text.find(BEGIN), readme_text.find(END)
    if start < 0 or end < start:
        raise AssertionError("README.md has no %s ... %s section" % (BEGIN, END))
    section = readme_text[start:end]
    blocks = re.findall(r"^```sh\n(.*?)^```", section, re.M | re.S)
    return [b.replace("\\\n", " ").strip() for b in blocks]


class QuickstartTest(unittest.TestCase):
    def test_the_readme_quick_start_heals_a_users_own_model(self):
        with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
            commands = quickstart_commands(f.read())
        self.assertTrue(commands, "no commands in the quick start")
        self.assertLessEqual(len(commands), MAX_COMMANDS, "the quick start promises at most ten commands")
        for c in commands:
            self.assertNotIn("\n", c, "one command per block: %r" % c)

        work = tempfile.mkdtemp(prefix="reflex_quickstart_")
        try:
            for name in ("tools", "examples", "deploy", "configs"):
                os.symlink(os.path.join(REPO, name), os.path.join(work, name))
            os.makedirs(os.path.join(work, "build"))
            os.symlink(BIN, os.path.join(work, "build", "bin"))
            started = time.monotonic()
            for i, command in enumerate(commands, 1):
                t0 = time.monotonic()
                r = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=work, capture_output=True, text=True,
                                   timeout=COMMAND_TIMEOUT_S)
                output = r.stdout + r.stderr
                if PRINT:
                    print("\n$ %s   # %d: %.1f s, exit %d\n%s" % (command, i, time.monotonic() - t0, r.returncode, output),
                          flush=True)
                self.assertEqual(r.returncode, 0, "quick start command %d failed:\n$ %s\n%s" % (i, command, output))
            print("quick start: %d commands in %.0f s" % (len(commands), time.monotonic() - started), flush=True)

            sys.path.insert(0, os.path.join(REPO, "examples", "own_model"))
            import compare  # noqa: E402  (examples/own_model/compare.py)
            s = compare.summarise(os.path.join(work, "run", "pump"))
            self.assertGreater(s["fleet_accuracy"], s["frozen_accuracy"],
                               "the healed fleet (%s) must beat the frozen model on the held-out drifted rows: %r"
                               % (s["fleet_versions"], s))
            self.assertTrue(all(v > 0 for v in s["fleet_versions"]), "the held-out rows were scored by healed versions: %r" % s)
            self.assertGreater(s.get("v0_rows", 0), 0, "some stream rows were scored by version 0: %r" % s)
            self.assertLessEqual(s["v0_max_difference"], 1e-5, "version 0 scores as PyTorch does: %r" % s)
        finally:
            run_dir = os.path.join(work, "run", "pump", "cluster")
            if os.path.isdir(os.path.join(run_dir, "pids")):
                subprocess.run(["bash", os.path.join(REPO, "deploy", "local", "cluster.sh"), "down", "--run-dir", run_dir],
                               capture_output=True, timeout=60)
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--print", action="store_true")
    args, rest = parser.parse_known_args()
    REPO, BIN, PRINT = os.path.abspath(args.repo), os.path.abspath(args.bin), args.print
    unittest.main(argv=[sys.argv[0]] + rest)
