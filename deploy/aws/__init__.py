"""AWS infrastructure as code: CloudFormation templates generated from the workflow table.

``deploy.aws.render`` writes ``deploy/aws/templates/`` (the data plane: table, topic, one queue,
dead-letter queue, subscription, alarms and IAM policy per status; and ECS Fargate: one worker
service with its scaling per status), ``deploy.aws.check`` validates them offline. See
``deploy/aws/README.md``.
"""
