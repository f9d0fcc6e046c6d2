"""The portal's S3 client signs with SigV4, its presigned GETs and POST forms too: S3 refuses
SigV2 for buckets created after 24 June 2020, which botocore would otherwise presign with in
us-east-1 (moto takes either; ministack reads SigV2 query strings as anonymous)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from aws.clients import client


def s3():
    return client("s3", endpoint_url="http://127.0.0.1:4566", region="us-east-1")


def test_presigned_gets_are_sigv4():
    url = s3().generate_presigned_url(
        "get_object",
        Params={"Bucket": "bucket", "Key": "k", "ResponseContentType": "image/png"},
        ExpiresIn=60,
    )
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert "AWSAccessKeyId" not in query


def test_presigned_posts_are_sigv4():
    fields = s3().generate_presigned_post(Bucket="bucket", Key="k")["fields"]
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert "AWSAccessKeyId" not in fields
