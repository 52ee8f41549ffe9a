from django.core.management.base import BaseCommand, CommandError

from campaigns import crypto
from campaigns.keymaintenance import rotate_rows
from campaigns.models import Enrolment


class Command(BaseCommand):
    help = ("用 ENROLMENT_KEYS 中的第一个（最新）密钥重新加密全部身份证号，分批进行，可中断后重新运行"
            "（已是新密钥的行会跳过）。先把新密钥放在 ENROLMENT_KEYS 最前、旧密钥保留在后，运行完毕再删去旧密钥。")
    requires_system_checks = []  # the key check would refuse exactly the state this command repairs

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="每批处理的行数（默认 500）")

    def handle(self, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size 必须是正整数。")
        try:
            keys = crypto.fernet_keys()
        except crypto.EnrolmentKeyError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"共配置 {len(keys)} 个密钥，用第一个重新加密。")
        checked, rotated, unreadable = rotate_rows(Enrolment, batch_size, log=self.stdout.write)
        if unreadable:
            raise CommandError(f"{len(unreadable)} 行无法用任何已配置的密钥解密（报名记录 id："
                               f"{', '.join(map(str, unreadable[:20]))}{' 等' if len(unreadable) > 20 else ''}），"
                               "这些行未改动。请把加密它们的旧密钥加入 ENROLMENT_KEYS 后重新运行。")
        self.stdout.write(self.style.SUCCESS(
            f"完成：检查 {checked} 行，重新加密 {rotated} 行，其余已是最新密钥。"
            "现在可以从 ENROLMENT_KEYS 删去旧密钥。"))
