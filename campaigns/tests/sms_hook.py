"""An ENROLMENT_SMS_HOOK for tests: records every call."""

calls = []


def record(mobile, message, enrolment):
    calls.append({"mobile": mobile, "message": message, "reference": enrolment.reference})
