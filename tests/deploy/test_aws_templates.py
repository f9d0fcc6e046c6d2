"""The CloudFormation templates follow the workflow table: the checked-in files are what it
renders, every status is complete, the example parameters and the README name every parameter,
and adding a status adds its resources and changes nothing else.

Rendering is pure (no AWS, no Django database); cfn-lint runs on the rendered files, so a
missing validator fails the test with `make deploy-tools` in its message.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from deploy.aws import check
from deploy.aws.render import DATA_TEMPLATE, ECS_TEMPLATE, render_files
from deploy.tools import ROOT
from deploy.workflow import StatusQueue, status_queues
from tests.deploy.aws_support import templates

INSPECTED = StatusQueue("inspected", "Checked by an inspector.", False)


# -- (a) drift -------------------------------------------------------------------------------


def test_checked_in_templates_are_what_the_workflow_table_renders(rendered):
    stale = [
        path
        for path, content in rendered.items()
        if not (ROOT / path).exists() or (ROOT / path).read_text() != content
    ]
    assert not stale, f"run `python -m deploy.aws.render` (or make render-deploy): {stale}"


def test_rendering_is_deterministic(rendered):
    assert render_files(status_queues()) == rendered


def test_every_status_is_complete_in_the_checked_in_templates():
    data_template = check.load(ROOT / DATA_TEMPLATE)
    ecs_template = check.load(ROOT / ECS_TEMPLATE)
    problems = [
        p for q in status_queues() for p in check.status_problems(q, data_template, ecs_template)
    ]
    assert problems == []


def test_example_parameters_name_every_parameter(rendered):
    for template_path, params_path in (
        (DATA_TEMPLATE, DATA_TEMPLATE.replace(".yaml", ".params.example.json")),
        (ECS_TEMPLATE, ECS_TEMPLATE.replace(".yaml", ".params.example.json")),
    ):
        parameters = yaml.safe_load(rendered[template_path])["Parameters"]
        example = json.loads(rendered[params_path])
        assert [p["ParameterKey"] for p in example] == list(parameters)


# -- (b) adding a status ------------------------------------------------------------------------


def test_adding_a_status_adds_its_resources_and_nothing_else_changes(tmp_path: Path, rendered):
    queues = [*status_queues(), INSPECTED]
    files = render_files(queues)
    for relative, content in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(content)

    data_template, ecs_template = templates(files)
    assert check.status_problems(INSPECTED, data_template, ecs_template) == []
    subscription = data_template["Resources"]["InspectedSubscription"]["Properties"]
    assert subscription["FilterPolicy"] == {"status": ["inspected"]}
    container = ecs_template["Resources"]["InspectedWorkerTaskDefinition"]["Properties"][
        "ContainerDefinitions"
    ][0]
    assert container["Command"] == ["worker", "inspected"]

    base_data, base_ecs = templates(rendered)
    for base, extended, expected_new, changed_ok in (
        (
            base_data,
            data_template,
            {
                "InspectedQueue",
                "InspectedDeadLetterQueue",
                "InspectedQueuePolicy",
                "InspectedSubscription",
                "InspectedDeadLetterAlarm",
                "InspectedOldestMessageAlarm",
                "InspectedWorkerPolicy",
            },
            {"WebPolicy"},  # the web role reads every queue's depth and redrives every DLQ
        ),
        (
            base_ecs,
            ecs_template,
            {
                "InspectedWorkerTaskRole",
                "InspectedWorkerTaskDefinition",
                "InspectedWorkerService",
                "InspectedWorkerScalableTarget",
                "InspectedWorkerBacklogScaling",
                "InspectedWorkerWakeUpScaling",
                "InspectedWorkerStalledAlarm",
            },
            set(),
        ),
    ):
        assert set(extended["Resources"]) - set(base["Resources"]) == expected_new
        assert set(base["Resources"]) <= set(extended["Resources"])
        changed = {
            name
            for name, resource in base["Resources"].items()
            if extended["Resources"][name] != resource
        }
        assert changed <= changed_ok
        assert extended["Parameters"] == base["Parameters"]
    assert {"InspectedQueueUrl", "InspectedWorkerPolicyArn"} <= set(data_template["Outputs"])
    assert "InspectedWorkerServiceName" in ecs_template["Outputs"]

    # The data and ECS templates of the extended workflow pass cfn-lint as they are.
    check.lint([tmp_path / DATA_TEMPLATE, tmp_path / ECS_TEMPLATE])


# -- (c) the README --------------------------------------------------------------------------------


def test_the_readme_explains_every_parameter(rendered):
    readme = (ROOT / "deploy" / "aws" / "README.md").read_text()
    for path in (DATA_TEMPLATE, ECS_TEMPLATE):
        for name in yaml.safe_load(rendered[path])["Parameters"]:
            assert f"`{name}`" in readme, name
