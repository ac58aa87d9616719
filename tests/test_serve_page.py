"""The chat page at ``/`` in a real browser (Debian's chromium, driven by Selenium): a follow-up turn finds the
passages the API finds for the same conversation, with the query's top terms highlighted; reset clears it.

Set DISCO_SERVE_SCREENSHOT=docs/serve-chat.png to refresh the README's screenshot.
"""
from __future__ import annotations

import json
import os
import shutil

import pytest

from tests.serving import call, running_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def server(sample_index, lexical_splade):
    with running_server(sample_index / "index", lexical_splade) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):  # .ci/run installs both; elsewhere say what is missing
        pytest.fail("the page test needs Debian's chromium and chromium-driver: "
                    "apt-get install -y chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1100,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    yield driver
    driver.quit()


def first_conversation() -> list[str]:
    """The first two utterances of the sample world's first conversation (a question and its follow-up)."""
    from disco_pyserini.sample import CONVERSATIONS

    turns = json.loads(CONVERSATIONS.read_text(encoding="utf-8").splitlines()[0])["turns"]
    return [turns[0]["utterance"], turns[1]["utterance"]]


def test_page_follow_up_shows_the_apis_passages_highlighted_and_resets(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    first, follow_up = first_conversation()
    wait = WebDriverWait(browser, 30)
    browser.get(server.url + "/")
    wait.until(lambda driver: "passages in" in driver.find_element(By.ID, "info").text)
    for count, utterance in enumerate((first, follow_up), 1):
        box = browser.find_element(By.ID, "utterance")
        box.send_keys(utterance)
        browser.find_element(By.ID, "send").click()
        wait.until(lambda driver: len(driver.find_elements(By.CSS_SELECTOR, "#turns .turn")) == count)
    turn = browser.find_elements(By.CSS_SELECTOR, "#turns .turn")[-1]
    shown = [item.get_attribute("data-docid") for item in turn.find_elements(By.CSS_SELECTOR, "li.passage")]
    # the page, as the terminal chat, keeps each turn's top passage as its answer in the history
    answer = call(server.url, "/search", {"conversation": [{"utterance": first}], "hits": 1})[1]["hits"][0]["text"]
    conversation = [{"utterance": first, "response": answer}, {"utterance": follow_up}]
    status, api, _ = call(server.url, "/search", {"conversation": conversation, "hits": 5})
    assert status == 200 and shown == [hit["docid"] for hit in api["hits"]] and shown
    chips = [chip.text.split()[0] for chip in turn.find_elements(By.CSS_SELECTOR, ".terms .term")]
    assert chips == [term["term"] for term in api["query"]["terms"]]
    marked = {mark.text.lower() for mark in turn.find_elements(By.CSS_SELECTOR, "li.passage mark")}
    assert marked and any(term["term"] in word for term in api["query"]["terms"] for word in marked)
    browser.save_screenshot(str(tmp_path / "chat.png"))
    if os.environ.get("DISCO_SERVE_SCREENSHOT"):
        shutil.copyfile(tmp_path / "chat.png", os.environ["DISCO_SERVE_SCREENSHOT"])
    assert (tmp_path / "chat.png").stat().st_size > 10_000
    browser.find_element(By.ID, "reset").click()
    wait.until(ready.visibility_of_element_located((By.ID, "empty")))
    assert browser.find_elements(By.CSS_SELECTOR, "#turns .turn") == []
    # after the reset the follow-up is read alone: no history in the formulated query
    browser.find_element(By.ID, "utterance").send_keys(follow_up)
    browser.find_element(By.ID, "send").click()
    wait.until(lambda driver: len(driver.find_elements(By.CSS_SELECTOR, "#turns .turn")) == 1)
    alone = call(server.url, "/search", {"conversation": [{"utterance": follow_up}], "hits": 5})[1]
    turn = browser.find_element(By.CSS_SELECTOR, "#turns .turn")
    assert [item.get_attribute("data-docid") for item in turn.find_elements(By.CSS_SELECTOR, "li.passage")] == \
        [hit["docid"] for hit in alone["hits"]]


def test_page_manual_policy_sends_the_rewrite(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    first, follow_up = first_conversation()
    browser.get(server.url + "/")
    Select(browser.find_element(By.ID, "policy")).select_by_value("manual")
    rewrite = browser.find_element(By.ID, "rewrite")
    assert rewrite.is_displayed()
    rewrite.send_keys(first)
    browser.find_element(By.ID, "utterance").send_keys(follow_up)
    browser.find_element(By.ID, "send").click()
    WebDriverWait(browser, 30).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, "#turns .turn"))
    turn = browser.find_element(By.CSS_SELECTOR, "#turns .turn")
    api = call(server.url, "/search", {"conversation": [{"utterance": follow_up}], "hits": 5, "policy": "manual",
                                       "rewrites": {"manual": first}})[1]
    assert "[manual]" in turn.text
    assert [item.get_attribute("data-docid") for item in turn.find_elements(By.CSS_SELECTOR, "li.passage")] == \
        [hit["docid"] for hit in api["hits"]]
