"""Triggers that renew the speech catalog's token (search.IndexGeneration) when what it holds may have changed."""

from django.db import migrations

# Tables whose changes can alter what the speech catalog (speeches/search/catalog.py) holds, with the columns whose updates matter (an update
# that leaves them as they were, such as re-indexing a text or saving a draft, keeps the catalog).
WATCHED = [
    ("wagtailsearch", "IndexEntry", ["content_type_id", "object_id"]),
    ("wagtailcore", "Page", ["live", "path"]),
    ("wagtailcore", "PageViewRestriction", ["page_id"]),
    ("speeches", "SpeechPage", ["date_delivered", "speaker_id", "org_level"]),
    ("speeches", "SpeechPageTag", ["content_object_id", "tag_id"]),
    ("speeches", "Speaker", ["name"]),
    ("taggit", "Tag", ["name"]),
]


def _triggers(apps):
    """(name, table, event, condition or None) for every trigger, row level."""
    for app, model, columns in WATCHED:
        table = apps.get_model(app, model)._meta.db_table
        yield f"{table}_search_gen_insert", table, "INSERT", None
        yield f"{table}_search_gen_delete", table, "DELETE", None
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        yield f"{table}_search_gen_update", table, f"UPDATE OF {', '.join(columns)}", changed


def create_triggers(apps, schema_editor):
    drop_triggers(apps, schema_editor)  # databases migrated before 0004 have them from portal_search 0002
    generation = apps.get_model("portal_search", "IndexGeneration")
    generation.objects.get_or_create(id=1, defaults={"token": 1})
    table = generation._meta.db_table
    run = schema_editor.execute
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        run(f"CREATE FUNCTION search_new_generation() RETURNS trigger AS $$ BEGIN "
            f"UPDATE {table} SET token = floor(random() * 9e18)::bigint WHERE id = 1; RETURN NULL; END $$ "
            f"LANGUAGE plpgsql")
    for name, watched, event, condition in _triggers(apps):
        if postgres:
            when = f" WHEN ({condition})" if condition else ""
            run(f"CREATE TRIGGER {name} AFTER {event} ON {watched} FOR EACH ROW{when} "
                f"EXECUTE FUNCTION search_new_generation()")
        else:
            when = f" WHEN {condition.replace('IS DISTINCT FROM', 'IS NOT')}" if condition else ""
            run(f"CREATE TRIGGER {name} AFTER {event} ON {watched} FOR EACH ROW{when} BEGIN "
                f"UPDATE {table} SET token = random() WHERE id = 1; END")


def drop_triggers(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for name, watched, _event, _condition in _triggers(apps):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {watched}" if postgres else ""))
    if postgres:
        schema_editor.execute("DROP FUNCTION IF EXISTS search_new_generation()")


class Migration(migrations.Migration):

    dependencies = [
        ("speeches", "0003_drop_search_facets_index"),
        ("portal_search", "0002_index_generation"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailsearch", "0010_add_text_fields"),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
