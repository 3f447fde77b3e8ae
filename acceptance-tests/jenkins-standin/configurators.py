"""Checks `jenkins.clouds` against the Kubernetes plugin's configurator attributes, as JCasC does.

The attribute names come from kubernetes-plugin-attributes.json (derived from the plugin's source by
derive_attributes.py). The rules follow configuration-as-code @58646eb: attribute names match case-
insensitively (`BaseConfigurator.configure`, `removeIgnoreCase`); a deprecated attribute fails with
`'x' is deprecated` and a restricted one with `'x' is restricted: ...` (the default context rejects
both); keys left over fail with `Invalid configuration elements for type: class C : a,b.` plus the
available attributes (`handleUnknown`); an error inside an attribute is wrapped as
`Failed to configure 'attr': ...`, except unknown attributes, which propagate as they are; a
heterogeneous type (volumes, env vars, retention, workspace volume, clouds) takes a one-key mapping
or a bare symbol (`HeteroDescribableConfigurator`), and an unknown symbol fails with
`No <type> implementation found for <symbol>`.
"""

import json
import uuid
from pathlib import Path

from casc_sources import CascError

ATTRIBUTES_FILE = Path(__file__).with_name("kubernetes-plugin-attributes.json")
CLOUD_TYPE = "hudson.slaves.Cloud"


class UnknownAttributes(CascError):
    """Unknown keys: JCasC lets this one through enclosing attributes unwrapped."""


class Catalog:
    """The configurator types of the plugin, by simple class name."""

    def __init__(self, data: dict):
        self.data = data
        self.types = data["types"]

    @classmethod
    def load(cls, path: Path = ATTRIBUTES_FILE) -> "Catalog":
        return cls(json.loads(path.read_text()))

    def implementations(self, base: str) -> list[str]:
        """Concrete types extending `base` (directly or not)."""
        found = []
        for name, t in self.types.items():
            sup = t["extends"]
            while sup and sup != base:
                sup = self.types.get(sup, {}).get("extends")
            if sup == base and not t["abstract"]:
                found.append(name)
        return sorted(found)

    def symbols(self, name: str, base: str) -> list[str]:
        """Names a heterogeneous value may use for type `name`: @Symbol values, the class name and
        the class name minus the base type's name (`KubernetesCloud` → `Kubernetes`)."""
        names = list(self.types[name]["symbols"])
        names.append(name)
        if name.endswith(base) and name != base:
            names.append(name[: -len(base)])
        return names

    def preferred_symbol(self, name: str, base: str) -> str:
        syms = self.types[name]["symbols"]
        if syms:
            return syms[0]
        short = name[: -len(base)] if name.endswith(base) and name != base else name
        return short[0].lower() + short[1:]

    def accepted(self, name: str) -> dict[str, dict]:
        """The attributes of `name` that a default JCasC context accepts."""
        return {k: a for k, a in self.types[name]["attributes"].items() if not (a["deprecated"] or a["restricted"])}


class Checker:
    """Validates (and normalises) one configuration's clouds; raises CascError on the first problem."""

    def __init__(self, catalog: Catalog, new_id=lambda: str(uuid.uuid4())):
        self.catalog = catalog
        self.new_id = new_id

    def clouds(self, clouds) -> list:
        """Checks a `jenkins.clouds` list and returns it with every template given an `id`."""
        if not isinstance(clouds, list):
            raise CascError(f"Failed to configure 'clouds': expected a sequence, found {type(clouds).__name__}")
        out, names = [], set()
        for item in clouds:
            symbol, config = self._single_entry(item, CLOUD_TYPE)
            if symbol.lower() not in ("kubernetes", "kubernetescloud"):
                raise UnknownAttributes(f"No {CLOUD_TYPE} implementation found for {symbol}")
            checked = self.object("KubernetesCloud", config or {})
            name = checked.get("name")
            if not name:
                raise CascError(f"name is required to configure {self._class('KubernetesCloud')}")
            if name in names:
                raise CascError(f"Failed to configure 'clouds': more than one cloud is named '{name}'")
            names.add(name)
            out.append({"kubernetes": checked})
        return out

    def _class(self, name: str) -> str:
        return f"class {self.catalog.types[name]['class']}"

    def _single_entry(self, item, target: str):
        if isinstance(item, str):
            return item, None
        if not isinstance(item, dict) or len(item) != 1:
            keys = ", ".join(map(str, item.keys())) if isinstance(item, dict) else type(item).__name__
            raise CascError(f"Single entry map expected to configure a {target} but found multiple entries: [{keys}]")
        (symbol, config), = item.items()
        return str(symbol), config

    def object(self, name: str, config) -> dict:
        """Checks one mapping against the attributes of type `name`; returns it with keys as declared."""
        if config is None:
            config = {}
        if not isinstance(config, dict):
            raise CascError(f"Expected a mapping to configure {self._class(name)}, found {config!r}")
        attrs = self.catalog.types[name]["attributes"]
        remaining = dict(config)
        out = {}
        for attr, spec in attrs.items():
            key = next((k for k in remaining if str(k).lower() == attr.lower()), None)
            if key is None:
                continue
            value = remaining.pop(key)
            if spec["deprecated"]:
                raise CascError(f"'{attr}' is deprecated")
            if spec["restricted"]:
                raise CascError(f"'{attr}' is restricted: NoExternalUse")
            try:
                out[attr] = self.value(spec, value)
            except UnknownAttributes:
                raise
            except CascError as err:
                raise CascError(f"Failed to configure '{attr}': {err}") from None
        if remaining:
            invalid = ",".join(map(str, remaining))
            available = ", ".join(attrs)
            raise UnknownAttributes(
                f"Invalid configuration elements for type: {self._class(name)} : {invalid}.\n"
                f"Available attributes : {available}"
            )
        order = {str(k).lower(): i for i, k in enumerate(config)}
        out = dict(sorted(out.items(), key=lambda kv: order.get(kv[0].lower(), len(order))))
        if name == "PodTemplate" and not out.get("id"):
            out["id"] = self.new_id()  # the plugin's constructor: a random UUID when no id is given
        return out

    def value(self, spec: dict, value):
        """Checks an attribute's value: nested configurators recursively, plain values as they are."""
        typ = spec["type"].rsplit(".", 1)[-1]
        if typ not in self.catalog.types:
            return value
        if spec["multiple"]:
            if value is None:
                return []
            if not isinstance(value, list):
                value = [value]
            return [self.element(typ, v) for v in value]
        return self.element(typ, value)

    def element(self, typ: str, value):
        if not self.catalog.types[typ]["abstract"]:
            return self.object(typ, value)
        symbol, config = self._single_entry(value, self.catalog.types[typ]["class"])
        for impl in self.catalog.implementations(typ):
            if any(s.lower() == symbol.lower() for s in self.catalog.symbols(impl, typ)):
                checked = self.object(impl, config or {})
                preferred = self.catalog.preferred_symbol(impl, typ)
                return {preferred: checked} if checked or not isinstance(value, str) else preferred
        raise UnknownAttributes(f"No {self.catalog.types[typ]['class']} implementation found for {symbol}")


def json_schema(catalog: Catalog) -> dict:
    """A JSON Schema naming, per configurator, the attributes this controller accepts."""
    defs = {}
    for name, t in catalog.types.items():
        if t["abstract"]:
            impls = catalog.implementations(name)
            defs[t["class"]] = {
                "type": "object",
                "oneOf": [
                    {
                        "properties": {
                            catalog.preferred_symbol(i, name): {"$ref": f"#/definitions/{catalog.types[i]['class']}"}
                        },
                        "additionalProperties": False,
                    }
                    for i in impls
                ],
            }
            continue
        props = {}
        for attr, spec in catalog.accepted(name).items():
            typ = spec["type"].rsplit(".", 1)[-1]
            item = (
                {"$ref": f"#/definitions/{catalog.types[typ]['class']}"}
                if typ in catalog.types
                else {"type": _json_type(typ)}
            )
            props[attr] = {"type": "array", "items": item} if spec["multiple"] else item
        defs[t["class"]] = {"type": "object", "properties": props, "additionalProperties": False}
    cloud = {"$ref": f"#/definitions/{catalog.types['KubernetesCloud']['class']}"}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "description": "Jenkins Configuration as Code (stand-in: the Kubernetes plugin's configurators)",
        "x-kubernetes-plugin": {"commit": catalog.data["commit"], "version": catalog.data["version"]},
        "type": "object",
        "properties": {
            "jenkins": {
                "type": "object",
                "properties": {
                    "clouds": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"kubernetes": cloud}, "additionalProperties": False},
                    }
                },
            }
        },
        "definitions": defs,
    }


def _json_type(java: str) -> str:
    return {
        "boolean": "boolean",
        "Boolean": "boolean",
        "int": "integer",
        "Integer": "integer",
        "long": "integer",
        "Long": "integer",
    }.get(java, "string")
