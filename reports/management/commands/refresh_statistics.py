"""Rebuild the statistics summary rows now (the Celery task does it on schedule)."""

from django.core.management.base import BaseCommand

from reports.summaries import statistics_refresh


class Command(BaseCommand):
    help = "Rebuild the statistics summary rows (reports.MonthlyFigures) from the domain tables."

    def handle(self, *args, **options):
        rows = statistics_refresh(progress=lambda msg: self.stdout.write(msg))
        self.stdout.write(self.style.SUCCESS(f"{rows} rows"))
