"""What Threads' `error_message` of a container that ended in ERROR means, in plain words.

The codes are those of Threads' troubleshooting page; the limits those of its media
specifications (video: MOV or MP4, up to 1 GB and 5 minutes, 23 to 60 frames a second).
"""

from __future__ import annotations

MEANINGS = {
    "FAILED_DOWNLOADING_IMAGE": "Threads could not download the image from media_base_url: "
    "check that the address serves the file to anyone",
    "FAILED_DOWNLOADING_VIDEO": "Threads could not download the video from media_base_url: "
    "check that the address serves the file to anyone",
    "FAILED_PROCESSING_AUDIO": "Threads could not process the video's sound: use AAC audio",
    "FAILED_PROCESSING_VIDEO": "Threads could not process the video: it may be damaged; "
    "use an H.264 or HEVC video in an MP4 or MOV file",
    "INVALID_ASPEC_RATIO": "Threads refused the video's aspect ratio",
    "INVALID_ASPECT_RATIO": "Threads refused the video's aspect ratio",
    "INVALID_BIT_RATE": "Threads refused the video's bit rate",
    "INVALID_DURATION": "Threads refused the video's length: it takes videos of up to 5 minutes",
    "INVALID_FRAME_RATE": "Threads refused the video's frame rate: it takes 23 to 60 frames a "
    "second",
    "INVALID_AUDIO_CHANNELS": "Threads refused the video's sound: use mono or stereo",
    "INVALID_AUDIO_CHANNEL_LAYOUT": "Threads refused the video's sound: use mono or stereo",
}


def failure(error_message: object) -> str:
    """Why Threads could not prepare the post, with its own code kept for the record."""
    code = str(error_message or "UNKNOWN")
    meaning = MEANINGS.get(code, "Threads could not prepare the post")
    return f"{meaning} ({code})"
