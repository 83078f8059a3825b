#!/usr/bin/env python3
"""Drives headless Chromium over the DevTools protocol (on a pipe: no port, no extra package) through
a WADUP HTML report, the way an analyst uses it, and prints what the page showed as JSON.

usage: report_browser.py REPORT.html SCREENSHOT.png 'SPEC-JSON'
SPEC: {"expand": [names from an input down], "search": "text", "filter": "1", "fs": [folders to open]}
Output: {"ready_ms", "cards": {id: value}, "roots": [...], "expanded": [[name...] after each click],
         "detail": {"name", "chain", "tables": {table: [[cells]]}}, "search": {"count", "hits"},
         "filtered": [names], "screenshot": bytes}
"""
import base64, json, os, shutil, subprocess, sys, time


class Browser:
    def __init__(self):
        exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if not exe:
            sys.exit("report_browser: no chromium (scripts/install-deps.sh installs Debian's)")
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        os.set_inheritable(to_chrome_r, True)
        os.set_inheritable(from_chrome_w, True)
        self.profile = os.path.join(os.environ.get("TMPDIR", "/tmp"), "wadup-chromium-%d" % os.getpid())
        args = [exe, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-extensions", "--disable-dev-shm-usage", "--user-data-dir=" + self.profile, "about:blank"]

        def fds():  # Chromium reads commands on fd 3 and writes replies on fd 4 (copies first: they may be 3 or 4).
            r, w = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.proc = subprocess.Popen(args, preexec_fn=fds, close_fds=False,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buffer = b""
        self.next_id = 0
        self.session = None

    def send(self, method, params=None, session=True):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self.buffer:
                chunk = os.read(self.from_chrome, 1 << 20)
                if not chunk:
                    raise SystemExit("report_browser: chromium closed the pipe")
                self.buffer += chunk
            raw, self.buffer = self.buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise SystemExit("report_browser: %s: %s" % (method, reply["error"]))
                return reply.get("result", {})

    def open(self, url, width=1400, height=900):
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)["sessionId"]
        self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        self.send("Page.enable")
        self.send("Page.navigate", {"url": url})

    def eval(self, expression):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise SystemExit("report_browser: page error: %s" % json.dumps(result["exceptionDetails"])[:2000])
        return result["result"].get("value")

    def wait(self, expression, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            if self.eval(expression):
                return
            time.sleep(0.05)
        raise SystemExit("report_browser: timed out waiting for " + expression)

    def close(self):
        try:
            self.send("Browser.close", session=False)
        except SystemExit:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


VISIBLE = "Array.from(document.querySelectorAll('#rows .row .nm')).map(e => e.textContent)"


def click_row(browser, name, toggle):
    part = ".tg" if toggle else ".nm"
    found = browser.eval("""(() => { const r = Array.from(document.querySelectorAll('#rows .row')).find(r => r.querySelector('.nm').textContent === %s);
        if (!r) return false; r.querySelector('%s').click(); return true; })()""" % (json.dumps(name), part))
    if not found:
        raise SystemExit("report_browser: no row named %r in view: %r" % (name, browser.eval(VISIBLE)))


def main():
    report, screenshot, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    browser = Browser()
    out = {}
    try:
        start = time.time()
        browser.open("file://" + os.path.abspath(report))
        browser.wait("document.body && document.body.dataset.ready === '1'")
        out["ready_ms"] = browser.eval("window.wadupReadyMs")
        out["ready_wall_ms"] = round((time.time() - start) * 1000)
        out["cards"] = browser.eval("Object.fromEntries(Array.from(document.querySelectorAll('.card')).map(c => [c.id, c.dataset.value]))")
        out["roots"] = browser.eval(VISIBLE)
        out["expanded"] = []
        names = spec.get("expand", [])
        for name in names[:-1]:
            click_row(browser, name, toggle=True)
            out["expanded"].append(browser.eval(VISIBLE))
        if names:
            click_row(browser, names[-1], toggle=False)
            out["detail"] = browser.eval("""({name: document.getElementById('detail-name').textContent,
                chain: Array.from(document.querySelectorAll('#detail-chain a')).map(a => a.textContent),
                tables: Object.fromEntries(Array.from(document.querySelectorAll('#detail table[data-table]')).map(t =>
                    [t.dataset.table, Array.from(t.querySelectorAll('tr')).slice(1).map(r => Array.from(r.cells).map(c => c.textContent))]))})""")
        for depth, part in enumerate(spec.get("fs", [])):
            # The selected content's file-system tree (a disk image): open one folder, wait for it to be drawn.
            opened = browser.eval("""(() => { const s = Array.from(document.querySelectorAll('#detail-fs details:not([open]) > summary'))
                .find(s => s.firstElementChild.textContent === %s); if (!s) return false; s.click(); return true; })()""" % json.dumps(part))
            if not opened:
                raise SystemExit("report_browser: no closed folder %r in the file-system tree" % part)
            browser.wait("document.querySelectorAll('#detail-fs details[data-drawn]').length >= %d" % (depth + 1))
        if "fs" in spec:
            out["fs"] = browser.eval("""Array.from(document.querySelectorAll('#detail-fs summary, #detail-fs .leaf'))
                .filter(e => e.getClientRects().length > 0).map(e => ({text: e.textContent, deleted: !!e.querySelector('.del')}))""")
        if spec.get("filter"):
            browser.eval("(() => { const s = document.getElementById('status'); s.value = %s; s.dispatchEvent(new Event('change')); })()" % json.dumps(spec["filter"]))
            out["filtered"] = browser.eval("window.wadup.visibleNames()")
            out["failure_kinds"] = browser.eval("Object.fromEntries(Array.from(document.querySelectorAll('#failures h3[data-kind]')).map(h => [h.dataset.kind, +h.dataset.count]))")
            browser.eval("(() => { const s = document.getElementById('status'); s.value = ''; s.dispatchEvent(new Event('change')); })()")
        if spec.get("search"):
            browser.eval("(() => { const q = document.getElementById('q'); q.value = %s; q.dispatchEvent(new Event('input')); })()" % json.dumps(spec["search"]))
            browser.wait("document.getElementById('result-count') !== null")
            out["search"] = browser.eval("""({count: +document.getElementById('result-count').dataset.count,
                hits: Array.from(document.querySelectorAll('#results .hit')).map(h => h.textContent.slice(2))})""")
        browser.eval("document.querySelector('.explorer').scrollIntoView()")
        png = base64.b64decode(browser.send("Page.captureScreenshot", {"format": "png"})["data"])
        with open(screenshot, "wb") as f:
            f.write(png)
        out["screenshot"] = len(png)
    finally:
        browser.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
