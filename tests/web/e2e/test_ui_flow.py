"""The web UI in a real browser against `semantik run`: from logging in to a shared collection.

One story, in the order a new user lives it, because each step needs the one before (an indexed
collection to search, a search result to preview, an account to share with). A screenshot of each
main page lands in test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.web.e2e.conftest import ADMIN, Stack

pytestmark = pytest.mark.timeout(300)

BOB = ("bob", "bobs-own-password-42")
COLLECTION = "Field notes"
# Each search mode has a document only it should put first: the semantic query shares no word with
# its answer, the keyword query is a rare word, the hybrid query mixes both.
DOCUMENTS = {
    "kitchen/bread.txt": (
        "Sourdough starts with a culture of wild yeast and lactobacilli. Feed the starter flour and water, "
        "let the dough ferment overnight, shape the loaf and bake it in a very hot oven until the crust "
        "crackles."
    ),
    "sea/lighthouse.md": (
        "# Lighthouses\n\n## The keeper's night\n\nThe lighthouse keeper climbed the tower at dusk, "
        "trimmed the wick and wound the clockwork that turned the lens. Ships far out saw the beam "
        "sweep every ten seconds.\n\n## Fog\n\nIn fog the keeper sounded the horn instead.\n"
    ),
    "earth/volcano.html": (
        "<html><head><title>Volcanoes</title></head><body><h1>Volcanoes</h1>"
        "<p>Molten rock called magma rises through the crust. When it erupts it flows as lava and "
        "throws out ash and pumice.</p><script>document.title = 'pwned'</script></body></html>"
    ),
    "garden/tomatoes.md": "# Tomatoes\n\nTomatoes need sun, steady watering and a stake to climb.\n",
    "garden/compost.txt": "Compost turns kitchen scraps and leaves into dark soil over a few months.\n",
    "sky/comets.txt": "Comets are balls of ice and dust; near the sun they grow a glowing tail.\n",
    "sky/eclipse.md": "# Eclipses\n\nWhen the moon passes between the earth and the sun, day turns dark.\n",
    "music/violin.txt": "A violin has four strings tuned in fifths and is played with a bow of horsehair.\n",
    # Two pages, the second holding a rare word: its hit opens the text at its page.
    "sea/instruments.pdf": [
        " ".join(f"Sailors kept the log line, the lead line and the chart on watch {n}." for n in range(24)),
        "The astrolabe measured how high the sun stood at noon; from it the navigator found the latitude.",
    ],
}


def pdf(pages: list[str]) -> bytes:
    from fpdf import FPDF

    document = FPDF()
    document.set_title("Instruments at sea")
    document.set_font("helvetica", size=12)
    for text in pages:
        document.add_page()
        document.multi_cell(0, 10, text)
    return bytes(document.output())


def write_documents(root: Path) -> Path:
    folder = root / "notes"
    for relative, content in DOCUMENTS.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, list):
            path.write_bytes(pdf(content))
        else:
            path.write_text(content)
    return folder


def shot(page: Any, folder: Path, name: str) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def log_in(page: Any, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/")
    page.wait_for_url(re.compile(r"/login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{url}/")


def search(page: Any, query: str, mode: str) -> Any:
    """Run a search from the page's form; the results list once it shows this query's results."""
    page.get_by_label("Search query").fill(query)
    page.locator("fieldset").filter(has_text="Semantic").get_by_text(mode, exact=True).click()
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(rf"mode={mode.lower()}"))
    results = page.get_by_role("list", name="Search results")
    results.wait_for()
    return results


def test_a_user_indexes_a_folder_watches_it_live_searches_previews_and_shares(
    stack: Stack, browser: Any, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    folder = write_documents(stack.documents)
    admin = browser.new_context(viewport={"width": 1280, "height": 900})
    page = admin.new_page()
    frames: list[dict[str, Any]] = []

    def follow(socket: Any) -> None:
        socket.on("framereceived", lambda payload: frames.append(json.loads(payload)))

    page.on("websocket", follow)

    # Logging in: an anonymous visit lands on the login page, which leads to the dashboard.
    page.goto(f"{stack.url}/")
    page.wait_for_url(re.compile(r"/login"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    shot(page, screenshots, "01-login")
    log_in(page, stack.url, *ADMIN)
    expect(page.get_by_role("status", name="Live updates")).to_have_text("Live")

    # A collection, with the chunk preview the form shows while it is filled in.
    page.get_by_role("link", name="Create your first collection").click()
    page.get_by_label("Name", exact=True).fill(COLLECTION)
    expect(page.get_by_label("Embedding model")).to_have_value("all-minilm-l6-v2")
    expect(page.get_by_text(re.compile(r"^\d+ chunks? from \d+ characters$"))).to_be_visible()
    shot(page, screenshots, "03-create-collection")
    page.get_by_role("button", name="Create collection").click()
    page.wait_for_url(re.compile(r"/collections/[0-9a-f-]{36}/sources$"))
    collection_id = page.url.split("/")[-2]
    expect(page.get_by_role("heading", name=COLLECTION)).to_be_visible()

    # Adding a folder starts an index the page follows live: the socket's events move it to the
    # end, with no reload (a reload would drop the marker set on this window).
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Folder on the server").fill(str(folder))
    page.get_by_role("button", name="Add folder and index").click()
    finished = page.get_by_text(f"Indexing of {COLLECTION} finished")
    expect(finished).to_be_visible(timeout=120_000)
    expect(page.get_by_text(f"{len(DOCUMENTS)} files processed", exact=False)).to_be_visible()
    expect(page.get_by_text(re.compile(rf"^{len(DOCUMENTS)} documents · \d+ chunks"))).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"
    events = [f["type"] for f in frames if f.get("data", {}).get("collection_id") == collection_id]
    assert "operation.started" in events and "operation.completed" in events, events
    assert events.index("operation.started") < events.index("operation.completed")
    assert any(f["type"] == "operation.progress" for f in frames), [f["type"] for f in frames]
    shot(page, screenshots, "04-collection-detail")
    page.get_by_role("link", name="Documents", exact=True).click()
    expect(page.get_by_text("lighthouse.md")).to_be_visible()

    # Search, in each mode, from the collection's own search link.
    page.get_by_role("link", name="Search this collection").click()
    page.wait_for_url(re.compile(r"/search"))
    for query, mode, expected in [
        ("baking a loaf at home", "Semantic", "kitchen/bread.txt"),
        ("lighthouse", "Keyword", "sea/lighthouse.md"),
        ("magma erupting from a mountain", "Hybrid", "earth/volcano.html"),
    ]:
        results = search(page, query, mode)
        first = results.get_by_role("listitem").first
        expect(first).to_contain_text(expected)
    # Keyword hits mark the query's terms in the passage.
    results = search(page, "keeper", "Keyword")
    first = results.get_by_role("listitem").first
    expect(first).to_contain_text("sea/lighthouse.md")
    expect(first.locator("mark").first).to_have_text(re.compile("keeper", re.IGNORECASE))
    page.get_by_label("Show scores").check()
    expect(first.get_by_role("definition").first).to_be_visible()
    shot(page, screenshots, "05-search-results")

    # The Markdown hit opens rendered (no "#" left, its script-free HTML in the page) at its chunk:
    # marked in the rendered headings and paragraph, scrolled to, focused, the query's terms marked inside.
    first.get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/documents/[0-9a-f-]{36}\?chunk=\d+"))
    rendered = page.get_by_role("region", name="Rendered document")
    expect(rendered.get_by_role("heading", level=2, name="The keeper's night")).to_be_visible()
    expect(rendered).not_to_contain_text("#")
    expect(page.get_by_role("group", name="View").get_by_role("button", name="Rendered")).to_have_attribute(
        "aria-pressed", "true"
    )
    passage = rendered.get_by_title("The passage you opened")
    expect(passage).to_be_visible()
    expect(passage).to_be_focused()
    marked = "mark[data-passage]"
    heading = rendered.get_by_role("heading", level=2, name="The keeper's night")
    expect(heading.locator(marked)).to_have_count(1)
    expect(rendered.locator(marked).filter(has_text="climbed the tower at dusk")).to_have_count(1)
    expect(rendered.locator(f"{marked} mark").first).to_have_text(re.compile("keeper", re.IGNORECASE))
    # The next section is the next chunk: not marked.
    expect(rendered.get_by_role("heading", name="Fog").locator("mark")).to_have_count(0)
    expect(rendered.get_by_text("In fog the keeper sounded the horn").locator(marked)).to_have_count(0)
    assert passage.bounding_box() is not None
    shot(page, screenshots, "06-preview")
    # The Text view is the exact extracted text the chunk's offsets point into.
    page.get_by_role("group", name="View").get_by_role("button", name="Text").click()
    passage = page.get_by_label("The passage you opened")
    expect(passage).to_contain_text("## The keeper's night")
    expect(passage).to_be_focused()
    expect(passage.locator("mark").first).to_have_text(re.compile("keeper", re.IGNORECASE))
    shot(page, screenshots, "06-preview-text")

    # An HTML hit renders the page without running its script.
    page.go_back()
    results = search(page, "magma erupting from a mountain", "Hybrid")
    results.get_by_role("listitem").first.get_by_role("link").first.click()
    rendered = page.get_by_role("region", name="Rendered document")
    expect(rendered.get_by_role("heading", level=1, name="Volcanoes")).to_be_visible()
    expect(rendered.locator(marked).filter(has_text="Molten rock called magma")).to_have_count(1)
    expect(rendered.get_by_title("The passage you opened")).to_be_focused()
    assert rendered.locator("script").count() == 0
    assert page.title() != "pwned" and page.evaluate("document.title") != "pwned"

    # A PDF hit opens its text marked by page, and "Open the PDF" opens the file at the chunk's page.
    page.go_back()
    results = search(page, "astrolabe", "Keyword")
    first = results.get_by_role("listitem").first
    expect(first).to_contain_text("sea/instruments.pdf")
    first.get_by_role("link").first.click()
    # The chunk may begin on the page before (chunks overlap): it is marked on each page it spans.
    expect(page.get_by_label("The passage you opened")).to_be_focused()
    expect(page.locator(marked).filter(has_text="The astrolabe measured")).to_have_count(1)
    expect(page.get_by_role("group", name="View")).to_have_count(0)
    expect(page.get_by_text("Page 2", exact=True)).to_be_visible()
    showing = page.get_by_text(re.compile(r"^Showing chunk \d+, page \d+"))
    expect(showing).to_be_visible()
    chunk_page = re.search(r"page (\d+)", showing.inner_text())
    assert chunk_page is not None
    with page.expect_popup() as popup:
        page.get_by_role("button", name="Open the PDF").click()
    opened = popup.value.url
    assert re.fullmatch(rf"blob:{re.escape(stack.url)}/[0-9a-f-]{{36}}#page={chunk_page[1]}", opened), opened
    popup.value.close()
    shot(page, screenshots, "06-preview-pdf")

    # Operations and API keys.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Operations").click()
    expect(page.get_by_text(COLLECTION).first).to_be_visible()
    shot(page, screenshots, "07-operations")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("e2e script")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_label("New API key")).to_have_value(re.compile(r"^smk_"))
    shot(page, screenshots, "08-api-keys")

    # Bob registers, the owner shares the collection with him, and he sees it once logged in.
    bob_context = browser.new_context(viewport={"width": 390, "height": 844})
    bob = bob_context.new_page()
    bob.goto(f"{stack.url}/register")
    bob.get_by_label("Username").fill(BOB[0])
    bob.get_by_label("Password", exact=True).fill(BOB[1])
    bob.get_by_label("Repeat the password").fill(BOB[1])
    bob.get_by_role("button", name="Create account").click()
    bob.wait_for_url(re.compile(r"/login\?registered=1"))

    page.goto(f"{stack.url}/collections/{collection_id}/sharing")
    page.get_by_label("Share with (username)").fill(BOB[0])
    page.get_by_role("button", name="Share", exact=True).click()
    expect(page.get_by_role("list", name="People with access")).to_contain_text(BOB[0])
    shot(page, screenshots, "09-sharing")

    page.get_by_role("link", name="Collections").first.click()
    expect(page.get_by_role("list", name="Collections")).to_contain_text(COLLECTION)
    shot(page, screenshots, "02-dashboard")

    bob.get_by_label("Password").fill(BOB[1])
    bob.get_by_role("button", name="Log in").click()
    bob.wait_for_url(f"{stack.url}/")
    card = bob.get_by_role("list", name="Collections").get_by_role("article").filter(has_text=COLLECTION)
    expect(card).to_be_visible()
    card.get_by_role("link", name=COLLECTION, exact=True).click()
    expect(bob.get_by_text("shared with you: viewer")).to_be_visible()
    shot(bob, screenshots, "10-shared-collection-phone")

    admin.close()
    bob_context.close()
