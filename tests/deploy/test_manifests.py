"""The Kubernetes manifests render, validate offline against the API schemas, and agree
with each other and with the service's own settings.

Rendering uses `kustomize_lite` (kustomize is not installable from the project's own
files); where a real `kubectl` is on PATH the same overlays are also rendered with
`kubectl kustomize` and must come out identical. Schemas come from the
`kubernetes-validate` wheel (offline, strict: unknown fields are errors).
"""
from __future__ import annotations

import math
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from dockerfile_lite import parse as parse_dockerfile
from kustomize_lite import Resource, UnsupportedKustomization, config_map_hash, render

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "k8s"
KUSTOMIZATIONS = [K8S / "base", *sorted(p for p in (K8S / "overlays").iterdir() if p.is_dir())]
# Oldest Kubernetes minor the manifests promise to work on, and the newest schema shipped.
KUBERNETES_VERSIONS = ("1.27.0", kubernetes_validate.latest_version())
# nginx waits this much longer than the service's deadline, so the service's own
# 504 problem+json (not nginx's HTML page) reaches the client.
INGRESS_GRACE_S = 5
NGINX = "nginx.ingress.kubernetes.io/"
SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
MEMORY_UNITS = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}


def _by_kind(resources: list[Resource], kind: str) -> Resource:
    found = [r for r in resources if r["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def _container(resources: list[Resource]) -> dict[str, Any]:
    containers = _by_kind(resources, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def _cpu(value: str) -> float:
    m = CPU.match(str(value))
    assert m, value
    return float(m[1]) / (1000 if m[2] else 1)


def _memory(value: str) -> int:
    m = re.match(r"^(\d+)(Ki|Mi|Gi)$", str(value))
    assert m, f"memory {value!r}: use Ki/Mi/Gi"
    return int(m[1]) * MEMORY_UNITS[m[2]]


def _nginx_size(value: str) -> int:
    m = re.match(r"^(\d+)([kmg]?)$", value.lower())
    assert m, value
    return int(m[1]) * SIZE_UNITS[m[2]]


@pytest.fixture(scope="module", params=KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(K8S)))
def rendered(request: pytest.FixtureRequest) -> list[Resource]:
    return render(request.param)


@pytest.fixture(scope="module")
def overlay() -> list[Resource]:
    return render(K8S / "overlays" / "example")


def _config_map(resources: list[Resource]) -> dict[str, str]:
    return _by_kind(resources, "ConfigMap")["data"]


# --- schema validation -----------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_rendered_resource_validates_strictly(rendered: list[Resource], version: str) -> None:
    for res in rendered:
        kubernetes_validate.validate(res, version, strict=True)


def test_every_plain_manifest_file_validates() -> None:
    """Manifests that are whole objects (not kustomizations or patches) validate alone too."""
    checked = 0
    for path in sorted(K8S.rglob("*.yaml")):
        if path.name.startswith("kustomization") or path.stem.endswith("-patch"):
            continue
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            kubernetes_validate.validate(doc, KUBERNETES_VERSIONS[-1], strict=True)
            checked += 1
    assert checked >= 7


def test_validation_rejects_a_misspelt_field() -> None:
    """Strict validation is really on: a typo in a probe is an error, not ignored."""
    deployment = _by_kind(render(K8S / "base"), "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["periodSecond"] = 5
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


# --- rendering ---------------------------------------------------------------------------


def test_overlay_renders_with_namespace_image_and_merged_config(overlay: list[Resource]) -> None:
    base = render(K8S / "base")
    kinds = lambda rs: {(r["kind"], r["metadata"]["name"]) for r in rs if r["kind"] != "ConfigMap"}
    assert kinds(overlay) >= kinds(base)
    assert _config_map(overlay) != _config_map(base), "the overlay's merged limits differ"
    assert _config_map(overlay).keys() == _config_map(base).keys()
    assert {r["metadata"].get("namespace") for r in overlay} == {"govreport"}
    assert _container(overlay)["image"].startswith("registry.example.com/")
    assert _container(overlay)["image"] != _container(base)["image"]
    name = _by_kind(overlay, "ConfigMap")["metadata"]["name"]
    assert name == f"govreport-extract-limits-{config_map_hash(_config_map(overlay))}"
    assert _container(overlay)["envFrom"] == [{"configMapRef": {"name": name}}]


def test_config_change_changes_the_configmap_name(tmp_path: Path) -> None:
    """The hash suffix is what rolls the pods when a limit changes."""
    assert config_map_hash({"A": "1"}) != config_map_hash({"A": "2"})
    (tmp_path / "kustomization.yaml").write_text("resources: []\nsecretGenerator: []\n")
    with pytest.raises(UnsupportedKustomization):
        render(tmp_path)


KUBECTL = shutil.which("kubectl")  # part of this machine kind's image (google-cloud-cli), so of CI's too


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(K8S)))
def test_renderer_agrees_with_kubectl_kustomize(directory: Path) -> None:
    assert KUBECTL, "kubectl (with its built-in kustomize) is expected on PATH to check the renderer against"
    proc = subprocess.run(
        [KUBECTL, "kustomize", str(directory)],
        capture_output=True, text=True, timeout=120, check=True,
    )
    theirs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    key = lambda r: (r["kind"], r["metadata"]["name"])  # noqa: E731
    assert sorted(render(directory), key=key) == sorted(theirs, key=key)


# --- pod hardening ---------------------------------------------------------------------


def test_pod_is_hardened(rendered: list[Resource]) -> None:
    pod = _by_kind(rendered, "Deployment")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    uid = parse_dockerfile(REPO / "Dockerfile").final.last("USER").args.split(":")[0]
    assert str(pod["securityContext"]["runAsUser"]) == uid, "same uid as the image's USER"
    sc = _container(rendered)["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    account = _by_kind(rendered, "ServiceAccount")
    assert account["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == account["metadata"]["name"]


def test_tmp_is_the_only_writable_path_and_is_an_emptydir(rendered: list[Resource]) -> None:
    pod = _by_kind(rendered, "Deployment")["spec"]["template"]["spec"]
    mounts = _container(rendered)["volumeMounts"]
    assert [m["mountPath"] for m in mounts] == ["/tmp"]
    volume = next(v for v in pod["volumes"] if v["name"] == mounts[0]["name"])
    assert "emptyDir" in volume and "sizeLimit" in volume["emptyDir"]


# --- probes, ports, wiring ---------------------------------------------------------------


def test_probes_point_at_the_service_endpoints(rendered: list[Resource]) -> None:
    container = _container(rendered)
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] in ports
    env = {e["name"]: e["value"] for e in container["env"]}
    assert ports["http"] == int(env["PORT"]) == 8000
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 30, "time to import and fork workers"


def test_service_pdb_hpa_and_policy_select_the_pods(rendered: list[Resource]) -> None:
    deployment = _by_kind(rendered, "Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert "replicas" not in deployment["spec"], "the HPA owns the replica count"
    service = _by_kind(rendered, "Service")
    assert service["spec"]["selector"].items() <= labels.items()
    port_names = {p["name"] for p in _container(rendered)["ports"]}
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names
    pdb = _by_kind(rendered, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    hpa = _by_kind(rendered, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": deployment["metadata"]["name"],
    }
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    assert hpa["spec"]["minReplicas"] >= 2, "one pod may be disrupted while one still serves"
    assert pdb["spec"]["maxUnavailable"] < hpa["spec"]["minReplicas"]


def test_network_policy_admits_only_the_gateway_namespace(rendered: list[Resource]) -> None:
    policy = _by_kind(rendered, "NetworkPolicy")
    labels = _by_kind(rendered, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    [rule] = policy["spec"]["ingress"]
    [peer] = rule["from"]
    assert set(peer) == {"namespaceSelector"}, "namespace only, no ipBlock or wide podSelector"
    assert list(peer["namespaceSelector"]["matchLabels"]) == ["kubernetes.io/metadata.name"]
    assert [p["port"] for p in rule["ports"]] == [_container(rendered)["ports"][0]["containerPort"]]
    assert policy["spec"]["egress"] == []


# --- limits agree with the service's settings -------------------------------------------


def test_configmap_keys_are_real_settings_and_parse(
    rendered: list[Resource], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.settings import Settings, env_name

    data = _config_map(rendered)
    known = {env_name(field) for field in Settings.model_fields}
    assert set(data) <= known, f"unknown settings: {set(data) - known}"
    for key, value in data.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.workers == int(data["GOVREPORT_WORKERS"])


def test_base_request_limits_are_the_settings_defaults() -> None:
    from app.settings import Settings

    data = _config_map(render(K8S / "base"))
    defaults = Settings.model_fields
    assert int(data["GOVREPORT_MAX_UPLOAD_BYTES"]) == defaults["max_upload_bytes"].default
    assert float(data["GOVREPORT_REQUEST_DEADLINE_SECONDS"]) == defaults["request_deadline_seconds"].default
    assert int(data["GOVREPORT_MAX_QUEUE"]) == defaults["max_queue"].default


def test_workers_fit_the_cpu_and_memory_limits(rendered: list[Resource]) -> None:
    """os.cpu_count() in a pod is the node's; the pool must be sized to the limit."""
    data = _config_map(rendered)
    limits = _container(rendered)["resources"]["limits"]
    requests = _container(rendered)["resources"]["requests"]
    workers = int(data["GOVREPORT_WORKERS"])
    assert workers == math.ceil(_cpu(limits["cpu"]))
    assert _cpu(requests["cpu"]) <= _cpu(limits["cpu"])
    assert _memory(requests["memory"]) <= _memory(limits["memory"])


def test_grace_period_outlasts_the_deadline(rendered: list[Resource]) -> None:
    pod = _by_kind(rendered, "Deployment")["spec"]["template"]["spec"]
    deadline = float(_config_map(rendered)["GOVREPORT_REQUEST_DEADLINE_SECONDS"])
    pre_stop = _container(rendered)["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    assert pod["terminationGracePeriodSeconds"] > deadline + float(pre_stop[1])


def test_ingress_annotations_match_the_service_limits(overlay: list[Resource]) -> None:
    ingress = _by_kind(overlay, "Ingress")
    notes = ingress["metadata"]["annotations"]
    data = _config_map(overlay)
    assert _nginx_size(notes[NGINX + "proxy-body-size"]) == int(data["GOVREPORT_MAX_UPLOAD_BYTES"])
    deadline = float(data["GOVREPORT_REQUEST_DEADLINE_SECONDS"])
    assert float(notes[NGINX + "proxy-read-timeout"]) == deadline + INGRESS_GRACE_S
    assert float(notes[NGINX + "proxy-send-timeout"]) == deadline + INGRESS_GRACE_S
    service = _by_kind(overlay, "Service")
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] == service["metadata"]["name"]
            assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    policy = _by_kind(overlay, "NetworkPolicy")
    gateway = policy["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert gateway == {"kubernetes.io/metadata.name": "ingress-nginx"}
