"""The web service behind the load balancer, and its scaling on CPU and on requests."""

from __future__ import annotations

from typing import Any

from deploy.aws.cfn import get_att, if_, join, ref, sub
from deploy.aws.ecs.containers import container, http_check, task_definition
from deploy.aws.ecs.names import (
    ALB,
    HTTP_LISTENER,
    TARGET_GROUP,
    WEB_PORT,
    WEB_SERVICE,
    WEB_SG,
    WEB_STOP_TIMEOUT,
    imported,
)
from deploy.aws.ecs.services import scalable_target, service


def web_resources() -> dict[str, Any]:
    return {
        "WebTaskDefinition": task_definition(
            "web",
            "WebTaskRole",
            "WebCpu",
            "WebMemory",
            container(
                "web",
                ["web"],
                stop_timeout=WEB_STOP_TIMEOUT,
                health=http_check(WEB_PORT, "/healthz"),
                env={
                    "WEB_CONCURRENCY": ref("WebConcurrency"),
                    "ORDERS_ATTACHMENTS_BUCKET": imported("AttachmentsBucketName"),
                    # The ALB appends the client's address to X-Forwarded-For (login throttle).
                    "TRUSTED_PROXY_COUNT": "1",
                    # With a certificate the ALB ends TLS: Django trusts its X-Forwarded-Proto,
                    # cookies are HTTPS-only and browsers are told to stay on HTTPS.
                    "TRUST_X_FORWARDED_PROTO": if_("HasCertificate", "true", "false"),
                    "SECURE_COOKIES": if_("HasCertificate", "true", "false"),
                    "SECURE_HSTS_SECONDS": if_("HasCertificate", "31536000", "0"),
                },
                cache=True,
                web=True,
            ),
        ),
        WEB_SERVICE: service(
            "WebTaskDefinition",
            security_group=WEB_SG,
            desired=None,
            maximum_percent=200,
            minimum_percent=100,
            depends_on=[HTTP_LISTENER],
            extra={
                "HealthCheckGracePeriodSeconds": 60,
                "LoadBalancers": [
                    {
                        "ContainerName": "web",
                        "ContainerPort": WEB_PORT,
                        "TargetGroupArn": ref(TARGET_GROUP),
                    }
                ],
            },
        ),
        "WebScalableTarget": scalable_target(
            WEB_SERVICE, ref("DesiredWebCount"), ref("WebMaxCount")
        ),
        "WebCpuScaling": {
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {
                "PolicyName": sub("${AWS::StackName}-web-cpu"),
                "PolicyType": "TargetTrackingScaling",
                "ScalingTargetId": ref("WebScalableTarget"),
                "TargetTrackingScalingPolicyConfiguration": {
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
                    },
                    "TargetValue": 60,
                    "ScaleOutCooldown": 60,
                    "ScaleInCooldown": 300,
                },
            },
        },
        "WebRequestScaling": {
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {
                "PolicyName": sub("${AWS::StackName}-web-requests"),
                "PolicyType": "TargetTrackingScaling",
                "ScalingTargetId": ref("WebScalableTarget"),
                "TargetTrackingScalingPolicyConfiguration": {
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": "ALBRequestCountPerTarget",
                        "ResourceLabel": join(
                            "/",
                            [
                                get_att(ALB, "LoadBalancerFullName"),
                                get_att(TARGET_GROUP, "TargetGroupFullName"),
                            ],
                        ),
                    },
                    "TargetValue": ref("WebRequestsPerTarget"),
                    "ScaleOutCooldown": 60,
                    "ScaleInCooldown": 300,
                },
            },
        },
    }
