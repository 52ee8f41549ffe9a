from django.db import migrations

DEFAULT_CATEGORIES = ["购物", "餐饮", "医疗", "出行", "文体", "教育培训", "生活服务"]


def create_categories(apps, schema_editor):
    Category = apps.get_model("merchants", "Category")
    for order, name in enumerate(DEFAULT_CATEGORIES, start=1):
        Category.objects.get_or_create(name=name, defaults={"sort_order": order * 10})


class Migration(migrations.Migration):
    dependencies = [("merchants", "0001_initial")]

    operations = [migrations.RunPython(create_categories, migrations.RunPython.noop)]
