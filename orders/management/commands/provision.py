from django.conf import settings
from django.core.management.base import BaseCommand

from orders import aws
from orders.provisioning import Provisioner, ProvisionSettings
from orders.resources import from_settings


class Command(BaseCommand):
    help = (
        "Create or converge the DynamoDB table, the SNS topic, one SQS queue and dead-letter "
        "queue per status and the filtered subscriptions. Safe to run again."
    )

    def handle(self, *args, **options):
        Provisioner(
            dynamodb=aws.client("dynamodb"),
            sns=aws.client("sns"),
            sqs=aws.client("sqs"),
            s3=aws.client("s3"),
            resources=from_settings(),
            settings=ProvisionSettings(
                max_receive_count=settings.ORDERS_DLQ_MAX_RECEIVE_COUNT,
                visibility_timeout=settings.ORDERS_VISIBILITY_TIMEOUT,
            ),
            report=lambda line: self.stdout.write(line),
        ).run()
        self.stdout.write(self.style.SUCCESS("provisioned"))
