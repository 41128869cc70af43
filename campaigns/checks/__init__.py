"""Checks that need more than one value: references between parts of a campaign file and to
config.yaml (references, languages), the content of each rendered post on each platform (text,
media), and the timeline.

Every problem is located at the value to fix, and all of them are reported at once. Problems
in the content of a draft post (length, media, alt text, a blackout) are warnings, so that a
draft being written does not hold back the rest of the campaign; they become errors once it is
approved.
"""
