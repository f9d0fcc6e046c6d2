from django.core.management.base import BaseCommand

from orders.domain.model import CATEGORIES
from orders.models import Team


class Command(BaseCommand):
    help = "Create one team per default category (kept as is if it exists)."

    def handle(self, *args, **options):
        for category in CATEGORIES:
            team, created = Team.objects.get_or_create(
                code=f"{category}-crew",
                defaults={
                    "name": f"{category.upper() if category == 'hvac' else category.title()} crew",
                    "categories": [category],
                    "capacity": 25,
                },
            )
            self.stdout.write(f"{'created' if created else 'kept'} team {team.code}")
