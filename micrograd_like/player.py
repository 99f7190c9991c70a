"""The kernel-free HTML player: frames with captions, a slider, keys, play and a ``#name=N`` address."""

from __future__ import annotations

import hashlib
import html
import itertools
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["GIF_HINT", "caption_image", "check_link", "gif_modules", "html_or_gif", "player_html", "player_id",
           "write_gif"]

GIF_HINT = "writing a GIF needs Pillow and cairosvg: pip install 'micrograd_like[gif]'"
_LINK = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_renders = itertools.count()  # numbers each rendering, so two copies on one page get distinct ids


def check_link(link: str | None, who: str) -> None:
    """Refuse an address name that would not survive in ``#name=N`` (None: the player keeps no address)."""
    if link is not None and (not isinstance(link, str) or not _LINK.match(link)):
        raise ValueError(f"{who}: link must be a word like 'step' or 'neuron' (letters, digits, _ or -), "
                         f"got {link!r}")


def player_id(prefix: str, captions: Sequence[str]) -> str:
    """A page-unique id for one rendering: ``prefix``, a digest of the captions, and a counter."""
    digest = hashlib.sha1("".join(captions).encode()).hexdigest()[:8]
    return f"{prefix}-{digest}-{next(_renders)}"


def player_html(
    pid: str,
    captions: Sequence[str],
    bodies: Sequence[str],
    *,
    kind: str,
    word: str = "step",
    link: str | None = None,
    shared: str = "",
    frame_attrs: Sequence[Mapping[str, str]] | None = None,
    fallback: Sequence[int] | None = None,
    play_ms: int | None = None,
    css: str = "",
    standalone: bool = False,
    title: str = "",
    line_titles: Sequence[Sequence[str]] | None = None,
) -> str:
    """One player as an HTML fragment (or a whole page): frames, controls, style and a small script.

    Frame ``i`` is a ``<figure class="mgl-frame" data-WORD="i">`` holding its caption (one
    ``<div>`` per line) and ``bodies[i]`` (HTML, usually an inline SVG). Without JavaScript
    the frames listed in ``fallback`` (all when None) stand one under another with their
    captions; the script shows one frame at a time and adds the controls: previous/next,
    a slider, the arrow keys, and a play/pause button when ``play_ms`` (ms per frame) is
    given. With ``link`` the address follows the frame (``#link=N``) and a page opened at
    ``#link=N`` starts there; an out-of-range or malformed N is corrected in the address to
    the frame shown. On a page with several players, the first with a given link owns it.
    ``shared`` is HTML placed once before the frames (hidden SVG definitions they ``<use>``);
    ids in it must start with ``pid``. ``css`` is added to the player's style (rules may use
    ``#ID``, replaced by the player's id). ``line_titles[i][j]``, where given and not empty,
    is shown on hover over line ``j`` of caption ``i`` (the flipbook's full parameter paths).
    """
    n = len(captions)
    if len(bodies) != n:
        raise ValueError(f"player_html: {n} captions but {len(bodies)} frame bodies")
    shown = set(range(n)) if fallback is None else set(fallback)
    figures = []
    for i, (caption, body) in enumerate(zip(captions, bodies)):
        hover = list(line_titles[i]) if line_titles else []
        lines = "".join(_caption_line(line, hover[j] if j < len(hover) else "")
                        for j, line in enumerate(caption.split("\n")))
        extra = "".join(f' {k}="{html.escape(v)}"' for k, v in (frame_attrs[i] if frame_attrs else {}).items())
        hidden = "" if i in shown else " hidden"
        figures.append(f'<figure class="mgl-frame" data-{word}="{i}"{extra}{hidden}>'
                       f'<figcaption>{lines}</figcaption>{body}</figure>')
    play = ('<button type="button" class="mgl-play" aria-label="play">&#9654; play</button>'
            if play_ms is not None else "")
    controls = (
        f'<div class="mgl-controls" hidden>{play}'
        f'<button type="button" class="mgl-prev" aria-label="previous {word}">&#9664; previous</button>'
        f'<input type="range" class="mgl-slider" min="0" max="{max(n - 1, 0)}" value="0" step="1" '
        f'aria-label="{word}">'
        f'<button type="button" class="mgl-next" aria-label="next {word}">next &#9654;</button>'
        f'<span class="mgl-count">{word} 0 of {n - 1}</span></div>'
    )
    style = (
        f"<style>#{pid}{{font-family:Helvetica,Arial,sans-serif;max-width:100%;outline:none}}"
        f"#{pid} [hidden]{{display:none!important}}"
        f"#{pid} .mgl-controls{{display:flex;gap:.5em;align-items:center;margin:.3em 0}}"
        f"#{pid} .mgl-slider{{flex:1;max-width:24em}}"
        f"#{pid} .mgl-play{{min-width:5.5em}}"
        f"#{pid} figure{{margin:.4em 0 1.2em 0}}"
        f"#{pid} figcaption{{font-family:Menlo,Consolas,monospace;font-size:13px;line-height:1.45;"
        "white-space:pre-wrap;margin-bottom:.3em}"
        f"#{pid} figcaption div:first-child{{font-weight:bold}}"
        f"#{pid}:focus-within{{box-shadow:0 0 0 2px #bee3f8}}"
        f"{css.replace('#ID', '#' + pid)}</style>"
    )
    attrs = (f'class="mgl-player mgl-{kind}" id="{pid}" data-player="{pid}" data-link="{link or ""}" '
             f'data-word="{word}" data-standalone="{int(standalone)}"'
             + (f' data-play-ms="{int(play_ms)}"' if play_ms is not None else "") + ' tabindex="0"')
    body = (f"<div {attrs}>{style}{shared}{controls}{''.join(figures)}</div>"
            f"<script>{_SCRIPT.replace('__ID__', pid)}</script>")
    if not standalone:
        return body
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title></head><body>\n{body}\n</body></html>\n")


def _caption_line(text: str, hover: str) -> str:
    """One line of a caption, with ``hover`` (when not empty) as its tooltip."""
    title = f' title="{html.escape(hover)}"' if hover else ""
    return f"<div{title}>{html.escape(text)}</div>"


def html_or_gif(path: str | os.PathLike[str], who: str, gif_options: Mapping[str, Any]) -> tuple[str, str]:
    """``(path, ext)`` for a save: ``.html``/``.htm`` (no options allowed) or ``.gif``; anything else is refused."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext != ".gif" and gif_options:
        raise TypeError(f"{who}: {sorted(gif_options)} are options for a .gif, not for {ext or path!r}")
    if ext not in (".html", ".htm", ".gif"):
        raise ValueError(f"{who}: cannot tell the format of {path!r}; use .html or .gif")
    return path, ext


# ---- the GIF

def gif_modules() -> tuple[Any, Any]:
    """``(cairosvg, PIL.Image)``, or ImportError naming the ``gif`` extra."""
    try:
        import cairosvg
        from PIL import Image
    except (ImportError, OSError) as exc:  # cairosvg raises OSError when the cairo library is missing
        raise ImportError(f"{GIF_HINT} ({exc})") from None
    return cairosvg, Image


def caption_image(caption: str, pictures: Any | Sequence[Any], max_width: int) -> Any:
    """A PIL image: ``caption`` (first line highlighted) above ``pictures`` (PIL images, stacked 8 px apart)."""
    _, Image = gif_modules()
    from PIL import ImageDraw, ImageFont

    pictures = list(pictures) if isinstance(pictures, (list, tuple)) else [pictures]
    try:
        font = ImageFont.load_default(size=14)
    except TypeError:  # Pillow older than 10.1 has one fixed bitmap font
        font = ImageFont.load_default()
    lines = caption.split("\n")
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    line_h = 19
    text_w = max(int(probe.textlength(line, font=font)) for line in lines) + 24
    width = max(max(p.width for p in pictures), min(text_w, max_width))
    top = line_h * len(lines) + 16
    image = Image.new("RGB", (width, top + sum(p.height + 8 for p in pictures) - 8), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((12, 10 + i * line_h), line, fill="#1a202c" if i else "#c05621", font=font)
    for p in pictures:
        image.paste(p.convert("RGB"), (0, top))
        top += p.height + 8
    return image


def write_gif(path: str | os.PathLike[str], images: Sequence[Any], seconds: float) -> str:
    """Write the PIL ``images`` as a looping GIF, ``seconds`` each (the first and last twice as long)."""
    if not images:
        raise ValueError("write_gif: there are no frames")
    _, Image = gif_modules()
    width = max(im.width for im in images)
    height = max(im.height for im in images)
    padded = []
    for im in images:
        canvas = Image.new("RGB", (width, height), "white")
        canvas.paste(im, (0, 0))
        # an adaptive palette per frame keeps each frame's few colours exact
        padded.append(canvas.convert("P", palette=Image.Palette.ADAPTIVE, colors=64))
    ms = int(seconds * 1000)
    durations = [ms] * len(padded)
    durations[0] = durations[-1] = 2 * ms
    padded[0].save(os.fspath(path), save_all=True, append_images=padded[1:], duration=durations, loop=0,
                   optimize=True, disposal=1)
    return os.fspath(path)


_SCRIPT = r"""(function () {
  var id = "__ID__", box = null, boxes = document.querySelectorAll('div.mgl-player[data-player="' + id + '"]');
  for (var b = 0; b < boxes.length; b++) { if (!boxes[b].mglShow) { box = boxes[b]; break; } }
  if (!box) return;
  var frames = box.querySelectorAll(".mgl-frame"), n = frames.length, current = 0, timer = null;
  var slider = box.querySelector(".mgl-slider"), count = box.querySelector(".mgl-count");
  var prev = box.querySelector(".mgl-prev"), next = box.querySelector(".mgl-next");
  var play = box.querySelector(".mgl-play"), word = box.getAttribute("data-word") || "step";
  var ms = parseInt(box.getAttribute("data-play-ms") || "500", 10);
  // the first player on the page with a given link name owns that part of the address
  var key = box.getAttribute("data-link"), owners = window.mglPlayerLinks = window.mglPlayerLinks || {};
  if (key && owners[key] && owners[key] !== box && document.contains(owners[key])) key = "";
  if (key) owners[key] = box;
  function address() {
    if (!key) return;
    var p = new URLSearchParams(location.hash.slice(1));
    p.set(key, current);
    try { history.replaceState(history.state, "", "#" + p.toString()); } catch (e) { /* sandboxed frame */ }
  }
  function show(i, follow) {
    current = Math.max(0, Math.min(n - 1, i));
    for (var k = 0; k < n; k++) frames[k].hidden = k !== current;
    slider.value = current;
    count.textContent = word + " " + current + " of " + (n - 1);
    prev.disabled = current === 0;
    next.disabled = current === n - 1;
    box.setAttribute("data-" + word, current);
    box.setAttribute("data-frame", current);
    if (follow) address();
  }
  function fromHash() {
    // the frame the address asks for; a malformed or out-of-range one is corrected to the frame shown
    if (!key) return;
    var raw = new URLSearchParams(location.hash.slice(1)).get(key);
    if (raw === null) return;
    show(/^-?\d+$/.test(raw) ? parseInt(raw, 10) : current, false);
    if (raw !== String(current)) address();
  }
  function pause() {
    if (timer === null) return;
    clearInterval(timer);
    timer = null;
    play.innerHTML = "&#9654; play";
    play.setAttribute("aria-label", "play");
    box.removeAttribute("data-playing");
  }
  function start() {
    if (current === n - 1) show(0, true);
    play.innerHTML = "&#10074;&#10074; pause";
    play.setAttribute("aria-label", "pause");
    box.setAttribute("data-playing", "1");
    timer = setInterval(function () { show(current + 1, true); if (current === n - 1) pause(); }, ms);
  }
  box.mglShow = function (i) { pause(); show(i, true); };
  box.mglStep = function (d) { pause(); show(current + d, true); };
  box.mglToggle = function () { if (!play) return; if (timer === null) start(); else pause(); };
  prev.addEventListener("click", function () { box.mglStep(-1); });
  next.addEventListener("click", function () { box.mglStep(1); });
  if (play) play.addEventListener("click", box.mglToggle);
  slider.addEventListener("input", function () { box.mglShow(parseInt(slider.value, 10)); });
  function keyStep(e) {
    if (e.key === "ArrowRight" || e.key === "ArrowDown") return 1;
    if (e.key === "ArrowLeft" || e.key === "ArrowUp") return -1;
    return 0;
  }
  box.addEventListener("keydown", function (e) {
    var d = keyStep(e);
    if (!d || e.target === slider || e.altKey || e.ctrlKey || e.metaKey) return;
    e.preventDefault();
    box.mglStep(d);
  });
  function activate() { window.mglPlayerActive = box; }
  box.addEventListener("pointerdown", activate);
  box.addEventListener("focusin", activate);
  if (!window.mglPlayerKeys) {
    // keys pressed with nothing focused go to the player clicked last (on its own page: the first one)
    window.mglPlayerKeys = true;
    document.addEventListener("keydown", function (e) {
      var a = document.activeElement, d = keyStep(e);
      if (!d || e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
      if (a && a !== document.body && a !== document.documentElement) return;
      var p = window.mglPlayerActive;
      if (!p || !document.contains(p)) p = document.querySelector('div.mgl-player[data-standalone="1"]');
      if (!p || !p.mglStep) return;
      e.preventDefault();
      p.mglStep(d);
    });
  }
  window.addEventListener("hashchange", function () { pause(); fromHash(); });
  box.querySelector(".mgl-controls").hidden = false;
  show(0, false);
  fromHash();
})();"""
