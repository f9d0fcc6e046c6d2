"""Every package the wheel installs reaches the image: the Dockerfile copies it and
.dockerignore lets it into the build context (a new app once missed both)."""

from __future__ import annotations

from deploy.docker_check import packages_left_out


def test_the_image_gets_every_package_of_the_wheel():
    assert packages_left_out({"orders/apps.py", "webhooks/apps.py", "aws/queues.py"}) == []


def test_a_package_the_image_would_miss_is_named():
    problems = packages_left_out({"orders/apps.py", "billing/apps.py"})

    assert problems == [
        "the Dockerfile does not COPY billing/",
        ".dockerignore leaves billing/ out of the build context",
    ]
