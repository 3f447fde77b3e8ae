"""One Jenkins per test in the local stack: the chart as installed, the stand-in, the real sidecar.

`stack.py jenkins-up` (see `up` below) does what `helm install <release> jenkins/jenkins` and the
kubelet would: it applies the chart fixture (chart/jenkins_chart.py) to namespace NS of the emulator's
`controller` cluster, creates the controller pod `<fullname>-0`, runs the `config-reload-init`
container's pass (METHOD=LIST) to completion, starts the Jenkins stand-in (jenkins-standin/standin.py)
on the casc folder with the pod name as reload token, then the `config-reload` sidecar in WATCH mode.
Both sidecar runs get their env from the fixture's StatefulSet (kubelet substitutions applied:
`$(POD_NAME)`, `localhost:8080` → the stand-in's address, FOLDER → DIR/casc_configs, HEALTH_PORT → a
free port) and a kubeconfig whose identity is the chart's ServiceAccount (a TokenRequest token), so
the chart's Role is what lets them read ConfigMaps.

DIR/jenkins.json (also printed) holds url, users and tokens, folder, pids, log paths: test
credentials for a loopback stand-in, nothing real.
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import stack
from chart import jenkins_chart

HERE = Path(__file__).resolve().parent
STANDIN = HERE.parent / "jenkins-standin" / "standin.py"
LAUNCHER = HERE / "sidecar_launcher.py"
INIT_TIMEOUT = 60.0
READY_TIMEOUT = 30.0
TOKEN_SECONDS = 48 * 3600


class Kubectl:
    """kubectl against one context of the stack's kubeconfig, as the cluster admin."""

    def __init__(self, kubeconfig: Path, context: str):
        self.base = ["kubectl", "--kubeconfig", str(kubeconfig), "--context", context]

    def run(self, args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([*self.base, *args], input=stdin, capture_output=True, text=True, timeout=60)

    def must(self, args: list[str], stdin: str | None = None) -> str:
        out = self.run(args, stdin)
        if out.returncode != 0:
            raise stack.StackError(f"kubectl {' '.join(args)} failed: {out.stderr.strip()}")
        return out.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stack_cluster(stack_dir: Path, cluster: str) -> tuple[Path, dict]:
    """The stack's kubeconfig and one cluster's record from the emulator's emulator.json."""
    info = stack.read_json(stack_dir / "kube" / "emulator.json")
    if not info or cluster not in info.get("clusters", {}):
        raise stack.StackError(f"no emulator cluster `{cluster}` in {stack_dir}/kube/emulator.json: is the stack up?")
    return stack_dir / "kube" / "kubeconfig", info["clusters"][cluster]


def apply_objects(kubectl: Kubectl, objects: list[dict]) -> tuple[list[str], list[dict]]:
    """Applies the objects as one List; returns what was applied and what the emulator refused
    (object, kubectl's message), so a kind it does not serve is skipped, not fatal. kubectl validates
    a whole batch against the server's OpenAPI first, and one unserved kind fails it all: then the
    batch goes again without client-side validation (the server still validates every object)."""
    batch = json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
    out = kubectl.run(["apply", "-f", "-"], stdin=batch)
    if out.returncode != 0 and not out.stdout.strip():
        out = kubectl.run(["apply", "--validate=false", "-f", "-"], stdin=batch)
    done = set()
    for line in out.stdout.splitlines():  # "role.rbac.authorization.k8s.io/ci-jenkins created"
        ref = line.split(" ", 1)[0]
        if "/" in ref:
            kind, name = ref.split("/", 1)
            done.add((kind.split(".", 1)[0].lower(), name))
    errors = [line for line in out.stderr.splitlines() if line.strip()]
    applied, skipped = [], []
    for obj in objects:
        kind, name = obj["kind"], obj["metadata"]["name"]
        if (kind.lower(), name) in done:
            applied.append(f"{kind}/{name}")
        else:
            why = [e for e in errors if f'"{kind}"' in e or name in e] or errors or ["not applied"]
            skipped.append({"object": f"{kind}/{name}", "error": why[0]})
    return applied, skipped


def write_kubeconfig(home: Path, cluster: dict, token: str, namespace: str) -> None:
    """HOME/.kube/config for the sidecar: the cluster, and the service account's token as user."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "controller", "cluster": {"server": cluster["endpoint"], "certificate-authority": cluster["ca_file"]}}],
        "users": [{"name": "jenkins-controller", "user": {"token": token}}],
        "contexts": [{"name": "pod", "context": {"cluster": "controller", "user": "jenkins-controller", "namespace": namespace}}],
        "current-context": "pod",
    }
    kube = home / ".kube"
    kube.mkdir(parents=True, exist_ok=True)
    path = kube / "config"
    path.write_text(json.dumps(config))
    path.chmod(0o600)


def sidecar_env(container_env: dict, pod: str, folder: Path, home: Path, standin_url: str | None) -> dict[str, str]:
    """A reload container's env with the kubelet's substitutions and this machine's paths and ports."""
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "METHOD", "REQ_URL", "NAMESPACE")}
    for name, value in container_env.items():
        if value is None:  # fieldRef: only POD_NAME (metadata.name) in the chart
            value = pod
        value = value.replace("$(POD_NAME)", pod)
        if name == "FOLDER":
            value = str(folder)
        elif name == "HEALTH_PORT":
            value = str(free_port())
        elif name == "REQ_URL" and standin_url:
            value = value.replace(f"http://localhost:{jenkins_chart.HTTP_PORT}", standin_url)
        env[name] = value
    env["HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def healthy(port: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
            return resp.status == 200
    except (OSError, urllib.error.HTTPError):
        return False


def start_standin(state: dict) -> dict:
    """Starts (or restarts, on the recorded port) the stand-in; waits for its ready file."""
    dir_ = Path(state["dir"])
    ready = dir_ / "standin.json"
    ready.unlink(missing_ok=True)
    argv = [sys.executable, str(STANDIN), *state["standin_args"], "--port", str(state.get("port") or 0)]
    argv += ["--ready-file", str(ready), "--log", state["logs"]["jenkins"]]
    proc = stack.spawn(argv, dir_ / "standin.out")
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc["popen"].poll() is not None:
            raise stack.StackError(f"the stand-in exited while starting:\n{stack.log_tail(str(dir_ / 'standin.out'))}")
        info = stack.read_json(ready)
        if info:
            state["port"], state["url"] = info["port"], info["url"]
            return {k: v for k, v in proc.items() if k != "popen"}
        time.sleep(0.02)
    stack.stop(proc, grace=1.0)
    raise stack.StackError("the stand-in did not become ready")


def install_chart(kubectl: Kubectl, args, password: str) -> tuple[dict, list[str], list[dict]]:
    """The namespace, the chart's objects and the controller pod; returns the StatefulSet and what
    was applied or skipped."""
    ns = kubectl.run(["create", "namespace", args.namespace])
    if ns.returncode != 0 and "AlreadyExists" not in ns.stderr and "already exists" not in ns.stderr:
        raise stack.StackError(f"cannot create namespace {args.namespace}: {ns.stderr.strip()}")
    objects = jenkins_chart.render(args.release, args.namespace, search_namespace=args.search_namespace,
                                   admin_password=password, sleep_time=args.sleep_time)
    sts = next(o for o in objects if o["kind"] == "StatefulSet")
    applied, skipped = apply_objects(kubectl, objects)
    pod = jenkins_chart.controller_pod(sts)
    out = kubectl.run(["create", "-f", "-"], stdin=json.dumps(pod))
    if out.returncode == 0:
        applied.append(f"Pod/{pod['metadata']['name']}")
    elif "AlreadyExists" not in out.stderr and "already exists" not in out.stderr:
        skipped.append({"object": f"Pod/{pod['metadata']['name']}", "error": out.stderr.strip()})
    return sts, applied, skipped


def write_private(path: Path, value) -> Path:
    """A JSON file only this user can read (tokens, the admin password)."""
    path.write_text(json.dumps(value))
    path.chmod(0o600)
    return path


def run_init(launcher: list[str], env: dict[str, str], log: str) -> None:
    """The `config-reload-init` container: list once, write the files, exit."""
    with open(log, "ab") as out:
        init = subprocess.run(launcher, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=INIT_TIMEOUT)
    if init.returncode != 0:
        raise stack.StackError(f"config-reload-init exited {init.returncode}:\n{stack.log_tail(log)}")


def start_sidecar(launcher: list[str], env: dict[str, str], log: str) -> dict:
    """The `config-reload` container; returns once its health endpoint says the first sync is done."""
    sidecar = stack.spawn(launcher, Path(log), env=env)
    deadline = time.monotonic() + READY_TIMEOUT
    while not healthy(env["HEALTH_PORT"]):
        if sidecar["popen"].poll() is not None:
            raise stack.StackError(f"config-reload exited {sidecar['popen'].returncode}:\n{stack.log_tail(log)}")
        if time.monotonic() > deadline:
            stack.stop(sidecar, grace=1.0)
            raise stack.StackError(f"config-reload did not report ready:\n{stack.log_tail(log)}")
        time.sleep(0.05)
    return {k: v for k, v in sidecar.items() if k != "popen"}


def up(args) -> None:
    """jenkins-up: chart, init pass, Jenkins, sidecar, watchdog; prints and writes DIR/jenkins.json."""
    dir_ = Path(args.dir).resolve()
    dir_.mkdir(parents=True, exist_ok=True)
    old = stack.read_json(dir_ / "jenkins.json")
    if old and stack.is_alive(old["processes"].get("standin")):
        print(json.dumps(old, indent=2))
        return
    stack_dir = Path(args.stack_dir or os.environ.get("TFPJ_STACK_DIR") or "").resolve()
    kubeconfig, cluster = stack_cluster(stack_dir, args.cluster)
    kubectl = Kubectl(kubeconfig, args.cluster)
    password = secrets.token_urlsafe(18)
    sts, applied, skipped = install_chart(kubectl, args, password)
    full = sts["metadata"]["name"]
    pod = f"{full}-0"

    # The pod's identity: a TokenRequest token of the chart's ServiceAccount.
    token = kubectl.must(["-n", args.namespace, "create", "token", full, "--duration", f"{TOKEN_SECONDS}s"]).strip()
    home = dir_ / "sidecar-home"
    write_kubeconfig(home, cluster, token, args.namespace)
    folder = dir_ / "casc_configs"
    folder.mkdir(exist_ok=True)
    logs = {name: str(dir_ / f"{name}.log") for name in ("jenkins", "sidecar-init", "sidecar")}
    admin_token, reader_token = args.admin_token or secrets.token_hex(17), args.reader_token or secrets.token_hex(17)
    # What the chart mounts at /run/secrets/additional for ${chart-admin-username} and the password.
    variables = write_private(dir_ / "casc-variables.json",
                              {"chart-admin-username": "admin", "chart-admin-password": password})
    users = write_private(dir_ / "users.json", {
        "admin": {"token": admin_token, "permissions": ["ADMINISTER"]},
        "reader": {"token": reader_token, "permissions": ["SYSTEM_READ"]},
    })
    launcher = [sys.executable, str(LAUNCHER), "--pod-namespace", args.namespace]

    # 1. config-reload-init runs to completion before Jenkins starts.
    run_init(launcher, sidecar_env(jenkins_chart.container_env(sts, "config-reload-init"), pod, folder, home, None),
             logs["sidecar-init"])
    state = {
        "dir": str(dir_), "namespace": args.namespace, "release": args.release, "fullname": full, "pod": pod,
        "label": f"{full}-jenkins-config", "casc_folder": str(folder), "reload_token": pod,
        "users": {"admin": {"user": "admin", "token": admin_token}, "reader": {"user": "reader", "token": reader_token}},
        "logs": logs, "applied": applied, "skipped": skipped, "port": None, "url": None,
        "standin_args": ["--casc-folder", str(folder), "--reload-token", pod, "--users", str(users),
                         "--variables", str(variables)],
        "processes": {},
    }
    procs = state["processes"]
    try:
        # 2. Jenkins applies the folder at boot; its reload token is the pod name (-Dcasc.reload.token=$(POD_NAME)).
        procs["standin"] = start_standin(state)
        # 3. config-reload: an initial list (a reload only if a file changed), then WATCH (or SLEEP).
        env = sidecar_env(jenkins_chart.container_env(sts, "config-reload"), pod, folder, home, state["url"])
        procs["sidecar"] = start_sidecar(launcher, env, logs["sidecar"])
        state["sidecar_health_port"] = env["HEALTH_PORT"]
    except BaseException:
        for proc in procs.values():
            stack.stop(proc, grace=1.0)
        raise
    if args.parent_pid:
        argv = [sys.executable, str(HERE / "stack.py"), "jenkins-watch", "--dir", str(dir_),
                "--parent-pid", str(args.parent_pid), "--parent-start", str(stack.start_time(args.parent_pid))]
        procs["watchdog"] = {k: v for k, v in stack.spawn(argv, dir_ / "watchdog.log").items() if k != "popen"}
    stack.write_atomically(dir_ / "jenkins.json", json.dumps(state, indent=2) + "\n")
    print(json.dumps(state, indent=2))


def load(dir_: str) -> dict:
    state = stack.read_json(Path(dir_).resolve() / "jenkins.json")
    if not state:
        raise stack.StackError(f"no Jenkins recorded in {dir_} (jenkins.json missing)")
    return state


def stop_standin(args) -> None:
    """Jenkins down: the stand-in stops; the sidecar keeps running and its reloads fail to connect."""
    state = load(args.dir)
    stack.stop(state["processes"].get("standin"), grace=2.0)
    print(json.dumps({"stopped": "standin", "url": state["url"]}))


def start_standin_again(args) -> None:
    """Jenkins back on the same port (the sidecar's REQ_URL stays valid); it applies the folder at boot."""
    state = load(args.dir)
    if stack.is_alive(state["processes"].get("standin")):
        print(json.dumps({"running": "standin", "url": state["url"]}))
        return
    state["processes"]["standin"] = start_standin(state)
    stack.write_atomically(Path(state["dir"]) / "jenkins.json", json.dumps(state, indent=2) + "\n")
    print(json.dumps({"started": "standin", "url": state["url"]}))


def down(args, quiet: bool = False) -> None:
    state = stack.read_json(Path(args.dir).resolve() / "jenkins.json") or {"processes": {}}
    stopped = [n for n in ("sidecar", "standin") if stack.stop(state["processes"].get(n), grace=2.0)]
    watchdog = state["processes"].get("watchdog")
    if watchdog and watchdog["pid"] != os.getpid():
        stack.stop(watchdog, grace=1.0)
    if not quiet:
        print(json.dumps({"stopped": stopped}))


def watch(args) -> None:
    parent = {"pid": args.parent_pid, "start": args.parent_start}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while stack.is_alive(parent):
        time.sleep(stack.WATCH_INTERVAL)
    down(args, quiet=True)


def add_commands(sub) -> dict:
    """Adds the jenkins-* sub-commands to stack.py's parser; returns their handlers."""
    p = sub.add_parser("jenkins-up", help="chart fixture + Jenkins stand-in + reload sidecar for one namespace")
    p.add_argument("--dir", required=True, help="this Jenkins' folder (casc_configs, logs, jenkins.json)")
    p.add_argument("--namespace", required=True)
    p.add_argument("--release", default="jenkins")
    p.add_argument("--stack-dir", help="the running stack's dir (default $TFPJ_STACK_DIR)")
    p.add_argument("--cluster", default="controller")
    p.add_argument("--search-namespace", help="the chart's configAutoReload.searchNamespace (sidecar NAMESPACE)")
    p.add_argument("--sleep-time", type=int, help="the chart's configAutoReload.sleepTime: re-list every N s, no watch")
    p.add_argument("--admin-token")
    p.add_argument("--reader-token")
    p.add_argument("--parent-pid", type=int, help="stop this Jenkins when that process exits")
    for name, text in (("jenkins-down", "stop the stand-in and the sidecar"),
                       ("jenkins-stop", "stop the stand-in only (Jenkins down)"),
                       ("jenkins-start", "start the stand-in again on its port")):
        sub.add_parser(name, help=text).add_argument("--dir", required=True)
    w = sub.add_parser("jenkins-watch")
    w.add_argument("--dir", required=True)
    w.add_argument("--parent-pid", type=int, required=True)
    w.add_argument("--parent-start", type=int, required=True)
    return {"jenkins-up": up, "jenkins-down": down, "jenkins-stop": stop_standin,
            "jenkins-start": start_standin_again, "jenkins-watch": watch}
