from django import forms
from django.utils import timezone

from campaigns import form_kinds
from campaigns.idcard import (
    IdNumberError,
    has_letter,
    is_valid_mobile,
    normalise_mobile,
    normalise_name,
    validate_id_number,
)

HONEYPOT = "website"
REQUIRED = "请填写{label}。"


class EnrolmentForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=50)
    id_number = forms.CharField(label="身份证号", max_length=30)
    mobile = forms.CharField(label="手机号码", max_length=20)
    employer = forms.CharField(label="工作单位", max_length=100)
    branch = forms.CharField(label="所属基层工会", max_length=100)
    consent = forms.BooleanField(label="同意条款", error_messages={"required": "请阅读并勾选同意条款。"})
    website = forms.CharField(label="网址（请留空）", required=False)

    def __init__(self, *args, block_value=None, age_range=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.block_value = block_value or {}
        self.age_range = age_range
        for field in self.fields.values():
            field.error_messages["required"] = REQUIRED.format(label=field.label)
        self.fields["consent"].error_messages["required"] = "请阅读并勾选同意条款。"
        if self.block_value.get("consent_text"):
            self.fields["consent"].label = self.block_value["consent_text"]
        self.fields["website"].required = False
        self.fields["name"].widget.attrs.update(autocomplete="name")
        self.fields["id_number"].widget.attrs.update(autocomplete="off", inputmode="text", maxlength="18")
        self.fields["mobile"].widget = forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel",
                                                              "type": "tel", "maxlength": "20"})
        self.fields["website"].widget.attrs.update(autocomplete="off", tabindex="-1")

    def clean_name(self):
        name = normalise_name(self.cleaned_data["name"])
        if not name:
            raise forms.ValidationError("请填写姓名。")
        if not has_letter(name):
            raise forms.ValidationError("姓名须包含文字，不能只有符号或数字。")
        if len(name) > self.fields["name"].max_length:
            raise forms.ValidationError(f"姓名不能超过{self.fields['name'].max_length}个字。")
        return name

    def clean_id_number(self):
        try:
            return validate_id_number(self.cleaned_data["id_number"], today=timezone.localdate(),
                                      age_range=self.age_range)
        except IdNumberError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_mobile(self):
        value = self.cleaned_data["mobile"]
        if not is_valid_mobile(value):
            raise forms.ValidationError("请填写11位大陆手机号码，如 13812345678。")
        return normalise_mobile(value)

    def honeypot_filled(self):
        return bool(self.data.get(HONEYPOT, "").strip())

    def enrolment_fields(self):
        data = self.cleaned_data
        return {key: data.get(key, "") for key in ("name", "mobile", "employer", "branch")} | {
            "consent": bool(data.get("consent"))
        }


class MutualAidForm(EnrolmentForm):
    plan = forms.ChoiceField(label="互助方案", choices=())
    shares = forms.IntegerField(label="参加份数", min_value=1, initial=1)

    field_order = ["name", "id_number", "mobile", "employer", "branch", "plan", "shares", "consent", "website"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        options = [str(option) for option in self.block_value.get("plan_options") or []]
        self.fields["plan"].choices = [("", "请选择")] + [(option, option) for option in options]
        self.fields["plan"].error_messages["invalid_choice"] = "请从列表中选择互助方案。"
        max_shares = self.block_value.get("max_shares") or 5
        self.fields["shares"].max_value = max_shares
        self.fields["shares"].widget.attrs.update(min="1", max=str(max_shares), inputmode="numeric")
        self.fields["shares"].validators = []
        self.fields["shares"].error_messages["invalid"] = "参加份数请填写整数。"
        self.max_shares = max_shares

    def clean_shares(self):
        shares = self.cleaned_data["shares"]
        if shares < 1 or shares > self.max_shares:
            raise forms.ValidationError(f"参加份数应在1至{self.max_shares}份之间。")
        return shares

    def enrolment_fields(self):
        return super().enrolment_fields() | {"plan": self.cleaned_data["plan"], "shares": self.cleaned_data["shares"]}


DELIVERY_CHOICES = [("pickup", "到所属工会自取"), ("delivery", "邮寄到家")]


class ServiceCardForm(EnrolmentForm):
    membership_number = forms.CharField(label="会员证号（选填）", max_length=30, required=False)
    delivery = forms.ChoiceField(label="领取方式", choices=DELIVERY_CHOICES, widget=forms.RadioSelect,
                                 initial="pickup")
    address = forms.CharField(label="邮寄地址", max_length=200, required=False,
                              help_text="选择邮寄时必填")

    field_order = ["name", "id_number", "mobile", "employer", "branch", "membership_number", "delivery",
                   "address", "consent", "website"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delivery"].error_messages["invalid_choice"] = "请选择领取方式。"
        self.fields["delivery"].error_messages["required"] = "请选择领取方式。"
        if self.block_value.get("pickup_note"):
            self.fields["delivery"].help_text = "自取地点：" + self.block_value["pickup_note"]

    def clean_membership_number(self):
        value = self.cleaned_data["membership_number"].strip()
        if value and not value.replace("-", "").isalnum():
            raise forms.ValidationError("会员证号只能包含字母、数字和连字符。")
        return value

    def clean(self):
        data = super().clean()
        if data.get("delivery") == "delivery" and not (data.get("address") or "").strip():
            self.add_error("address", "选择邮寄时请填写邮寄地址。")
        return data

    def enrolment_fields(self):
        data = self.cleaned_data
        return super().enrolment_fields() | {
            "membership_number": data["membership_number"],
            "delivery": data["delivery"],
            "address": data["address"].strip() if data["delivery"] == "delivery" else "",
        }


FORM_CLASSES = {form_kinds.MUTUAL_AID.code: MutualAidForm, form_kinds.SERVICE_CARD.code: ServiceCardForm}
