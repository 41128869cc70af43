"""What goes out where and when, in the formats `clarion preview` writes.

Each format is a module of its own with a `render` function, imported only when used, so that
the JSON path never loads rich or icalendar.
"""

from campaigns.preview.common import CampaignInfo, Preview, select, shared_zone, summarize

__all__ = ["CampaignInfo", "Preview", "select", "shared_zone", "summarize"]
