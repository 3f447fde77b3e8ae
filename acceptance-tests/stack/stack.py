"""Starts and stops the local stack: moto (AWS) and the Kubernetes emulator, on loopback ports.

  stack.py up   --dir DIR --emulator PATH [--clusters controller,remote] [--no-kube] [--parent-pid PID]
  stack.py down --dir DIR
  stack.py jenkins-up --dir D --namespace NS --release R [--stack-dir DIR] [--parent-pid PID]
  stack.py jenkins-down|jenkins-stop|jenkins-start --dir D

`up` starts both services detached (they outlive this command; logs in DIR), waits until both
answer, then writes DIR/env (shell exports for a person, `make demo` and Terraform runs) and
DIR/stack.json (pids, ports, URLs, for programs). With --parent-pid, a watchdog process runs
`down` as soon as that process is gone: the acceptance tests share one stack per test process and
Rust never runs destructors of statics, so the test process cannot stop it itself.
`down` stops whatever `up` started there: SIGTERM, then SIGKILL after a grace period.

`jenkins-up` stands one Jenkins up in namespace NS of the `controller` cluster: the Helm chart's
objects (chart/jenkins_chart.py), the Jenkins stand-in (../jenkins-standin) and the chart's real
config-reload sidecar (sidecar_launcher.py); it prints and writes D/jenkins.json. See jenkins_instance.py.

It installs nothing: bootstrap.sh (make venv) provides this venv, cargo the emulator.
"""

import argparse
import json
import os
import shlex
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REGION = "us-east-1"
START_TIMEOUT = 30.0
STOP_GRACE = 5.0
WATCH_INTERVAL = 0.2


# jenkins_instance imports this file as `stack`; run as a script, that must be this very module.
sys.modules.setdefault("stack", sys.modules[__name__])


class StackError(Exception):
    """A failure to report in one clear line, without a traceback."""


# --- processes --------------------------------------------------------------------------------


def start_time(pid: int) -> int | None:
    """The kernel's start time of a pid (field 22 of /proc/PID/stat), None if it doesn't exist.

    Stored next to every pid so that `down` never signals an unrelated process that reused it.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":  # a zombie has finished; only its parent's wait() is missing
        return None
    return int(fields[19])


def is_alive(proc: dict | None) -> bool:
    """True if the recorded process still runs (same pid and same start time)."""
    return bool(proc) and start_time(proc["pid"]) == proc["start"]


def spawn(argv: list[str], log: Path, env: dict[str, str] | None = None) -> dict:
    """Starts a detached service in its own session, its output appended to `log` (env: all of its
    environment, default this process's)."""
    with open(log, "ab") as out:
        child = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            env=env,
        )
    return {"pid": child.pid, "start": start_time(child.pid), "log": str(log), "argv": argv, "popen": child}


def stop(proc: dict | None, grace: float = STOP_GRACE) -> bool:
    """SIGTERM to the process group of a recorded process, SIGKILL if it outlives `grace`."""
    if not is_alive(proc):
        return False
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
        try:
            os.killpg(proc["pid"], sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not is_alive(proc):
                return True
            time.sleep(0.02)
    return True


# --- readiness --------------------------------------------------------------------------------


def log_tail(path: str, lines: int = 15) -> str:
    """The end of a service log, to explain a failed start."""
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def moto_answers(url: str) -> bool:
    """True once the launcher's control API answers."""
    try:
        with urllib.request.urlopen(f"{url}/_stack/health", timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False


def kube_answers(cluster: dict) -> bool:
    """True once a cluster's HTTPS endpoint answers /version, verified against its own CA."""
    context = ssl.create_default_context(cadata=cluster["ca_pem"])
    context.check_hostname = False  # the endpoint is an IP; trust comes from the private CA
    request = urllib.request.Request(
        f"{cluster['endpoint']}/version", headers={"Authorization": f"Bearer {cluster.get('admin_token', '')}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=1, context=context):
            return True
    except urllib.error.HTTPError:
        return True  # it answered, even if not with 200
    except (OSError, ValueError):
        return False


def read_json(path: Path) -> dict | None:
    """A JSON file's content, None while it is missing or half written."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def wait_ready(services: dict, moto_ready: Path, kube_json: Path | None, clusters: list[str]) -> tuple[dict, dict]:
    """Waits until moto and every emulator cluster answer; fails fast if a service dies."""
    deadline = time.monotonic() + START_TIMEOUT
    moto, kube = None, None
    while time.monotonic() < deadline:
        for name, proc in services.items():
            if proc["popen"].poll() is not None:
                raise StackError(
                    f"{name} exited with status {proc['popen'].returncode} while starting; "
                    f"end of {proc['log']}:\n{log_tail(proc['log'])}"
                )
        if moto is None:
            info = read_json(moto_ready)
            moto = info if info and moto_answers(info["url"]) else None
        if kube_json is not None and kube is None:
            info = read_json(kube_json)
            # The kubeconfig comes with emulator.json; wait for both so no reader sees one alone.
            if (
                info
                and all(c in info.get("clusters", {}) for c in clusters)
                and (kube_json.parent / "kubeconfig").exists()
            ):
                kube = info if all(kube_answers(info["clusters"][c]) for c in clusters) else None
        if moto is not None and (kube_json is None or kube is not None):
            return moto, kube or {}
        time.sleep(0.025)
    waiting = [n for n, v in (("moto", moto), ("kube-emulator", kube if kube_json else {})) if v is None]
    raise StackError(f"timed out after {START_TIMEOUT:.0f} s waiting for {', '.join(waiting)} (logs in the stack dir)")


# --- up / down --------------------------------------------------------------------------------


def environment(dir_: Path, moto_url: str, kubeconfig: Path | None) -> dict[str, str]:
    """The variables a shell, `make demo` or a Terraform run needs to use the stack."""
    env = {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "TFPJ_STACK_DIR": str(dir_),
    }
    if kubeconfig is not None:
        env["KUBECONFIG"] = str(kubeconfig)
    return env


def write_atomically(path: Path, text: str) -> None:
    """Writes a file through a rename, so readers never see half of it."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def running_state(dir_: Path) -> dict | None:
    """The recorded stack of DIR if any of its processes still runs."""
    state = read_json(dir_ / "stack.json")
    if state and any(is_alive(state.get(k)) for k in ("moto", "kube", "watchdog")):
        return state
    return None


def up(args: argparse.Namespace) -> None:
    """Starts the stack in args.dir, or reports the one already running there."""
    dir_ = Path(args.dir).resolve()
    state = running_state(dir_)
    if state:
        print(f"stack already running in {dir_}: moto {state['moto_url']}; `source {dir_}/env`")
        return
    clusters = [c for c in args.clusters.split(",") if c]
    emulator = Path(args.emulator).resolve() if args.emulator else None
    if not args.no_kube and (emulator is None or not os.access(emulator, os.X_OK)):
        raise StackError(
            f"the Kubernetes emulator binary {emulator} does not exist yet: build it with "
            "`cargo build -p kube-emulator` (make stack-up does), or pass --no-kube to start moto alone"
        )
    started = time.monotonic()
    kube_dir = dir_ / "kube"
    kube_dir.mkdir(parents=True, exist_ok=True)
    moto_ready, kube_json = dir_ / "moto.json", kube_dir / "emulator.json"
    for stale in (moto_ready, kube_json, dir_ / "stack.json", dir_ / "env"):
        stale.unlink(missing_ok=True)

    services = {}
    if not args.no_kube:
        cluster_args = [a for c in clusters for a in ("--cluster", c)]
        # Every access key signs with the stack's one secret; the key only selects moto's account.
        secret_args = ["--aws-secret", "testing=testing", "--aws-secret", "*=testing"]
        services["kube-emulator"] = spawn(
            [str(emulator), "--dir", str(kube_dir), *cluster_args, *secret_args], dir_ / "kube.log"
        )
    services["moto"] = spawn(
        [sys.executable, str(HERE / "moto_launcher.py"), "--port", "0", "--emulator-json", str(kube_json)]
        + ["--ready-file", str(moto_ready)],
        dir_ / "moto.log",
    )
    try:
        moto, kube = wait_ready(services, moto_ready, None if args.no_kube else kube_json, clusters)
    except BaseException:
        for proc in services.values():
            stop(proc, grace=1.0)
        raise
    elapsed = time.monotonic() - started

    kubeconfig = None if args.no_kube else kube_dir / "kubeconfig"
    env = environment(dir_, moto["url"], kubeconfig)
    write_atomically(dir_ / "env", "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items()))
    record = {name: {k: v for k, v in p.items() if k != "popen"} for name, p in services.items()}
    state = {
        "dir": str(dir_),
        "moto_url": moto["url"],
        "moto_port": moto["port"],
        "moto": record["moto"],
        "kube": record.get("kube-emulator"),
        "emulator_json": None if args.no_kube else str(kube_json),
        "kubeconfig": None if kubeconfig is None else str(kubeconfig),
        "clusters": {n: c["endpoint"] for n, c in kube.get("clusters", {}).items()},
        "env": env,
        "started_in_seconds": round(elapsed, 3),
        "watchdog": None,
    }
    if args.parent_pid:
        watch_argv = [sys.executable, str(Path(__file__).resolve()), "watch", "--dir", str(dir_)]
        watch_argv += ["--parent-pid", str(args.parent_pid), "--parent-start", str(start_time(args.parent_pid))]
        watch_argv += ["--remove-dir"] if args.remove_dir_on_exit else []
        watchdog = spawn(watch_argv, dir_ / "watchdog.log")
        state["watchdog"] = {k: v for k, v in watchdog.items() if k != "popen"}
    for name, proc in record.items():
        write_atomically(dir_ / f"{name}.pid", f"{proc['pid']}\n")
    write_atomically(dir_ / "stack.json", json.dumps(state, indent=2) + "\n")
    kube_text = ", ".join(f"{n} {e}" for n, e in state["clusters"].items()) or "no kube (--no-kube)"
    print(f"stack up in {elapsed:.2f} s: moto {moto['url']}, {kube_text}; `source {dir_}/env`")


def down(args: argparse.Namespace, quiet: bool = False) -> None:
    """Stops every process `up` recorded in args.dir and removes its pid files."""
    dir_ = Path(args.dir).resolve()
    state = read_json(dir_ / "stack.json") or {}
    stopped = [name for name in ("moto", "kube") if stop(state.get(name))]
    for name in ("moto", "kube-emulator"):
        (dir_ / f"{name}.pid").unlink(missing_ok=True)
    for stale in ("stack.json", "env", "moto.json"):
        (dir_ / stale).unlink(missing_ok=True)
    watchdog = state.get("watchdog")
    if watchdog and watchdog["pid"] != os.getpid():
        stop(watchdog, grace=1.0)
    if not quiet:
        print(f"stack in {dir_}: stopped {', '.join(stopped)}" if stopped else f"no stack running in {dir_}")


def watch(args: argparse.Namespace) -> None:
    """The watchdog: waits for the parent process to go away, then brings the stack down."""
    parent = {"pid": args.parent_pid, "start": args.parent_start}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while is_alive(parent):
        time.sleep(WATCH_INTERVAL)
    down(args, quiet=True)
    if args.remove_dir:
        # A test process's stack lives in a temp dir of its own; its logs go with it.
        shutil.rmtree(args.dir, ignore_errors=True)


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, dict]:
    """The `up`, `down` and (internal) `watch` commands, and the `jenkins-*` ones (jenkins_instance)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start moto and the emulator detached, write DIR/env and DIR/stack.json")
    p_up.add_argument("--dir", required=True)
    p_up.add_argument("--emulator", help="the kube-emulator binary")
    p_up.add_argument("--clusters", default="controller,remote")
    p_up.add_argument("--no-kube", action="store_true", help="start moto alone")
    p_up.add_argument("--parent-pid", type=int, help="stop the stack when this process exits")
    p_up.add_argument("--remove-dir-on-exit", action="store_true", help="with --parent-pid: then delete DIR")
    p_down = sub.add_parser("down", help="stop the stack started in DIR")
    p_down.add_argument("--dir", required=True)
    p_watch = sub.add_parser("watch")
    p_watch.add_argument("--dir", required=True)
    p_watch.add_argument("--parent-pid", type=int, required=True)
    p_watch.add_argument("--parent-start", type=int, required=True)
    p_watch.add_argument("--remove-dir", action="store_true")
    import jenkins_instance  # imports this module: only once the parser is wanted

    commands = {"up": up, "down": down, "watch": watch, **jenkins_instance.add_commands(sub)}
    return parser.parse_args(argv), commands


def main(argv: list[str]) -> int:
    """Runs one command; a StackError becomes one line on stderr and exit status 1."""
    args, commands = parse_args(argv)
    try:
        commands[args.command](args)
    except StackError as err:
        print(f"stack.py {args.command}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
