from django import forms
from django.contrib.auth.forms import PasswordChangeForm

from campaigns.roster import MAX_FILE_BYTES, MAX_ROWS


class AgentLoginForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150)
    password = forms.CharField(label="密码", strip=False, widget=forms.PasswordInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].error_messages["required"] = "请填写用户名。"
        self.fields["password"].error_messages["required"] = "请填写密码。"
        self.fields["username"].widget.attrs.update(autocomplete="username", autocapitalize="none")
        self.fields["password"].widget.attrs.update(autocomplete="current-password")


class AgentPasswordForm(PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "当前密码（或工会提供的临时密码）"
        self.fields["new_password1"].label = "新密码"
        self.fields["new_password1"].help_text = "至少10位，不能是常见密码或纯数字，不能与用户名相近。"
        self.fields["new_password2"].label = "再次输入新密码"
        for field in self.fields.values():
            field.error_messages["required"] = f"请填写{field.label}。"
        self.error_messages = self.error_messages | {
            "password_incorrect": "当前密码不正确，请重新输入。",
            "password_mismatch": "两次输入的新密码不一致。",
        }

    def clean_new_password1(self):
        password = self.cleaned_data.get("new_password1")
        if password and password == self.data.get("old_password"):
            raise forms.ValidationError("新密码不能与当前密码相同。")
        return password


class RosterUploadForm(forms.Form):
    roster = forms.FileField(label="名单文件（.xlsx）",
                             help_text=f"用本活动模板填写，最多 {MAX_ROWS} 行、{MAX_FILE_BYTES // 1024 // 1024} MB")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roster"].error_messages.update(required="请选择要上传的名单文件。",
                                                    empty="上传的文件是空的，请检查后重新选择。",
                                                    invalid="没有收到文件，请重新选择。")
        self.fields["roster"].widget.attrs.update(accept=".xlsx," + "application/vnd.openxmlformats-officedocument"
                                                  ".spreadsheetml.sheet")


class ConfirmForm(forms.Form):
    consent = forms.BooleanField(label="我确认名单中的会员均已知情并同意报名，所填信息真实有效",
                                 error_messages={"required": "请勾选确认：名单中的会员均已知情并同意。"})
