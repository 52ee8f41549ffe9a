from django.core.management.base import BaseCommand, CommandError

from campaigns import crypto
from campaigns.keymaintenance import rehash_rows
from campaigns.models import Enrolment


class Command(BaseCommand):
    help = ("用 ENROLMENT_HASH_KEY 重新计算全部报名的身份证号摘要（重复报名检测用），分批进行，可中断后重新运行。"
            "更换 ENROLMENT_HASH_KEY 后必须运行。")
    requires_system_checks = []  # the hash check would refuse exactly the state this command repairs

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="每批处理的行数（默认 500）")

    def handle(self, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size 必须是正整数。")
        try:
            crypto.fernet_keys()
            crypto.hash_key()
        except crypto.EnrolmentKeyError as error:
            raise CommandError(str(error)) from None
        checked, updated, conflicts, unreadable = rehash_rows(Enrolment, batch_size, log=self.stdout.write)
        if unreadable:
            raise CommandError(f"{len(unreadable)} 行无法解密，摘要未更新（报名记录 id："
                               f"{', '.join(map(str, unreadable[:20]))}{' 等' if len(unreadable) > 20 else ''}）。"
                               "请检查 ENROLMENT_KEYS 后重新运行。")
        self.stdout.write(self.style.SUCCESS(
            f"完成：检查 {checked} 行，更新 {updated} 行，其中 {conflicts} 行因身份证号与先前报名相同改为“待核实”。"))
