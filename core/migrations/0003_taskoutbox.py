# The task outbox moves from activity to core. The table already exists (created by
# activity 0004 under the name activity_taskoutbox and kept): only Django's model state moves.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('activity', '0004_taskoutbox'),
        ('core', '0002_states_and_approvals'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='TaskOutbox',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('task_name', models.CharField(max_length=200, verbose_name='任务')),
                        ('args', models.JSONField(blank=True, default=list, verbose_name='位置参数')),
                        ('kwargs', models.JSONField(blank=True, default=dict, verbose_name='关键字参数')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='首次排队时间')),
                        ('attempts', models.PositiveIntegerField(default=1, verbose_name='发送尝试次数')),
                        ('last_error', models.CharField(blank=True, max_length=500, verbose_name='最近一次错误')),
                    ],
                    options={
                        'verbose_name': '待发送的后台任务',
                        'verbose_name_plural': '待发送的后台任务',
                        'db_table': 'activity_taskoutbox',
                        'ordering': ['id'],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
