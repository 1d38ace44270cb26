"""`flask bench imports`: the shape of the package import graph.

Counts, for the `portal` tree: package pairs that import each other, imports made inside
functions (the usual way round an import loop), and module cycles, both over imports at the
top of a module and over all imports. Reads the source only; nothing is imported.
"""
import ast
from collections import defaultdict
from pathlib import Path


def module_name(root, path):
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(tree, module, is_package):
    """(imported module, inside a function?) for each import in a module's syntax tree."""
    found = []
    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                found.extend((alias.name, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                found.extend((name, in_function)
                             for name in _from_targets(child, module, is_package))
            visit(child, nested)
    visit(tree, False)
    return found


def _from_targets(node, module, is_package):
    base = node.module or ""
    if node.level:
        parts = module.split(".")
        parts = parts if is_package else parts[:-1]
        parts = parts[:len(parts) - node.level + 1]
        base = ".".join(parts + ([base] if base else []))
    return [f"{base}.{alias.name}" if alias.name != "*" else base for alias in node.names]


def graph(root):
    """{module: [(imported portal module, in function), ...]} for the tree under `root`."""
    root = Path(root)
    paths = {module_name(root, p): p for p in root.rglob("*.py")}
    edges = defaultdict(list)
    for module, path in paths.items():
        tree = ast.parse(path.read_text(), str(path))
        for target, in_function in imports_of(tree, module, path.name == "__init__.py"):
            resolved = _resolve(target, paths)
            if resolved and resolved != module:
                edges[module].append((resolved, in_function))
    return paths, edges


def _resolve(target, modules):
    while target and target not in modules:
        target = target.rpartition(".")[0]
    return target if target.startswith("portal") else None


def package(module):
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else parts[0]


def cycles(nodes, edges):
    """Strongly connected groups of more than one node (Tarjan)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []
    counter = [0]

    def connect(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(nodes):
        if node not in index:
            connect(node)
    return groups


def report(root):
    modules, edges = graph(root)
    package_edges = defaultdict(set)
    in_function = 0
    for module, targets in edges.items():
        for target, inside in targets:
            in_function += inside
            if package(module) != package(target):
                package_edges[package(module)].add(package(target))
    mutual = sorted({tuple(sorted((a, b))) for a, targets in package_edges.items()
                     for b in targets if a in package_edges.get(b, ())})
    top_level = {m: {t for t, inside in targets if not inside} for m, targets in edges.items()}
    every = {m: {t for t, _inside in targets} for m, targets in edges.items()}
    lines = [f"modules {len(modules)}",
             f"imports_inside_functions {in_function}",
             f"package_pairs_importing_each_other {len(mutual)}"]
    lines += [f"  {a} <-> {b}" for a, b in mutual]
    for name, graph_edges in (("top_level", top_level), ("all_imports", every)):
        groups = cycles(modules, graph_edges)
        lines.append(f"module_cycles_{name} {len(groups)}")
        lines += [f"  {' -> '.join(group)}" for group in groups]
    return lines


if __name__ == "__main__":
    import sys

    print("\n".join(report(sys.argv[1] if len(sys.argv) > 1 else "portal")))
