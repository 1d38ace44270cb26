"""What in a match is evidence about the service itself.

A commissioner reads a match as "this organisation does this kind of work". Words that every
notice or every organisation uses ("services", "provider", "council"), words of a name's legal
form ("trust", "collective"), place names (where is the area signal's business) and reference
numbers say nothing about that, so they never count as evidence. What is left is weighed by
how rare each word is among profiles: sharing "befriending" says more than sharing "health".
"""
import math
import re
from dataclasses import dataclass
from functools import lru_cache

from portal.reference.loaders import read_seed_csv
from portal.search.services import term_shares, terms

# Words of procurement notices, of organisation names and of plain filler. Kept as written;
# compared as index terms (stemmed), see `not_evidence()`.
NOT_ABOUT_THE_SERVICE = """
service services provision provider providers supplier suppliers contract contracts
contractor contractors subcontract subcontractor prime tender tenders tendering procurement
procure purchasing framework lot lots requirement requirements deliver delivery delivering
council borough county city district metropolitan authority authorities government department
trust trustees collective association society foundation cic cio ltd limited company
incorporated partnership centre programme scheme opportunity opportunities currently held
event events key high person persons individual individuals people local area areas based
across within need needs include includes dps dynamic system systems agreement agreements
period periods month months week weeks date dates value values total annual estimated option
options extension extensions phase stage notice notices information details required
january february march april may june july august september october november december
criteria deadline deadlines submission submissions submit submitted portal upload quotation
quotations bid bids bidder bidders buyer buyers commission commissioned commissioning
regardless sufficient previous previously however recurrent eligible eligibility allocated
background type types made since via through ensure appropriate must please who those
addition additional full run region regional solution solutions problem problems other
others all any each every effective effectively meet meets start end further note
they them their these many much more most less under over following follow offer offers
offered our ours your we us life due lead leading leader partner partners partnership
associated managed manage management contribute contributes contribution responsibility
responsible establish established seek seeking looked looking looks look try wish
giving give given inc plc able ability capacity capacities make making take taking part
right way ways well good best better great wide range variety number various specific
general overall current future existing similar relevant related different particular
approach approaches model models level levels role roles aim aims objective objectives
purpose purposes outcome outcomes improve improving improvement develop development
developing plan plans planned planning identify identifies identified process processes
ensure ensuring maintain maintaining operate operating operation operations site sites
use using uses based basis form forms order orders place places point points set sets
then than thus shall should could might intended intend amount amounts mixed innovative
special unit units whole high low large small structure structures structured
""".split()
# A word held by one profile in two hundred or fewer is as telling as a word can be: rarer
# still is more often a notice's own jargon than a sharper description of the service.
MAX_RARITY = math.log(200)
# Reference numbers, web addresses and scraps ("CBC-1092-T-CE") are not words about a service.
NOT_A_WORD = re.compile(r"[\d.]|^.{0,2}$")
# How many of an entry's most telling words its coverage is measured against.
TELLING_WORDS = 10


@lru_cache(maxsize=1)
def not_evidence():
    """The index terms of the words above."""
    return frozenset(terms(" ".join(NOT_ABOUT_THE_SERVICE)))


# CPV divisions from 45 on are works and services; those before are goods.
FIRST_SERVICE_DIVISION = "45"


@lru_cache(maxsize=1)
def service_vocabulary():
    """Index terms of the words used to name services and who they are for: the CPV
    descriptions of works and services (not of goods), the everyday names of VCSE services,
    and the client groups and ways of working of the charity registers. A word outside it ("duration", "free", "decision") can
    be shared by any notice and any profile without saying what either does."""
    texts = [row["description"] for row in read_seed_csv("reference/cpv_codes.csv.gz")
             if row["code"][:2] >= FIRST_SERVICE_DIVISION]
    texts += [f"{row['term']} {row['label']}"
              for row in read_seed_csv("reference/cpv_everyday_terms.csv")]
    texts += [row["value"] for row in read_seed_csv("reference/vocabulary_terms.csv")]
    return frozenset(terms("\n".join(texts))) - not_evidence()


def place_terms(places):
    """Index terms of place names, which say where, not what."""
    return frozenset(t for place in places for t in terms(place.name))


def service_terms(weighted_terms, leave_out=frozenset()):
    """The (term, weight) pairs of a query that can be evidence about the service."""
    stop = not_evidence() | leave_out
    return [(term, weight) for term, weight in weighted_terms
            if term not in stop and not NOT_A_WORD.search(term)]


def telling_terms(weighted_terms):
    """The pairs of `service_terms` in the vocabulary of services."""
    vocabulary = service_vocabulary()
    return [(term, weight) for term, weight in weighted_terms if term in vocabulary]


def rarity(share):
    """How telling a word is, from the share of profiles holding it (0 to MAX_RARITY)."""
    return min(MAX_RARITY, math.log(1 / share)) if share > 0 else MAX_RARITY


@dataclass(frozen=True)
class Scale:
    """An entry's telling words and what sharing all of them would weigh."""

    weights: dict  # term -> weight in the entry times its rarity
    full: float

    @classmethod
    def of(cls, weighted_terms):
        shares = term_shares([term for term, _w in weighted_terms]) if weighted_terms else {}
        # A word no profile holds can be nobody's evidence: it does not set the scale.
        weights = {term: weight * rarity(shares[term])
                   for term, weight in weighted_terms if shares.get(term, 0.0) > 0}
        best = sorted(weights.values(), reverse=True)[:TELLING_WORDS]
        return cls(weights, sum(best))

    def coverage(self, matched):
        """Share (0 to 1) of the entry's telling words a profile holds, rarer words weighing
        more: the evidence that the organisation does this kind of work."""
        if self.full <= 0:
            return 0.0
        held = sum(self.weights.get(term, 0.0) for term in matched)
        return min(1.0, held / self.full)

    def telling(self, matched):
        """The matched words that can be evidence."""
        return frozenset(term for term in matched if term in self.weights)
