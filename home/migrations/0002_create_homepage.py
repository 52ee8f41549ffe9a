from django.db import migrations


def create_homepage(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Page = apps.get_model("wagtailcore.Page")
    Site = apps.get_model("wagtailcore.Site")
    HomePage = apps.get_model("home.HomePage")

    # Replace Wagtail's default welcome page with the portal's home page.
    Page.objects.filter(depth=2, url_path="/home/").delete()
    content_type, _ = ContentType.objects.get_or_create(model="homepage", app_label="home")
    home = HomePage.objects.create(
        title="工会宣传门户",
        draft_title="工会宣传门户",
        slug="home",
        content_type=content_type,
        path="00010001",
        depth=2,
        numchild=0,
        url_path="/home/",
        locale_id=Page.objects.get(depth=1).locale_id,
    )
    Site.objects.update_or_create(
        is_default_site=True, defaults={"hostname": "localhost", "root_page_id": home.id, "site_name": "工会宣传门户"}
    )


def remove_homepage(apps, schema_editor):
    apps.get_model("home.HomePage").objects.filter(slug="home", depth=2).delete()


class Migration(migrations.Migration):
    dependencies = [("home", "0001_initial"), ("wagtailcore", "0098_apitoken")]

    operations = [migrations.RunPython(create_homepage, remove_homepage)]
