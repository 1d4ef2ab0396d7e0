"""Opens a `sageflow report` page in headless Chromium (Debian's, driven by Playwright)
and checks it as its readers would see it.

Usage: report_check.py REPORT.html EXPECT.json SCREENSHOT.png [CHROMIUM]
       report_check.py --screenshot-only SCREENSHOT.png   (a screenshot another browser
       took: checks only that it is not blank)

EXPECT.json, written by the Rust test from its own queries and the scan's findings:
  findings         [[rule, interface_id, srcaddr, dstaddr], ...] of the scan, any order
  rules_timed      number of rules with a finding that has a time
  traffic          {resource: number of kinds of remote}
  destinations     number of top external destinations
  coverage_enis    number of SageMaker ENIs with records
  headline_yes     whether the verdict must say traffic left the VPC

Every request the page makes is blocked and recorded (and the browser is offline): the
page must render with none but its own file. Prints what it checked; exits non-zero with
the reasons on failure.
"""
import io
import json
import sys

from PIL import Image, ImageStat
from playwright.sync_api import sync_playwright

FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def pixel_stats(png):
    im = Image.open(io.BytesIO(png)).convert("RGB")
    stat = ImageStat.Stat(im)
    small = im.resize((200, max(1, im.height * 200 // im.width)))
    colours = len(small.getcolors(maxcolors=1 << 24))
    return im.size, stat.mean, stat.stddev, colours, im.getpixel((5, 5))


def not_blank(png):
    size, mean, std, colours, corner = pixel_stats(png)
    print(f"      screenshot {size}, mean {[round(m) for m in mean]}, stddev {[round(s) for s in std]}, {colours} colours")
    check(colours > 40, f"screenshot has {colours} colours")
    check(min(std) > 20, f"screenshot has contrast (stddev {std})")
    check(sum(corner) > 600, f"light background {corner}")


def main():
    if sys.argv[1] == "--screenshot-only":
        not_blank(open(sys.argv[2], "rb").read())
        if failures:
            sys.exit(1)
        return
    report, expect_path, shot = sys.argv[1:4]
    chromium = sys.argv[4] if len(sys.argv) > 4 else "/usr/bin/chromium"
    expect = json.load(open(expect_path))
    url = "file://" + report
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
        ctx = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
        requests, blocked, console_errors = [], [], []

        def route(r):
            if r.request.url == url:
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        ctx.route("**/*", route)
        page = ctx.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on(
            "console",
            lambda m: console_errors.append(m.text) if m.type in ("error", "warning") else None,
        )
        page.on("pageerror", lambda e: console_errors.append(str(e)))
        page.goto(url, wait_until="load")

        # The first screen, as the README shows it.
        page.screenshot(path=shot, full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": 1500})
        check(requests == [url], f"the page requested only itself: {requests}")
        check(blocked == [], f"no request had to be blocked: {blocked}")
        check(console_errors == [], f"no console errors or warnings: {console_errors}")

        data = json.loads(page.text_content("#sageflow-data"))
        headline = page.text_content("#verdict .headline")
        check(
            headline.startswith("Yes") == expect["headline_yes"],
            f"verdict: {headline!r}",
        )
        check(
            page.locator("#records-line").count() == 1
            and "rejected" in page.text_content("#records-line"),
            "records = rows + rejected is stated",
        )

        # Traffic: one chart per resource, one series per kind of remote.
        charts = page.locator("svg.chart.traffic")
        got = {}
        for i in range(charts.count()):
            c = charts.nth(i)
            got[c.get_attribute("data-resource")] = c.locator("g.series").count()
            check(c.locator("rect.bar").count() > 0, f"traffic chart {i} has bars")
        check(got == expect["traffic"], f"traffic charts and series {got} == {expect['traffic']}")

        timeline = page.locator("#chart-findings g.series")
        check(
            timeline.count() == expect["rules_timed"],
            f"findings timeline: {timeline.count()} rules == {expect['rules_timed']}",
        )
        check(page.locator("#chart-findings circle.dot").count() > 0, "findings timeline has dots")
        bars = page.locator("#chart-destinations rect.bar").count()
        check(bars == expect["destinations"], f"destinations: {bars} bars == {expect['destinations']}")
        groups = page.locator("#chart-flows g.bar-group").count()
        check(groups == len(expect["traffic"]), f"flow summary: {groups} resources")
        rows = page.locator("#chart-coverage g.row").count()
        check(rows == expect["coverage_enis"], f"log coverage: {rows} ENIs == {expect['coverage_enis']}")
        for sel in ["#chart-findings", "#chart-destinations", "#chart-flows", "#chart-coverage"]:
            box = page.locator(sel).bounding_box()
            check(box is not None and box["width"] > 600 and box["height"] > 30, f"{sel} is drawn: {box}")

        # The findings table: exactly the scan's findings.
        table = page.eval_on_selector_all(
            "#findings-table tbody tr",
            "rows => rows.map(r => [r.cells[0].textContent, r.cells[3].textContent, r.cells[5].textContent, r.cells[6].textContent])",
        )
        want = sorted(map(tuple, expect["findings"]))
        check(sorted(map(tuple, table)) == want, f"findings table: {len(table)} rows are the scan's {len(want)}")
        check(data["findings"]["total"] == len(want), "data section counts the findings")
        check(
            page.text_content("#shown-count") == f"{len(want)} of {len(want)} findings shown",
            f"shown count: {page.text_content('#shown-count')!r}",
        )

        # Filtering by rule, then sorting by bytes.
        rule = expect["findings"][0][0]
        n_rule = sum(1 for f in expect["findings"] if f[0] == rule)
        page.select_option("#filter-rule", rule)
        visible = page.locator("#findings-table tbody tr:not([hidden])").count()
        check(visible == n_rule, f"filter rule={rule}: {visible} rows == {n_rule}")
        page.select_option("#filter-rule", "")
        page.locator("#findings-table th", has_text="bytes").click()
        sorted_bytes = page.eval_on_selector_all(
            "#findings-table tbody tr",
            "rows => rows.map(r => r.cells[13].getAttribute('data-sort')).filter(v => v !== null).map(Number)",
        )
        check(sorted_bytes == sorted(sorted_bytes) and len(sorted_bytes) > 0, "sorting by bytes")
        severities = page.eval_on_selector_all("#filter-severity option", "os => os.length")
        check(severities > 1, f"severity filter has {severities - 1} values")

        # The screenshot is not blank: many colours, real contrast, a light page.
        not_blank(page.screenshot(full_page=True))

        # Dark mode and print keep the page readable.
        page.emulate_media(color_scheme="dark")
        _, _, _, _, corner = pixel_stats(page.screenshot())
        check(sum(corner) < 150, f"dark mode background {corner}")
        page.emulate_media(media="print", color_scheme="dark")
        _, _, _, _, corner = pixel_stats(page.screenshot())
        check(sum(corner) > 600, f"print background {corner}")
        browser.close()
    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        sys.exit(1)


main()
