from django.db import migrations, models

from reports import marks


def install(apps, schema_editor):
    marks.install(schema_editor)


def uninstall(apps, schema_editor):
    marks.uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0004_reportrun_dispatch_tracking"),
        ("members", "0005_import_error_full_path"),
        ("assistance", "0001_initial"),
        ("disputes", "0002_body_summary"),
        ("projects", "0002_demand_board_all_idx"),
    ]

    operations = [
        migrations.CreateModel(
            name="StatisticsMark",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("org_path", models.CharField(max_length=255)),
                ("month", models.DateField()),
                ("version", models.PositiveBigIntegerField(default=1)),
            ],
            options={
                "verbose_name": "统计待更新标记",
                "verbose_name_plural": "统计待更新标记",
                "constraints": [models.UniqueConstraint(fields=("org_path", "month"), name="stats_mark_once")],
            },
        ),
        migrations.AddField(
            model_name="statisticsrefresh",
            name="followed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="跟进时间"),
        ),
        migrations.RunPython(install, uninstall),
    ]
