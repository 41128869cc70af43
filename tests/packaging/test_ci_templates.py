"""The review workflows `clarion init` writes: their shape (validate on every change, diff
against the target branch with its history fetched), and the code in them that posts the
comment, run against stand-ins of the GitLab API (a loopback HTTP server) and of GitHub's
`github-script` context (Node.js): the first run creates one comment, later runs update it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from campaigns.preview.changes import MARKER
from scheduler.scaffold import clarion_version, template

GITHUB = yaml.safe_load(template("github-workflow.yml").replace("@CLARION_VERSION@", "1.2.3"))
GITLAB = yaml.safe_load(template("gitlab-ci.yml").replace("@CLARION_VERSION@", "1.2.3"))


def test_github_workflow_validates_and_diffs_against_the_base_branch() -> None:
    assert clarion_version()
    triggers = GITHUB[True]  # YAML 1.1 reads the key `on` as true
    assert "pull_request" in triggers and triggers["push"]["branches"] == ["main"]
    assert GITHUB["permissions"]["pull-requests"] == "write"
    assert GITHUB["env"]["CLARION"] == "clarion==1.2.3"
    steps = GITHUB["jobs"]["review"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0
    runs = [step.get("run", "") for step in steps]
    assert "clarion validate" in runs
    assert any('clarion diff "origin/$GITHUB_BASE_REF" --format markdown' in r for r in runs)


def test_gitlab_job_validates_and_diffs_against_the_target_branch() -> None:
    job = GITLAB["clarion"]
    assert job["variables"]["GIT_DEPTH"] == "0"
    assert job["variables"]["CLARION"] == "clarion==1.2.3"
    assert job["script"][0] == "clarion validate"
    assert 'clarion diff "origin/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME"' in job["script"][1]
    assert job["artifacts"]["paths"] == ["clarion-diff.md"]


class FakeGitLab:
    """The notes API of one merge request, as GitLab documents it."""

    def __init__(self) -> None:
        self.notes: list[dict[str, Any]] = [{"id": 1, "body": "LGTM, a human"}]
        self.tokens: list[str | None] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, body: Any, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> dict[str, Any]:
                loaded: dict[str, Any] = json.loads(
                    self.rfile.read(int(self.headers["Content-Length"]))
                )
                return loaded

            def do_GET(self) -> None:
                fake.tokens.append(self.headers.get("PRIVATE-TOKEN"))
                assert self.path.startswith("/api/v4/projects/7/merge_requests/3/notes")
                self._reply(fake.notes)

            def do_POST(self) -> None:
                note = {"id": len(fake.notes) + 1, "body": self._body()["body"]}
                fake.notes.append(note)
                self._reply(note, 201)

            def do_PUT(self) -> None:
                note_id = int(self.path.rsplit("/", 1)[1])
                (note,) = [n for n in fake.notes if n["id"] == note_id]
                note["body"] = self._body()["body"]
                self._reply(note)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v4"


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    fake = FakeGitLab()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def gitlab_poster() -> str:
    script = GITLAB["clarion"]["script"][1]
    (code,) = re.findall(r"<<'PY'\n(.*?)\nPY\n", script, re.DOTALL)
    return str(code)


def test_gitlab_note_is_posted_once_then_updated(tmp_path: Path, gitlab: FakeGitLab) -> None:
    env = {
        **os.environ,
        "CI_API_V4_URL": gitlab.url,
        "CI_PROJECT_ID": "7",
        "CI_MERGE_REQUEST_IID": "3",
        "CLARION_REVIEW_TOKEN": "glpat-test",
    }
    for preview in ("first preview\n", "second preview\n"):
        (tmp_path / "clarion-diff.md").write_text(preview)
        done = subprocess.run(
            [sys.executable, "-c", gitlab_poster()], cwd=tmp_path, env=env, capture_output=True
        )
        assert done.returncode == 0, done.stderr
    assert [n["body"] for n in gitlab.notes] == ["LGTM, a human", f"{MARKER}\nsecond preview\n"]
    assert set(gitlab.tokens) == {"glpat-test"}


HARNESS = """
const fs = require("fs");
const state = JSON.parse(fs.readFileSync("state.json", "utf8"));
const context = { repo: { owner: "o", repo: "r" }, issue: { number: 5 } };
const github = {
  paginate: async (fn, args) => fn(args),
  rest: { issues: {
    listComments: async () => state.comments,
    createComment: async ({ body }) => {
      state.comments.push({ id: state.comments.length + 1, body });
    },
    updateComment: async ({ comment_id, body }) => {
      state.comments.find((c) => c.id === comment_id).body = body;
    },
  } },
};
(async () => {
SCRIPT
  fs.writeFileSync("state.json", JSON.stringify(state));
})().catch((e) => { console.error(e); process.exit(1); });
"""


def test_github_comment_is_posted_once_then_updated(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: the github-script step cannot be run here")
    (step,) = [s for s in GITHUB["jobs"]["review"]["steps"] if "github-script" in s.get("uses", "")]
    (tmp_path / "run.js").write_text(HARNESS.replace("SCRIPT", step["with"]["script"]))
    (tmp_path / "state.json").write_text(json.dumps({"comments": [{"id": 1, "body": "a human"}]}))
    for preview in ("first preview\n", "second preview\n"):
        (tmp_path / "clarion-diff.md").write_text(preview)
        done = subprocess.run([node, "run.js"], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    comments = json.loads((tmp_path / "state.json").read_text())["comments"]
    assert [c["body"] for c in comments] == ["a human", f"{MARKER}\nsecond preview\n"]
