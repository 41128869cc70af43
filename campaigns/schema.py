"""The JSON Schema of campaign files, for editors (VS Code with the YAML extension, JetBrains):
completion, descriptions on hover and red underlines while typing."""

from __future__ import annotations

from typing import Any

from campaigns.model import CampaignFile

SCHEMA_ID = "https://clarion.invalid/schema/campaign.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema() -> dict[str, Any]:
    schema = CampaignFile.model_json_schema(mode="validation")
    return {"$schema": DIALECT, "$id": SCHEMA_ID, **schema}
