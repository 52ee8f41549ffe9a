from campaigns.models.enrolments import Enrolment, EnrolmentReview, EnrolmentStatus
from campaigns.models.pages import CampaignIndexPage, CampaignPage, CampaignStatus
from campaigns.models.units import (
    AuditAction,
    EnrolmentAuditLog,
    RosterRow,
    RosterStatus,
    RosterUpload,
    RowOutcome,
    Unit,
    UnitAgent,
)

__all__ = ["AuditAction", "CampaignIndexPage", "CampaignPage", "CampaignStatus", "Enrolment", "EnrolmentAuditLog",
           "EnrolmentReview", "EnrolmentStatus", "RosterRow", "RosterStatus", "RosterUpload", "RowOutcome", "Unit",
           "UnitAgent"]
