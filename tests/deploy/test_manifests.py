#!/usr/bin/python3
"""Checks that the deployment files agree with the services' configuration contract.

configs/{coordinator,replica,healer}.toml are the contract: ports, keys and defaults. This test
checks that deploy/k8s, deploy/systemd and deploy/local/cluster.sh use the same ports and only
keys that exist. When --bin holds the service binaries, it also checks that their
`--print-config` output equals the TOML files.

Usage: /usr/bin/python3 tests/deploy/test_manifests.py --repo REPO [--bin BUILD/bin] [unittest args]
(Debian's /usr/bin/python3 has yaml and tomllib.)
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
import unittest

import yaml

REPO = None
BIN = None

SERVICES = ("coordinator", "replica", "healer")

# Named container/Service ports -> the TOML key (of that service's section) that sets the port.
PORT_KEYS = {
    "coordinator": {
        "actor": "actor_port",
        "control": "control_endpoint",
        "weights-pub": "weights_publish",
        "weights-snap": "weights_snapshot",
        "metrics": "metrics_address",
        "probe": "probe_port",
    },
    "replica": {"scoring": "scoring_endpoint", "metrics": "metrics_address", "probe": "probe_port"},
    "healer": {"metrics": "metrics_address", "probe": "probe_port"},
}

# Keys whose values may differ between configs/*.toml and the ConfigMap: binds and hosts only.
# For endpoint/address keys the port must still be the same.
BIND_OR_HOST_KEYS = {
    "coordinator": {"actor_host", "control_endpoint", "weights_publish", "weights_snapshot", "metrics_address"},
    "replica": {"scoring_endpoint", "coordinator_host", "weights_publish", "weights_snapshot", "metrics_address"},
    "healer": {"coordinator_host", "metrics_address"},
}

# Keys the ConfigMap must bind on all interfaces (a pod's 127.0.0.1 is unreachable from outside it).
MUST_BIND_ALL = {
    "coordinator": {"actor_host", "control_endpoint", "weights_publish", "weights_snapshot", "metrics_address"},
    "replica": {"scoring_endpoint", "metrics_address"},
    "healer": {"metrics_address"},
}
COORDINATOR_SERVICE = "reflex-coordinator"
CONFIGMAP_NAME = "reflex-config"


def port_of(value):
    """The port of 7400, "127.0.0.1:9400" or "tcp://127.0.0.1:7401"."""
    if isinstance(value, int):
        return value
    match = re.fullmatch(r"(?:tcp://)?(.*):(\d+)", str(value))
    if not match:
        raise ValueError(f"no port in {value!r}")
    return int(match.group(2))


def host_of(value):
    match = re.fullmatch(r"(?:tcp://)?(.*):(\d+)", str(value))
    return match.group(1) if match else str(value)


def load_configs():
    configs = {}
    for service in SERVICES:
        with open(os.path.join(REPO, "configs", f"{service}.toml"), "rb") as f:
            configs[service] = tomllib.load(f)
    return configs


def all_config_keys(configs):
    """{(section, key)} over every configs/*.toml."""
    return {(section, key) for config in configs.values() for section, table in config.items() for key in table}


def k8s_files():
    folder = os.path.join(REPO, "deploy", "k8s")
    return sorted(os.path.join(folder, name) for name in os.listdir(folder) if name.endswith((".yaml", ".yml")))


def k8s_documents():
    """[(file, document)] for every non-empty YAML document in deploy/k8s."""
    documents = []
    for path in k8s_files():
        with open(path) as f:
            for document in yaml.safe_load_all(f):
                if document:
                    documents.append((os.path.basename(path), document))
    return documents


def workloads():
    """[(file, workload name, service, container)] for every container of every workload."""
    result = []
    for name, document in k8s_documents():
        if document.get("kind") not in ("Deployment", "StatefulSet", "DaemonSet"):
            continue
        for container in document["spec"]["template"]["spec"]["containers"]:
            service = service_of_container(container)
            result.append((name, document["metadata"]["name"], service, container, document))
    return result


def container_argv(container):
    return list(container.get("command", [])) + list(container.get("args", []))


def service_of_container(container):
    """coordinator/replica/healer from the container's --config FILE (or its reflex-X binary)."""
    argv = container_argv(container)
    for i, arg in enumerate(argv):
        if arg == "--config" and i + 1 < len(argv):
            return os.path.basename(argv[i + 1]).removesuffix(".toml")
    for arg in argv:
        match = re.search(r"reflex-(coordinator|replica|healer)\b", arg)
        if match:
            return match.group(1)
    return None


def services_k8s():
    return [(name, d) for name, d in k8s_documents() if d.get("kind") == "Service"]


def configmap():
    for _, document in k8s_documents():
        if document.get("kind") == "ConfigMap" and document["metadata"]["name"] == CONFIGMAP_NAME:
            return document
    raise AssertionError(f"no ConfigMap {CONFIGMAP_NAME} in deploy/k8s")


def set_pairs_in_argv(argv):
    """[(section, key)] of every `--set SECTION.KEY=VALUE` / `--set=SECTION.KEY=VALUE` in an argv."""
    pairs = []
    for i, arg in enumerate(argv):
        value = None
        if arg == "--set" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--set="):
            value = arg[len("--set="):]
        if value is not None:
            match = re.fullmatch(r"([A-Za-z_]+)\.([A-Za-z_]+)=.*", value)
            pairs.append((match.group(1), match.group(2)) if match else (None, value))
    return pairs


SET_IN_TEXT = re.compile(r"""--set[= ]\s*["']?([A-Za-z_]+)\.([A-Za-z_]+)=""")


class DeployFilesTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.configs = load_configs()

    # --- parsing -------------------------------------------------------------------------------

    def test_EveryManifestParsesAsYaml(self):
        files = k8s_files()
        self.assertTrue(files, "no YAML files in deploy/k8s")
        for path in files:
            with self.subTest(file=os.path.basename(path)):
                with open(path) as f:
                    documents = [d for d in yaml.safe_load_all(f) if d is not None]
                self.assertTrue(documents, f"{path} has no YAML document")
                for document in documents:
                    self.assertIn("kind", document, f"{path}: a document without kind")

    def test_KustomizationListsOnlyExistingFilesAndEveryDefaultWorkload(self):
        with open(os.path.join(REPO, "deploy", "k8s", "kustomization.yaml")) as f:
            kustomization = yaml.safe_load(f)
        resources = kustomization["resources"]
        for resource in resources:
            self.assertTrue(os.path.exists(os.path.join(REPO, "deploy", "k8s", resource)), resource)
        for needed in ("namespace.yaml", "configmap.yaml", "coordinator.yaml", "healer.yaml", "replica.yaml"):
            self.assertIn(needed, resources)

    def test_ClusterScriptIsValidBash(self):
        script = os.path.join(REPO, "deploy", "local", "cluster.sh")
        result = subprocess.run(["bash", "-n", script], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, f"bash -n {script}: {result.stderr}")

    # --- ports ---------------------------------------------------------------------------------

    def test_EveryWorkloadRunsAKnownServiceWithEveryPortOfItsConfig(self):
        found = set()
        for file, workload, service, container, _ in workloads():
            with self.subTest(file=file, workload=workload):
                self.assertIn(service, SERVICES, f"{workload}: cannot tell which service it runs (--config X.toml)")
                found.add(service)
                section = self.configs[service][service]
                ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
                self.assertEqual(set(ports), set(PORT_KEYS[service]),
                                 f"{workload}: container ports must be exactly the named ports of {service}.toml")
                for name, number in ports.items():
                    key = PORT_KEYS[service][name]
                    self.assertEqual(number, port_of(section[key]),
                                     f"{workload}: containerPort {name}={number} but {service}.{key} = {section[key]!r}")
        self.assertEqual(found, set(SERVICES), "every service needs a workload in deploy/k8s")

    def test_ProbesUseHealthzAndReadyzOnTheProbePort(self):
        for file, workload, service, container, _ in workloads():
            probe_port = self.configs[service][service]["probe_port"]
            named = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
            expected_paths = {"livenessProbe": "/healthz", "readinessProbe": "/readyz"}
            for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
                with self.subTest(file=file, workload=workload, probe=kind):
                    if kind != "startupProbe":
                        self.assertIn(kind, container, f"{workload} has no {kind}")
                    if kind not in container:
                        continue
                    get = container[kind].get("httpGet")
                    self.assertIsNotNone(get, f"{workload}: {kind} must be an httpGet")
                    port = get["port"]
                    port = named.get(port, port) if isinstance(port, str) else port
                    self.assertEqual(port, probe_port, f"{workload}: {kind} port {get['port']} != {service}.probe_port")
                    allowed = {expected_paths[kind]} if kind in expected_paths else {"/healthz", "/readyz"}
                    self.assertIn(get["path"], allowed, f"{workload}: {kind} path")

    def test_ServicePortsMatchTheConfigOfTheWorkloadTheySelect(self):
        services = services_k8s()
        self.assertTrue(services)
        names = {d["metadata"]["name"] for _, d in services}
        self.assertIn(COORDINATOR_SERVICE, names, "healers and replicas reach the coordinator through this Service")
        self.assertIn("reflex-replica", names)
        for file, document in services:
            name = document["metadata"]["name"]
            selector = document["spec"].get("selector", {})
            service = selector.get("app.kubernetes.io/component")
            with self.subTest(file=file, service=name):
                self.assertIn(service, SERVICES, f"Service {name} must select app.kubernetes.io/component")
                section = self.configs[service][service]
                for port in document["spec"]["ports"]:
                    self.assertIn(port.get("name"), PORT_KEYS[service], f"{name}: unknown port name")
                    expected = port_of(section[PORT_KEYS[service][port["name"]]])
                    self.assertEqual(port["port"], expected, f"{name}: port {port['name']}")
                    target = port.get("targetPort", port["port"])
                    if isinstance(target, int):
                        self.assertEqual(target, expected, f"{name}: targetPort {port['name']}")
                    else:
                        self.assertEqual(target, port["name"], f"{name}: targetPort must name the same port")
        coordinator_ports = {p["name"] for _, d in services if d["metadata"]["name"] == COORDINATOR_SERVICE
                             for p in d["spec"]["ports"]}
        self.assertEqual(coordinator_ports, {"actor", "control", "weights-pub", "weights-snap", "metrics"})

    def test_PrometheusAnnotationsNameTheMetricsPort(self):
        objects = [(w, d["spec"]["template"]["metadata"].get("annotations", {}), s)
                   for _, w, s, _, d in workloads()]
        objects += [(d["metadata"]["name"], d["metadata"].get("annotations", {}),
                     d["spec"].get("selector", {}).get("app.kubernetes.io/component")) for _, d in services_k8s()]
        for name, annotations, service in objects:
            if "prometheus.io/port" not in annotations:
                continue
            with self.subTest(object=name):
                self.assertEqual(int(annotations["prometheus.io/port"]),
                                 port_of(self.configs[service][service]["metrics_address"]))
                self.assertEqual(annotations.get("prometheus.io/path", "/metrics"), "/metrics")
        replica_annotations = [a for _, _, s, _, d in workloads() if s == "replica"
                               for a in [d["spec"]["template"]["metadata"].get("annotations", {})]]
        self.assertTrue(all(a.get("prometheus.io/scrape") == "true" for a in replica_annotations))

    def test_ClusterScriptHasNoFixedPortsAndSetsEveryPortOfEveryService(self):
        with open(os.path.join(REPO, "deploy", "local", "cluster.sh")) as f:
            text = f.read()
        self.assertIn("--base-port)", text, "cluster.sh must take --base-port N")
        self.assertNotRegex(text, r"--set \"[a-z]+\.[a-z_]+=[^\"$]*\d{4,5}\"", "a fixed port in a --set")
        pairs = set(SET_IN_TEXT.findall(text))
        for service in SERVICES:
            for key in PORT_KEYS[service].values():
                with self.subTest(service=service, key=key):
                    self.assertIn((service, key), pairs, f"cluster.sh must set {service}.{key} from the base port")
        for service, key in (("healer", "coordinator_port"), ("replica", "coordinator_port"),
                             ("replica", "weights_publish"), ("replica", "weights_snapshot")):
            self.assertIn((service, key), pairs)

    def test_ClusterScriptMakesKeysAndCertificates(self):
        with open(os.path.join(REPO, "deploy", "local", "cluster.sh")) as f:
            text = f.read()
        self.assertIn("reflexctl\" keygen", text)
        self.assertIn("gen-tls.sh", text)
        self.assertIn("--curve-keys", text)

    # --- secure by default ---------------------------------------------------------------------

    def test_ConfigsAndConfigMapAreSecureByDefault(self):
        documents = [(f"configs/{s}.toml", self.configs[s]) for s in SERVICES]
        data = configmap()["data"]
        documents += [(f"ConfigMap {s}.toml", tomllib.loads(data[f"{s}.toml"])) for s in SERVICES]
        for name, config in documents:
            with self.subTest(file=name):
                security = config.get("security", {})
                self.assertIs(security.get("tls"), True)
                self.assertIs(security.get("insecure"), False)
                if "curve" in security or not name.endswith("healer.toml"):
                    self.assertIs(security.get("curve"), True)

    def test_EveryWorkloadMountsItsKeysAndCertificatesReadableByItsUser(self):
        for file, workload, service, container, document in workloads():
            with self.subTest(file=file, workload=workload):
                pod = document["spec"]["template"]["spec"]
                mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
                self.assertIn("/var/lib/reflex/keys", mounts, "keys/ must be mounted (relative key_dir, tls_dir)")
                volume = next(v for v in pod["volumes"] if v["name"] == mounts["/var/lib/reflex/keys"])
                paths, modes = set(), [volume.get("projected", volume.get("secret", {})).get("defaultMode", 0o644)]
                sources = volume["projected"]["sources"] if "projected" in volume else [{"secret": volume["secret"]}]
                for source in sources:
                    paths |= {item["path"] for item in source["secret"].get("items", [])}
                security = self.configs[service]["security"]
                name = security["tls_name"]
                expected = {"tls/ca.pem", f"tls/{name}.pem", f"tls/{name}.key"}
                if security.get("curve"):
                    expected |= {security["key_name"] + ".key", security["key_name"] + ".pub"}
                self.assertTrue(expected <= paths, f"missing {sorted(expected - paths)}")
                context = pod.get("securityContext", {})
                if any(m & 0o040 == 0 for m in modes) and context.get("runAsUser", 0) != 0:
                    self.assertEqual(context.get("fsGroup"), context.get("runAsGroup"),
                                     "a secret without group read needs fsGroup = the pod's group")

    def test_UnitFilesMountTheKeysWhereTheConfigsLookForThem(self):
        systemd = os.path.join(REPO, "deploy", "systemd")
        for unit in sorted(n for n in os.listdir(systemd) if n.endswith(".service")):
            with self.subTest(unit=unit):
                with open(os.path.join(systemd, unit)) as f:
                    settings = dict(re.findall(r"^(\w+)=(.*)$", f.read(), re.M))
                self.assertRegex(settings.get("BindReadOnlyPaths", ""), r"^\S+:/var/lib/reflex/keys$")

    # --- --set keys ----------------------------------------------------------------------------

    def test_EverySetInTheManifestsNamesAKeyOfItsServiceConfig(self):
        count = 0
        for file, workload, service, container, _ in workloads():
            for section, key in set_pairs_in_argv(container_argv(container)):
                count += 1
                with self.subTest(file=file, workload=workload, set=f"{section}.{key}"):
                    self.assertTrue(key in self.configs[service].get(section, {}),
                                    f"{workload}: --set {section}.{key} is not a key of configs/{service}.toml")
        self.assertGreater(count, 0, "expected --set in the manifests (ids from the pod name)")

    def test_EverySetInUnitFilesAndClusterScriptNamesAKeyOfTheConfigs(self):
        known = all_config_keys(self.configs)
        files = [os.path.join(REPO, "deploy", "local", "cluster.sh")]
        systemd = os.path.join(REPO, "deploy", "systemd")
        files += sorted(os.path.join(systemd, n) for n in os.listdir(systemd) if n.endswith(".service"))
        for path in files:
            with open(path) as f:
                text = f.read()
            pairs = SET_IN_TEXT.findall(text)
            with self.subTest(file=os.path.relpath(path, REPO)):
                if path.endswith("cluster.sh") or "@" in os.path.basename(path):
                    self.assertTrue(pairs, f"{path}: expected --set overrides (ids, ports)")
                for section, key in pairs:
                    self.assertTrue((section, key) in known, f"{path}: --set {section}.{key} is not a key of configs/*.toml")
                    binary = re.search(r"ExecStart=\S*reflex-(\w+)", text)
                    if binary:
                        self.assertEqual(section, binary.group(1), f"{path}: --set {section}.{key} for reflex-{binary.group(1)}")

    def test_UnitFilesRunAsAServiceUserWithRestartAndCleanStop(self):
        systemd = os.path.join(REPO, "deploy", "systemd")
        expected_config = {
            "reflex-coordinator.service": "/etc/reflex/coordinator.toml",
            "reflex-replica@.service": "/etc/reflex/replica-%i.toml",
            "reflex-healer@.service": "/etc/reflex/healer-%i.toml",
        }
        for unit, config in expected_config.items():
            with self.subTest(unit=unit):
                with open(os.path.join(systemd, unit)) as f:
                    text = f.read()
                settings = dict(re.findall(r"^(\w+)=(.*)$", text, re.M))
                self.assertEqual(settings.get("Restart"), "on-failure")
                self.assertEqual(settings.get("KillSignal"), "SIGTERM")
                self.assertIn("TimeoutStopSec", settings)
                self.assertEqual(settings.get("WorkingDirectory"), "/var/lib/reflex")
                self.assertNotIn(settings.get("User", "root"), ("root", "0"))
                self.assertRegex(settings.get("ExecStart", ""), rf"--config {re.escape(config)}(\s|$)")

    # --- the ConfigMap -------------------------------------------------------------------------

    def test_ConfigMapTomlHasExactlyTheKeysAndValuesOfConfigs(self):
        data = configmap()["data"]
        self.assertEqual(set(data), {f"{s}.toml" for s in SERVICES})
        for service in SERVICES:
            embedded = tomllib.loads(data[f"{service}.toml"])
            reference = self.configs[service]
            with self.subTest(service=service):
                self.assertEqual({s: sorted(t) for s, t in embedded.items()},
                                 {s: sorted(t) for s, t in reference.items()},
                                 f"ConfigMap {service}.toml must have exactly the keys of configs/{service}.toml")
                for section, table in reference.items():
                    for key, value in table.items():
                        got = embedded[section][key]
                        if section == service and key in BIND_OR_HOST_KEYS[service]:
                            if not key.endswith("_host"):
                                self.assertEqual(port_of(got), port_of(value), f"{section}.{key}: port differs")
                        else:
                            self.assertEqual(got, value, f"{section}.{key} may differ only for binds/hosts")
                section = embedded[service]
                for key in MUST_BIND_ALL[service]:
                    self.assertEqual(host_of(section[key]), "0.0.0.0", f"{service}.{key} must bind 0.0.0.0 in a pod")
                for key in ("coordinator_host", "weights_publish", "weights_snapshot"):
                    if service != "coordinator" and key in section:
                        self.assertEqual(host_of(section[key]), COORDINATOR_SERVICE, f"{service}.{key}")

    def test_ContainersReadTheirConfigFromTheMountedConfigMap(self):
        keys = set(configmap()["data"])
        for file, workload, service, container, document in workloads():
            with self.subTest(workload=workload):
                argv = container_argv(container)
                config = argv[argv.index("--config") + 1]
                volumes = {v["name"]: v for v in document["spec"]["template"]["spec"].get("volumes", [])}
                mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
                directory, base = os.path.split(config)
                self.assertIn(directory, mounts, f"{workload}: nothing mounted at {directory}")
                volume = volumes[mounts[directory]]
                self.assertEqual(volume.get("configMap", {}).get("name"), CONFIGMAP_NAME)
                self.assertIn(base, keys)
                self.assertEqual(base, f"{service}.toml")

    def test_CoordinatorKeepsItsRegistryOnAPersistentVolume(self):
        (document,) = [d for _, d in k8s_documents() if d.get("kind") == "StatefulSet"
                       and d["metadata"]["name"] == "reflex-coordinator"]
        self.assertEqual(document["spec"]["replicas"], 1)
        container = document["spec"]["template"]["spec"]["containers"][0]
        claims = {c["metadata"]["name"] for c in document["spec"].get("volumeClaimTemplates", [])}
        registry_dir = self.configs["coordinator"]["coordinator"]["registry_dir"]
        mount = os.path.normpath(os.path.join(container.get("workingDir", "/"), registry_dir))
        mounted = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        self.assertIn(mount, mounted, f"registry_dir {registry_dir!r} resolves to {mount}: mount a claim there")
        self.assertIn(mounted[mount], claims)


# --- the binaries ----------------------------------------------------------------------------------

def binary(service):
    return os.path.join(BIN, f"reflex-{service}") if BIN else None


def print_config(service, config_path, *sets):
    argv = [binary(service), "--config", config_path, "--print-config"]
    for s in sets:
        argv += ["--set", s]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=REPO)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {result.returncode}: {result.stderr[-2000:]}")
    return json.loads(result.stdout)


class ServiceBinariesTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        missing = [s for s in SERVICES if not (BIN and os.access(binary(s), os.X_OK))]
        if missing:
            raise unittest.SkipTest(
                f"service binaries absent from --bin {BIN}: {', '.join('reflex-' + s for s in missing)} "
                "(build them to check --print-config against configs/*.toml)")
        cls.configs = load_configs()

    def test_PrintConfigEqualsTheTomlFiles(self):
        for service in SERVICES:
            with self.subTest(service=service):
                printed = print_config(service, os.path.join(REPO, "configs", f"{service}.toml"))
                self.assertEqual(printed, self.configs[service])

    def test_PrintConfigOfTheConfigMapEqualsItsToml(self):
        data = configmap()["data"]
        for service in SERVICES:
            with self.subTest(service=service), tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, f"{service}.toml")
                with open(path, "w") as f:
                    f.write(data[f"{service}.toml"])
                self.assertEqual(print_config(service, path), tomllib.loads(data[f"{service}.toml"]))

    def test_SetOverridesTheKeysTheDeploymentsOverride(self):
        overrides = {
            "coordinator": {"coordinator.probe_port": 19401, "coordinator.metrics_address": "0.0.0.0:19400"},
            "replica": {"replica.id": "replica-7", "replica.scoring_endpoint": "tcp://127.0.0.1:7506",
                        "replica.metrics_address": "127.0.0.1:9506", "replica.probe_port": 9606},
            "healer": {"healer.id": "healer-3", "healer.metrics_address": "127.0.0.1:9414", "healer.probe_port": 9415},
        }
        for service, sets in overrides.items():
            with self.subTest(service=service):
                printed = print_config(service, os.path.join(REPO, "configs", f"{service}.toml"),
                                       *[f"{k}={v}" for k, v in sets.items()])
                for dotted, value in sets.items():
                    section, key = dotted.split(".")
                    self.assertEqual(printed[section][key], value, dotted)


def main():
    global REPO, BIN
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", required=True, help="the repository root")
    parser.add_argument("--bin", default=None, help="folder with reflex-coordinator, reflex-replica, reflex-healer")
    args, rest = parser.parse_known_args()
    REPO = os.path.abspath(args.repo)
    BIN = os.path.abspath(args.bin) if args.bin else None
    unittest.main(argv=[sys.argv[0], "-v"] + rest)


if __name__ == "__main__":
    main()
