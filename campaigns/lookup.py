"""报名进度查询: reference number + last 6 characters of the ID number → state and date, nothing else.

Every wrong combination gets the same 「未找到」; attempts are counted per client address and per reference
(cache), and the ID tail is compared as a keyed hash in constant time.
"""

import unicodedata

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache

from campaigns import crypto
from campaigns.notifications import public_state
from core.clientip import client_ip

NOT_FOUND = "未找到：请核对受理编号和身份证号后6位。"
TOO_MANY = "查询次数过多，请稍后再试。"


def _fold(value):
    return "".join(unicodedata.normalize("NFKC", value or "").split()).upper()


class LookupForm(forms.Form):
    reference = forms.CharField(label="受理编号", max_length=40,
                                help_text="报名成功后页面和短信中的编号，如 HZ-7KQ2M9XR4T8W")
    id_tail = forms.CharField(label="身份证号后6位", max_length=12, help_text="最后一位是 X 的请填写 X")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.error_messages["required"] = f"请填写{field.label}。"
        self.fields["reference"].widget.attrs.update(autocomplete="off", autocapitalize="characters")
        self.fields["id_tail"].widget.attrs.update(autocomplete="off", inputmode="text", maxlength="6")

    def clean_reference(self):
        return _fold(self.cleaned_data["reference"])[:40]

    def clean_id_tail(self):
        tail = _fold(self.cleaned_data["id_tail"])
        if len(tail) != 6 or not (tail[:5].isdigit() and (tail[5].isdigit() or tail[5] == "X")):
            raise forms.ValidationError("请填写身份证号的最后6位：5位数字加1位数字或X。")
        return tail


def _over_limit(kind, value):
    limit, window = settings.ENROLMENT_LOOKUP_LIMITS[kind]
    key = f"campaigns:lookup:{kind}:{crypto.lookup_hash(value)[:32]}"
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=window)
        count = 1
    return count > limit


def tail_digest(tail):
    from campaigns.models.enrolments import ID_TAIL_PREFIX

    return crypto.lookup_hash(ID_TAIL_PREFIX + tail)


def find(reference, tail):
    """(state, reason, date) for the matching pair, or None. Same work whether the reference exists or not."""
    from campaigns.models import Enrolment

    enrolment = Enrolment.objects.filter(reference=reference).select_related("campaign").first()
    digest = tail_digest(tail)
    stored = enrolment.id_tail_hash if enrolment is not None and enrolment.id_tail_hash else "0" * 64
    if not constant_time_compare(digest, stored) or enrolment is None:
        return None
    last_review = enrolment.reviews.order_by("-created_at", "-pk").first()
    state = public_state(enrolment, reviewed=last_review is not None)
    changed = last_review.created_at if last_review else enrolment.created_at
    reason = enrolment.review_reason if state == "已退回" else ""
    return {"state": state, "reason": reason, "date": timezone.localtime(changed)}


@never_cache
def status_lookup(request):
    form = LookupForm(request.POST or None)
    context = {"form": form, "result": None, "message": ""}
    status = 200
    if request.method == "POST":
        # the address is counted for every attempt, valid or not; the reference once it is well formed
        limited = _over_limit("address", client_ip(request))
        if form.is_valid():
            limited = _over_limit("reference", form.cleaned_data["reference"]) or limited
        if limited:
            context["message"], status = TOO_MANY, 429
        elif form.is_valid():
            context["result"] = find(form.cleaned_data["reference"], form.cleaned_data["id_tail"])
            if context["result"] is None:
                context["message"] = NOT_FOUND
            # the ID tail is never echoed back
            context["form"] = LookupForm(initial={"reference": form.cleaned_data["reference"]})
        else:
            status = 400
    return TemplateResponse(request, "campaigns/lookup.html", context, status=status)
