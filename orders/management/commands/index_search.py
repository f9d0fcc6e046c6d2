from django.core.management.base import BaseCommand

from portal.container import order_services


class Command(BaseCommand):
    help = (
        "Make every stored order findable by the admin's search: run once after upgrading "
        "from a version without search (orders stored since are indexed as they are written). "
        "Reads the orders status by status from their index (no scan); safe to run again."
    )

    def handle(self, *args, **options):
        def report(status: str, orders: int, entries: int) -> None:
            self.stdout.write(f"{status}: {orders} orders ({entries} entries written so far)")

        orders, entries = order_services().search.index_for_search(report=report)
        self.stdout.write(self.style.SUCCESS(f"{orders} orders indexed ({entries} entries)"))
