"""Reading and merging JCasC sources the way configuration-as-code does, before anything is applied.

Facts (configuration-as-code-plugin @58646eb, `ConfigurationAsCode`, `yaml/ErrorOnConflictMergeStrategy`,
shared/reference/jenkins-api.md): a folder is walked recursively, files `*.yml|*.yaml` in any case are
taken, any path segment starting with `.` is skipped, files are sorted by path; the YAML nodes are merged
(sequences concatenated, mappings by key, a scalar met twice is a conflict even when equal, nodes of
different kinds are incompatible); top-level keys `x-*` are ignored; `^${` writes a literal `${`.
"""

from pathlib import Path

import yaml


class CascError(Exception):
    """A configuration error; str() is the message JCasC would put after `Failed to reload configuration: `."""


def source_files(folder: Path) -> list[Path]:
    """The YAML files of a casc folder in the order JCasC reads them."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and path.suffix.lower() in (".yml", ".yaml"):
            found.append(path)
    return sorted(found, key=lambda p: str(p))


def _mark(source: str, node: yaml.Node) -> str:
    m = node.start_mark
    return f"in '{source}', line {m.line + 1}, column {m.column + 1}"


def merge_nodes(root: yaml.Node, node: yaml.Node, source: str) -> None:
    """Merges `node` (from `source`) into `root` in place, as the errorOnConflict strategy does."""
    if type(root) is not type(node):
        raise CascError(f"Found incompatible configuration elements {source} {_mark(source, node)}")
    if isinstance(root, yaml.SequenceNode):
        root.value.extend(node.value)
    elif isinstance(root, yaml.MappingNode):
        rest = []
        for key2, value2 in node.value:
            for key, value in root.value:
                if not isinstance(key, yaml.ScalarNode):
                    raise CascError(f"Found non-mergeable configuration keys {source} {_mark(source, node)})")
                if isinstance(key2, yaml.ScalarNode) and key.value == key2.value:
                    merge_nodes(value, value2, source)
                    break
            else:
                rest.append((key2, value2))
        root.value.extend(rest)
    else:
        raise CascError(f"Found conflicting configuration at {source} {_mark(source, node)}")


def compose(text: str, source: str) -> yaml.Node | None:
    """One YAML document as a node tree (None when empty); a syntax error is a CascError."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        raise CascError(f"Failed to parse {source}: {err}") from None


def construct(node: yaml.Node | None) -> dict:
    """The Python value of a merged node tree, minus top-level `x-*` keys."""
    if node is None:
        return {}
    loader = yaml.SafeLoader("")
    try:
        value = loader.construct_document(node)
    finally:
        loader.dispose()
    if not isinstance(value, dict):
        raise CascError(f"Expected a mapping at the top of the configuration, found {type(value).__name__}")
    return {k: v for k, v in value.items() if not (isinstance(k, str) and k.startswith("x-"))}


def read_folder(folder: Path) -> tuple[dict, list[str]]:
    """The merged configuration of every source file in `folder`, and the files read (relative)."""
    merged, names = None, []
    for path in source_files(folder):
        try:
            text = path.read_text()
        except OSError as err:
            raise CascError(f"Failed to read {path}: {err}") from None
        node = compose(text, str(path))
        names.append(str(path.relative_to(folder)))
        if node is None:
            continue
        if merged is None:
            merged = node
        else:
            merge_nodes(merged, node, str(path))
    return construct(merged), names


def read_document(text: str, source: str = "request") -> dict:
    """One document (a request body) on its own."""
    return construct(compose(text, source))


def interpolate(value, variables: dict[str, str]):
    """Resolves `${name}` from `variables` in every string (unknown names stay as written) and turns
    the escape `^${` into a literal `${`, as JCasC's secret source resolver does."""
    if isinstance(value, dict):
        return {k: interpolate(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, variables) for v in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    out, i = [], 0
    while i < len(value):
        if value.startswith("^${", i):
            end = value.find("}", i)
            end = len(value) if end < 0 else end + 1
            out.append(value[i + 1 : end])
            i = end
        elif value.startswith("${", i):
            end = value.find("}", i)
            if end < 0:
                out.append(value[i:])
                break
            name = value[i + 2 : end].split(":-", 1)
            default = name[1] if len(name) > 1 else None
            resolved = variables.get(name[0], default)
            out.append(value[i : end + 1] if resolved is None else resolved)
            i = end + 1
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def escape(value):
    """The reverse of interpolation for export: a literal `${` is written `^${`."""
    if isinstance(value, dict):
        return {k: escape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [escape(v) for v in value]
    if isinstance(value, str):
        return value.replace("${", "^${")
    return value
