"""A small kustomize renderer for the subset of kustomize that `k8s/` uses.

Why it exists: kustomize is not on PyPI, Debian's `kubernetes-client` is too old for
`patches:`, and the GitHub release binaries are out of reach, so CI cannot install a
real kustomize from the project's own files. This renders `k8s/base` and
`k8s/overlays/*` well enough to validate the output against the Kubernetes schemas.
Where a real `kubectl` is on PATH, tests/deploy/test_manifests.py also renders with
`kubectl kustomize` and checks both agree.

Supported (anything else raises `UnsupportedKustomization`, never silently ignored):
  resources          files and directories holding a kustomization.yaml
  namespace          set on every resource (all resources used here are namespaced)
  images             name / newName / newTag / digest on container images
  configMapGenerator envs / literals, behavior create|merge|replace, kustomize's
                     content-hash name suffix, and the rename of references to it
  patches            `path:` strategic-merge patches: maps merge recursively, lists
                     of maps that all have `name` merge by name, other lists replace
"""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

Resource = dict[str, Any]

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SUPPORTED_KEYS = frozenset(
    {"apiVersion", "kind", "resources", "namespace", "images", "configMapGenerator", "patches"}
)
# kustomize's hash encoding swaps these hex digits for letters (avoids vowels/numbers-only names).
HASH_LETTERS = str.maketrans({"0": "g", "1": "h", "3": "k", "a": "m", "e": "t"})
# Go's encoding/json escapes these; kustomize hashes the Go encoding.
GO_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


class UnsupportedKustomization(ValueError):
    """The kustomization uses a feature this renderer does not implement."""


@dataclass(frozen=True, slots=True)
class _Generated:
    """A generated ConfigMap before its hash suffix is applied."""

    name: str
    data: dict[str, str]
    namespace: str | None = None


def render(directory: Path) -> list[Resource]:
    """Render the kustomization in `directory` to a list of resources."""
    resources, generated = _build(Path(directory))
    renames: dict[str, str] = {}
    for gen in generated.values():
        hashed = f"{gen.name}-{config_map_hash(gen.data)}"
        renames[gen.name] = hashed
        resources.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": hashed, **({"namespace": gen.namespace} if gen.namespace else {})},
                "data": dict(sorted(gen.data.items())),
            }
        )
    for res in resources:
        _rename_config_map_refs(res, renames)
    return resources


def config_map_hash(data: dict[str, str]) -> str:
    """kustomize's 10-character name suffix for a generated ConfigMap.

    kustomize v5 hashes {"data", "kind", "name"} as Go JSON, but looks the name up
    with a path it cannot resolve, so the name it hashes is always "" (checked
    against `kubectl kustomize` v5.5.0).
    """
    encoded = json.dumps(
        {"data": dict(sorted(data.items())), "kind": "ConfigMap", "name": ""},
        separators=(",", ":"),
        ensure_ascii=False,
    )
    for char, escape in GO_JSON_ESCAPES.items():
        encoded = encoded.replace(char, escape)
    digest = hashlib.sha256(encoded.encode("utf-8")).hexdigest()
    return digest[:10].translate(HASH_LETTERS)


def _load_kustomization(directory: Path) -> dict[str, Any]:
    for name in KUSTOMIZATION_FILES:
        path = directory / name
        if path.is_file():
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            unknown = set(doc) - SUPPORTED_KEYS
            if unknown:
                raise UnsupportedKustomization(f"{path}: unsupported keys {sorted(unknown)}")
            return doc
    raise UnsupportedKustomization(f"no kustomization file in {directory}")


def _build(directory: Path) -> tuple[list[Resource], dict[str, _Generated]]:
    kust = _load_kustomization(directory)
    resources: list[Resource] = []
    generated: dict[str, _Generated] = {}
    for entry in kust.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            sub_resources, sub_generated = _build(path)
            resources += sub_resources
            generated.update(sub_generated)
        else:
            resources += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    for spec in kust.get("configMapGenerator", []):
        _generate(directory, spec, generated)
    for spec in kust.get("patches", []):
        _apply_patch(directory, spec, resources)
    for spec in kust.get("images", []):
        _set_image(spec, resources)
    if "namespace" in kust:
        for res in resources:
            res.setdefault("metadata", {})["namespace"] = kust["namespace"]
        for key, gen in generated.items():
            generated[key] = replace(gen, namespace=kust["namespace"])
    return resources, generated


def _generate(directory: Path, spec: dict[str, Any], generated: dict[str, _Generated]) -> None:
    unknown = set(spec) - {"name", "envs", "literals", "behavior"}
    if unknown:
        raise UnsupportedKustomization(f"configMapGenerator keys {sorted(unknown)}")
    data: dict[str, str] = {}
    for env_file in spec.get("envs", []):
        data.update(_parse_env((directory / env_file).read_text(encoding="utf-8")))
    data.update(_parse_env("\n".join(spec.get("literals", []))))
    name = spec["name"]
    behavior = spec.get("behavior", "create")
    previous = generated.get(name)
    if behavior == "create" and previous is not None:
        raise UnsupportedKustomization(f"configMap {name} generated twice without behavior")
    if behavior in ("merge", "replace") and previous is None:
        raise UnsupportedKustomization(f"configMap {name}: behavior {behavior} with no base")
    if behavior == "merge":
        data = {**previous.data, **data}  # type: ignore[union-attr]
    elif behavior not in ("create", "replace"):
        raise UnsupportedKustomization(f"configMapGenerator behavior {behavior}")
    namespace = previous.namespace if previous else None
    generated[name] = _Generated(name, data, namespace)


def _parse_env(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise UnsupportedKustomization(f"env line without '=': {raw!r}")
        pairs[key.strip()] = value
    return pairs


def _apply_patch(directory: Path, spec: dict[str, Any], resources: list[Resource]) -> None:
    if set(spec) != {"path"}:
        raise UnsupportedKustomization(f"patch form {sorted(spec)} (only `path:` is supported)")
    patch = yaml.safe_load((directory / spec["path"]).read_text(encoding="utf-8"))
    key = (patch["kind"], patch["metadata"]["name"])
    targets = [r for r in resources if (r["kind"], r["metadata"]["name"]) == key]
    if len(targets) != 1:
        raise UnsupportedKustomization(f"patch {spec['path']} matches {len(targets)} resources")
    merged = strategic_merge(targets[0], patch)
    targets[0].clear()
    targets[0].update(merged)


def strategic_merge(base: Any, patch: Any) -> Any:
    """Merge `patch` into `base` the way a strategic-merge patch does for plain fields."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = copy.deepcopy(base)
        for key, value in patch.items():
            out[key] = strategic_merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    if isinstance(base, list) and isinstance(patch, list) and _named(base) and _named(patch):
        out = [copy.deepcopy(item) for item in base]
        index = {item["name"]: i for i, item in enumerate(out)}
        for item in patch:
            if item["name"] in index:
                out[index[item["name"]]] = strategic_merge(out[index[item["name"]]], item)
            else:
                out.append(copy.deepcopy(item))
        return out
    return copy.deepcopy(patch)


def _named(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(i, dict) and "name" in i for i in items)


def _pod_spec(res: Resource) -> dict[str, Any] | None:
    template = res.get("spec", {}).get("template", {})
    return template.get("spec") if isinstance(template, dict) else None


def _set_image(spec: dict[str, Any], resources: list[Resource]) -> None:
    unknown = set(spec) - {"name", "newName", "newTag", "digest"}
    if unknown:
        raise UnsupportedKustomization(f"images keys {sorted(unknown)}")
    for res in resources:
        pod = _pod_spec(res)
        for container in (pod or {}).get("containers", []) + (pod or {}).get("initContainers", []):
            name, tag = _split_image(container["image"])
            if name != spec["name"]:
                continue
            name = spec.get("newName", name)
            if "digest" in spec:
                container["image"] = f"{name}@{spec['digest']}"
            else:
                new_tag = spec.get("newTag", tag)
                container["image"] = f"{name}:{new_tag}" if new_tag else name


def _split_image(image: str) -> tuple[str, str | None]:
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:
        return image, None
    return name, tag


def _rename_config_map_refs(res: Resource, renames: dict[str, str]) -> None:
    pod = _pod_spec(res)
    if not pod:
        return
    for container in pod.get("containers", []) + pod.get("initContainers", []):
        for source in container.get("envFrom", []):
            ref = source.get("configMapRef")
            if ref and ref.get("name") in renames:
                ref["name"] = renames[ref["name"]]
        for env in container.get("env", []):
            ref = env.get("valueFrom", {}).get("configMapKeyRef")
            if ref and ref.get("name") in renames:
                ref["name"] = renames[ref["name"]]
    for volume in pod.get("volumes", []):
        ref = volume.get("configMap")
        if ref and ref.get("name") in renames:
            ref["name"] = renames[ref["name"]]
