"""The demo page in a real browser: `vlmr demo` served on loopback, driven by headless Chromium.

Two servers start in parallel: one on the offline tiny model (random weights: it proves the
page works with a real local checkpoint), one on a scripted OpenAI-compatible server (it
proves a tool call, its image and the drawn box reach the page). Screenshots are saved to
``$VLMR_DEMO_SCREENSHOTS`` (default: the test's temp dir).
"""

import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vlmr.render import BOX_COLORS

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                       "(installed by `make test` via scripts/setup_browser.sh)"),
]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ANSWER_TIMEOUT_MS = 60_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "vlmr", "demo", *args, "--port", str(port)], stdout=out,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)
    return proc, f"http://127.0.0.1:{port}"


def _wait(proc: subprocess.Popen, url: str, log: Path, timeout: float = 150.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"vlmr demo exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"vlmr demo did not answer on {url} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _stop(procs: list[subprocess.Popen]) -> None:
    """SIGTERM all (the demo closes like on Ctrl+C and removes its temp dir), then wait; kill stragglers."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def servers(tmp_path_factory, fake_openai):
    """``{"tiny": url, "scripted": url}`` of two running `vlmr demo` servers (stopped after the module)."""
    logs = tmp_path_factory.mktemp("demo-logs")
    procs = []
    try:
        scripted, scripted_url = _start(["--api-base", fake_openai, "--model", "scripted"], logs / "scripted.log")
        procs.append(scripted)
        model = tmp_path_factory.getbasetemp() / "tiny-nano-shared"  # shared with the other tiny-model tests
        if not (model / "config.json").exists():
            from vlmr.tiny_model import build_tiny_model

            build_tiny_model(model, size="nano")
        # temperature 1: the random-weight model writes visible (random) text instead of greedy newlines
        tiny, tiny_url = _start(["--model", str(model), "--max-new-tokens", "24", "--max-turns", "2",
                                 "--temperature", "1.0"], logs / "tiny.log")
        procs.append(tiny)
        _wait(scripted, scripted_url, logs / "scripted.log")
        _wait(tiny, tiny_url, logs / "tiny.log")
        yield {"tiny": tiny_url, "scripted": scripted_url}
    finally:
        _stop(procs)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = Path(os.environ.get("VLMR_DEMO_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    yield page
    page.close()


def _open(page, url: str, upload: Path | None = None):
    page.goto(url)
    page.wait_for_selector("#ask", timeout=30_000)
    if upload is not None:
        page.set_input_files("#upload input[type=file]", str(upload))


def _ask(page, question: str, expected_status: str, timeout: int = ANSWER_TIMEOUT_MS) -> str:
    from playwright.sync_api import expect

    page.fill("#question textarea", question)
    page.click("#ask")
    expect(page.locator("#status")).to_contain_text(expected_status, timeout=timeout)
    return page.inner_text("#status")


def _overlay_size(page) -> tuple[int, int]:
    """Natural size of the answer image once it has loaded in the browser."""
    img = page.locator("#overlay img")
    img.wait_for(timeout=10_000)
    page.wait_for_function("() => document.querySelector('#overlay img').naturalWidth > 0", timeout=10_000)
    return tuple(img.evaluate("im => [im.naturalWidth, im.naturalHeight]"))


class TestBadInput:
    """Each bad input gets a message on the page; the next good question is still answered."""

    def test_non_image_file(self, servers, page, tmp_path):
        notes = tmp_path / "notes.txt"
        notes.write_text("not a picture")
        _open(page, servers["tiny"], notes)
        from playwright.sync_api import expect

        expect(page.locator("#status")).to_contain_text("Cannot use this upload: Cannot read notes.txt as an image",
                                                        timeout=15_000)
        status = _ask(page, "Where is the cat?", "Cannot answer")
        assert "upload a PNG/JPEG/WebP image, an MP4/WebM/AVI/MOV video, or a DICOM" in status

    def test_fifty_megapixel_image(self, servers, page, tmp_path):
        huge = tmp_path / "huge.png"
        Image.new("L", (7100, 7100), 90).save(huge, compress_level=1)  # 50.4 MP in a 0.2 MB file
        _open(page, servers["tiny"], huge)
        status = _ask(page, "Where is the cat?", "Cannot answer")
        assert "huge.png is 7100x7100 = 50.4 megapixels; the demo accepts images up to 36 megapixels" in status

    def test_empty_question(self, servers, page, scene):
        _open(page, servers["tiny"], scene[0])
        page.wait_for_selector("#preview img", timeout=15_000)
        status = _ask(page, "   ", "Cannot answer")
        assert "The question is empty" in status

    def test_corrupted_video(self, servers, page, tmp_path, shots):
        video = tmp_path / "broken.mp4"
        video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(4096))
        _open(page, servers["tiny"], video)
        status = _ask(page, "When does the door open?", "Cannot answer")
        assert "Cannot decode the video broken.mp4" in status
        page.screenshot(path=str(shots / "demo_bad_video.png"), full_page=True)

    def test_no_other_paths_are_served(self, servers, page):
        for path in ("/gradio_api/file=/etc/passwd", f"/gradio_api/file={Path.cwd() / 'pyproject.toml'}"):
            assert page.request.get(servers["tiny"] + path).status == 403, path


def test_grounding_question_on_the_tiny_model(servers, page, scene, shots):
    _open(page, servers["tiny"], scene[0])
    page.wait_for_selector("#preview img", timeout=15_000)
    status = _ask(page, "Where is the red circle?", "Done in")
    assert "turn(s)" in status and "tokens generated" in status
    assert page.input_value("#answer textarea").strip()  # random weights: some text, or the "no answer" note
    assert _overlay_size(page) == Image.open(scene[0]).size
    page.screenshot(path=str(shots / "demo_tiny.png"), full_page=True)


def test_example_video_is_answered_on_a_timeline(servers, page):
    _open(page, servers["tiny"])
    page.get_by_text("shapes_video.mp4").click()
    from playwright.sync_api import expect

    expect(page.locator("#status")).to_contain_text("Loaded video shapes_video.mp4", timeout=15_000)
    assert page.input_value("#question textarea") == "When is the red star on screen?"
    assert page.locator("#task input:checked").get_attribute("value") == "temporal_grounding"
    checked = page.locator("#tools label:has(input:checked)").all_inner_texts()
    assert sorted(t.strip() for t in checked) == ["select_frames", "zoom_in_frame"]
    page.click("#ask")
    expect(page.locator("#status")).to_contain_text("Done in", timeout=ANSWER_TIMEOUT_MS)
    width, height = _overlay_size(page)
    assert width > 4 * height  # the frame strip above its timeline


def test_tool_call_and_box_on_a_scripted_server(servers, page, scene, shots):
    path, box, _ = scene
    _open(page, servers["scripted"], path)
    page.wait_for_selector("#preview img", timeout=15_000)
    status = _ask(page, "Where is the red circle?", "Done in")
    assert "2 turn(s) · 1 tool call(s)" in status
    answer = page.input_value("#answer textarea")
    assert f"box 1: [{', '.join(str(v) for v in box)}] px" in answer and '"label": "red circle"' in answer
    transcript = page.input_value("#transcript textarea")
    assert "let me zoom in" in transcript and "→ zoom_in(" in transcript and "The zoomed view" in transcript
    page.wait_for_selector("#gallery img", timeout=10_000)
    assert page.locator("#gallery img").count() >= 1
    assert _overlay_size(page) == Image.open(path).size
    page.screenshot(path=str(shots / "demo_scripted.png"), full_page=True)
    # the box outline is in the image the browser received: its corner (background, off the circle) is box-red
    src = page.locator("#overlay img").get_attribute("src")
    pixels = np.asarray(Image.open(io.BytesIO(page.request.get(src).body())).convert("RGB")).astype(int)
    x1, y1 = box[:2]
    assert np.abs(pixels[y1 + 1, x1 + 1] - BOX_COLORS[0]).max() < 30
    assert np.abs(pixels[y1 + 6, x1 + 6] - BOX_COLORS[0]).max() > 60  # inside the box, off outline and circle
