"""Derives kubernetes-plugin-attributes.json from the Kubernetes plugin's Java source.

  derive_attributes.py [--git-dir /work/.mirror/jenkinsci+kubernetes-plugin/repo] [--rev HEAD] [--out FILE]

JCasC (configuration-as-code `BaseConfigurator.describe` and `DataBoundConfigurator`) gives a type the
attributes: its `@DataBoundConstructor` parameters, plus every public one-argument `setX` that has a
public `getX`/`isX` getter (the type's own or inherited); Map-typed setters are skipped; a setter or
getter marked `@Deprecated` or `@Restricted` makes the attribute deprecated or restricted, which JCasC
rejects by default. This script applies those rules to the plugin's source text (comments and strings
removed, nested classes left out), so the stand-in checks the same names a real controller would.
"""

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

BASE = "src/main/java/org/csanchez/jenkins/plugins/kubernetes"
PACKAGE = "org.csanchez.jenkins.plugins.kubernetes"
# The configurators a `jenkins.clouds[].kubernetes` entry reaches, by path under BASE.
CLASSES = [
    "KubernetesCloud", "PodTemplate", "ContainerTemplate", "ContainerEnvVar", "ContainerLivenessProbe",
    "PodAnnotation", "PodEnvVar", "PodImagePullSecret", "PodLabel", "PortMapping", "GarbageCollection",
    "KubernetesCloudTrait", "model/TemplateEnvVar", "model/KeyValueEnvVar", "model/SecretEnvVar",
    "pod/retention/PodRetention", "pod/retention/Always", "pod/retention/Default", "pod/retention/Evicted",
    "pod/retention/Never", "pod/retention/OnFailure",
    "volumes/PodVolume", "volumes/ConfigMapVolume", "volumes/DynamicPVCVolume", "volumes/EmptyDirVolume",
    "volumes/GenericEphemeralVolume", "volumes/HostPathVolume", "volumes/NfsVolume",
    "volumes/PersistentVolumeClaim", "volumes/SecretVolume",
    "volumes/workspace/WorkspaceVolume", "volumes/workspace/DynamicPVCWorkspaceVolume",
    "volumes/workspace/EmptyDirWorkspaceVolume", "volumes/workspace/GenericEphemeralWorkspaceVolume",
    "volumes/workspace/HostPathWorkspaceVolume", "volumes/workspace/NfsWorkspaceVolume",
    "volumes/workspace/PersistentVolumeClaimWorkspaceVolume",
]
ANNOTATION = r"@[\w.]+(?:\s*\((?:[^()]|\([^()]*\))*\))?"


def strip_comments_and_strings(text: str) -> str:
    """Java text with comments removed and string/char literals emptied (keeps braces honest)."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif text.startswith('"""', i):
            j = text.find('"""', i + 3)
            out.append('""')
            i = n if j < 0 else j + 3
        elif text[i] in "\"'":
            quote, j = text[i], i + 1
            while j < n and text[j] != quote:
                j += 2 if text[j] == "\\" else 1
            out.append(quote * 2)
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def top_level_body(text: str, name: str) -> tuple[str, str, str]:
    """(declaration, body without nested type bodies, nested text) of the top-level class `name`."""
    m = re.search(rf"\b(?:class|interface)\s+{name}\b[^{{]*\{{", text)
    if not m:
        raise ValueError(f"class {name} not found")
    decl, i, depth, body, nested = m.group(0), m.end(), 1, [], []
    nested_start = re.compile(r"\b(?:class|interface|enum)\s+\w+[^{;()]*\{")
    while i < len(text) and depth > 0:
        if depth == 1:
            nm = nested_start.match(text, i)
            if nm:
                j, d = nm.end(), 1
                while j < len(text) and d:
                    d += {"{": 1, "}": -1}.get(text[j], 0)
                    j += 1
                nested.append(text[i:j])
                i = j
                continue
        c = text[i]
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth > 0:
            body.append(c)
        i += 1
    return decl, "".join(body), "".join(nested)


def split_params(params: str) -> list[tuple[str, str]]:
    """Java parameter list → [(type, name)], annotations and `final` dropped, generics kept."""
    parts, depth, cur = [], 0, []
    for c in params:
        if c == "<":
            depth += 1
        elif c == ">":
            depth -= 1
        if c == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    if "".join(cur).strip():
        parts.append("".join(cur))
    result = []
    for p in parts:
        p = re.sub(ANNOTATION, " ", p)
        p = re.sub(r"\bfinal\b", " ", p).strip()
        typ, name = p.rsplit(None, 1)
        result.append((re.sub(r"\s+", "", typ), name))
    return result


def element_type(java_type: str) -> tuple[str, bool]:
    """(element type, multiple) of a Java type: List<X>/Collection<X>/X[] → (X, True)."""
    m = re.fullmatch(r"(?:java\.util\.)?(?:List|Collection|Set|PersistedList)<(?:\?extends)?([\w.]+)>", java_type)
    if m:
        return m.group(1), True
    if java_type.endswith("[]"):
        return java_type[:-2], True
    return java_type, False


def describe(path: str, source: str) -> dict:
    """The JCasC view of one class: symbols, supertype, and its own attributes."""
    name = path.rsplit("/", 1)[-1]
    text = strip_comments_and_strings(source)
    decl, body, nested = top_level_body(text, name)
    sup = re.search(r"\bextends\s+([\w.]+)", decl)
    abstract = bool(re.search(rf"\babstract\s+class\s+{name}\b", text)) or "interface" in decl.split(name)[0]
    symbols = re.findall(r"@Symbol\s*\(\s*\{?([^)}]*)\}?\s*\)", source)
    symbols = [s.strip().strip('"') for group in symbols for s in group.split(",") if s.strip()]

    attrs: dict[str, dict] = {}
    ctor = re.search(rf"@DataBoundConstructor\s+(?:{ANNOTATION}\s+)*public\s+{name}\s*\(([^)]*)\)", body)
    for typ, pname in split_params(ctor.group(1)) if ctor and ctor.group(1).strip() else []:
        elem, multiple = element_type(typ)
        attrs[pname] = {"type": elem, "multiple": multiple, "source": "constructor"}

    methods = re.finditer(
        rf"((?:{ANNOTATION}\s*)*)public\s+(?:final\s+|synchronized\s+)*([\w.<>?,\s\[\]]+?)\s+(\w+)\s*\(([^)]*)\)", body
    )
    getters, setters = {}, []
    for m in methods:
        annotations, ret, mname, params = m.group(1), re.sub(r"\s+", "", m.group(2)), m.group(3), m.group(4).strip()
        flags = {"deprecated": "@Deprecated" in annotations, "restricted": "@Restricted" in annotations}
        if not params and re.fullmatch(r"(get|is)[A-Z]\w*", mname):
            getters[mname[3:] if mname.startswith("get") else mname[2:]] = {"type": ret, **flags}
        elif params and "," not in params and ret == "void" and re.fullmatch(r"set[A-Z]\w*", mname):
            (typ, _), = split_params(params)
            setters.append((mname[3:], typ, flags))
    return {
        "name": name,
        "class": f"{PACKAGE}.{path.replace('/', '.')}",
        "extends": sup.group(1).rsplit(".", 1)[-1] if sup else None,
        "abstract": abstract,
        "symbols": symbols,
        "_attrs": attrs,
        "_getters": getters,
        "_setters": setters,
    }


def resolve(classes: dict[str, dict]) -> dict[str, dict]:
    """Adds inherited getters/setters and applies the getter rule; drops the working fields."""

    def chain(c):
        while c:
            yield c
            c = classes.get(c["extends"])

    out = {}
    for name, c in classes.items():
        getters, setters = {}, []
        for k in reversed(list(chain(c))):
            getters.update(k["_getters"])
            setters.extend(k["_setters"])
        attrs = {}
        for k in reversed(list(chain(c))):
            attrs.update(k["_attrs"])
        by_suffix: dict[str, list] = {}
        for suffix, typ, flags in setters:
            by_suffix.setdefault(suffix, []).append((typ, flags))
        for suffix, candidates in by_suffix.items():
            getter = getters.get(suffix)
            if getter is None:
                continue
            # Of several overloads, JCasC takes the one whose parameter matches the getter's type.
            typ, flags = next(((t, f) for t, f in candidates if t == getter["type"]), candidates[-1])
            if re.match(r"(?:java\.util\.)?Map\b", typ):
                continue
            attr = suffix[0].lower() + suffix[1:]
            elem, multiple = element_type(typ)
            prev = attrs.get(attr, {})
            attrs[attr] = {
                "type": elem,
                "multiple": multiple,
                "source": prev.get("source", "setter"),
                "deprecated": flags["deprecated"] or getter["deprecated"],
                "restricted": flags["restricted"] or getter["restricted"],
            }
        for a in attrs.values():
            a.setdefault("deprecated", False)
            a.setdefault("restricted", False)
        out[name] = {
            "class": c["class"],
            "extends": c["extends"],
            "abstract": c["abstract"],
            "symbols": c["symbols"],
            "attributes": dict(sorted(attrs.items())),
        }
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--git-dir", default="/work/.mirror/jenkinsci+kubernetes-plugin/repo")
    parser.add_argument("--rev", default="HEAD")
    parser.add_argument("--out", default=str(Path(__file__).with_name("kubernetes-plugin-attributes.json")))
    args = parser.parse_args(argv)
    git = ["git", "--git-dir", args.git_dir]
    commit = subprocess.check_output([*git, "rev-parse", args.rev], text=True).strip()
    pom = subprocess.check_output([*git, "show", f"{commit}:pom.xml"], text=True)
    revision = re.search(r"<revision>([^<]+)</revision>", pom)
    changelist = re.search(r"<changelist>([^<]+)</changelist>", pom)
    classes = {}
    for path in CLASSES:
        source = subprocess.check_output([*git, "show", f"{commit}:{BASE}/{path}.java"], text=True)
        c = describe(path, source)
        classes[c["name"]] = c
    data = {
        "plugin": "kubernetes",
        "repository": "https://github.com/jenkinsci/kubernetes-plugin",
        "commit": commit,
        "version": f"{revision.group(1) if revision else ''}.{changelist.group(1) if changelist else ''}".strip("."),
        "derived_by": "acceptance-tests/jenkins-standin/derive_attributes.py",
        "types": resolve(classes),
    }
    Path(args.out).write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    print(f"wrote {args.out}: {len(classes)} types from {commit[:7]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
