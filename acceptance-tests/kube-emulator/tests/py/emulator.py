"""Shared by the Python-client test scripts: the official client configured from a spawned
emulator's directory (its kubeconfig, context "controller"), and the emulator's admin endpoints."""

import json
import os
import sys

import requests
from kubernetes import client, config


def emulator_dir():
    return sys.argv[1]


def core_v1():
    """A CoreV1Api for the controller cluster, configured as users configure it: from the kubeconfig."""
    api_client = config.new_client_from_config(
        config_file=os.path.join(emulator_dir(), "kubeconfig"), context="controller"
    )
    return client.CoreV1Api(api_client)


def compact():
    """Drops the emulator's event history, as an etcd compaction does."""
    with open(os.path.join(emulator_dir(), "emulator.json")) as f:
        info = json.load(f)["clusters"]["controller"]
    r = requests.post(
        info["endpoint"] + "/emulator/compact",
        headers={"Authorization": "Bearer " + info["admin_token"]},
        verify=info["ca_file"],
        timeout=10,
    )
    r.raise_for_status()


def emit(**fields):
    """One result line for the Rust test to read."""
    print(json.dumps(fields), flush=True)


def config_map(name, labels=None, data=None):
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels), data=data or {})
