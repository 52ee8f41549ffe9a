from django.template.response import TemplateResponse


def csrf_failure(request, reason=""):
    return TemplateResponse(request, "campaigns/csrf_failure.html", {}, status=403)
