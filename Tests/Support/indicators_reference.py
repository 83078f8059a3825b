#!/usr/bin/env python3
"""An independent reader for the `indicators` module's tests (docs/modules/indicators.md).

    indicators_reference.py FILE...

For each FILE prints one JSON line: {"file", "strings": [[offset, length, encoding]...],
"indicators": [[kind, value, offset, encoding]...]}. The strings are GNU `strings -a -n 6 -t d`
and `strings -a -n 6 -t d -el` run on the file's first 64 MiB (the module's bound); the indicators
are found in them with Python's `re`, `ipaddress` and `urllib.parse`, following the rules of the
module's page, written again here without the module's code.
"""
import ipaddress
import json
import re
import subprocess
import sys
from urllib.parse import urlsplit

SCAN_LIMIT = 64 << 20
MAX_VALUE = 2048
SCHEMES = {"http", "https", "ftp", "ftps", "sftp", "tftp", "ws", "wss", "ldap", "ldaps", "smb", "ssh", "telnet",
           "rtsp", "irc", "git", "svn"}
ROOTS = ["HKEY_LOCAL_MACHINE", "HKEY_CURRENT_USER", "HKEY_CLASSES_ROOT", "HKEY_USERS", "HKEY_CURRENT_CONFIG",
         "HKEY_PERFORMANCE_DATA", "HKEY_DYN_DATA", "HKLM", "HKCU", "HKCR", "HKU", "HKCC", "\\Registry\\Machine",
         "\\Registry\\User", "SOFTWARE", "SYSTEM\\CurrentControlSet"]

SCHEME_TAIL = re.compile(r"[A-Za-z0-9+.-]*\Z")
URL_RUN = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")
LOCAL_TAIL = re.compile(r"[A-Za-z0-9._%+-]*\Z")
HOST_RUN = re.compile(r"[A-Za-z0-9.-]*")
WORD = re.compile(r"[A-Za-z0-9_]")
KEY_CHARS = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in "\"'<>|*?/:,;")
REGISTRY = re.compile(r"(?<![A-Za-z0-9_\\])(?:" + "|".join(re.escape(r) for r in ROOTS) + r")\\([" + re.escape(KEY_CHARS) + r"]*)",
                      re.IGNORECASE)


def gnu_strings(data, utf16):
    """(offset, text) of every string GNU strings prints for `data`."""
    args = ["strings", "-a", "-n", "6", "-t", "d"] + (["-el"] if utf16 else [])
    out = subprocess.run(args, input=data, stdout=subprocess.PIPE, check=True).stdout
    found = []
    for line in out.split(b"\n")[:-1]:
        m = re.match(rb" *(\d+) ", line)
        found.append((int(m.group(1)), line[m.end():].decode("latin-1")))
    return found


def host_name(host):
    """Whether `host` is a name by the module's rules: labels of letters, digits and '-'."""
    return 0 < len(host) <= 253 and all(LABEL.match(label) for label in host.split("."))


def ipv4(text):
    try:
        ipaddress.IPv4Address(text)
        return True
    except ValueError:
        return False


def url_host(url):
    """(host, index of the host in url, is a name) if url's authority is valid, else None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    netloc = parts.netloc
    userinfo, at, hostinfo = netloc.rpartition("@")
    if "[" in userinfo or "]" in userinfo:
        return None
    index = url.index("://") + 3 + (len(userinfo) + 1 if at else 0)
    if hostinfo.startswith("["):
        m = re.match(r"\[([^\]]*)\](?::(\d*))?\Z", hostinfo)
        if not m or "%" in m.group(1):
            return None
        try:
            ipaddress.IPv6Address(m.group(1))
        except ValueError:
            return None
        port = m.group(2)
        host, index, name = m.group(1), index + 1, False
    else:
        if "[" in hostinfo or "]" in hostinfo:
            return None
        host, _, port = hostinfo.partition(":")
        if not host_name(host):
            return None
        numeric = all(label.isdigit() for label in host.split("."))
        if numeric and not ipv4(host):
            return None
        name = not numeric
    if port and (not re.fullmatch(r"[0-9]+", port) or int(port) > 65535):
        return None
    return host, index, name


def urls(s):
    pos = 0
    while (i := s.find("://", pos)) >= 0:
        scheme = SCHEME_TAIL.search(s[:i]).group()
        if scheme.lower() not in SCHEMES:
            pos = i + 3
            continue
        start = i - len(scheme)
        url = s[start:URL_RUN.match(s, i + 3).end()]
        while len(url) > len(scheme) + 3:
            c = url[-1]
            if c in ".,:;!?'*" or (c == ")" and url.count("(") < url.count(")")) or (c == "]" and url.count("[") < url.count("]")):
                url = url[:-1]
            else:
                break
        host = url_host(url)
        if host is None:
            pos = i + 3
            continue
        yield "url", url, start
        if host[2]:
            yield "domain", host[0].lower(), start + host[1]
        pos = start + len(url)


def emails(s):
    for m in re.finditer("@", s):
        i = m.start()
        local = LOCAL_TAIL.search(s[:i]).group().lstrip(".")
        domain = HOST_RUN.match(s, i + 1).group().rstrip(".-")
        labels = domain.split(".")
        if local and host_name(domain) and len(labels) >= 2 and re.fullmatch(r"[A-Za-z]{2,}", labels[-1]):
            yield "email", local + "@" + domain, i - len(local)
            yield "domain", domain.lower(), i + 1


def neighbours_free(s, start, end):
    return not (start > 0 and WORD.match(s[start - 1])) and not (end < len(s) and WORD.match(s[end]))


def ipv4s(s):
    for m in re.finditer(r"[0-9.]+", s):
        if not neighbours_free(s, m.start(), m.end()):
            continue
        text = m.group().strip(".")
        if text and ipv4(text):
            yield "ipv4", text, m.start() + len(m.group()) - len(m.group().lstrip("."))


def ipv6s(s):
    for m in re.finditer(r"[0-9A-Fa-f:.]+", s):
        run, start = m.group(), m.start()
        if run.count(":") < 2 or not neighbours_free(s, m.start(), m.end()):
            continue
        run = run.rstrip(".")
        if run.endswith(":") and not run.endswith("::"):
            run = run[:-1]
        if run.startswith(":") and not run.startswith("::"):
            run, start = run[1:], start + 1
        if not re.search("[0-9]", run):
            continue
        try:
            ipaddress.IPv6Address(run)
        except ValueError:
            continue
        yield "ipv6", run, start


def registry(s):
    pos = 0
    while m := REGISTRY.search(s, pos):
        key = m.group(1).rstrip(" .\\")
        if not key:
            pos = m.start() + 1
            continue
        value = s[m.start():m.start(1)] + key
        yield "registry", value, m.start()
        pos = m.start() + len(value)


def scan(path):
    with open(path, "rb") as f:
        data = f.read(SCAN_LIMIT)
    strings, found = [], {}
    for encoding, utf16, width in (("ascii", False, 1), ("utf16le", True, 2)):
        for offset, text in gnu_strings(data, utf16):
            strings.append([offset, len(text), encoding])
            for finder in (urls, emails, ipv4s, ipv6s, registry):
                for kind, value, index in finder(text):
                    key = (kind, value[:MAX_VALUE], encoding)
                    at = offset + index * width
                    found[key] = min(found.get(key, at), at)
    indicators = [[kind, value, offset, encoding] for (kind, value, encoding), offset in found.items()]
    return {"file": path, "strings": strings, "indicators": sorted(indicators)}


if __name__ == "__main__":
    for path in sys.argv[1:]:
        print(json.dumps(scan(path)))
