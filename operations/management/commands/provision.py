from django.core.management.base import BaseCommand

from portal.container import provisioner


class Command(BaseCommand):
    help = (
        "Create or converge the DynamoDB table, the SNS topic, one SQS queue and dead-letter "
        "queue per status and the filtered subscriptions. Safe to run again."
    )

    def handle(self, *args, **options):
        provisioner(report=lambda line: self.stdout.write(line)).run()
        self.stdout.write(self.style.SUCCESS("provisioned"))
