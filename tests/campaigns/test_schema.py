from __future__ import annotations

import json

import jsonschema
import pytest

from campaigns import json_schema
from campaigns.yamlsource import read_yaml

from .plan_helpers import EXAMPLES


def test_schema_is_draft_2020_12_with_an_id() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("campaign.json")
    jsonschema.Draft202012Validator.check_schema(schema)
    json.dumps(schema)


def test_every_key_is_described_for_editors() -> None:
    schema = json_schema()
    for definition in [schema, *schema["$defs"].values()]:
        assert definition.get("description"), definition.get("title")
        for key, value in definition.get("properties", {}).items():
            assert value.get("description"), (definition.get("title"), key)
    assert "MON" in schema["$defs"]["Every"]["properties"]["cron"]["description"]


@pytest.mark.parametrize("name", ["sayno-2027.yaml", "demo.yaml"])
def test_the_examples_match_the_schema(name: str) -> None:
    data = read_yaml(EXAMPLES / name).data
    jsonschema.Draft202012Validator(json_schema()).validate(data)


def test_the_schema_catches_a_misspelt_key() -> None:
    data = read_yaml(EXAMPLES / "demo.yaml").data
    data["posts"][0]["txt"] = data["posts"][0].pop("text")
    errors = list(jsonschema.Draft202012Validator(json_schema()).iter_errors(data))
    assert errors
