"""The deployment files, read the way their consumers read them: the Kubernetes manifest against
the bundled Kubernetes schemas and the Pod Security "restricted" rules, the Dockerfile by
hadolint and by building what it copies, the systemd unit by systemd-analyze and against the
README's install steps, the GitHub Actions example against GitHub's schema and by running its
steps. All offline: the validators' schemas come with their packages."""

from __future__ import annotations

import copy
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import check_jsonschema
import kubernetes_validate
import kubernetes_validate.utils
import pytest
import yaml
from click.testing import CliRunner
from trees import workflow_yaml, write_workflow

from scheduled.cli import main

REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / "deploy" / "kubernetes" / "scheduled.yaml"
DOCKERFILE = REPO / "Dockerfile"
UNIT = REPO / "systemd" / "scheduled.service"
WORKFLOW = REPO / "deploy" / "github-actions" / "scheduled.yml"
README = REPO / "README.md"
# The venv's console scripts (hadolint, check-jsonschema, scheduled) sit beside its python.
BIN = Path(sys.executable).parent

Doc = dict[str, Any]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection or name lookup fails the test: a validator must use only what it bundles."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the network was used: {args[1:]}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


# --- Kubernetes -----------------------------------------------------------------------------


def manifest() -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(MANIFEST.read_text(encoding="utf-8")) if doc]


def pod_specs(docs: list[Doc]) -> list[Doc]:
    """The pod spec of every workload: a Pod's own, a CronJob's, or a controller's template."""
    specs = []
    for doc in docs:
        if doc["kind"] == "Pod":
            specs.append(doc["spec"])
        elif doc["kind"] == "CronJob":
            specs.append(doc["spec"]["jobTemplate"]["spec"]["template"]["spec"])
        elif "template" in doc.get("spec", {}):
            specs.append(doc["spec"]["template"]["spec"])
    return specs


def the_pod() -> Doc:
    (pod,) = pod_specs(manifest())
    return pod


def container(pod: Doc, name: str) -> Doc:
    (found,) = [c for c in pod["containers"] if c["name"] == name]
    return dict(found)


def env_value(container: Doc, name: str) -> str:
    (value,) = [e["value"] for e in container.get("env", []) if e["name"] == name]
    return str(value)


def probe_port(container: Doc, probe: Doc) -> int:
    """The port an httpGet probe asks, with a named port looked up in the container's ports."""
    port = probe["httpGet"]["port"]
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in container["ports"] if p["name"] == port]
    return int(number)


@pytest.mark.parametrize("version", ["1.31.0", kubernetes_validate.utils.latest_version()])
def test_the_manifest_is_valid_against_the_bundled_kubernetes_schemas(
    version: str, no_network: None
) -> None:
    """Strict: a field the API does not know (a typo) fails, as `kubectl apply` would."""
    docs = manifest()
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_schema_check_catches_a_misspelt_field(no_network: None) -> None:
    """The validation above can fail: strict mode refuses an unknown key."""
    (deployment,) = manifest()
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    version = kubernetes_validate.utils.latest_version()
    with pytest.raises(kubernetes_validate.ValidationError, match="imagePullPolcy"):
        kubernetes_validate.validate(broken, version, strict=True)


# The Pod Security Standards, "restricted" profile (kubernetes.io, concepts/security/
# pod-security-standards), plus this project's own rules for its containers.
RESTRICTED_VOLUME_TYPES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}


def restricted_violations(pod: Doc) -> list[str]:
    """Every way `pod` breaks the restricted profile or our rules, one sentence each."""
    problems: list[str] = []
    pod_context: Doc = pod.get("securityContext", {})
    if pod.get("automountServiceAccountToken") is not False:
        problems.append("pod: automountServiceAccountToken is not false")
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key):
            problems.append(f"pod: {key}")
    for sysctl in pod_context.get("sysctls", []):
        if sysctl["name"] not in SAFE_SYSCTLS:
            problems.append(f"pod: sysctl {sysctl['name']} is not a safe one")
    volumes: list[Doc] = pod.get("volumes", [])
    for volume in volumes:
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUME_TYPES:
            problems.append(f"volume {volume['name']}: type {sorted(kinds)} is not allowed")
    empty_dirs = {volume["name"] for volume in volumes if "emptyDir" in volume}

    for c in pod.get("initContainers", []) + pod["containers"]:
        where = f"container {c['name']}"
        context: Doc = c.get("securityContext", {})

        def effective(key: str, context: Doc = context) -> Any:
            return context.get(key, pod_context.get(key))

        if effective("runAsNonRoot") is not True:
            problems.append(f"{where}: runAsNonRoot is not true")
        if effective("runAsUser") == 0:
            problems.append(f"{where}: runAsUser is 0 (root)")
        if context.get("privileged"):
            problems.append(f"{where}: privileged")
        if (context.get("windowsOptions") or {}).get("hostProcess"):
            problems.append(f"{where}: windowsOptions.hostProcess")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where}: allowPrivilegeEscalation is not false")
        capabilities: Doc = context.get("capabilities", {})
        if "ALL" not in capabilities.get("drop", []):
            problems.append(f"{where}: capabilities.drop lacks ALL")
        if set(capabilities.get("add", [])) - {"NET_BIND_SERVICE"}:
            problems.append(f"{where}: capabilities.add {capabilities['add']}")
        if (effective("seccompProfile") or {}).get("type") != "RuntimeDefault":
            problems.append(f"{where}: seccompProfile is not RuntimeDefault")
        if (effective("appArmorProfile") or {}).get("type") == "Unconfined":
            problems.append(f"{where}: appArmorProfile is Unconfined")
        selinux: Doc = effective("seLinuxOptions") or {}
        if selinux.get("type", "") not in SELINUX_TYPES or {"user", "role"} & set(selinux):
            problems.append(f"{where}: seLinuxOptions {selinux}")
        if context.get("procMount", "Default") != "Default":
            problems.append(f"{where}: procMount is {context['procMount']}")
        if any(port.get("hostPort") for port in c.get("ports", [])):
            problems.append(f"{where}: a hostPort")

        if context.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{where}: readOnlyRootFilesystem is not true")
        tmp = [m for m in c.get("volumeMounts", []) if m["mountPath"].rstrip("/") == "/tmp"]
        if not any(m["name"] in empty_dirs and not m.get("readOnly") for m in tmp):
            problems.append(f"{where}: no writable emptyDir on /tmp")
        resources: Doc = c.get("resources", {})
        for kind, names in (("requests", ("cpu", "memory")), ("limits", ("memory",))):
            for name in names:
                if name not in resources.get(kind, {}):
                    problems.append(f"{where}: no resources.{kind}.{name}")
        if c in pod["containers"]:
            for probe in ("livenessProbe", "readinessProbe"):
                if probe not in c:
                    problems.append(f"{where}: no {probe}")
    return problems


def test_every_pod_passes_the_restricted_pod_security_profile() -> None:
    pods = pod_specs(manifest())
    assert pods
    for pod in pods:
        assert restricted_violations(pod) == []


def _container_context(pod: Doc) -> Doc:
    context: Doc = pod["containers"][-1]["securityContext"]
    return context


BREAKAGES: dict[str, tuple[Callable[[Doc], object], str]] = {
    "a token": (lambda pod: pod.update(automountServiceAccountToken=True), "automount"),
    "the host network": (lambda pod: pod.update(hostNetwork=True), "hostNetwork"),
    "an unsafe sysctl": (
        lambda pod: pod["securityContext"].update(
            sysctls=[{"name": "kernel.msgmax", "value": "1"}]
        ),
        "sysctl",
    ),
    "a hostPath volume": (
        lambda pod: pod["volumes"].append({"name": "h", "hostPath": {"path": "/"}}),
        "hostPath",
    ),
    "root allowed": (
        lambda pod: _container_context(pod).update(runAsNonRoot=False),
        "runAsNonRoot",
    ),
    "uid 0": (lambda pod: _container_context(pod).update(runAsUser=0), "runAsUser"),
    "privileged": (lambda pod: _container_context(pod).update(privileged=True), "privileged"),
    "escalation": (
        lambda pod: _container_context(pod).update(allowPrivilegeEscalation=True),
        "allowPrivilegeEscalation",
    ),
    "capabilities kept": (
        lambda pod: _container_context(pod).update(capabilities={"drop": ["NET_RAW"]}),
        "capabilities.drop",
    ),
    "a capability added": (
        lambda pod: _container_context(pod)["capabilities"].update(add=["SYS_ADMIN"]),
        "capabilities.add",
    ),
    "no seccomp": (
        lambda pod: _container_context(pod).update(seccompProfile={"type": "Unconfined"}),
        "seccompProfile",
    ),
    "no apparmor": (
        lambda pod: _container_context(pod).update(appArmorProfile={"type": "Unconfined"}),
        "appArmorProfile",
    ),
    "a host port": (
        lambda pod: pod["containers"][-1]["ports"][0].update(hostPort=9464),
        "hostPort",
    ),
    "a writable root": (
        lambda pod: _container_context(pod).update(readOnlyRootFilesystem=False),
        "readOnlyRootFilesystem",
    ),
    "no /tmp": (
        lambda pod: pod["containers"][-1].update(
            volumeMounts=[
                m for m in pod["containers"][-1]["volumeMounts"] if m["mountPath"] != "/tmp"
            ]
        ),
        "/tmp",
    ),
    "no memory limit": (
        lambda pod: pod["containers"][-1]["resources"]["limits"].pop("memory"),
        "limits.memory",
    ),
    "no cpu request": (
        lambda pod: pod["containers"][-1]["resources"]["requests"].pop("cpu"),
        "requests.cpu",
    ),
    "no liveness probe": (lambda pod: pod["containers"][-1].pop("livenessProbe"), "livenessProbe"),
    "no readiness probe": (
        lambda pod: pod["containers"][-1].pop("readinessProbe"),
        "readinessProbe",
    ),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_the_restricted_check_names_each_broken_rule(breakage: str) -> None:
    """The check above can fail: each rule broken alone on the real pod is reported, alone."""
    pod = copy.deepcopy(the_pod())
    change, reported = BREAKAGES[breakage]
    change(pod)
    (violation,) = restricted_violations(pod)
    assert reported in violation


# Every flag of git-sync v4 (its --man), and the v3 names v4 still takes but deprecates.
# fmt: off
GIT_SYNC_V4_FLAGS = {
    "add-user", "askpass-url", "cookie-file", "credential", "depth", "error-file",
    "exechook-backoff", "exechook-command", "exechook-timeout", "filter", "git", "git-config",
    "git-gc", "github-base-url", "github-app-private-key-file", "github-app-installation-id",
    "github-app-application-id", "github-app-client-id", "group-write", "http-bind",
    "http-metrics", "http-pprof", "init-max-failures", "init-period", "link", "max-failures",
    "one-time", "password-file", "period", "ref", "repo", "root", "sparse-checkout-file",
    "ssh-key-file", "ssh-known-hosts", "ssh-known-hosts-file", "stale-worktree-timeout",
    "submodules", "sync-on-signal", "sync-timeout", "touch-file", "username", "verbose",
    "webhook-backoff", "webhook-method", "webhook-success-status", "webhook-timeout",
    "webhook-url",
}
GIT_SYNC_V3_FLAGS = {
    "branch", "rev", "dest", "wait", "timeout", "max-sync-failures", "change-permissions",
    "sync-hook-command", "ssh", "password", "v",
}
# fmt: on


def git_sync_flags() -> dict[str, str]:
    flags = {}
    for arg in container(the_pod(), "git-sync")["args"]:
        match = re.fullmatch(r"--([a-z0-9-]+)(?:=(.*))?", arg)
        assert match, f"{arg!r}: git-sync v4 takes long flags as --name or --name=value"
        flags[match[1]] = match[2] or ""
    return flags


def test_git_sync_is_the_official_v4_image() -> None:
    image = container(the_pod(), "git-sync")["image"]
    assert re.fullmatch(r"registry\.k8s\.io/git-sync/git-sync:v4\.\d+\.\d+", image)


def test_git_sync_uses_v4_flag_names() -> None:
    flags = git_sync_flags()
    assert not set(flags) & GIT_SYNC_V3_FLAGS
    assert set(flags) <= GIT_SYNC_V4_FLAGS
    assert {"repo", "ref", "root", "link", "period", "http-bind"} <= set(flags)


def test_git_syncs_probes_ask_the_port_it_binds() -> None:
    """git-sync's / answers 503 until the first sync, then 200: its health, on --http-bind."""
    git_sync = container(the_pod(), "git-sync")
    bound = int(git_sync_flags()["http-bind"].rpartition(":")[2])
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert git_sync[kind]["httpGet"]["path"] == "/"
        assert probe_port(git_sync, git_sync[kind]) == bound


def test_scheduled_watches_the_link_git_sync_publishes_on_the_shared_volume() -> None:
    pod = the_pod()
    flags = git_sync_flags()
    writer = {m["mountPath"]: m for m in container(pod, "git-sync")["volumeMounts"]}
    reader = {m["mountPath"]: m for m in container(pod, "scheduled")["volumeMounts"]}
    root = flags["root"]
    assert writer[root]["name"] == reader[root]["name"]
    assert not writer[root].get("readOnly") and reader[root]["readOnly"] is True
    assert container(pod, "scheduled")["args"] == [f"{root}/{flags['link']}"]


def test_scheduleds_probes_and_port_are_those_of_its_http_address() -> None:
    pod = the_pod()
    scheduled = container(pod, "scheduled")
    port = int(env_value(scheduled, "SCHEDULED_HTTP_ADDRESS").rpartition(":")[2])
    assert probe_port(scheduled, scheduled["livenessProbe"]) == port
    assert scheduled["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert probe_port(scheduled, scheduled["readinessProbe"]) == port
    assert scheduled["readinessProbe"]["httpGet"]["path"] == "/readyz"
    (deployment,) = manifest()
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port)
    assert dockerfile_http_port() == port


# --- Dockerfile -----------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), with continuation lines joined and comment lines dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#") or not (pending or line.strip()):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).strip().partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def assignments(words: str) -> dict[str, str]:
    """NAME=value words, quoted as a shell (and ENV, and systemd's Environment=) quote them."""
    return dict(word.split("=", 1) for word in shlex.split(words))


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, arguments in dockerfile_instructions():
        if keyword == "ENV":
            env.update(assignments(arguments))
    return env


def dockerfile_http_port() -> int:
    port = int(dockerfile_env()["SCHEDULED_HTTP_ADDRESS"].rpartition(":")[2])
    exposed = [a for k, a in dockerfile_instructions() if k == "EXPOSE"]
    assert exposed == [str(port)]
    return port


def test_the_dockerfile_passes_hadolint() -> None:
    """hadolint parses the file as Docker does and applies its rules; ignores carry reasons."""
    linted = subprocess.run(
        [str(BIN / "hadolint"), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_the_base_image_is_a_pinned_python_patch_release() -> None:
    """A rebuild gets the same Python (a digest, when added, must be a full sha256)."""
    (base,) = [a for k, a in dockerfile_instructions() if k == "FROM"]
    match = re.fullmatch(r"python:3\.(\d+)\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", base)
    assert match, base
    assert int(match[1]) >= 11  # requires-python >= 3.11
    assert "docker buildx imagetools inspect" in DOCKERFILE.read_text(encoding="utf-8")


def test_the_image_runs_as_the_numeric_non_root_user_the_pod_names() -> None:
    """Numeric, so the kubelet can prove runAsNonRoot without reading /etc/passwd."""
    users = [a for k, a in dockerfile_instructions() if k == "USER"]
    match = re.fullmatch(r"(\d+):(\d+)", users[-1])
    assert match and int(match[1]) != 0 and int(match[2]) != 0
    created = [a for k, a in dockerfile_instructions() if k == "RUN" and "useradd" in a]
    assert created and f"--uid {match[1]} --gid {match[2]}" in created[0]
    assert f"groupadd --system --gid {match[2]}" in created[0]
    context = container(the_pod(), "scheduled")["securityContext"]
    assert (context["runAsUser"], context["runAsGroup"]) == (int(match[1]), int(match[2]))


def dockerignored(relative: str) -> bool:
    """Whether .dockerignore leaves `relative` out of the build context (Docker's rules: a
    pattern that matches a folder leaves out all of it, `**` spans folders, `!` re-includes)."""
    ignored = False
    for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        regex = "".join(
            "(?:.*/)?" if part == "**/" else ".*" if part == "**" else "[^/]*" if part == "*"
            else "[^/]" if part == "?" else re.escape(part)
            for part in re.findall(r"\*\*/|\*\*|\*|\?|[^*?]+", pattern)
        )  # fmt: skip
        parts = Path(relative).parts
        if any(re.fullmatch(regex, "/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            ignored = not negated
    return ignored


def build_context(into: Path) -> Path:
    """What the Dockerfile's COPY lines put in its WORKDIR, from the files the repository
    ships less .dockerignore: the image's /app, made without docker."""
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    context = [path for path in listed if not dockerignored(path)]
    for keyword, arguments in dockerfile_instructions():
        if keyword != "COPY":
            continue
        *sources, destination = shlex.split(arguments)
        assert not any(s.startswith("--") for s in sources), "COPY --from/--chown: not emulated"
        target = into / destination
        for source in sources:
            inside = source.rstrip("/") + "/"
            files = [path for path in context if path == source or path.startswith(inside)]
            assert files, f"COPY {source}: not in the build context"
            for path in files:
                if path == source:
                    copied = target / Path(path).name if destination.endswith("/") else target
                else:
                    copied = target / Path(path).relative_to(source)
                copied.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / path, copied)
    return into


def test_everything_the_image_copies_is_in_the_build_context(tmp_path: Path) -> None:
    app = build_context(tmp_path)
    assert (app / "pyproject.toml").is_file()
    assert (app / "README.md").is_file()  # pyproject's `readme`: pip install . needs it
    assert (app / "scheduled" / "cli.py").is_file()


def test_what_the_image_copies_builds_the_package_it_installs(tmp_path: Path) -> None:
    """The image's `pip install .`, without docker: a wheel with the code, its data and the
    command, from the copied files alone."""
    app = build_context(tmp_path / "app")
    built = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"),
            *("--no-build-isolation", "--no-cache-dir", "--wheel-dir", str(tmp_path / "out")),
            str(app),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "out").glob("scheduled-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "scheduled/cli.py" in names
    assert "scheduled/format/workflow.schema.json" in names
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    assert "scheduled = scheduled.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


# --- git and a tree owned by another user ----------------------------------------------------


def unit_environment() -> dict[str, str]:
    env: dict[str, str] = {}
    for value in unit_values("Service", "Environment"):
        env.update(assignments(value))
    return env


@pytest.fixture
def foreign_checkout(tmp_path: Path) -> Iterator[Path]:
    """A committed checkout owned by another user, as git-sync's (or a deploy account's) is."""
    if os.geteuid() != 0:
        pytest.skip("LOUD SKIP: giving a checkout to another user needs root (CI runs as root)")
    tree = tmp_path / "tree"
    tree.mkdir()
    tmp_path.chmod(0o755)
    git = ["git", "-C", str(tree), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    write_workflow(tree, "job.yaml", workflow_yaml("job", cron="0 9 * * *"))
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "one"], check=True)
    subprocess.run(["chown", "-R", "65533:65533", str(tree)], check=True)
    yield tree


def git_log(tree: Path, extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        **extra_env,
    }
    return subprocess.run(
        ["git", "-C", str(tree), "log", "-1", "--format=%H"],
        capture_output=True,
        text=True,
        env=env,
    )


@pytest.mark.parametrize("shipped", ["Dockerfile ENV", "systemd Environment="])
def test_git_reads_a_checkout_owned_by_another_user_with_the_shipped_environment(
    shipped: str, foreign_checkout: Path
) -> None:
    refused = git_log(foreign_checkout, {})
    assert refused.returncode != 0 and "dubious ownership" in refused.stderr
    env = dockerfile_env() if shipped == "Dockerfile ENV" else unit_environment()
    git_env = {k: v for k, v in env.items() if k.startswith("GIT_CONFIG_")}
    read = git_log(foreign_checkout, git_env)
    assert read.returncode == 0, read.stderr
    assert re.fullmatch(r"[0-9a-f]{40}\n", read.stdout)


# --- systemd --------------------------------------------------------------------------------


def unit_entries() -> list[tuple[str, str, str]]:
    """(section, key, value) in file order; keys may repeat, so no configparser."""
    entries = []
    section = ""
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        entries.append((section, key.strip(), value.strip()))
    return entries


def unit_values(section: str, key: str) -> list[str]:
    return [v for s, k, v in unit_entries() if (s, k) == (section, key)]


def exec_start() -> list[str]:
    (command,) = unit_values("Service", "ExecStart")
    return shlex.split(command)


def readme_section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n{title}\n")
    end = text.find("\n### ", start + 1)
    return text[start:end]


def readme_commands(title: str) -> list[list[str]]:
    """The shell commands of a README section's sh blocks, without sudo (`sudo -u X` too)."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", readme_section(title), flags=re.S):
        for line in block.splitlines():
            for part in re.split(r"&&|;|\|", line):
                words = shlex.split(part, comments=True)
                while words[:1] == ["sudo"]:
                    words = words[3:] if words[1:2] == ["-u"] else words[1:]
                if words:
                    commands.append(words)
    return commands


def readme_installs(title: str) -> tuple[dict[str, str], list[str]]:
    """What the section's `install` commands create: files (destination -> source in the
    repository) and folders (`install -d`)."""
    files: dict[str, str] = {}
    folders: list[str] = []
    for words in readme_commands(title):
        if words[0] != "install":
            continue
        operands, options = [], set()
        rest = iter(words[1:])
        for word in rest:
            if word in ("-m", "-o", "-g"):
                next(rest)
            elif word.startswith("-"):
                options.add(word)
            else:
                operands.append(word)
        if "-d" in options:
            folders.extend(operands)
        else:
            *sources, destination = operands
            (source,) = sources
            files[destination] = source
    return files, folders


SYSTEMD = "### Running under systemd"


@pytest.fixture
def verifiable_unit(tmp_path: Path) -> Path:
    """The unit as shipped, but for ExecStart's program: systemd checks that it exists, and
    /opt/scheduled/venv is made by the README's install, not on this machine."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("LOUD SKIP: no systemd-analyze (apt-get install systemd; `make test` does)")
    program = tmp_path / "scheduled"
    program.write_text("#!/bin/sh\n", encoding="utf-8")
    program.chmod(0o755)
    text = UNIT.read_text(encoding="utf-8").replace(exec_start()[0], str(program))
    unit = tmp_path / UNIT.name
    unit.write_text(text, encoding="utf-8")
    return unit


def test_the_unit_passes_systemd_analyze_verify(verifiable_unit: Path) -> None:
    """Any message fails it, warnings too (an unknown key is only a warning to systemd)."""
    verified = subprocess.run(
        ["systemd-analyze", "verify", str(verifiable_unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (verified.returncode, verified.stdout + verified.stderr) == (0, "")


def test_the_units_hardening_keeps_systemds_exposure_score_low(verifiable_unit: Path) -> None:
    """systemd's own rating of the sandbox, 0 (locked down) to 10, at most 2.0: it is 1.9 on
    systemd 252; without DynamicUser= it is 2.3, without the system-call filter 3.3."""
    rated = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--threshold=20", str(verifiable_unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rated.returncode == 0, rated.stdout[-300:] + rated.stderr


def test_the_unit_is_not_a_template_so_it_names_no_instance() -> None:
    """%i/%I (and %j/%J) are empty outside a template unit (name@.service)."""
    assert "@" not in UNIT.name
    assert [v for _, _, v in unit_entries() if re.search(r"%[iIjJ]", v)] == []


def test_the_units_documentation_is_a_page_the_readme_installs() -> None:
    files, _ = readme_installs(SYSTEMD)
    documentation = " ".join(unit_values("Unit", "Documentation")).split()
    assert documentation
    for url in documentation:
        if url.startswith("https://"):
            continue
        assert url.startswith("file://"), url
        installed = url.removeprefix("file://")
        assert installed in files, f"{url}: no install step in the README creates it"
        assert (REPO / files[installed]).is_file()


def test_the_unit_runs_the_scheduled_and_files_the_readme_installs() -> None:
    files, _ = readme_installs(SYSTEMD)
    venvs = [w[3] for w in readme_commands(SYSTEMD) if w[:3] == ["python3", "-m", "venv"]]
    assert [f"{venv}/bin/scheduled" for venv in venvs] == [exec_start()[0]]
    assert files["/etc/systemd/system/scheduled.service"] == "systemd/scheduled.service"
    (environment_file,) = unit_values("Service", "EnvironmentFile")
    assert files[environment_file.removeprefix("-")] == "systemd/scheduled.env"


def test_the_service_reads_the_tree_the_readme_creates_and_may_not_write_it() -> None:
    _program, command, root, *_ = exec_start()
    assert command == "run"
    _, folders = readme_installs(SYSTEMD)
    assert root in folders
    read_only = " ".join(unit_values("Service", "ReadOnlyPaths")).split()
    assert root in read_only
    assert unit_values("Service", "ProtectSystem") == ["strict"]


# --- GitHub Actions -------------------------------------------------------------------------


def workflow() -> Doc:
    doc: Doc = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return doc


def triggers() -> Doc:
    """`on:` (YAML 1.1, which PyYAML reads, takes a bare `on` for the boolean true)."""
    doc: dict[Any, Any] = workflow()
    on: Doc = doc["on"] if "on" in doc else doc[True]
    return on


def steps() -> Iterator[tuple[str, Doc]]:
    for job_name, job in workflow()["jobs"].items():
        for step in job["steps"]:
            yield job_name, step


def step(job: str, name: str) -> Doc:
    (found,) = [s for j, s in steps() if j == job and s.get("name") == name]
    return found


def run_scripts(job: str | None = None) -> list[str]:
    return [s["run"] for j, s in steps() if "run" in s and job in (None, j)]


def check_workflow_schema(path: Path) -> int:
    """check-jsonschema with the GitHub workflow schema it vendors, in this process."""
    with pytest.raises(SystemExit) as exited:
        check_jsonschema.main(["--builtin-schema", "vendor.github-workflows", str(path)])
    code = exited.value.code
    return int(code) if code is not None else 0


def test_the_workflow_matches_githubs_workflow_schema(
    no_network: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_workflow_schema(WORKFLOW) == 0, capsys.readouterr().out


def test_the_workflow_schema_catches_a_misspelt_key(no_network: None, tmp_path: Path) -> None:
    """The schema check above can fail: GitHub's schema refuses `runs_on`."""
    broken = tmp_path / "scheduled.yml"
    broken.write_text(WORKFLOW.read_text(encoding="utf-8").replace("runs-on:", "runs_on:"))
    assert check_workflow_schema(broken) == 1


def test_pull_requests_validate_and_plan_and_main_applies() -> None:
    on = triggers()
    jobs = workflow()["jobs"]
    assert "pull_request" in on and on["push"]["branches"] == ["main"]
    assert set(jobs) == {"validate", "plan", "apply"}
    assert "if" not in jobs["validate"]
    assert "github.event_name == 'pull_request'" in jobs["plan"]["if"]
    assert "github.ref == 'refs/heads/main'" in jobs["apply"]["if"]
    assert "github.event_name != 'pull_request'" in jobs["apply"]["if"]
    assert jobs["plan"]["needs"] == jobs["apply"]["needs"] == "validate"
    assert jobs["plan"]["permissions"]["pull-requests"] == "write"
    assert jobs["apply"]["concurrency"]["cancel-in-progress"] is False
    for job, command in (("validate", "validate"), ("plan", "plan"), ("apply", "apply")):
        assert any(f"scheduled {command} " in s for s in run_scripts(job)), job


def scheduled_commands() -> list[list[str]]:
    """Every `scheduled …` command line of the run scripts, with the workflow's env expanded
    and redirections dropped."""
    env = {k: str(v) for k, v in workflow()["env"].items()}
    commands = []
    for script in run_scripts():
        for line in script.replace("\\\n", " ").splitlines():
            words = shlex.split(re.split(r"\s\d?>", line)[0], comments=True)
            if words[:1] == ["scheduled"]:
                commands.append([re.sub(r"\$(\w+)", lambda m: env[m[1]], w) for w in words[1:]])
    return commands


def test_every_scheduled_command_in_the_workflow_uses_options_the_cli_has() -> None:
    """A misspelt option is a usage error, exit 2 — which plan's step would take for
    "changes pending"; click parses every option before --help answers."""
    commands = scheduled_commands()
    assert {command[0] for command in commands} == {"validate", "plan", "apply"}
    for command in commands:
        result = CliRunner().invoke(main, [*command, "--help"], prog_name="scheduled")
        assert result.exit_code == 0, (command, result.output)
        assert result.output.startswith(f"Usage: scheduled {command[0]} ")


def test_every_run_script_is_valid_bash() -> None:
    for script in run_scripts():
        checked = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr


def test_no_run_script_expands_an_expression_itself() -> None:
    """Values reach scripts through env:, so a branch name or title is never run as code."""
    assert [s for s in run_scripts() if "${{" in s] == []


def run_step(
    job: str, name: str, cwd: Path, env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """Run one step's script as the runner does for `shell: bash`, with the workflow's env
    replaced by `env`; returns the process and what the step wrote to $GITHUB_OUTPUT."""
    assert workflow()["defaults"]["run"]["shell"] == "bash"
    script = cwd / "step.sh"
    script.write_text(step(job, name)["run"], encoding="utf-8")
    output = cwd / "github_output"
    output.touch()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SCHEDULED_", "TEMPORAL_"))}
    process = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=cwd,
        env={
            **base,
            "PATH": f"{BIN}{os.pathsep}{base['PATH']}",
            "GITHUB_OUTPUT": str(output),
            "SCHEDULED_LOG_FORMAT": "text",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=150,
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return process, outputs


@pytest.fixture
def plan_step(
    tmp_path: Path, temporal_address: str, project_name: str
) -> Callable[[], tuple[subprocess.CompletedProcess[str], dict[str, str], Path]]:
    """Runs the plan job's `scheduled plan` step on tmp_path/tree against the dev server."""
    (tmp_path / "tree").mkdir()

    def run() -> tuple[subprocess.CompletedProcess[str], dict[str, str], Path]:
        env = {
            "SCHEDULED_ROOT": "tree",
            "SCHEDULED_PROJECT": project_name,
            "TEMPORAL_ADDRESS": temporal_address,
        }
        process, outputs = run_step("plan", "scheduled plan", tmp_path, env)
        return process, outputs, tmp_path

    return run


@pytest.mark.temporal
def test_the_plan_step_passes_with_changes_pending_and_saves_the_plan(
    plan_step: Callable[[], tuple[subprocess.CompletedProcess[str], dict[str, str], Path]],
    tmp_path: Path,
    project_name: str,
) -> None:
    write_workflow(tmp_path / "tree", "job.yaml", workflow_yaml("job", cron="0 9 * * *"))
    process, outputs, cwd = plan_step()
    assert process.returncode == 0, process.stdout + process.stderr
    assert outputs == {"status": "2"}
    plan = (cwd / "plan.txt").read_text()
    assert plan.startswith("**Plan:** 1 to create") and "🟢 create <code>job</code>" in plan


@pytest.mark.temporal
def test_the_plan_step_passes_when_nothing_changes(
    plan_step: Callable[[], tuple[subprocess.CompletedProcess[str], dict[str, str], Path]],
    tmp_path: Path,
) -> None:
    write_workflow(tmp_path / "tree", "job.yaml", workflow_yaml("job"))  # no schedule block
    process, outputs, cwd = plan_step()
    assert process.returncode == 0, process.stdout + process.stderr
    assert outputs == {"status": "0"}
    assert "0 to create, 0 to update" in (cwd / "plan.txt").read_text()


@pytest.mark.temporal
def test_the_plan_step_fails_on_an_invalid_tree_after_saving_what_plan_said(
    plan_step: Callable[[], tuple[subprocess.CompletedProcess[str], dict[str, str], Path]],
    tmp_path: Path,
) -> None:
    write_workflow(tmp_path / "tree", "broken.yaml", "id: broken\nschedule: [oops\n")
    process, outputs, cwd = plan_step()
    assert process.returncode == 1
    assert outputs == {"status": "1"}
    assert "broken.yaml" in (cwd / "plan.txt").read_text() + (cwd / "plan.log").read_text()


FAKE_GH = r"""#!/bin/bash
# gh, as far as the comment step uses it: `api` answers GET from $FAKE_GH_COMMENTS through the
# real jq with the caller's --jq filter, and records every call and the body it would send.
printf '%s\n' "$*" >> "$FAKE_GH_LOG"
case "$*" in
  "api --paginate "*) jq -r "${@: -1}" "$FAKE_GH_COMMENTS" ;;
  "api --method PATCH "*) cp "${6#body=@}" patched.md ;;
  "pr comment $PR_NUMBER --body-file "*) cp "$5" posted.md ;;
  *) exit 64 ;;
esac
"""


def run_comment_step(cwd: Path, comments: str, status: str) -> tuple[list[str], Path]:
    """The comment step with plan.txt saved and a fake gh; returns gh's calls."""
    if shutil.which("jq") is None:
        pytest.skip("LOUD SKIP: no jq, which applies gh's --jq filter (`make test` installs it)")
    fake = cwd / "bin"
    fake.mkdir()
    (fake / "gh").write_text(FAKE_GH, encoding="utf-8")
    (fake / "gh").chmod(0o755)
    (cwd / "comments.json").write_text(comments, encoding="utf-8")
    (cwd / "plan.txt").write_text("**Plan:** 1 to create\n", encoding="utf-8")
    (cwd / "plan.log").write_text("", encoding="utf-8")
    process, _ = run_step(
        "plan",
        "Comment the plan on the pull request",
        cwd,
        {
            "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}",
            "FAKE_GH_LOG": str(cwd / "gh.log"),
            "FAKE_GH_COMMENTS": str(cwd / "comments.json"),
            "GITHUB_REPOSITORY": "team/workflows",
            "GH_TOKEN": "t",
            "PR_NUMBER": "7",
            "PLAN_STATUS": status,
            "HEAD_SHA": "abc123",
            "SCHEDULED_ROOT": "workflows",
            "SCHEDULED_PROJECT": "workflows",
        },
    )
    assert process.returncode == 0, process.stdout + process.stderr
    return (cwd / "gh.log").read_text().splitlines(), cwd


def test_the_first_plan_comment_is_posted_with_the_plan_in_a_diff_block(tmp_path: Path) -> None:
    calls, cwd = run_comment_step(tmp_path, '[{"id": 1, "body": "looks good"}]', "2")
    assert [call.split()[:2] for call in calls] == [["api", "--paginate"], ["pr", "comment"]]
    body = (cwd / "posted.md").read_text()
    assert body.startswith("<!-- scheduled plan -->\n### scheduled plan: changes pending")
    assert "tree `workflows`.\n\n**Plan:** 1 to create\n" in body


def test_a_later_plan_comment_edits_the_earlier_one(tmp_path: Path) -> None:
    comments = """[{"id": 1, "body": "hi"}, {"id": 42, "body": "<!-- scheduled plan -->\\nold"},
                   {"id": 50, "body": "a later <!-- scheduled plan --> mention"}]"""
    calls, cwd = run_comment_step(tmp_path, comments, "0")
    assert calls[1].startswith("api --method PATCH repos/team/workflows/issues/comments/42 ")
    assert "### scheduled plan: no changes" in (cwd / "patched.md").read_text()
