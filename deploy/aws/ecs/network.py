"""Security groups, the load balancer, its target group and listeners."""

from __future__ import annotations

from typing import Any

from deploy.aws.cfn import NO_VALUE, if_, ref
from deploy.aws.ecs.names import (
    ALB,
    ALB_SG,
    BACKGROUND_SG,
    HTTP_LISTENER,
    HTTPS_LISTENER,
    METRICS_PORT,
    TARGET_GROUP,
    WEB_PORT,
    WEB_SG,
)


def network_resources() -> dict[str, Any]:
    forward = [{"Type": "forward", "TargetGroupArn": ref(TARGET_GROUP)}]
    redirect = [
        {
            "Type": "redirect",
            "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
        }
    ]

    def metrics_ingress(group: str) -> dict[str, Any]:
        return {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Condition": "HasMetricsScraper",
            "Properties": {
                "Description": "Prometheus scrapes /metrics",
                "GroupId": ref(group),
                "IpProtocol": "tcp",
                "FromPort": METRICS_PORT,
                "ToPort": METRICS_PORT,
                "SourceSecurityGroupId": ref("MetricsSecurityGroupId"),
            },
        }

    all_egress = [
        {
            # Database, AWS APIs, and webhook endpoints on any port of the internet.
            "Description": "Outbound: database, AWS APIs, webhook endpoints",
            "IpProtocol": "-1",
            "CidrIp": "0.0.0.0/0",
        }
    ]
    return {
        ALB_SG: {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "Load balancer: HTTPS (and HTTP, redirected) from anywhere",
                "VpcId": ref("VpcId"),
                "SecurityGroupIngress": [
                    {
                        "Description": "HTTPS from anywhere",
                        "IpProtocol": "tcp",
                        "FromPort": 443,
                        "ToPort": 443,
                        "CidrIp": "0.0.0.0/0",
                    },
                    {
                        "Description": "HTTP from anywhere (redirected when HTTPS is on)",
                        "IpProtocol": "tcp",
                        "FromPort": 80,
                        "ToPort": 80,
                        "CidrIp": "0.0.0.0/0",
                    },
                ],
            },
        },
        "LoadBalancerToWebEgress": {
            "Type": "AWS::EC2::SecurityGroupEgress",
            "Properties": {
                "Description": "To the web tasks only",
                "GroupId": ref(ALB_SG),
                "IpProtocol": "tcp",
                "FromPort": WEB_PORT,
                "ToPort": WEB_PORT,
                "DestinationSecurityGroupId": ref(WEB_SG),
            },
        },
        WEB_SG: {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": f"Web tasks: port {WEB_PORT} from the load balancer only",
                "VpcId": ref("VpcId"),
                "SecurityGroupEgress": all_egress,
            },
        },
        "WebMetricsIngress": metrics_ingress(WEB_SG),
        "WebFromLoadBalancerIngress": {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {
                "Description": "From the load balancer",
                "GroupId": ref(WEB_SG),
                "IpProtocol": "tcp",
                "FromPort": WEB_PORT,
                "ToPort": WEB_PORT,
                "SourceSecurityGroupId": ref(ALB_SG),
            },
        },
        BACKGROUND_SG: {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "Workers, relay, webhook dispatcher, migration: no inbound",
                "VpcId": ref("VpcId"),
                "SecurityGroupEgress": all_egress,
            },
        },
        "BackgroundMetricsIngress": metrics_ingress(BACKGROUND_SG),
        ALB: {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {
                "Type": "application",
                "Scheme": "internet-facing",
                "Subnets": ref("PublicSubnetIds"),
                "SecurityGroups": [ref(ALB_SG)],
                "LoadBalancerAttributes": [
                    {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
                    {"Key": "deletion_protection.enabled", "Value": "true"},
                    {"Key": "idle_timeout.timeout_seconds", "Value": "60"},
                    if_(
                        "HasAccessLogs",
                        {"Key": "access_logs.s3.enabled", "Value": "true"},
                        NO_VALUE,
                    ),
                    if_(
                        "HasAccessLogs",
                        {"Key": "access_logs.s3.bucket", "Value": ref("AccessLogBucket")},
                        NO_VALUE,
                    ),
                ],
            },
        },
        TARGET_GROUP: {
            "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
            "Properties": {
                "VpcId": ref("VpcId"),
                "TargetType": "ip",
                "Protocol": "HTTP",
                "Port": WEB_PORT,
                # Liveness, not readiness: /readyz fails every task at once when the database,
                # DynamoDB or SNS blips, and ECS would then replace the whole healthy fleet.
                "HealthCheckPath": "/healthz",
                "HealthCheckIntervalSeconds": 15,
                "HealthCheckTimeoutSeconds": 5,
                "HealthyThresholdCount": 2,
                "UnhealthyThresholdCount": 3,
                "Matcher": {"HttpCode": "200"},
                "TargetGroupAttributes": [
                    # Below the web task's 30 s stop timeout (gunicorn drains in 25 s).
                    {"Key": "deregistration_delay.timeout_seconds", "Value": "25"},
                ],
            },
        },
        HTTP_LISTENER: {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "LoadBalancerArn": ref(ALB),
                "Port": 80,
                "Protocol": "HTTP",
                "DefaultActions": if_("HasCertificate", redirect, forward),
            },
        },
        HTTPS_LISTENER: {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Condition": "HasCertificate",
            "Properties": {
                "LoadBalancerArn": ref(ALB),
                "Port": 443,
                "Protocol": "HTTPS",
                "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
                "Certificates": [{"CertificateArn": ref("CertificateArn")}],
                "DefaultActions": forward,
            },
        },
    }
