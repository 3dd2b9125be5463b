"""The review app as a person uses it, in headless Chromium driven by Selenium (called by test-review-browser.sh).

Usage: review-browser.py PORT CATALOG SCREENSHOT_FOLDER. Every step waits for what the page must show and fails
with what it saw instead; the catalog is checked with sqlite3 at the end.
"""
import json
import sqlite3
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

port, catalog, shots = sys.argv[1], sys.argv[2], sys.argv[3]
base = f"http://127.0.0.1:{port}/"

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
# --no-sandbox: Chromium's sandbox needs user namespaces, which containers and CI runners often lack.
for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000", "--disable-dev-shm-usage"):
    options.add_argument(argument)
browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(browser, 20)
saved = []


def shot(name):
    path = f"{shots}/{name}.png"
    browser.save_screenshot(path)
    saved.append(path)


def cards():
    return browser.find_elements(By.CSS_SELECTOR, "#grid .card")


def notice_contains(text):
    wait.until(lambda _: text in browser.find_element(By.ID, "notice").text,
               f"the notice never said {text!r}")
    return browser.find_element(By.ID, "notice").text


def press(*keys):
    ActionChains(browser).send_keys(*keys).perform()


def wait_for_grid(query):
    wait.until(lambda _: query in browser.current_url and cards() and browser.execute_script(
        "return document.querySelectorAll('#grid .card').length > 0"))


try:
    # Wait until the server answers (it reads the catalog's counts first).
    deadline = time.time() + 60
    while True:
        try:
            browser.get(base)
            wait.until(lambda _: cards())
            break
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.5)
    shot("1-grid")

    # Filter by a flag: the flag's count beside it is what the grid then shows.
    flag = browser.find_element(By.CSS_SELECTOR, 'a[data-filter="flag=grayscale"]')
    expected = int(flag.find_element(By.CSS_SELECTOR, ".count").text.replace(",", ""))
    flag.click()
    wait_for_grid("flag=grayscale")
    wait.until(lambda _: len(cards()) == expected, f"{len(cards())} cards for {expected} grayscale items")
    assert all("grayscale" in card.text for card in cards()), [card.text for card in cards()]
    shot("2-filtered-by-flag")

    # Open a cluster: a near duplicate's page shows its cluster side by side, the keeper marked with why.
    browser.get(base + "#/?reason=near_duplicate")
    wait_for_grid("reason=near_duplicate")
    cards()[0].click()
    press(Keys.ENTER)
    wait.until(lambda _: browser.find_elements(By.CSS_SELECTOR, "#item-view .member"))
    members = browser.find_elements(By.CSS_SELECTOR, "#item-view .member")
    keepers = browser.find_elements(By.CSS_SELECTOR, "#item-view .member.keeper")
    assert len(members) >= 2 and len(keepers) == 1 and "kept" in keepers[0].text, [m.text for m in members]
    shot("3-item-with-cluster")
    press(Keys.ESCAPE)
    wait.until(lambda _: not browser.find_element(By.ID, "grid-view").get_attribute("hidden"))

    # Relabel an item with the keyboard: the first kept circle becomes a square (key 3 of checkers, circles,
    # squares, stripes).
    browser.get(base + "#/?label=circles&status=ok")
    wait_for_grid("label=circles")
    relabelled = int(cards()[0].get_attribute("data-id"))
    labels = [b.get_attribute("data-label") for b in browser.find_elements(By.CSS_SELECTOR, "#label-buttons button")]
    assert labels[:4] == ["checkers", "circles", "squares", "stripes"], labels
    cards()[0].click()
    press("3")
    notice_contains("label: 1 item changed")

    # Exclude a selection of three (click, shift-click), with a reason typed in the box.
    browser.get(base + "#/?label=stripes&status=ok")
    wait_for_grid("label=stripes")
    excluded = [int(c.get_attribute("data-id")) for c in cards()[:3]]
    cards()[0].click()
    # (Each click draws the grid again: find the third card after it.)
    ActionChains(browser).key_down(Keys.SHIFT).click(cards()[2]).key_up(Keys.SHIFT).perform()
    wait.until(lambda _: "3 selected" in browser.find_element(By.ID, "selection").text)
    note = browser.find_element(By.ID, "note")
    note.send_keys("scanned from a book")
    note.send_keys(Keys.ESCAPE)
    press("x")
    notice_contains("exclude: 3 items changed")
    shot("4-after-excluding-three")

    # Exclude one more, then undo that one (u). (The grid is drawn again after the notice: wait for the new one.)
    def first_id():
        try:
            return int(cards()[0].get_attribute("data-id")) if cards() else None
        except Exception:  # the card was replaced while read
            return None
    wait.until(lambda _: first_id() is not None and first_id() not in excluded, "the grid still shows the excluded items")
    fourth = first_id()
    assert fourth not in excluded
    cards()[0].click()
    press("x")
    notice_contains("exclude: 1 item changed")
    press("u")
    notice_contains("undo exclude: 1 item changed")

    # Reload: the decisions are the catalog's, not the page's.
    browser.refresh()
    browser.get(base + "#/?decided=yes")
    wait_for_grid("decided=yes")
    wait.until(lambda _: len(cards()) == 4, f"{len(cards())} items decided by hand after the reload")
    shown = {int(c.get_attribute("data-id")): c.text for c in cards()}
    assert set(shown) == set(excluded) | {relabelled}, shown
    assert "squares" in shown[relabelled] and "labelled by hand" in shown[relabelled], shown[relabelled]
    assert all("excluded by hand" in shown[i] and "manual" in shown[i] for i in excluded), shown
    shot("5-decided-by-hand")
    browser.find_element(By.ID, "help-button").click()
    shot("6-keys")

    # The catalog's rows and journal, as sqlite3 reads them.
    db = sqlite3.connect(catalog)
    rows = {i: r for i, *r in db.execute("SELECT id, label, status, reason, message, manual_status, manual_label FROM items WHERE id IN (%s)"
                                         % ",".join(str(i) for i in excluded + [relabelled, fourth]))}
    assert rows[relabelled][0] == "squares" and rows[relabelled][5] == 1, rows[relabelled]
    for i in excluded:
        assert rows[i][1:5] == ["excluded", "manual", "scanned from a book", "excluded"], rows[i]
    assert rows[fourth][1] == "ok" and rows[fourth][4] is None, rows[fourth]
    journal = db.execute("SELECT batch, action, count(*), max(undone_at IS NOT NULL), max(note) FROM decisions GROUP BY batch ORDER BY batch").fetchall()
    assert [(a, n, u) for _, a, n, u, _ in journal] == [("label", 1, 0), ("exclude", 3, 0), ("exclude", 1, 1)], journal
    assert journal[1][4] == "scanned from a book", journal
    print(f"review-browser: filtered by a flag ({expected} items), opened a cluster of {len(members)}, relabelled item {relabelled} "
          f"with a key, excluded {excluded}, undid the exclusion of {fourth}; after a reload and in the catalog "
          f"(sqlite3: {len(journal)} journal batches) the state was kept. Screenshots: {', '.join(saved)}")
except Exception:
    shot("failure")
    print(f"review-browser: failed at {browser.current_url}; screenshots: {', '.join(saved)}", file=sys.stderr)
    print(browser.find_element(By.TAG_NAME, "body").text[:3000], file=sys.stderr)
    raise
finally:
    browser.quit()
