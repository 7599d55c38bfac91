"""deploy/: the systemd unit verifies, the manifests parse and agree with the
configuration they carry, and the image definition copies files that exist."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path, PurePosixPath

import pytest
import yaml

from inboxwarden.config import load_settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"


def k8s(kind: str) -> dict:
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc and doc.get("kind") == kind:
                return doc
    raise AssertionError(f"no {kind} in deploy/kubernetes")


# --- systemd -------------------------------------------------------------------------


def test_the_service_unit_passes_systemd_analyze_verify(tmp_path):
    """The unit as shipped, but for ExecStart, which verify requires to exist here."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is required in CI (make installs Debian's systemd)")
        pytest.skip("systemd-analyze is missing: apt-get install systemd (make test does)")
    unit = (DEPLOY / "systemd" / "inboxwarden.service").read_text(encoding="utf-8")
    executable = Path(sys.executable).parent / "inboxwarden"
    assert "ExecStart=/opt/inboxwarden/bin/inboxwarden --log-format json serve" in unit
    copy = tmp_path / "inboxwarden.service"
    copy.write_text(unit.replace("/opt/inboxwarden/bin/inboxwarden", str(executable)))
    result = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stderr.strip()) == (0, "")


def test_the_service_unit_is_hardened_and_restarts():
    unit = (DEPLOY / "systemd" / "inboxwarden.service").read_text(encoding="utf-8")
    for line in (
        "Type=simple",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "StateDirectory=inboxwarden",
        "Restart=on-failure",
        "LoadCredential=imap:",
        "LoadCredential=audit-key:",
    ):
        assert re.search(rf"^{re.escape(line)}", unit, re.MULTILINE), line


# --- the container image -------------------------------------------------------------


def test_the_image_copies_files_that_exist_and_runs_serve_as_non_root():
    text = (DEPLOY / "Containerfile").read_text(encoding="utf-8")
    copies = re.findall(r"^COPY (?!--from)(.+)$", text, re.MULTILINE)
    assert copies
    for line in copies:
        *sources, _dest = line.split()
        for source in sources:
            assert (ROOT / source).exists(), source
    assert re.search(r"^USER 10001$", text, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", text, re.MULTILINE)
    assert 'CMD ["serve"]' in text


# --- Kubernetes ----------------------------------------------------------------------


def test_every_manifest_parses_and_kustomize_lists_them_all():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    listed = set(kustomization["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    for name in listed:
        assert list(yaml.safe_load_all((K8S / name).read_text(encoding="utf-8")))


@pytest.fixture(name="k8s_settings")
def _k8s_settings(tmp_path):
    """The ConfigMap's configuration, loaded as the pod would load it."""
    data = k8s("ConfigMap")["data"]
    for name, text in data.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return load_settings(tmp_path / "inboxwarden.toml")


def test_the_deployment_runs_one_replica_of_serve_with_probes_on_healthz(k8s_settings):
    deployment = k8s("Deployment")
    assert deployment["spec"]["replicas"] == 1
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["args"] == ["serve"]
    port = int(k8s_settings.service.listen.rpartition(":")[2])
    assert container["ports"][0]["containerPort"] == port
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == port
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True


def test_the_configmap_loads_and_its_paths_are_the_mounted_ones(k8s_settings):
    """Secret files lie under the Secret's mount and name its keys; the state on the volume."""
    deployment = k8s("Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    mounts = {m["name"]: PurePosixPath(m["mountPath"]) for m in container["volumeMounts"]}
    config_env = {e["name"]: e["value"] for e in container["env"]}["INBOXWARDEN_CONFIG"]
    assert PurePosixPath(config_env).parent == mounts["config"]
    secret_keys = set(k8s("Secret")["stringData"])
    s = k8s_settings
    for path in (s.imap.password_file, s.audit.hmac_key_file, s.smtp.password_file):
        assert path is not None and PurePosixPath(path).parent == mounts["secrets"]
        assert PurePosixPath(path).name in secret_keys
    assert s.state.url.startswith(f"sqlite:///{mounts['state']}/")
    pvc = k8s("PersistentVolumeClaim")["metadata"]["name"]
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes["state"]["persistentVolumeClaim"]["claimName"] == pvc


# --- compose -------------------------------------------------------------------------


def test_compose_mounts_files_that_exist_and_its_configuration_loads():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert set(compose["services"]) == {"dovecot", "inboxwarden"}
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), source
    build = compose["services"]["inboxwarden"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()
    settings = load_settings(DEPLOY / "compose" / "inboxwarden.toml")
    assert settings.imap.host == "dovecot"
    assert settings.service.listen.endswith(":9464")
    users = (DEPLOY / "compose" / "users").read_text(encoding="utf-8")
    for row in (DEPLOY / "compose" / "employees.csv").read_text(encoding="utf-8").splitlines()[1:]:
        assert row.split(",")[0] + ":" in users


def test_the_example_configuration_documents_every_schedule_key():
    example = tomllib.loads((ROOT / "config" / "inboxwarden.toml").read_text(encoding="utf-8"))
    assert set(example["schedule"]) >= {"scan", "fanout", "report", "retention"}
    assert example["service"]["listen"] == "127.0.0.1:9464"
