from django.db import migrations

from core.roles import ensure_roles


def create_roles(apps, schema_editor):
    ensure_roles(apps)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailadmin", "0006_formstate"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("home", "0002_create_homepage"),
        ("speeches", "0004_search_catalog_triggers"),
        ("campaigns", "0001_initial"),
        ("merchants", "0002_default_categories"),
        ("portal_search", "0002_index_generation"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
