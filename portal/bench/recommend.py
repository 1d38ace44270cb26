"""The recommendation direction of the matching benchmark (MATCHING.md, "The other direction").

Every grant stands in for a forward-plan entry. The supplier dashboard is filled the other way
round (portal.matching.recommend): each entry ranks the whole pool of suppliers and keeps its
best `KEEP`, and a supplier's recommendations are the entries that kept it, highest score first,
ties by entry (here: grant order). The full-pool rankings the benchmark has already made are
read the same way, so no ranking is made twice. An entry never keeps its own buyer; a grant's
buyer is its funder, which the benchmark gives only as a name, so nothing is left out here.

For each organisation that received at least one of the grants: `recommend.mrr` is the
reciprocal rank of its first true grant in its list (0 when none is listed), and
`recommend.recall@K` the share of its true grants within its first K; both are averaged over
those organisations.
"""
from collections import defaultdict

from portal.matching.recommend import KEEP

RECALL_AT = (10, 50)


def supplier_lists(scored, queries, keep=KEEP):
    """recipient_key -> the query_ids recommended to it, best first.

    `scored` maps each query_id to its full-pool (recipient_key, score) pairs, best first; each
    grant keeps its first `keep` (0: every one ranked).
    """
    listed = defaultdict(list)
    for order, row in enumerate(queries):
        for key, score in scored.get(row["query_id"], ())[:keep or None]:
            listed[key].append((-score, order, row["query_id"]))
    return {key: [query_id for *_, query_id in sorted(entries)]
            for key, entries in listed.items()}


def true_grants(answers, queries):
    """recipient_key -> its query_ids in file order, for every organisation that received one."""
    grants = defaultdict(list)
    for row in queries:
        grants[answers[row["query_id"]]].append(row["query_id"])
    return dict(grants)


def recommend_metrics(lists, truths):
    """The recommendation figures over the organisations in `truths` (key -> true query_ids)."""
    reciprocal, recalls = [], {k: [] for k in RECALL_AT}
    for key, grants in truths.items():
        wanted = set(grants)
        places = [n for n, query_id in enumerate(lists.get(key, ()), 1) if query_id in wanted]
        reciprocal.append(1 / places[0] if places else 0.0)
        for k in RECALL_AT:
            recalls[k].append(sum(1 for n in places if n <= k) / len(wanted))
    results = {"recommend.mrr": _mean(reciprocal)}
    results.update({f"recommend.recall@{k}": _mean(values) for k, values in recalls.items()})
    return results, len(truths)


def _mean(values):
    return sum(values) / len(values) if values else 0.0


def report_lines(results, profiles):
    lines = [f"{name} {value:.4f}" for name, value in results.items()]
    return lines + [f"recommend.profiles {profiles}"]
