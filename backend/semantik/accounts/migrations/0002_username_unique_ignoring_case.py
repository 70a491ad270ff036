"""Usernames unique ignoring case ("Alice" and "alice" are one account), enforced by PostgreSQL."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_api_keys_registration"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunSQL(
            sql="CREATE UNIQUE INDEX accounts_username_unique_ignoring_case ON auth_user (UPPER(username))",
            reverse_sql="DROP INDEX IF EXISTS accounts_username_unique_ignoring_case",
        ),
    ]
