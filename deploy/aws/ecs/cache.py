"""The shared store of the API's limits: ElastiCache Serverless for Valkey, for the web tasks.

The web tasks count the API's rate limit per integrator and the failed API key look-ups per
client address in it (``CACHE_URL``, portal/throttle.py); counted per task, each limit would
be multiplied by the number of tasks and processes. The stack creates it unless
``CacheUrlSecretArn`` names a store of the operator's own (condition ``CreateCache``).

Serverless: no nodes to size, patch or fail over, TLS always on (hence ``rediss://``),
encrypted at rest, billed from 100 MB of data. It only holds counters that expire within
minutes, so no snapshots and no user group: only the web tasks' security group reaches it.
"""

from __future__ import annotations

from typing import Any

from deploy.aws.cfn import condition, get_att, join, not_, ref, select, split, sub, tags
from deploy.aws.ecs.names import CACHE, CACHE_SG, WEB_SG

#: The serverless cache's endpoint (6379) and its reader endpoint (6380).
CACHE_PORTS = (6379, 6380)
#: Counters take kilobytes; the bound only caps what a fault could cost.
CACHE_MAX_GB = 1


def cache_conditions() -> dict[str, Any]:
    return {"CreateCache": not_(condition("HasCacheUrl"))}


def cache_url() -> dict[str, Any]:
    """CACHE_URL of the web tasks when the stack made the cache (TLS, database 0)."""
    return sub("rediss://${" + CACHE + ".Endpoint.Address}:${" + CACHE + ".Endpoint.Port}/0")


def cache_resources() -> dict[str, Any]:
    # Names must start with a letter and be unique in the account and region: the stack id's
    # first UUID group makes them so (the stack's name may hold capitals).
    stack_id = select(0, split("-", select(2, split("/", ref("AWS::StackId")))))
    return {
        CACHE_SG: {
            "Type": "AWS::EC2::SecurityGroup",
            "Condition": "CreateCache",
            "Properties": {
                "GroupDescription": "Rate-limit cache: Valkey from the web tasks only",
                "VpcId": ref("VpcId"),
                # Nothing goes out: a cache answers, it never calls.
                "SecurityGroupEgress": [
                    {
                        "Description": "No outbound traffic",
                        "IpProtocol": "-1",
                        "CidrIp": "127.0.0.1/32",
                    }
                ],
            },
        },
        "CacheFromWebIngress": {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Condition": "CreateCache",
            "Properties": {
                "Description": "Valkey (endpoint and reader endpoint) from the web tasks",
                "GroupId": ref(CACHE_SG),
                "IpProtocol": "tcp",
                "FromPort": CACHE_PORTS[0],
                "ToPort": CACHE_PORTS[1],
                "SourceSecurityGroupId": ref(WEB_SG),
            },
        },
        CACHE: {
            "Type": "AWS::ElastiCache::ServerlessCache",
            "Condition": "CreateCache",
            "Properties": {
                "ServerlessCacheName": join("-", ["portal-limits", stack_id]),
                "Description": sub(
                    "${AWS::StackName}: API rate limits and failed-key counts (CACHE_URL)"
                ),
                "Engine": "valkey",
                "SecurityGroupIds": [ref(CACHE_SG)],
                "SubnetIds": ref("PrivateSubnetIds"),
                "CacheUsageLimits": {"DataStorage": {"Maximum": CACHE_MAX_GB, "Unit": "GB"}},
                "SnapshotRetentionLimit": 0,
                "Tags": tags(Application="work-order-portal", Purpose="rate-limits"),
            },
        },
    }


def cache_endpoint() -> dict[str, Any]:
    return join(":", [get_att(CACHE, "Endpoint.Address"), get_att(CACHE, "Endpoint.Port")])
