from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import campaigns.checks.media
from campaigns.channels import KnownChannel
from campaigns.platformrules import MP4, PlatformRules
from campaigns.platforms import PLATFORMS
from campaigns.video import ISO_MEDIA, VideoInfo, probe
from campaigns.wording import duration_words, size_words
from tests.campaigns.plan_helpers import CHANNELS, campaign, load, located
from tests.videos import clip, gif, still, truncated

X_ONLY = (
    "campaign: test\ntitle: Test\ntimezone: UTC\nanchors: {sid: 2027-02-09}\nchannels: [x-main]\n"
)
VIDEO_POST = """\
- id: clip
  at: sid 09:00
  text: Watch
  media:
    - file: clip.mp4
      alt: A black screen
"""


def _errors(tmp_path: Path, header: str = X_ONLY, post: str = VIDEO_POST) -> list[str]:
    plan = load(tmp_path, campaign(post, header))
    return [line for line in located(plan) if " error: " in line]


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (
            lambda p: clip(p, seconds=1201, rate=1),
            "11:15 error: 'clip.mp4' is 20 min 1 s long; X takes videos up to 20 min (x-main)",
        ),
        (
            lambda p: clip(p, seconds=0.2, rate=10),
            "11:15 error: 'clip.mp4' is 0.2 s long; X takes videos of at least 0.5 s (x-main)",
        ),
        (
            lambda p: clip(p, seconds=1, rate=2, size=(1920, 1080)),
            "11:15 error: 'clip.mp4' is 1920x1080; X takes videos up to 1280x1024 (x-main)",
        ),
        (
            lambda p: clip(p, seconds=1, rate=2, size=(16, 16)),
            "11:15 error: 'clip.mp4' is 16x16; X takes videos of at least 32x32 (x-main)",
        ),
        (
            lambda p: clip(p, seconds=1, rate=2, size=(1000, 200)),
            "11:15 error: 'clip.mp4' is 1000x200; X takes videos from 1:3 (tall) to 3:1 (wide) "
            "(x-main)",
        ),
        (
            lambda p: clip(p, seconds=1, rate=2, size=(1000, 200), rotation=90),
            "11:15 error: 'clip.mp4' is 200x1000; X takes videos from 1:3 (tall) to 3:1 (wide) "
            "(x-main)",
        ),
        (
            lambda p: clip(p, seconds=1, rate=120),
            "11:15 error: 'clip.mp4' has 120 frames per second; X takes up to 60 (x-main)",
        ),
        (
            lambda p: clip(p, seconds=1, codec="mpeg4"),
            "11:15 error: 'clip.mp4' is MPEG-4 Part 2 video; X takes H.264 video (x-main)",
        ),
    ],
    ids=["long", "short", "large", "small", "wide", "tall", "fast", "codec"],
)
def test_each_limit_of_x_is_an_error_at_the_file(tmp_path: Path, make, error: str) -> None:  # type: ignore[no-untyped-def]
    make(tmp_path / "clip.mp4")
    assert _errors(tmp_path) == [error]


def test_a_video_within_every_limit_passes_on_each_platform_that_takes_video(
    tmp_path: Path,
) -> None:
    clip(tmp_path / "clip.mp4", seconds=2, audio=True)
    header = X_ONLY.replace("[x-main]", "[x-main, mastodon-main, telegram-news]")
    assert _errors(tmp_path, header) == []


def test_a_container_the_platform_does_not_take_says_so(tmp_path: Path) -> None:
    clip(tmp_path / "clip.mov")
    errors = _errors(
        tmp_path, X_ONLY.replace("[x-main]", "[telegram-news]"), VIDEO_POST.replace("mp4", "mov")
    )
    assert errors == [
        "11:15 error: Clarion cannot post an MOV video ('clip.mov') to Telegram (telegram-news)"
    ]


def test_threads_frame_rates_and_mastodon_pixels(tmp_path: Path) -> None:
    threads = {**CHANNELS, "threads-main": KnownChannel("threads-main", "threads")}
    clip(tmp_path / "clip.mp4", seconds=1, rate=10)
    header = X_ONLY.replace("[x-main]", "[threads-main]")
    plan = load(tmp_path, campaign(VIDEO_POST, header), channels=threads)
    assert "'clip.mp4' has 10 frames per second; Threads takes 23 to 60 (threads-main)" in [
        p.message for p in plan.problems
    ]
    clip(tmp_path / "big.mp4", seconds=0.1, rate=10, size=(4096, 2160))
    errors = _errors(
        tmp_path, X_ONLY.replace("[x-main]", "[mastodon-main]"), VIDEO_POST.replace("clip", "big")
    )
    assert errors == [
        "11:15 error: 'big.mp4' is 4096x2160 (8,847,360 pixels); Mastodon takes videos of up to "
        "8,294,400 pixels (mastodon-main)"
    ]


def test_a_file_that_is_not_what_its_name_says_is_an_error(tmp_path: Path) -> None:
    shutil.copy(gif(tmp_path / "anim.gif"), tmp_path / "clip.mp4")
    assert _errors(tmp_path) == [
        "11:15 error: 'clip.mp4' cannot be posted: it is really a GIF image (name it .gif), not "
        "an MP4 video"
    ]
    still(tmp_path / "clip.mp4", size=(64, 64))
    assert _errors(tmp_path) == [
        "11:15 error: 'clip.mp4' cannot be posted: it is really a JPEG image, not an MP4 video"
    ]
    (tmp_path / "clip.mp4").write_bytes(b"\x00\x01hello, not a video" * 50)
    (error,) = _errors(tmp_path)
    assert error.startswith("11:15 error: 'clip.mp4' cannot be posted: not a video file")


def test_a_file_cut_short_is_an_error(tmp_path: Path) -> None:
    whole = clip(tmp_path / "whole.mp4", faststart=True)
    truncated(whole, tmp_path / "clip.mp4", 0.8)
    (error,) = _errors(tmp_path)
    assert error.startswith("11:15 error: 'clip.mp4' cannot be posted: the file is cut short")
    truncated(clip(tmp_path / "whole.mp4"), tmp_path / "late.mp4", 0.8)  # index at the end
    (error,) = _errors(tmp_path, post=VIDEO_POST.replace("clip.mp4", "late.mp4"))
    assert "cannot be posted: the file is cut short, or empty: it holds no frames" in error


SRT = "1\n00:00:00,000 --> 00:00:01,500\nNo.\n\n2\n00:00:01,500 --> 00:00:02,000\nSay no.\n"
VTT = (
    "WEBVTT\n\nNOTE made by hand\n\n00:00.000 --> 00:01.500\nNo.\n\n"
    "second\n00:01.500 --> 00:02.000 line:0\nSay no.\n"
)


def _with(extra: str) -> str:
    return VIDEO_POST + "".join(f"      {line}\n" for line in extra.splitlines())


def test_captions_the_platform_does_not_take_are_a_warning(tmp_path: Path) -> None:
    clip(tmp_path / "clip.mp4")
    (tmp_path / "clip.srt").write_text(SRT, encoding="utf-8")
    plan = load(tmp_path, campaign(_with("captions: clip.srt"), X_ONLY))
    assert located(plan) == [
        "13:19 warning: Clarion does not send caption files to X: 'clip.mp4' goes out there "
        "without its captions (x-main)"
    ]


def test_captions_in_a_format_the_platform_does_not_take_are_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(PLATFORMS, "x", replace(PLATFORMS["x"], caption_formats=frozenset({"srt"})))
    clip(tmp_path / "clip.mp4")
    (tmp_path / "clip.srt").write_text(SRT, encoding="utf-8")
    (tmp_path / "clip.vtt").write_text(VTT, encoding="utf-8")
    assert _errors(tmp_path, post=_with("captions: clip.srt")) == []
    assert _errors(tmp_path, post=_with("captions: clip.vtt")) == [
        "13:19 error: 'clip.vtt' is WebVTT; X takes captions as SRT (x-main)"
    ]


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("gone.srt", None, "captions file 'gone.srt' not found"),
        (
            "bad.srt",
            "1\n00:00:00,000 -> 00:00:01,000\nHi\n",
            "captions file 'bad.srt' cannot be used: line 2: expected a timing such as "
            "'00:00:01,000 --> 00:00:04,000', found '00:00:00,000 -> 00:00:01,000'",
        ),
        (
            "bad.vtt",
            "WEBVTT\n\n00:00.000 --> 00:01.000\nHi\n\n00:0x --> zz\nBad\n",
            "captions file 'bad.vtt' cannot be used: line 6: expected a cue timing such as "
            "'00:01.000 --> 00:04.000', found '00:0x --> zz'",
        ),
        ("empty.vtt", "WEBVTT\n", "captions file 'empty.vtt' cannot be used: it holds no captions"),
        (
            "swapped.srt",
            VTT,
            "captions file 'swapped.srt' cannot be used: it holds WebVTT, not SRT: name it .vtt",
        ),
        (
            "latin.srt",
            "1\n00:00:00,000 --> 00:00:01,000\nNon, c'est non \xe0 jamais\n",
            "captions file 'latin.srt' cannot be used: it is not UTF-8 text (byte 48); save it "
            "as UTF-8",
        ),
        (
            "clip.txt",
            SRT,
            "captions file 'clip.txt' cannot be used: captions are SRT (.srt) or WebVTT (.vtt) "
            "files",
        ),
        (
            "back.srt",
            "1\n00:00:02,000 --> 00:00:01,000\nHi\n",
            "captions file 'back.srt' cannot be used: line 2: the cue ends before it starts",
        ),
    ],
)
def test_missing_or_malformed_captions_are_located_errors(
    tmp_path: Path, name: str, content: str | None, error: str
) -> None:
    clip(tmp_path / "clip.mp4")
    if content is not None:
        (tmp_path / name).write_bytes(content.encode("latin-1" if "latin" in name else "utf-8"))
    assert _errors(tmp_path, post=_with(f"captions: {name}")) == [f"13:19 error: {error}"]


def test_captions_per_language_go_with_the_posts_of_their_language(tmp_path: Path) -> None:
    clip(tmp_path / "clip.mp4")
    (tmp_path / "clip.en.srt").write_text(SRT, encoding="utf-8")
    header = X_ONLY + "languages: [en, fr]\n"
    post = """\
- id: clip
  at: sid 09:00
  text: {en: Watch, fr: Regardez}
  media:
    - file: clip.mp4
      alt: {en: A black screen, fr: Un écran noir}
      captions: {en: clip.en.srt, fr: clip.fr.srt}
"""
    plan = load(tmp_path, campaign(post, header))
    assert [line for line in located(plan) if "error" in line] == [
        "14:41 error: captions file 'clip.fr.srt' not found"
    ]
    assert plan.deliveries == []  # held back by the error
    (tmp_path / "clip.fr.srt").write_text(SRT, encoding="utf-8")
    plan = load(tmp_path, campaign(post, header))
    media = {d.language: d.media[0] for d in plan.deliveries}
    assert media["en"].captions == str(tmp_path / "clip.en.srt")
    assert media["fr"].captions == str(tmp_path / "clip.fr.srt")


def test_captions_and_thumbnails_belong_to_videos(tmp_path: Path) -> None:
    (tmp_path / "card.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    (tmp_path / "clip.srt").write_text(SRT, encoding="utf-8")
    post = _with("captions: clip.srt\nthumbnail: card.png").replace("clip.mp4", "card.png")
    assert _errors(tmp_path, post=post) == [
        "13:19 error: 'card.png' is not a video: captions go with videos",
        "14:20 error: 'card.png' is not a video: a thumbnail is a video's cover image",
    ]


def test_thumbnails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clip(tmp_path / "clip.mp4")
    assert _errors(tmp_path, post=_with("thumbnail: cover.jpg")) == [
        "13:20 error: thumbnail 'cover.jpg' not found"
    ]
    (tmp_path / "cover.jpg").write_bytes(b"\xff\xd8\xff" + b"\0" * 64)
    plan = load(tmp_path, campaign(_with("thumbnail: cover.jpg"), X_ONLY))
    assert located(plan) == [
        "13:20 warning: Clarion does not send cover images to X: 'clip.mp4' goes out there "
        "with the platform's own cover (x-main)"
    ]
    (delivery,) = plan.deliveries
    assert delivery.media[0].thumbnail == str(tmp_path / "cover.jpg")
    header = X_ONLY.replace("[x-main]", "[telegram-news, mastodon-main]")
    plan = load(tmp_path, campaign(_with("thumbnail: cover.jpg"), header))
    assert located(plan) == []  # both send a JPEG cover
    (tmp_path / "cover.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    (tmp_path / "big.jpg").write_bytes(b"\xff\xd8\xff" + b"\0" * 200_000)
    header = X_ONLY.replace("[x-main]", "[telegram-news]")
    plan = load(tmp_path, campaign(_with("thumbnail: cover.png"), header))
    assert located(plan) == [
        "13:20 warning: Telegram takes JPEG covers: 'clip.mp4' goes out there with the "
        "platform's own cover (telegram-news)"
    ]
    plan = load(tmp_path, campaign(_with("thumbnail: big.jpg"), header))
    assert located(plan) == [
        "13:20 warning: Telegram takes covers up to 200.0 kB, and 'big.jpg' is 200.0 kB: "
        "'clip.mp4' goes out there with the platform's own cover (telegram-news)"
    ]


def test_captions_larger_than_the_platform_takes(tmp_path: Path) -> None:
    clip(tmp_path / "clip.mp4")
    cues = "".join(
        f"{n}\n00:00:00,000 --> 00:00:01,000\nSay no, and talk to someone.\n\n"
        for n in range(1, 500)
    )
    (tmp_path / "long.srt").write_text(cues, encoding="utf-8")
    header = X_ONLY.replace("[x-main]", "[bluesky-main]")
    assert _errors(tmp_path, header, _with("captions: long.srt")) == [
        "13:19 error: 'long.srt' is 31,828 bytes; Bluesky takes caption files of up to 20,000 "
        "bytes (bluesky-main)"
    ]


def test_each_video_is_read_once_however_many_deliveries_use_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []

    def counted(path: Path):  # type: ignore[no-untyped-def]
        calls.append(path)
        return probe(path)

    monkeypatch.setattr(campaigns.checks.media, "probe", counted)
    clip(tmp_path / "clip.mp4")
    header = X_ONLY.replace("[x-main]", "[x-main, mastodon-main]") + "languages: [en, fr]\n"
    post = VIDEO_POST.replace("text: Watch", "text: {en: Watch, fr: Regardez}")
    post += "- {id: again, at: sid 10:00, text: Again, media: [{file: clip.mp4, alt: Black}]}\n"
    plan = load(tmp_path, campaign(post, header))
    assert len(plan.deliveries) == 8
    assert calls == [tmp_path / "clip.mp4"]


def test_durations_and_sizes_read_as_people_write_them() -> None:
    assert [size_words(n) for n in (8_152, 3_400_000, 1_200_000_000)] == [
        "8.2 kB",
        "3.4 MB",
        "1.2 GB",
    ]
    assert [duration_words(s) for s in (0.5, 45, 140, 192, 3600, 3900)] == [
        "0.5 s",
        "45 s",
        "2 min 20 s",
        "3 min 12 s",
        "1 h",
        "1 h 5 min",
    ]


@pytest.fixture(scope="module")
def real_clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("clips")
    return clip(folder / "clip.mp4", seconds=1, rate=10, audio=True, faststart=True).read_bytes()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.one_of(
        st.binary(max_size=2000),
        st.builds(
            lambda head, tail: head + tail, st.just(b"\x00\x00\x00\x18ftypmp42"), st.binary()
        ),
        st.floats(0, 0.99).map(lambda keep: ("cut", keep)),
    ),
    suffix=st.sampled_from([".mp4", ".mov"]),
)
def test_broken_and_random_video_bytes_give_a_located_error_never_a_traceback(
    tmp_path: Path, real_clip: bytes, data: bytes | tuple[str, float], suffix: str
) -> None:
    if isinstance(data, tuple):
        data = real_clip[: int(len(real_clip) * data[1])]
    name = f"clip{suffix}"
    (tmp_path / name).write_bytes(data)
    plan = load(tmp_path, campaign(VIDEO_POST.replace("clip.mp4", name), X_ONLY))
    errors = [p for p in plan.problems if p.severity == "error"]
    assert errors, "a broken video must not pass"
    assert all((p.where.line, p.where.col) == (11, 15) for p in errors), located(plan)
    assert all(f"'{name}'" in p.message for p in errors)


def test_a_captions_language_the_campaign_does_not_have_is_an_error(tmp_path: Path) -> None:
    clip(tmp_path / "clip.mp4")
    (tmp_path / "clip.srt").write_text(SRT, encoding="utf-8")
    header = X_ONLY + "languages: [en, fr]\n"
    post = VIDEO_POST.replace("text: Watch", "text: {en: Watch, fr: Regardez}") + (
        "      captions: {en: clip.srt, fe: clip.srt}\n"
    )
    errors = [p for p in load(tmp_path, campaign(post, header)).problems if p.severity == "error"]
    assert [(p.where.line, p.message) for p in errors] == [
        (14, "'fe' is not one of this campaign's languages")
    ]


def _beyond(rules: PlatformRules) -> dict[str, VideoInfo]:
    """For each video limit the platform sets, a video just past it (and within the others)."""
    low_rate, high_rate = rules.video_frame_rate or (0, 1000)
    shortest, longest = rules.video_seconds or (0, None)
    ok = VideoInfo(
        ISO_MEDIA,
        min(rules.video_codecs or {"h264"}),
        min(rules.audio_codecs or {"aac"}),
        duration=max(shortest, 1) + 1,
        width=640,
        height=480,
        frame_rate=max(low_rate, 25),
        size=1000,
    )
    found = {}
    if rules.video_codecs:
        found["video_codecs"] = replace(ok, video_codec="prores")
    if rules.audio_codecs:
        found["audio_codecs"] = replace(ok, audio_codec="pcm_s16le")
    if shortest:
        found["shortest"] = replace(ok, duration=shortest - 0.1)
    if longest:
        found["longest"] = replace(ok, duration=longest + 1)
    if rules.video_max_size:
        found["video_max_size"] = replace(ok, width=max(rules.video_max_size) + 2)
    if rules.video_min_size:
        side = min(rules.video_min_size) - 2
        found["video_min_size"] = replace(ok, width=side, height=side)
    if rules.video_max_pixels:
        found["video_max_pixels"] = replace(ok, width=rules.video_max_pixels // 480 + 2)
    if rules.video_aspect:
        found["video_aspect"] = replace(ok, height=int(640 / rules.video_aspect[1]) - 10)
    if rules.video_frame_rate:
        found["high_rate"] = replace(ok, frame_rate=high_rate + 1)
        if low_rate:
            found["low_rate"] = replace(ok, frame_rate=low_rate - 1)
    return {"within": ok, **found}


VIDEO_PLATFORMS = sorted(name for name, r in PLATFORMS.items() if MP4 in r.media_types)
CASES = [(name, limit) for name in VIDEO_PLATFORMS for limit in _beyond(PLATFORMS[name])]


@pytest.mark.parametrize(("platform", "limit"), CASES, ids=[f"{p}-{lim}" for p, lim in CASES])
def test_every_video_limit_of_every_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, platform: str, limit: str
) -> None:
    info = _beyond(PLATFORMS[platform])[limit]
    monkeypatch.setattr(campaigns.checks.media, "probe", lambda path: info)
    (tmp_path / "clip.mp4").write_bytes(b"read through the probe above")
    channel = KnownChannel(f"{platform}-main", platform)
    header = X_ONLY.replace("[x-main]", f"[{channel.name}]")
    plan = load(tmp_path, campaign(VIDEO_POST, header), channels={channel.name: channel})
    errors = [p for p in plan.problems if p.severity == "error"]
    if limit == "within":
        assert errors == []
        return
    (error,) = errors
    assert (error.where.line, error.where.col) == (11, 15)
    label = PLATFORMS[platform].label
    assert f"; {label} takes " in error.message and error.message.endswith(f"({channel.name})")


def test_a_thread_for_tiktok_is_one_error_and_no_warning(tmp_path: Path) -> None:
    """TikTok would post a thread's parts as separate posts, the later ones without video: an
    error, and no warning beside it that they go out as separate messages."""
    tiktok = {**CHANNELS, "tiktok-main": KnownChannel("tiktok-main", "tiktok")}
    clip(tmp_path / "clip.mp4", seconds=4, size=(720, 1280))
    post = VIDEO_POST.replace("  text: Watch\n", "  thread: [Watch, Then tell someone]\n")
    header = X_ONLY.replace("[x-main]", "[tiktok-main]")
    plan = load(tmp_path, campaign(post, header), channels=tiktok)
    assert [(p.severity, p.message) for p in plan.problems] == [
        (
            "error",
            "TikTok posts need a video or photos, and a thread's later parts have none "
            "(tiktok-main)",
        )
    ]
