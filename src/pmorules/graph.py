"""The knowledge graph: services, clients, outcomes and goals with typed edges.

Node keys are ``kind:id`` (``service:reporting``, ``outcome:O26``); edges carry
``kind``: depends_on (with ``dep`` hard|soft), harms, serves, contributes,
mitigates, targets (goal → outcome or service) and ``for`` (goal → client).
The facts walk only the dependency graphs of the active services (``dependency_graph``), drawn from the
knowledge base; the whole graph is drawn for the views that show it.
"""

from __future__ import annotations

from collections import deque

import networkx as nx

from .knowledge import Harm, KnowledgeBase
from .measures import Mitigators


def node(kind: str, item_id: str) -> str:
    return f"{kind}:{item_id}"


def node_id(key: str) -> str:
    """The plain id of a node key, as shown to users."""
    return key.split(":", 1)[1]


def build_graph(kb: KnowledgeBase) -> nx.MultiDiGraph:
    """One graph of the whole knowledge base; services not offered appear with status ``absent``."""
    graph = nx.MultiDiGraph()
    for client in kb.clients.values():
        graph.add_node(node("client", client.id), kind="client", weight=client.weight)
    for outcome in kb.outcomes.values():
        graph.add_node(node("outcome", outcome.id), kind="outcome", term=outcome.term)
    for cat_id, name in kb.absent_catalogue.items():
        graph.add_node(node("service", cat_id), kind="service", status="absent", name=name)
    for service in kb.services.values():
        graph.add_node(
            node("service", service.id), kind="service", status=service.status, term=service.term,
            months=service.months, probability=service.probability,
        )
    mitigators = Mitigators(kb.services.values())  # every service, whatever its status: the graph shows them all
    for service in kb.services.values():
        src = node("service", service.id)
        for client in service.clients:
            graph.add_edge(src, node("client", client), kind="serves")
        for outcome in service.outcomes:
            graph.add_edge(src, node("outcome", outcome), kind="contributes")
        for dep in service.depends_on:
            graph.add_edge(src, node("service", dep.target), kind="depends_on", dep=dep.kind)
        for index, harm in enumerate(service.harms):
            target = node(harm.target_kind, harm.target)
            graph.add_edge(src, target, kind="harms", severity=harm.severity, harm=index)
            for mitigator in _mitigator_nodes(harm, mitigators, graph):
                graph.add_edge(mitigator, target, kind="mitigates", source=service.id)
    for goal in kb.goals.values():
        key = node("goal", goal.id)
        graph.add_node(key, kind="goal", due_months=goal.due_months)
        for outcome in goal.outcomes:
            graph.add_edge(key, node("outcome", outcome), kind="targets")
        for service in goal.services:
            graph.add_edge(key, node("service", service), kind="targets")
        if goal.client:
            graph.add_edge(key, node("client", goal.client), kind="for")
    return graph


def _mitigator_nodes(harm: Harm, mitigators: Mitigators, graph: nx.MultiDiGraph) -> list[str]:
    """The services that would counteract a harm: those of the workspace it names (by id, catalogue entry or tag),
    and a catalogue entry no service offers as that entry's own node; a tag nobody carries names no node."""
    found = [node("service", sid) for sid in mitigators.of(harm)]
    absent = [node("service", m.ref) for m in harm.mitigated_by
              if m.kind == "catalogue" and not mitigators.index.get(("catalogue", m.ref)) and node("service", m.ref) in graph]
    return found + absent


def dependency_graph(kb: KnowledgeBase, kinds: tuple[str, ...] = ("hard", "soft")) -> nx.DiGraph:
    """The active services and their depends_on edges of the given kinds (A → B: A needs B), in the order the
    services and their dependencies are written. Drawn from the knowledge base, not from the knowledge graph:
    the facts need only these, and building the whole graph first cost 5 s at 100,000 services."""
    keys = {s.id: node("service", s.id) for s in kb.services.values() if s.active}
    deps = nx.DiGraph()
    deps.add_nodes_from(keys.values())
    deps.add_edges_from((keys[s.id], keys[dep.target]) for s in kb.services.values() if s.id in keys
                        for dep in s.depends_on if dep.kind in kinds and dep.target in keys)
    return deps


DEPENDANTS_CAP = 32  # dependant counts stop here: memory stays linear in the services on any graph


def dependant_counts(deps: nx.DiGraph, cap: int = DEPENDANTS_CAP) -> dict[str, int]:
    """For every service, how many others need it directly or transitively, counted up to ``cap``.

    One pass over the tangles (strongly connected components, each counted as one) in an order where dependants
    come first: each keeps the set of its dependants, truncated at ``cap`` + 1 members. A set that reached the
    cap makes every set built from it reach it too, so each count is exactly min(true count, cap) in
    O(edges × cap) time and O(nodes × cap) memory. The tangles are linked here rather than by networkx's
    condensation, which built a graph of them, a fifth of the service facts at 100,000 services.
    """
    components = list(nx.strongly_connected_components(deps))
    of = {key: number for number, component in enumerate(components) for key in component}
    parents: list[set[int]] = [set() for _ in components]  # the tangles needing each one directly
    for src, needed in deps.adjacency():
        for dst in needed:
            if of[src] != of[dst]:
                parents[of[dst]].add(of[src])
    children: list[list[int]] = [[] for _ in components]
    for child, found in enumerate(parents):
        for parent in found:
            children[parent].append(child)
    index = {key: number for number, key in enumerate(deps)}
    waiting = [len(found) for found in parents]  # parents not counted yet
    ready = [number for number, count in enumerate(waiting) if not count]
    above: list[set[int]] = [set() for _ in components]
    while ready:
        component = ready.pop()
        found = {index[key] for key in components[component]}
        for parent in parents[component]:
            if len(found) > cap:
                break
            found |= above[parent]
        if len(found) > cap + 1:
            found = set(sorted(found)[: cap + 1])
        above[component] = found
        for child in children[component]:
            waiting[child] -= 1
            if not waiting[child]:
                ready.append(child)
    return {key: min(len(above[of[key]]) - 1, cap) for key in deps}  # minus itself


def release_views(graph: nx.Graph) -> None:
    """Drop the views networkx keeps on a graph once asked for (``G.edges``, ``G.in_degree``): each holds the
    graph, a reference cycle that keeps the whole graph until the cyclic collector runs (a command freezes
    rather than collects, see gcpause.one_job)."""
    for name in [name for name, value in vars(graph).items() if getattr(value, "_graph", None) is graph]:
        del graph.__dict__[name]


def needs_of(deps: nx.DiGraph) -> dict[str, list[str]]:
    """What each service of a dependency graph needs directly, sorted: the walks below go through it in order, and
    sorting once served the three walks of the harm facts (one per term)."""
    return {key: sorted(needed) for key, needed in deps.adjacency()}


def nearest_dependants(needs: dict[str, list[str]], sources: list[str], wanted: set[str] | None = None
                       ) -> dict[str, list[str]]:
    """For every service X (of ``wanted``, when given), the shortest chain ``X, …, s`` to a source s that needs X
    (s ≠ X), over ``needs_of`` a dependency graph.

    A breadth-first walk from all sources at once along "needs" edges. Each
    service keeps the first two sources that reach it, so a source on a cycle
    still finds its nearest *other* source.
    """
    parent: dict[tuple[str, str], str] = {}  # (service, source) -> next service towards the source
    reached: dict[str, list[str]] = {}  # service -> sources in the order they reached it
    queue: deque[tuple[str, str]] = deque()

    def visit(service: str, source: str, via: str) -> None:
        found = reached.setdefault(service, [])
        if len(found) < 2 and source not in found:
            found.append(source)
            parent[(service, source)] = via
            queue.append((service, source))

    for source in sorted(sources):
        for needed in needs[source]:
            visit(needed, source, source)
    while queue:
        current, source = queue.popleft()
        for needed in needs[current]:
            visit(needed, source, current)
    chains = {}
    for service, found in reached.items():
        if wanted is not None and service not in wanted:
            continue
        source = next((s for s in found if s != service), None)
        if source is None:
            continue
        chain = [service]
        while chain[-1] != source:
            chain.append(parent[(chain[-1], source)])
        chains[service] = chain
    return chains


def hard_cycles(deps: nx.DiGraph) -> list[list[str]]:
    """One cycle per tangle of a dependency graph (``dependency_graph(graph, ("hard",))`` for hard dependencies).

    A strongly connected component of two or more services holds at least one
    cycle; listing every simple cycle could take exponential time, so each
    component gives its shortest cycle through its smallest member, rotated to
    start there, and its size.
    """
    cycles = []
    for component in nx.strongly_connected_components(deps):
        if len(component) < 2:
            continue
        start = min(component)
        inner = deps.subgraph(component)
        back = min((p for p in inner.predecessors(start)), key=lambda p: (nx.shortest_path_length(inner, start, p), p))
        cycles.append(nx.shortest_path(inner, start, back))
    return sorted(cycles)


def tangles(deps: nx.DiGraph) -> dict[str, int]:
    """The size of each tangle (strongly connected component) of a dependency graph, by its smallest member."""
    return {min(c): len(c) for c in nx.strongly_connected_components(deps) if len(c) >= 2}
