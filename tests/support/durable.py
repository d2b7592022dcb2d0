"""A local S3 server (moto) for tansu's ``s3://`` storage, so a broker restart keeps its
topics (tansu's memory storage forgets them)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator

from tests.support.http import free_port


@contextlib.contextmanager
def moto_s3() -> Iterator[dict[str, str]]:
    """The environment a broker started with ``storage="s3://tansu/"`` needs."""
    port = free_port()
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    env = {
        "AWS_ENDPOINT": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "eu-west-2",
        "AWS_ALLOW_HTTP": "true",
    }
    try:
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=env["AWS_ENDPOINT"],
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name="eu-west-2",
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                s3.create_bucket(
                    Bucket="tansu", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
                )
                break
            except Exception:
                assert time.monotonic() < deadline, "moto S3 server did not start"
                time.sleep(0.2)
        yield env
    finally:
        moto.kill()
        moto.wait(10)
