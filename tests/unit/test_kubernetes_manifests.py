"""deploy/kubernetes: the migration Job, the API and the relays, hardened and validated.

Each resource file is validated against Kubernetes' own schemas (kubernetes-validate,
pinned in the dev extra, strict: an unknown field fails); the rest is read as YAML.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.30.0"
IMAGE_USER = 10001
PLACEHOLDER = "change-me"


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((KUBERNETES / name).read_text())
    return document


def resource_files() -> list[Path]:
    return sorted(p for p in KUBERNETES.glob("*.yaml") if p.name != "kustomization.yaml")


def resources() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in resource_files():
        for document in yaml.safe_load_all(path.read_text()):
            yield path.name, document


def pod_spec(document: dict[str, Any]) -> dict[str, Any] | None:
    template = document.get("spec", {}).get("template")
    return None if template is None else template["spec"]


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in resources() if doc["kind"] == kind}


def args_value(args: list[str], option: str) -> str:
    return args[args.index(option) + 1]


def seconds(duration: str) -> int:
    found = re.fullmatch(r"(\d+)s", duration)
    assert found, duration
    return int(found[1])


def test_the_kustomization_lists_exactly_the_resource_files_present() -> None:
    kustomization = load("kustomization.yaml")
    listed = kustomization["resources"]
    assert len(listed) == len(set(listed))
    assert sorted(listed) == [path.name for path in resource_files()]
    assert kustomization["namespace"] == "pyproj-rpc"
    assert {image["name"] for image in kustomization["images"]} == {"pyproj-rpc"}


def test_every_resource_is_valid_for_the_pinned_kubernetes_version() -> None:
    validate = shutil.which("kubernetes-validate") or str(
        Path(sys.executable).parent / "kubernetes-validate"
    )
    checked = subprocess.run(
        [validate, "--strict", "--quiet", "-k", KUBERNETES_VERSION]
        + [str(path) for path in resource_files()],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_kustomize_renders_the_whole_set_when_kubectl_is_at_hand(tmp_path: Path) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: the resource files were validated one by one")
    rendered = subprocess.run(
        [kubectl, "kustomize", str(KUBERNETES)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr
    documents = [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]
    assert len(documents) == len(list(resources()))
    for document in documents:
        if document["kind"] != "Namespace":
            assert document["metadata"]["namespace"] == "pyproj-rpc", document["metadata"]


def test_every_pod_runs_non_root_read_only_without_capabilities_or_a_service_token() -> None:
    pods = [(name, spec) for name, doc in resources() if (spec := pod_spec(doc)) is not None]
    assert {name for name, _ in pods} == {
        "migrate-job.yaml",
        "api-deployment.yaml",
        "relay-deployment.yaml",
    }
    for name, spec in pods:
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["serviceAccountName"] == "pyproj-rpc", name
        assert spec["securityContext"] == {
            "runAsNonRoot": True,
            "runAsUser": IMAGE_USER,
            "runAsGroup": IMAGE_USER,
            "seccompProfile": {"type": "RuntimeDefault"},
        }, name
        for container in containers(spec):
            where = f"{name}: {container['name']}"
            assert container["securityContext"] == {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "runAsNonRoot": True,
                "capabilities": {"drop": ["ALL"]},
            }, where
            assert container["image"] == "pyproj-rpc:0.1.0", where
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"], where
            assert "memory" in container["resources"]["limits"], where


def test_the_migration_job_upgrades_then_creates_the_logins_then_schedules_the_sweeps() -> None:
    job = by_kind("Job")["pyproj-rpc-migrate"]
    spec = pod_spec(job)
    assert spec is not None
    assert spec["restartPolicy"] == "Never"
    steps = [container["args"] for container in containers(spec)]
    assert steps == [["db", "upgrade"], ["db", "logins"], ["schedule", "install"]]
    for container in containers(spec):
        urls = [e for e in container["env"] if e["name"] == "DATABASE_URL"]
        assert urls[0]["valueFrom"]["secretKeyRef"]["key"] == "OWNER_DATABASE_URL"
    logins = containers(spec)[1]
    assert {e["name"] for e in logins["env"]} == {
        "DATABASE_URL",
        "PYPROJ_API_DB_PASSWORD",
        "PYPROJ_RELAY_DB_PASSWORD",
    }


def secret_keys(container: dict[str, Any]) -> dict[str, str]:
    """Environment variable -> Secret key, for the values taken from Secrets."""
    return {
        e["name"]: e["valueFrom"]["secretKeyRef"]["key"]
        for e in container.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }


def test_the_api_and_the_relay_log_in_as_their_own_logins_never_as_the_owner() -> None:
    deployments = by_kind("Deployment")
    api_spec = pod_spec(deployments["pyproj-rpc-api"])
    relay_spec = pod_spec(deployments["pyproj-rpc-relay"])
    assert api_spec is not None
    assert relay_spec is not None
    assert secret_keys(api_spec["containers"][0]) == {
        "DATABASE_URL": "API_DATABASE_URL",
        "PYPROJ_JWT_SECRET": "PYPROJ_JWT_SECRET",
    }
    assert secret_keys(relay_spec["containers"][0]) == {
        "DATABASE_URL": "RELAY_DATABASE_URL",
        "PYPROJ_RELAY_WEBHOOK_SECRETS": "PYPROJ_RELAY_WEBHOOK_SECRETS",
    }
    urls = by_kind("Secret")["pyproj-rpc-database"]["stringData"]
    assert urls["API_DATABASE_URL"].startswith("postgresql://pyproj_api:")
    assert urls["RELAY_DATABASE_URL"].startswith("postgresql://pyproj_relay:")
    assert ":5432/" in urls["RELAY_DATABASE_URL"]  # a session: LISTEN needs one


def test_secrets_hold_placeholders_only() -> None:
    secrets = by_kind("Secret")
    assert set(secrets) == {"pyproj-rpc-database", "pyproj-rpc-secrets"}
    for name, secret in secrets.items():
        assert "data" not in secret, name  # nothing encoded that a reader could miss
        for key, value in secret["stringData"].items():
            assert PLACEHOLDER in value, f"{name}.{key}"


def test_the_api_is_probed_on_healthz_scaled_by_an_hpa_and_kept_up_by_a_pdb() -> None:
    deployment = by_kind("Deployment")["pyproj-rpc-api"]
    spec = pod_spec(deployment)
    assert spec is not None
    [api] = spec["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert api[probe]["httpGet"] == {"path": "/healthz", "port": "http"}, probe
    assert api["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    assert args_value(api["args"], "--port") == "8000"
    assert api["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "5"]
    assert spec["terminationGracePeriodSeconds"] > 5

    selector = deployment["spec"]["selector"]["matchLabels"]
    hpa = by_kind("HorizontalPodAutoscaler")["pyproj-rpc-api"]
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "pyproj-rpc-api",
    }
    assert hpa["spec"]["minReplicas"] >= 2
    pool_size = int(args_value(api["args"], "--pool-size"))
    assert hpa["spec"]["maxReplicas"] * pool_size <= 30  # the budget docs/deploy.md states
    pdb = by_kind("PodDisruptionBudget")["pyproj-rpc-api"]
    assert pdb["spec"]["selector"]["matchLabels"] == selector
    assert pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]  # a node can drain
    service = by_kind("Service")["pyproj-rpc-api"]
    assert service["spec"]["selector"] == selector


def test_relays_run_as_mentoring_relay_in_replicas_with_time_to_finish_rows_in_flight() -> None:
    deployment = by_kind("Deployment")["pyproj-rpc-relay"]
    assert deployment["spec"]["replicas"] >= 2  # safe: claims use FOR UPDATE SKIP LOCKED
    spec = pod_spec(deployment)
    assert spec is not None
    [relay] = spec["containers"]
    args = relay["args"]
    assert args[:3] == ["relay", "--role", "mentoring_relay"]
    assert "--schedule" not in args  # pg_cron runs the sweeps
    assert args_value(args, "--metrics-host") == "0.0.0.0"  # noqa: S104 (probed by the kubelet)
    assert relay["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert args_value(args, "--metrics-port") == "9464"
    # SIGTERM: in-flight deliveries finish within --timeout; then the outcomes are recorded.
    assert spec["terminationGracePeriodSeconds"] >= seconds(args_value(args, "--timeout")) + 15
    assert "lifecycle" not in relay  # no traffic to drain before SIGTERM
    assert "$(RELAY_WEBHOOK_URL)" in args
    env = {e["name"] for e in relay["env"]}
    assert "RELAY_WEBHOOK_URL" in env


def test_network_policies_deny_by_default_and_let_each_pod_reach_only_what_it_needs() -> None:
    policies = by_kind("NetworkPolicy")
    deny = policies["pyproj-rpc-default-deny"]["spec"]
    assert deny["podSelector"] == {"matchLabels": {"app.kubernetes.io/part-of": "pyproj-rpc"}}
    assert deny["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny
    assert "egress" not in deny

    def ports(rules: list[dict[str, Any]]) -> set[int]:
        return {port["port"] for rule in rules for port in rule.get("ports", [])}

    api, relay, migrate = (
        policies[f"pyproj-rpc-{name}"]["spec"] for name in ("api", "relay", "migrate")
    )
    assert ports(api["ingress"]) == {8000}
    assert ports(api["egress"]) == {53, 5432, 6543, 443}
    assert ports(relay["ingress"]) == {9464}
    assert ports(relay["egress"]) == {53, 5432, 443}
    assert "ingress" not in migrate
    assert ports(migrate["egress"]) == {53, 5432}
    labels = {
        doc["metadata"]["name"]: pod_spec_labels(doc) for _, doc in resources() if pod_spec(doc)
    }
    for name, pod_labels in labels.items():
        assert pod_labels["app.kubernetes.io/part-of"] == "pyproj-rpc", name


def pod_spec_labels(document: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = document["spec"]["template"]["metadata"]["labels"]
    return labels
