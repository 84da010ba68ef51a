#!/usr/bin/python3
"""Keeps the documents honest.

- OperationsConfigKeys: the configuration tables of docs/OPERATIONS.md list exactly the keys,
  with the defaults, that each service's `--print-config` prints for configs/<service>.toml.
- OperationsMetrics: every metric registered in actors/metrics.cc is listed in docs/OPERATIONS.md.
- Links: every relative link in README.md, docs/*.md, libs/wire/PROTOCOL.md, deploy/**/README.md
  and tools/**/README.md resolves inside the repository (the file exists; a #anchor exists as a
  heading of that file), and no document or source file refers to the old out-of-tree design notes
  (the folder "shared" beside the repository).

Usage: /usr/bin/python3 tests/docs/docs_test.py --repo REPO [--bin BUILD/bin] [unittest args]
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import unittest

REPO = None
BIN = None
SERVICES = ("coordinator", "replica", "healer")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def operations_tables():
    """{service: {"section.key": "default as JSON text"}} from docs/OPERATIONS.md."""
    tables, service = {}, None
    for line in read(os.path.join(REPO, "docs", "OPERATIONS.md")).splitlines():
        heading = re.match(r"^### reflex-(\w+)\s*$", line)
        if heading:
            service = heading.group(1)
            tables[service] = {}
            continue
        if line.startswith("#"):
            service = None
            continue
        row = re.match(r"^\| `([a-z_]+\.[a-z_]+)` \| `(.*?)` \|", line)
        if service and row:
            tables[service][row.group(1)] = row.group(2)
    return tables


class OperationsConfigKeys(unittest.TestCase):
    def test_config_tables_equal_print_config(self):
        if not BIN or not os.path.exists(os.path.join(BIN, "reflex-coordinator")):
            self.skipTest("service binaries not built (--bin)")
        tables = operations_tables()
        for service in SERVICES:
            with self.subTest(service=service):
                out = subprocess.run(
                    [os.path.join(BIN, f"reflex-{service}"), "--config",
                     os.path.join(REPO, "configs", f"{service}.toml"), "--print-config"],
                    capture_output=True, text=True, timeout=60, check=True).stdout
                printed = {f"{section}.{key}": json.dumps(value)
                           for section, keys in json.loads(out).items() for key, value in keys.items()}
                documented = tables.get(service, {})
                self.assertEqual(sorted(set(printed) - set(documented)), [],
                                 f"reflex-{service} keys missing from docs/OPERATIONS.md")
                self.assertEqual(sorted(set(documented) - set(printed)), [],
                                 f"docs/OPERATIONS.md lists keys reflex-{service} does not have")
                for key, value in printed.items():
                    self.assertEqual(json.loads(documented[key]), json.loads(value),
                                     f"default of {key} in docs/OPERATIONS.md")


class OperationsMetrics(unittest.TestCase):
    def test_every_registered_metric_is_documented(self):
        names = set(re.findall(r'"(reflex_[a-z0-9_]+)"', read(os.path.join(REPO, "actors", "metrics.cc"))))
        self.assertTrue(names, "no metric names found in actors/metrics.cc")
        doc = read(os.path.join(REPO, "docs", "OPERATIONS.md"))
        self.assertEqual(sorted(n for n in names if f"`{n}`" not in doc), [])


def documents():
    patterns = ["README.md", "docs/*.md", "libs/wire/PROTOCOL.md", "deploy/**/README.md", "tools/**/README.md"]
    found = set()
    for pattern in patterns:
        found.update(glob.glob(os.path.join(REPO, pattern), recursive=True))
    return sorted(found)


def anchor_of(heading):
    """GitHub's anchor for a heading text: lower case, punctuation dropped, blanks to hyphens."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    result, in_code = set(), False
    for line in read(path).splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and re.match(r"^#{1,6} ", line):
            result.add(anchor_of(line.lstrip("#").strip()))
    return result


def links(path):
    """Relative link targets of a markdown file: [text](target), outside code blocks."""
    out, in_code = [], False
    for number, line in enumerate(read(path).splitlines(), 1):
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        line = re.sub(r"`[^`]*`", "", line)
        for target in re.findall(r"\]\(([^)\s]+)\)", line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            out.append((number, target))
    return out


class Links(unittest.TestCase):
    def test_documents_exist(self):
        names = [os.path.relpath(p, REPO) for p in documents()]
        for required in ("README.md", "docs/DESIGN.md", "docs/OPERATIONS.md", "libs/wire/PROTOCOL.md"):
            self.assertIn(required, names)

    def test_every_relative_link_resolves_inside_the_repository(self):
        repo = os.path.realpath(REPO)
        broken = []
        for doc in documents():
            for number, target in links(doc):
                where = f"{os.path.relpath(doc, REPO)}:{number}: {target}"
                file_part, _, anchor = target.partition("#")
                dest = os.path.realpath(os.path.join(os.path.dirname(doc), file_part)) if file_part else os.path.realpath(doc)
                if not (dest == repo or dest.startswith(repo + os.sep)):
                    broken.append(where + " (outside the repository)")
                elif not os.path.exists(dest):
                    broken.append(where + " (no such file)")
                elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
                    broken.append(where + " (no such heading)")
        self.assertEqual(broken, [])

    def test_nothing_refers_to_shared(self):
        # Built from pieces so that this file does not match itself.
        outside, notes = "../" + "shared", "shared/" + "DESIGN"
        out = subprocess.run(["git", "-C", REPO, "grep", "-n", "-I", "-F", "-e", outside, "-e", notes],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.stdout, "", "references to the out-of-tree design notes (the design is docs/DESIGN.md)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", required=True)
    parser.add_argument("--bin", default=None)
    args, rest = parser.parse_known_args()
    REPO, BIN = args.repo, args.bin
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
