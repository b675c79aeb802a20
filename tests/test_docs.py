"""The documents' links: every relative link and image in the repository's
Markdown files names a file that exists, and every ``#anchor`` a heading of
the file it points into (GitHub's rule for heading anchors)."""

import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")


def markdown_files():
    try:
        out = subprocess.run(["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):   # not a git checkout
        out = [os.path.relpath(os.path.join(d, f), ROOT)
               for d, _, files in os.walk(ROOT) if ".venv" not in d and "/." not in d
               for f in files if f.endswith(".md")]
    return sorted(out)


def slug(heading):
    """GitHub's anchor of a heading: lower case, punctuation dropped (but
    hyphens and underscores), spaces to hyphens."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)        # a link keeps its text
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path):
    """Every heading anchor of a Markdown file, repeats numbered as GitHub numbers them."""
    seen, out = {}, set()
    for line in FENCE.sub("", open(path, encoding="utf-8").read()).splitlines():
        m = re.match(r"#{1,6}\s+(.*)", line)
        if m:
            s = slug(m.group(1))
            out.add(s if s not in seen else f"{s}-{seen[s]}")
            seen[s] = seen.get(s, 0) + 1
    return out


def links(path):
    text = INLINE_CODE.sub("", FENCE.sub("", open(path, encoding="utf-8").read()))
    return [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)]


def test_slug_follows_github():
    assert slug("How the ring's PacGAN3 trials lose a mode") == \
        "how-the-rings-pacgan3-trials-lose-a-mode"
    assert slug("The default run: `minigan train`") == "the-default-run-minigan-train"
    assert slug("Clusters against the plain DCGAN (revision 68cef2a)") == \
        "clusters-against-the-plain-dcgan-revision-68cef2a"


def test_links_are_found_and_checked(tmp_path):
    (tmp_path / "a.md").write_text("# Top\n## Top\n[x](b.md#there) ![y](#top-1)\n"
                                   "```\n[not](a link.md)\n```\n[web](https://e.org)\n")
    (tmp_path / "b.md").write_text("### There\n")
    assert links(tmp_path / "a.md") == ["b.md#there", "#top-1"]
    assert anchors(tmp_path / "a.md") == {"top", "top-1"}
    assert anchors(tmp_path / "b.md") == {"there"}


@pytest.mark.parametrize("doc", markdown_files())
def test_every_link_resolves(doc):
    broken = []
    for target in links(os.path.join(ROOT, doc)):
        path, _, anchor = target.partition("#")
        full = os.path.normpath(os.path.join(ROOT, os.path.dirname(doc), path)) if path \
            else os.path.join(ROOT, doc)
        if not os.path.exists(full):
            broken.append(f"{target}: no such file")
        elif anchor and full.endswith(".md") and anchor not in anchors(full):
            broken.append(f"{target}: no heading with that anchor")
    assert not broken, f"{doc}: " + "; ".join(broken)
