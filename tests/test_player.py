"""The shared player: frames, captions, controls, the no-JS fallback and the #name=N address, in Chromium."""

import re

import pytest

from micrograd_like import player
from micrograd_like.player import player_html, player_id


def book(n=5, word="step", link="step", **options):
    """A player of ``n`` frames, frame i drawing the text "picture i"."""
    captions = [f"{word} {i}: caption {i}\nsecond line of {i}" for i in range(n)]
    bodies = [f'<svg width="200" height="40"><text x="5" y="25">picture {i}</text></svg>' for i in range(n)]
    pid = player_id("mgltest", captions)
    return player_html(pid, captions, bodies, kind="test", word=word, link=link, **options), captions


def test_frames_carry_their_captions_and_index_and_the_controls_wait_for_the_script():
    page, captions = book(3, frame_attrs=[{"data-node": f"v{i}"} for i in range(3)])
    figures = re.findall(r'<figure class="mgl-frame" data-step="(\d)" data-node="(v\d)">(.*?)</figure>', page)
    assert [(i, node) for i, node, _ in figures] == [("0", "v0"), ("1", "v1"), ("2", "v2")]
    assert "<div>step 1: caption 1</div><div>second line of 1</div>" in figures[1][2]
    assert '<div class="mgl-controls" hidden>' in page and 'class="mgl-play"' not in page
    assert page.count("<script>") == 1 and not page.startswith("<!DOCTYPE")


def test_fallback_hides_the_frames_not_listed_and_play_adds_a_button():
    page, _ = book(6, word="epoch", link="epoch", fallback=[0, 5], play_ms=200)
    hidden = re.findall(r'<figure class="mgl-frame" data-epoch="(\d)"( hidden)?>', page)
    assert [(i, bool(h)) for i, h in hidden] == [("0", False), ("1", True), ("2", True), ("3", True), ("4", True),
                                                 ("5", False)]
    assert 'class="mgl-play"' in page and 'data-play-ms="200"' in page and 'aria-label="next epoch"' in page


def test_standalone_page_and_distinct_ids():
    page, _ = book(2, standalone=True, title="a <b> title")
    assert page.startswith("<!DOCTYPE html>") and "<title>a &lt;b&gt; title</title>" in page
    a, b = book(2)[0], book(2)[0]
    assert re.search(r'id="([^"]+)"', a).group(1) != re.search(r'id="([^"]+)"', b).group(1)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="2 captions but 1 frame bodies"):
        player_html("p", ["a", "b"], ["x"], kind="test")
    with pytest.raises(ValueError, match="replay: link must be a word"):
        player.check_link("epoch 1", "replay")
    with pytest.raises(TypeError, match=r"\['seconds'\] are options for a \.gif"):
        player.html_or_gif("a.html", "save", {"seconds": 1})
    with pytest.raises(ValueError, match=r"use \.html or \.gif"):
        player.html_or_gif("a.png", "save", {})
    assert player.html_or_gif("A.GIF", "save", {"seconds": 1}) == ("A.GIF", ".gif")


# ---- in a real browser


def open_page(browser, tmp_path, body, fragment="", name="page.html"):
    path = tmp_path / name
    path.write_text(f"<!DOCTYPE html><html><body><p>notes</p>{body}</body></html>", encoding="utf-8")
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"file://{path}{fragment}")
    return page, errors


def shown(page, scope=".mgl-player"):
    return page.locator(f"{scope} .mgl-frame:not([hidden]) figcaption div >> nth=0").inner_text()


@pytest.mark.browser
@pytest.mark.parametrize("fragment, expected, address", [
    ("#step=3", 3, "#step=3"),
    ("#step=9", 4, "#step=4"),  # past the end: the last frame, and the address says so
    ("#step=-2", 0, "#step=0"),
    ("#step=two", 0, "#step=0"),  # malformed
    ("#step=", 0, "#step=0"),
    ("#step=03", 3, "#step=3"),
    ("#other=1&step=77", 4, "#other=1&step=4"),  # other parts of the address are kept
    ("", 0, ""),  # no address: frame 0, and the address is left alone
])
def test_browser_deep_link_opens_the_frame_and_corrects_the_address(browser, tmp_path, fragment, expected, address):
    body, captions = book(5)
    page, errors = open_page(browser, tmp_path, body, fragment)
    assert shown(page) == captions[expected].split("\n")[0]
    assert page.locator(".mgl-player").get_attribute("data-step") == str(expected)
    assert page.evaluate("location.hash") == address
    assert page.locator(".mgl-frame:visible").count() == 1
    assert errors == []
    page.close()


@pytest.mark.browser
def test_browser_hash_change_follows_and_corrects(browser, tmp_path):
    body, captions = book(5)
    page, errors = open_page(browser, tmp_path, body, "#step=1")
    page.evaluate("location.hash = 'step=2'")
    page.wait_for_function("document.querySelector('.mgl-player').getAttribute('data-step') === '2'")
    page.evaluate("location.hash = 'step=x'")  # malformed: the frame stays, the address is put right
    page.wait_for_function("location.hash === '#step=2'")
    assert shown(page) == captions[2].split("\n")[0]
    page.evaluate("location.hash = 'step=50'")
    page.wait_for_function("location.hash === '#step=4'")
    assert shown(page) == captions[4].split("\n")[0] and errors == []
    page.close()


@pytest.mark.browser
def test_browser_buttons_keys_and_slider_move_the_frame_and_the_address(browser, tmp_path):
    body, captions = book(5)
    page, errors = open_page(browser, tmp_path, body)
    assert page.locator(".mgl-prev").is_disabled() and page.locator(".mgl-count").inner_text() == "step 0 of 4"
    page.click(".mgl-next")
    page.keyboard.press("ArrowRight")  # the clicked player takes the keys
    assert shown(page) == captions[2].split("\n")[0] and page.evaluate("location.hash") == "#step=2"
    page.keyboard.press("ArrowUp")
    assert page.evaluate("location.hash") == "#step=1"
    page.locator(".mgl-slider").fill("4")
    assert shown(page) == captions[4].split("\n")[0] and page.locator(".mgl-next").is_disabled()
    assert page.locator(".mgl-count").inner_text() == "step 4 of 4" and page.evaluate("location.hash") == "#step=4"
    assert errors == []
    page.close()


@pytest.mark.browser
def test_browser_play_runs_to_the_end_and_pause_stops(browser, tmp_path):
    body, captions = book(4, word="epoch", link="epoch", play_ms=60)
    page, errors = open_page(browser, tmp_path, body)
    play = page.locator(".mgl-play")
    assert play.inner_text() == "▶ play"
    play.click()
    assert play.inner_text() == "❚❚ pause"
    page.wait_for_function("location.hash === '#epoch=3'")
    page.wait_for_function("!document.querySelector('.mgl-player').hasAttribute('data-playing')")
    assert play.inner_text() == "▶ play" and shown(page) == captions[3].split("\n")[0]
    play.click()  # at the end, play starts again from the first frame
    page.keyboard.press("ArrowLeft")  # a step by hand pauses
    step = page.locator(".mgl-player").get_attribute("data-epoch")
    page.wait_for_timeout(250)
    assert page.locator(".mgl-player").get_attribute("data-epoch") == step and play.inner_text() == "▶ play"
    assert errors == []
    page.close()


@pytest.mark.browser
def test_browser_players_with_their_own_links_share_a_page(browser, tmp_path):
    one, first = book(5, link="step")
    two, second = book(6, word="epoch", link="epoch", play_ms=100)
    three, _ = book(3, link="step")  # a second "step": the first player owns that name; this one keeps none
    page, errors = open_page(browser, tmp_path, one + "<p>between</p>" + two + three, "#step=2&epoch=9")
    a, b, c = (page.locator(f".mgl-player >> nth={i}") for i in range(3))
    assert a.get_attribute("data-step") == "2" and b.get_attribute("data-epoch") == "5"
    assert c.get_attribute("data-step") == "0"
    assert page.evaluate("location.hash") == "#step=2&epoch=5"
    b.locator(".mgl-prev").click()
    page.keyboard.press("ArrowLeft")
    assert b.get_attribute("data-epoch") == "3" and a.get_attribute("data-step") == "2"
    c.locator(".mgl-next").click()
    assert c.get_attribute("data-step") == "1" and page.evaluate("location.hash") == "#step=2&epoch=3"
    assert errors == []
    page.close()


@pytest.mark.browser
def test_browser_without_javascript_shows_the_fallback_frames_with_captions(browser, tmp_path):
    body, captions = book(6, fallback=[0, 2, 5], play_ms=100)
    path = tmp_path / "nojs.html"
    path.write_text(f"<!DOCTYPE html><html><body>{body}</body></html>", encoding="utf-8")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1000, "height": 700})
    page = context.new_page()
    page.goto(f"file://{path}#step=3")
    visible = page.locator(".mgl-frame:visible figcaption")
    assert [visible.nth(i).inner_text() for i in range(visible.count())] == [captions[i] for i in (0, 2, 5)]
    assert page.locator(".mgl-controls:visible").count() == 0
    context.close()


@pytest.mark.browser
@pytest.mark.graphviz
def test_browser_a_flipbook_corrects_an_out_of_range_step_in_the_address(browser, tmp_path):
    import micrograd_like as mg
    from micrograd_like.flipbook import flipbook

    x, w = mg.Value(2.0, "x"), mg.Value(-3.0, "w")
    out = (x * w).tanh()
    fb = flipbook(out)  # 3 frames: the seed and two steps
    path = fb.save(tmp_path / "steps.html")
    for fragment, shown_step in (("#step=5", 2), ("#step=abc", 0)):
        page = browser.new_page(viewport={"width": 1000, "height": 700})
        page.goto(f"file://{path}{fragment}")
        assert page.locator(".mgl-flipbook").get_attribute("data-step") == str(shown_step)
        assert page.evaluate("location.hash") == f"#step={shown_step}"
        assert shown(page) == fb.frames[shown_step].caption.split("\n")[0]
        page.close()
