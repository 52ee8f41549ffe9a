"""The one registry of enrolment form kinds: code, label, reference prefix (forms register their classes)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FormKind:
    code: str
    label: str
    reference_prefix: str


MUTUAL_AID = FormKind("mutual_aid", "职工医疗互助", "HZ")
SERVICE_CARD = FormKind("service_card", "会员服务卡", "FWK")
KINDS = {kind.code: kind for kind in (MUTUAL_AID, SERVICE_CARD)}
DEFAULT = MUTUAL_AID.code
CHOICES = [(kind.code, kind.label) for kind in KINDS.values()]


def reference_prefix(code):
    kind = KINDS.get(code)
    return kind.reference_prefix if kind else "BM"


def label(code):
    kind = KINDS.get(code)
    return kind.label if kind else code
