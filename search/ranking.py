"""Ranking rules shared by the SQLite FTS5, PostgreSQL and Elasticsearch backends.

A match belongs to one tier, and its score is ``tier * TIER_OFFSET + relevance`` (relevance: the engine's bm25 /
ts_rank / BM25 with titles weighted ``TITLE_WEIGHT`` and fields by their boost, kept below ``TIER_OFFSET``), so
every engine orders tier first and a score alone tells the tier:

- ``EXACT``: every query word group matched by the word itself or a synonym ("all" in the API);
- ``PARTS``: every group matched, some only through the dictionary parts of a compound (学校食堂 → 学校 + 食堂);
- ``MOST``: at least ``min_groups()`` of the groups (queries of 3 or more groups);
- ``ANY``: the last resort when nothing above matched: any group, relevance × ``ANY_MATCH_PENALTY``.

Only ``EXACT`` counts as a full match ("all"); the other tiers are partial matches ("部分匹配").
"""

import math

TITLE_WEIGHT = 10.0
PARTS_WEIGHT = 0.5  # a compound's parts, beside the compound itself (Elasticsearch's per-clause boost)
ANY_MATCH_PENALTY = 0.5
PARTIAL_SHARE = 0.6  # "most words": at least this share of the groups …
PARTIAL_MIN_GROUPS = 2  # … and at least this many, for queries of 3 or more groups

EXACT, PARTS, MOST, ANY = 3, 2, 1, 0
TIER_OFFSET = 1000.0
MAX_RELEVANCE = TIER_OFFSET - 1.0

MAX_FIELD_REPEAT = 5  # SQLite: a field with boost b is indexed round(b) times (bm25 has no per-field boost)


def min_groups(n, mode="all"):
    """How many of n word groups a match must hold: all of them, or most (3+ groups), or one (mode "any")."""
    if mode == "any":
        return 1 if n else 0
    if n < 3:
        return n
    return max(PARTIAL_MIN_GROUPS, math.ceil(PARTIAL_SHARE * n))


def tier(n, matched, exact):
    """The tier of a match holding `matched` of n groups, `exact` of them without falling back to parts."""
    if exact >= n:
        return EXACT
    if matched >= n:
        return PARTS
    if matched >= min_groups(n):
        return MOST
    return ANY


def score(tier_value, relevance):
    relevance = min(max(float(relevance), 0.0), MAX_RELEVANCE)
    if tier_value == ANY:
        relevance *= ANY_MATCH_PENALTY
    return tier_value * TIER_OFFSET + relevance


def tier_of(score_value):
    return max(ANY, min(EXACT, int(score_value // TIER_OFFSET)))


def match_kind(score_value):
    """"all" for a full match, "partial" for the rest."""
    return "all" if tier_of(score_value) == EXACT else "partial"


def field_repeat(boost):
    """How many times SQLite indexes a field's text so bm25 weighs it like the boost the other engines apply."""
    if not boost or boost <= 1:
        return 1
    return min(MAX_FIELD_REPEAT, max(1, round(boost)))


def sql_tier_case(n, matched="n", exact="x"):
    """SQL CASE for the tier of a row with `matched`/`exact` group counts (the same rule as tier())."""
    return (f"CASE WHEN {exact} >= {n} THEN {EXACT} WHEN {matched} >= {n} THEN {PARTS} "
            f"WHEN {matched} >= {min_groups(n)} THEN {MOST} ELSE {ANY} END")


def sql_score(n, relevance, matched="n", exact="x", least="min"):
    """SQL for score() of a row: tier offset plus relevance (capped; halved in the ANY tier)."""
    case = sql_tier_case(n, matched, exact)
    capped = f"{least}({relevance}, {MAX_RELEVANCE})"
    return (f"({case}) * {TIER_OFFSET} + {capped} * "
            f"(CASE WHEN ({case}) = {ANY} THEN {ANY_MATCH_PENALTY} ELSE 1.0 END)")
