"""What the CloudFormation test modules share: the rendered templates parsed, and a tiny
evaluator for the intrinsics the names and switches use (the templates' fixture is in
``conftest.py``)."""

from __future__ import annotations

from typing import Any

import yaml

from deploy.aws.render import DATA_TEMPLATE, ECS_TEMPLATE


def templates(files: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The data and ECS templates of ``render_files``'s output, parsed."""
    return yaml.safe_load(files[DATA_TEMPLATE]), yaml.safe_load(files[ECS_TEMPLATE])


def evaluate(value: Any, parameters: dict[str, str], conditions: dict[str, Any]) -> Any:
    """Resolve Ref (parameters), Fn::Sub (parameters only; one with a variable map is kept),
    Fn::If, Fn::Equals, Fn::Not."""
    if isinstance(value, list):
        return [evaluate(v, parameters, conditions) for v in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        return parameters.get(value["Ref"], value)  # AWS::NoValue stays as it is
    if "Fn::Sub" in value:
        text = value["Fn::Sub"]
        if isinstance(text, list):  # a variable map (imports): left as it is
            return value
        for name, parameter in parameters.items():
            text = text.replace("${" + name + "}", parameter)
        return text
    if "Fn::If" in value:
        name, when_true, when_false = value["Fn::If"]
        chosen = when_true if holds(conditions[name], parameters, conditions) else when_false
        return evaluate(chosen, parameters, conditions)
    return {k: evaluate(v, parameters, conditions) for k, v in value.items()}


def holds(condition: Any, parameters: dict[str, str], conditions: dict[str, Any]) -> bool:
    """Whether a condition (Fn::Equals, Fn::Not, Fn::And, Condition) holds for ``parameters``."""
    if "Fn::Equals" in condition:
        left, right = evaluate(condition["Fn::Equals"], parameters, conditions)
        return left == right
    if "Fn::Not" in condition:
        return not holds(condition["Fn::Not"][0], parameters, conditions)
    if "Fn::And" in condition:
        return all(holds(c, parameters, conditions) for c in condition["Fn::And"])
    if "Condition" in condition:
        return holds(conditions[condition["Condition"]], parameters, conditions)
    raise AssertionError(f"unsupported condition {condition}")
