#!/usr/bin/env python3
"""The web console of `sidestream serve`: starts serve on the embedded broker, checks that the
page and its files come from the binary (GET /, /console/*.js|css with their content types),
then drives the console in Debian's chromium with puppeteer-core (console_test.mjs): statements
through its editor, a push query whose rows arrive from CDRs produced with kcat, the queries
list, Stop, a pull query. Keeps a screenshot (its path is printed).
Exit 77 (skipped) when kcat, node, npm or /usr/bin/chromium is missing, or when npm cannot
install puppeteer-core.
Usage: console_test.py SIDESTREAM INSTALL_PUPPETEER_SH PUPPETEER_DIR SCREENSHOT_PNG"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

CHROMIUM = "/usr/bin/chromium"
START_DEADLINE_S = 20
BROWSER_TIMEOUT_S = 90


def fail(message, work):
    print("FAILED: " + message)
    for name in ("serve.out", "serve.err"):
        path = os.path.join(work, name)
        if os.path.exists(path):
            print(f"--- {name}")
            print("".join(open(path, errors="replace").readlines()[-20:]))
    sys.exit(1)


def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read().decode()


def check_assets(base, work):
    """The page and the files it names are served, with their types, and nothing else loads."""
    status, content_type, page = get(base + "/")
    if status != 200 or not content_type.startswith("text/html"):
        fail(f"GET / -> {status} {content_type}", work)
    files = re.findall(r'(?:src|href)="(/[^"]*)"', page)
    if sorted(files) != ["/console/console.css", "/console/console.js"]:
        fail(f"the page loads {files}", work)
    if re.search(r"https?://", page):
        fail("the page names another server", work)
    for path, want in (("/console/console.js", "text/javascript"),
                       ("/console/console.css", "text/css")):
        status, content_type, body = get(base + path)
        if status != 200 or not content_type.startswith(want) or not body:
            fail(f"GET {path} -> {status} {content_type}, {len(body)} bytes", work)
        print(f"ok GET {path}: {content_type}, {len(body)} bytes")
    try:
        get(base + "/console/missing.js")
        fail("GET /console/missing.js answered", work)
    except urllib.error.HTTPError as error:
        if error.code != 404:
            fail(f"GET /console/missing.js -> {error.code}", work)
    print("ok GET /: the console's page, from the binary")


def main():
    sidestream, install_npm, puppeteer_dir, screenshot = sys.argv[1:5]
    work = tempfile.mkdtemp()
    serve = None
    try:
        serve = subprocess.Popen([sidestream, "serve", "--port", "0"],
                                 stdout=open(os.path.join(work, "serve.out"), "w"),
                                 stderr=open(os.path.join(work, "serve.err"), "w"))
        deadline = time.monotonic() + START_DEADLINE_S
        base = bootstrap = None
        while base is None and time.monotonic() < deadline:
            if serve.poll() is not None:
                fail("serve exited at start", work)
            text = open(os.path.join(work, "serve.out")).read()
            found = re.search(r"listening on (http://[0-9.:]+)", text)
            if found:
                base = found.group(1)
                bootstrap = re.search(r"bootstrap.servers=(\S+)", text).group(1)
            else:
                time.sleep(0.1)
        if base is None:
            fail("serve printed no address", work)
        check_assets(base, work)

        for tool in ("kcat", "node", "npm"):
            if shutil.which(tool) is None:
                print(f"SKIPPED: {tool} is not installed (scripts/install-deps.sh)")
                return 77
        if not os.access(CHROMIUM, os.X_OK):
            print(f"SKIPPED: {CHROMIUM} is missing (Debian: apt-get install chromium)")
            return 77
        installed = subprocess.run(["bash", install_npm, puppeteer_dir, "puppeteer-core@25"])
        if installed.returncode != 0:
            print("SKIPPED: puppeteer-core could not be installed with npm")
            return 77
        try:
            browser = subprocess.run(
                ["node", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                      "console_test.mjs"),
                 base, bootstrap, os.path.abspath(screenshot), os.path.abspath(puppeteer_dir)],
                timeout=BROWSER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            fail(f"the browser test took over {BROWSER_TIMEOUT_S} s", work)
        if browser.returncode != 0:
            fail("the browser test failed", work)
        if serve.poll() is not None:
            fail("serve died", work)
        print("PASSED")
        return 0
    finally:
        if serve is not None:
            serve.terminate()
            try:
                serve.wait(timeout=20)
            except subprocess.TimeoutExpired:
                serve.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
