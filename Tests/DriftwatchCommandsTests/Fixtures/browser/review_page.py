"""Drives driftwatch's review page in headless Chromium, as a person would: reads the check, answers the
fix's questions (accepts the rename, maps each old tier to its new value, writes the split template and
watches its live preview), approves, and reads the result. Screenshots go to --screenshots.

Usage: python review_page.py --url http://127.0.0.1:PORT/ --screenshots DIR
       [--chromium PATH] [--chromedriver PATH]

Prints one JSON object on success; exits 1 with one line on stderr on failure.
"""

import argparse
import json
import os
import re
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import Select, WebDriverWait

MAPPING = {"premium": "gold", "standard": "silver", "basic": "bronze"}
TEMPLATE = "{street}, {city}, {state_code} {postal_code}"


class Failure(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise Failure(message)


def screenshot(driver, directory, name, shots):
    # The whole page: the window as tall as the document (measured at the usual size first).
    driver.set_window_size(1280, 800)
    height = driver.execute_script(
        "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)"
    )
    driver.set_window_size(1280, min(max(height + 40, 800), 6000))
    path = os.path.join(directory, name)
    driver.save_screenshot(path)
    shots.append(path)


def question(driver, kind):
    found = driver.find_elements(By.CSS_SELECTOR, f'article.question[data-kind="{kind}"]')
    expect(found, f"no {kind} question on the page")
    return found[0]


def submit(driver, button, timeout=60):
    """Clicks a form's button and waits until the next page has replaced this one."""
    button.click()

    def replaced(_):
        # Chromium reports an element of a page being replaced as stale, or as not in the document.
        try:
            button.is_enabled()
            return False
        except WebDriverException:
            return True

    WebDriverWait(driver, timeout).until(replaced)
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def page_error(driver):
    errors = driver.find_elements(By.ID, "error")
    return errors[0].text if errors else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--screenshots", required=True)
    parser.add_argument("--chromium", default=os.environ.get("DRIFTWATCH_CHROMIUM"))
    parser.add_argument("--chromedriver", default=os.environ.get("DRIFTWATCH_CHROMEDRIVER"))
    args = parser.parse_args()
    os.makedirs(args.screenshots, exist_ok=True)

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,1000", "--hide-scrollbars"):
        options.add_argument(flag)
    if args.chromium:
        options.binary_location = args.chromium
    service = Service(executable_path=args.chromedriver) if args.chromedriver else Service()
    driver = webdriver.Chrome(options=options, service=service)
    shots = []
    timings = {}
    try:
        started = time.monotonic()
        driver.get(args.url)
        timings["first_page_ms"] = round((time.monotonic() - started) * 1000)
        expect("driftwatch" in driver.title, f"unexpected title {driver.title!r}")
        verdict = driver.find_element(By.ID, "verdict").text
        expect("breaking" in verdict, f"the page does not show the breaking drift: {verdict!r}")
        expect(driver.find_elements(By.CSS_SELECTOR, "#radius svg g.node"), "no blast radius graph")
        expect(driver.find_elements(By.CSS_SELECTOR, "#fix details.diff pre"), "no drafted diff")
        open_before = len(driver.find_elements(By.CSS_SELECTOR, "article.question.open"))
        expect(open_before == 3, f"expected 3 open questions, found {open_before}")
        approve = driver.find_element(By.CSS_SELECTOR, "#approve button")
        expect(not approve.is_enabled(), "approve is enabled while questions are open")
        # What a person sees first (the README's picture), then the whole page.
        driver.set_window_size(1280, 1400)
        overview = os.path.join(args.screenshots, "00-overview.png")
        driver.save_screenshot(overview)
        shots.append(overview)
        screenshot(driver, args.screenshots, "01-review.png", shots)

        # 1. The rename below the threshold: accept it.
        submit(driver, question(driver, "confirm_rename").find_element(By.CSS_SELECTOR, 'button[value="true"]'))
        expect(page_error(driver) is None, f"accepting the rename failed: {page_error(driver)}")
        expect(question(driver, "confirm_rename").get_attribute("data-status") == "accepted",
               "the rename is not accepted after answering")

        # 2. The tiers: pick the new value for each old one.
        mapping = question(driver, "value_mapping")
        for row in mapping.find_elements(By.CSS_SELECTOR, "table.mapping tbody tr"):
            old = row.find_element(By.CSS_SELECTOR, "code").text
            expect(old in MAPPING, f"unexpected old value {old!r}")
            Select(row.find_element(By.TAG_NAME, "select")).select_by_visible_text(MAPPING[old])
        submit(driver, mapping.find_element(By.CSS_SELECTOR, 'button[value="mapping"]'))
        expect(page_error(driver) is None, f"the mapping failed: {page_error(driver)}")
        expect(question(driver, "value_mapping").get_attribute("data-status") == "accepted",
               "the mapping is not accepted after answering")

        # 3. The split: write the template; the preview follows as it is typed.
        split = question(driver, "split_template")
        field = split.find_element(By.CSS_SELECTOR, 'input[name="template"]')
        field.clear()
        field.send_keys(TEMPLATE)
        preview_id = "preview-" + field.get_attribute("data-preview")
        typed = time.monotonic()
        # Read in one script call: the preview is replaced as a whole while it is typed into.
        read_preview = (
            "return Array.from(document.querySelectorAll(arguments[0])).map(c => c.textContent)"
        )
        selector = f"#{preview_id} td.rebuilt"

        def rebuilt_all(d):
            cells = d.execute_script(read_preview, selector)
            # The whole template's rendering (not one of a half-typed template): "street, city, ST 12345".
            done = cells and all(re.fullmatch(r".+, .+, [A-Z]{2} \d{5}", cell) for cell in cells)
            return cells if done else None

        rebuilt = WebDriverWait(driver, 30, poll_frequency=0.05).until(rebuilt_all)
        timings["live_preview_ms"] = round((time.monotonic() - typed) * 1000)
        expect(rebuilt and all(value.count(", ") >= 2 for value in rebuilt),
               f"the preview does not rebuild addresses: {rebuilt}")
        screenshot(driver, args.screenshots, "02-template-preview.png", shots)
        # The graph and the questions being answered, as a person sees them on the screen.
        driver.set_window_size(1280, 1500)
        driver.execute_script("document.getElementById('radius').scrollIntoView()")
        answering = os.path.join(args.screenshots, "02b-answering.png")
        driver.save_screenshot(answering)
        shots.append(answering)
        split = question(driver, "split_template")
        submit(driver, split.find_element(By.CSS_SELECTOR, 'button[value="template"]'))
        expect(page_error(driver) is None, f"the template failed: {page_error(driver)}")

        open_after = len(driver.find_elements(By.CSS_SELECTOR, "article.question.open"))
        expect(open_after == 0, f"{open_after} questions still open after answering all")
        approve = driver.find_element(By.CSS_SELECTOR, "#approve button")
        expect(approve.is_enabled(), "approve is disabled with every question answered")
        screenshot(driver, args.screenshots, "03-answered.png", shots)

        # 4. Approve and write: the files are written and the project checked again.
        clicked = time.monotonic()
        submit(driver, approve)
        timings["approve_and_recheck_ms"] = round((time.monotonic() - clicked) * 1000)
        expect(page_error(driver) is None, f"approve failed: {page_error(driver)}")
        notice = driver.find_element(By.ID, "notice").text
        expect("wrote" in notice and "no breaking drift" in notice, f"unexpected notice {notice!r}")
        verdict = driver.find_element(By.ID, "verdict").text
        expect(verdict == "no breaking drift", f"the re-check is not clean: {verdict!r}")
        screenshot(driver, args.screenshots, "04-written.png", shots)

        submit(driver, driver.find_element(By.LINK_TEXT, "incidents"))
        expect(driver.find_elements(By.ID, "incidents"), "the incidents page did not open")
        screenshot(driver, args.screenshots, "05-incidents.png", shots)

        print(json.dumps({"ok": True, "notice": notice, "screenshots": shots, "timings": timings}))
        return 0
    except Failure as failure:
        try:
            screenshot(driver, args.screenshots, "failure.png", shots)
        except Exception:  # noqa: BLE001 - the failure is what matters
            pass
        print(f"browser test: {failure} (screenshots: {', '.join(shots)})", file=sys.stderr)
        return 1
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
