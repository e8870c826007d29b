# The task outbox now belongs to core (core 0003 took over the table, unchanged): drop it
# from activity's model state only, never from the database.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('activity', '0004_taskoutbox'),
        ('core', '0003_taskoutbox'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='TaskOutbox')],
            database_operations=[],
        ),
    ]
