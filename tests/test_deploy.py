"""The container image and the Kubernetes manifests, checked without a cluster or a container
runtime: every manifest is parsed and validated against the Kubernetes object models of the
`kubernetes` package (pydantic models that refuse unknown fields and missing required ones),
and every flag, variable, port and probe the manifests give the server exists in the server and
agrees with the rest."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import kubernetes.client as k8s
import pytest
import yaml

from khulasa_server.app import SERVICE_NAME
from khulasa_server.bulk import cli as bulk_cli
from khulasa_server.service import config
from khulasa_server.tools.recipes import KINDS as BUNDLE_NAMES

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy" / "kubernetes"
MODELS = {
    ("v1", "Secret"): k8s.V1Secret,
    ("v1", "Service"): k8s.V1Service,
    ("apps/v1", "Deployment"): k8s.V1Deployment,
    ("batch/v1", "Job"): k8s.V1Job,
    ("policy/v1", "PodDisruptionBudget"): k8s.V1PodDisruptionBudget,
    ("autoscaling/v2", "HorizontalPodAutoscaler"): k8s.V2HorizontalPodAutoscaler,
}
# KubeRay's RayCluster (ray.io/v1) is not in the kubernetes package: its own fields are checked
# against these (from KubeRay's RayClusterSpec), its pod templates against the core models.
RAYCLUSTER_SPEC = {"headGroupSpec", "workerGroupSpecs", "rayVersion", "enableInTreeAutoscaling", "autoscalerOptions",
                   "headServiceAnnotations", "suspend"}
HEAD_GROUP = {"serviceType", "headService", "enableIngress", "rayStartParams", "template"}
WORKER_GROUP = {"groupName", "replicas", "minReplicas", "maxReplicas", "numOfHosts", "rayStartParams", "template",
                "scaleStrategy"}
NON_SETTING_ENV = {"KHULASA_HOME", "KHULASA_CONFIG"}  # read by the bundle store and the config loader


def documents() -> list[tuple[Path, dict]]:
    docs = []
    for path in sorted(DEPLOY.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((path, doc))
    return docs


def objects(kind: str) -> list[dict]:
    return [doc for _, doc in documents() if doc.get("kind") == kind]


def pod_specs() -> list[tuple[str, dict]]:
    """(owner, pod spec) of every pod the manifests make."""
    specs = []
    for _, doc in documents():
        if doc["kind"] == "Kustomization":
            continue
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] in ("Deployment", "Job"):
            specs.append((name, doc["spec"]["template"]["spec"]))
        elif doc["kind"] == "RayCluster":
            specs.append((name + " head", doc["spec"]["headGroupSpec"]["template"]["spec"]))
            specs += [(f"{name} {g['groupName']}", g["template"]["spec"]) for g in doc["spec"]["workerGroupSpecs"]]
    return specs


def test_every_manifest_is_a_valid_kubernetes_object():
    seen = set()
    for path, doc in documents():
        key = (doc.get("apiVersion"), doc.get("kind"))
        seen.add(key)
        if key == ("kustomize.config.k8s.io/v1beta1", "Kustomization"):
            listed = {(path.parent / r).resolve() for r in doc["resources"]}
            present = {p.resolve() for p in path.parent.glob("*.yaml") if p.name != "kustomization.yaml"}
            assert listed == present, f"{path}: resources and the files beside it differ"
        elif key == ("ray.io/v1", "RayCluster"):
            spec = doc["spec"]
            assert set(spec) <= RAYCLUSTER_SPEC, set(spec) - RAYCLUSTER_SPEC
            assert set(spec["headGroupSpec"]) <= HEAD_GROUP
            k8s.V1PodTemplateSpec.model_validate(spec["headGroupSpec"]["template"], strict=True)
            for group in spec["workerGroupSpecs"]:
                assert set(group) <= WORKER_GROUP and {"groupName", "rayStartParams", "template"} <= set(group)
                assert all(isinstance(v, str) for v in group["rayStartParams"].values())  # map[string]string
                k8s.V1PodTemplateSpec.model_validate(group["template"], strict=True)
        else:
            assert key in MODELS, f"{path}: no model for {key}"
            MODELS[key].model_validate(doc, strict=True)  # unknown or missing fields raise
    assert {("apps/v1", "Deployment"), ("v1", "Service"), ("policy/v1", "PodDisruptionBudget"),
            ("autoscaling/v2", "HorizontalPodAutoscaler"), ("v1", "Secret"), ("batch/v1", "Job"),
            ("ray.io/v1", "RayCluster")} <= seen


def test_the_validation_refuses_unknown_and_missing_fields():
    deployment = objects("Deployment")[0]
    bad = yaml.safe_load(yaml.safe_dump(deployment))
    bad["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = bad["spec"]["template"]["spec"]["containers"][0].pop("readinessProbe")
    with pytest.raises(ValueError, match="readinesProbe"):
        k8s.V1Deployment.model_validate(bad, strict=True)
    bad = yaml.safe_load(yaml.safe_dump(deployment))
    del bad["spec"]["template"]["spec"]["containers"][0]["name"]
    with pytest.raises(ValueError, match="name"):
        k8s.V1Deployment.model_validate(bad, strict=True)


def _server() -> tuple[dict, dict, dict]:
    deployment = objects("Deployment")[0]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = [c for c in pod["containers"] if c["name"] == "server"]
    return deployment, pod, container


def test_the_server_takes_every_flag_and_variable_the_deployment_gives_it():
    _, pod, container = _server()
    assert "command" not in container  # the image's entrypoint, khulasa-server
    env = {e["name"]: e["value"] for e in container["env"]}
    settings_env = {"KHULASA_" + f.upper() for f in config._types()}
    for name in env:
        assert name in settings_env | NON_SETTING_ENV, f"{name} is not a khulasa-server setting"
    settings = config.load(container["args"], environ=env)  # unknown flags or bad values fail here
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert settings.listen == f"0.0.0.0:{ports['grpc']}"
    assert settings.metrics_listen == f"0.0.0.0:{ports['metrics']}"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        grpc = container[probe]["grpc"]
        assert grpc["port"] == ports["grpc"] and grpc.get("service", "") in ("", SERVICE_NAME)
    assert settings.drain > 0 and pod["terminationGracePeriodSeconds"] >= settings.drain + settings.grace
    assert settings.intra_threads == int(container["resources"]["requests"]["cpu"])
    # the token file is the Secret's key, mounted read-only
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    directory, key = settings.auth_token_file.rsplit("/", 1)
    volume = {v["name"]: v for v in pod["volumes"]}[mounts[directory]["name"]]
    secret = {s["metadata"]["name"]: s for s in objects("Secret")}[volume["secret"]["secretName"]]
    assert key in secret["stringData"] and mounts[directory]["readOnly"]


def test_the_init_step_builds_the_bundle_the_server_serves():
    _, pod, container = _server()
    env = {e["name"]: e["value"] for e in container["env"]}
    for owner, spec in pod_specs():
        for init in spec.get("initContainers", []):
            command = init["command"]
            assert command[:2] == ["khulasa-models", "build"] and command[2] in BUNDLE_NAMES, (owner, command)
            home = {e["name"]: e["value"] for e in init["env"]}["KHULASA_HOME"]
            assert home == "/var/lib/khulasa"
    (init,) = pod["initContainers"]
    assert init["command"][2] == env["KHULASA_BUNDLE"] and env["KHULASA_HOME"] == "/var/lib/khulasa"


def test_service_pdb_and_hpa_point_at_the_deployment():
    deployment, pod, container = _server()
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    (service,) = objects("Service")
    assert service["spec"]["clusterIP"] == "None"  # headless: clients balance over the pods
    assert service["spec"]["selector"].items() <= labels.items()
    names = {p["name"] for p in container["ports"]}
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= names
    (pdb,) = objects("PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    (hpa,) = objects("HorizontalPodAutoscaler")
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert container["resources"]["requests"]["cpu"]  # utilization needs a request


def test_the_bulk_job_runs_khulasa_bulk_against_the_ray_cluster():
    (job,) = objects("Job")
    (cluster,) = objects("RayCluster")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["khulasa-bulk"]
    args = bulk_cli.parser().parse_args(container["args"])  # flags as the command defines them
    assert args.address == f"{cluster['metadata']['name']}-head-svc:6379"  # KubeRay's head Service
    assert args.bundle in BUNDLE_NAMES
    tokens = set()
    for owner, spec in [("Job", job["spec"]["template"]["spec"]), *pod_specs()]:
        for c in spec["containers"]:
            if c["image"].startswith("khulasa-ray"):
                env = {e["name"]: e for e in c["env"]}
                assert env["RAY_AUTH_MODE"]["value"] == "token", owner
                tokens.add(env["RAY_AUTH_TOKEN"]["valueFrom"]["secretKeyRef"]["name"])
    assert tokens == {s["metadata"]["name"] for s in objects("Secret") if "token" in s["stringData"]}
    workers = cluster["spec"]["workerGroupSpecs"]
    cpus = sum(int(g["rayStartParams"]["num-cpus"]) * g["replicas"] for g in workers)
    assert args.replicas * args.threads_per_replica <= cpus


def test_dockerfile_runs_the_install_script_ci_runs():
    text = (ROOT / "Dockerfile").read_text()
    lines = [l.strip() for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    assert lines[0] == "FROM python:3.11-slim"
    assert re.search(r"^RUN /src/deploy/install\.sh /opt/khulasa ", text, re.M)
    assert "deploy/install.sh" in (ROOT / ".ci" / "run").read_text()
    user = re.search(r"^USER (\S+)", text, re.M).group(1)
    assert user.split(":")[0] not in ("root", "0")
    assert re.search(r'^ENTRYPOINT \["khulasa-server"\]', text, re.M)
    cmd = re.search(r"^CMD (\[.*\])", text, re.M).group(1)
    assert yaml.safe_load(cmd) == ["--listen", "0.0.0.0:50051"]
    config.load(yaml.safe_load(cmd), environ={})
    env = dict(re.findall(r"(KHULASA_\w+)=(\S+)", text))
    settings_env = {"KHULASA_" + f.upper() for f in config._types()}
    assert env and set(env) <= settings_env | NON_SETTING_ENV
    ignored = (ROOT / ".dockerignore").read_text().split()
    for needed in ("pyproject.toml", "README.md", "client/", "server/", "deploy/install.sh"):
        assert f"!{needed}" in ignored, needed


def test_install_script_refuses_unknown_extras(tmp_path):
    result = subprocess.run(["bash", str(ROOT / "deploy" / "install.sh"), str(tmp_path / "venv"), "gpu"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "EXTRAS must be server or ray" in result.stderr
    assert not (tmp_path / "venv").exists()
