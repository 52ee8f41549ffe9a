from campaigns.models.enrolments import Enrolment, EnrolmentReview, EnrolmentStatus
from campaigns.models.pages import CampaignIndexPage, CampaignPage, CampaignStatus

__all__ = ["CampaignIndexPage", "CampaignPage", "CampaignStatus", "Enrolment", "EnrolmentReview", "EnrolmentStatus"]
